// The demo runner's scheduling (examples/demo.ts, runInOrder): examples run a few at a time, but
// their blocks print in the original order, the one at the head live; examples that share a
// resource never overlap. `npm run examples` runs the examples themselves.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Job, type Output, runInOrder } from "../../examples/demo.js";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** An Output that records what is written, `err:` marking standard error. */
function recorder(): Output & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    write(stream, chunk) {
      lines.push(`${stream === "stderr" ? "err:" : ""}${String(chunk)}`);
    },
  };
}

/** A job that writes a line, waits for `gate`, writes one to stderr, and returns its name. */
function job(name: string, gate: Promise<void>, log: string[] = [], lock?: string): Job<string> {
  return {
    header: `=== ${name}`,
    lock,
    async run(out) {
      log.push(`start ${name}`);
      out.write("stdout", `${name}: hello`);
      await gate;
      out.write("stderr", `${name}: warning`);
      log.push(`end ${name}`);
      return name;
    },
    footer: (result) => `--- ${result}`,
  };
}

describe("the demo's runInOrder", () => {
  it("prints each job as a block in the original order, the head live, the others when their turn comes", async () => {
    const gates = [deferred(), deferred(), deferred()];
    const out = recorder();
    const done = runInOrder(["a", "b", "c"].map((name, i) => job(name, gates[i]!.promise)), 3, out);
    await settle();
    assert.deepEqual(out.lines, ["=== a", "a: hello"]); // all three run; a is at the head
    gates[2]!.resolve();
    gates[1]!.resolve();
    await settle();
    assert.deepEqual(out.lines, ["=== a", "a: hello"]); // b and c are done, but wait for a
    gates[0]!.resolve();
    await done;
    assert.deepEqual(out.lines, [
      "=== a", "a: hello", "err:a: warning", "--- a",
      "=== b", "b: hello", "err:b: warning", "--- b",
      "=== c", "c: hello", "err:c: warning", "--- c",
    ]);
  });

  it("runs at most `limit` jobs at once, and never two with the same lock", async () => {
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const log: string[] = [];
    const jobs = [
      job("server", gates[0]!.promise, log, "port 8888"),
      job("client", gates[1]!.promise, log, "port 8888"),
      job("x", gates[2]!.promise, log),
      job("y", gates[3]!.promise, log),
    ];
    const out = recorder();
    const done = runInOrder(jobs, 2, out);
    await settle();
    assert.deepEqual(log, ["start server", "start x"]); // the client waits for the port, x passes it
    gates[0]!.resolve();
    await settle();
    assert.deepEqual(log, ["start server", "start x", "end server", "start client"]);
    gates[2]!.resolve();
    await settle();
    assert.deepEqual(log.slice(4), ["end x", "start y"]);
    gates[3]!.resolve();
    gates[1]!.resolve();
    await done;
    assert.deepEqual(
      out.lines.filter((l) => l.startsWith("===")),
      ["=== server", "=== client", "=== x", "=== y"],
    );
  });

  it("runs a job marked alone with nothing else running: the ones before it end first, the ones after wait", async () => {
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const log: string[] = [];
    const jobs = ["a", "b", "c", "d"].map((name, i) => job(name, gates[i]!.promise, log));
    jobs[1]!.alone = true;
    const done = runInOrder(jobs, 3, recorder());
    await settle();
    assert.deepEqual(log, ["start a"]); // b waits for a, and c and d do not pass b
    gates[0]!.resolve();
    await settle();
    assert.deepEqual(log, ["start a", "end a", "start b"]);
    gates[1]!.resolve();
    await settle();
    assert.deepEqual(log.slice(3), ["end b", "start c", "start d"]);
    gates[2]!.resolve();
    gates[3]!.resolve();
    await done;
  });

  it("starts nothing once stopped, and prints the blocks of the jobs that ran", async () => {
    const gates = [deferred(), deferred(), deferred()];
    const log: string[] = [];
    let stopped = false;
    const out = recorder();
    const done = runInOrder(["a", "b", "c"].map((name, i) => job(name, gates[i]!.promise, log)), 2, out, () => stopped);
    await settle();
    stopped = true;
    gates[1]!.resolve();
    gates[0]!.resolve();
    await done;
    assert.deepEqual(log, ["start a", "start b", "end b", "end a"]); // c never starts
    assert.deepEqual(out.lines.filter((l) => l.startsWith("===")), ["=== a", "=== b"]);
  });

  it("resolves at once when there is nothing to run", async () => {
    const out = recorder();
    await runInOrder([], 4, out);
    assert.deepEqual(out.lines, []);
  });
});
