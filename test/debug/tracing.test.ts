// Tracing: what a traced program writes (the Chrome trace, the HTML page), on the virtual clock
// so that every time in the trace is exact; the environment variable through child processes;
// and the checks of the `trace` option.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  EventLoop,
  Runner,
  type Task,
  createTask,
  currentTask,
  gather,
  isCancellation,
  run,
  sleep,
  timeout,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { runFixture } from "../support/core.js";
import { type Trace, checkWellFormed, laneEvents, laneNames, laneOf, readTrace, tempDir } from "../support/trace.js";

const ENV = "ASYNCIO_TS_TRACE";

function idOf(task: Task<unknown> | null): number {
  assert.ok(task !== null);
  return (task as unknown as { _id: number })._id;
}

/** The names of a lane's events with their times (µs), in order: `created@0`, `step@250000`. */
function timeline(trace: Trace, tid: number): string[] {
  return laneEvents(trace, tid)
    .filter((event) => event.cat !== "await" && event.ph !== "b" && event.ph !== "e")
    .map((event) => `${event.name}@${event.ts}`);
}

describe("tracing", () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp.remove());

  describe("the Chrome trace of a program on the virtual clock", () => {
    let trace: Trace;
    let mainId = 0;
    before(async () => {
      const file = join(tmp.dir, "program.json");
      await runTest(
        async () => {
          mainId = idOf(currentTask());
          const adder = createTask(() => sleep(0.25, 42), { name: "adder" });
          const failing = createTask(async () => {
            await sleep(0.5);
            throw new Error("boom");
          }, { name: "failing" });
          const sleeper = createTask(() => sleep(10), { name: "sleeper" });
          await sleep(1.5);
          sleeper.cancel("stop it");
          const outcomes = await gather(adder, failing, sleeper, { returnExceptions: true });
          assert.equal(outcomes[0], 42);
          try {
            await timeout(1, () => sleep(5));
          } catch {
            // The deadline passed: the trace shows the scope's cancel.
          }
        },
        { trace: { file } },
      );
      trace = readTrace(file);
    });

    it("is a well-formed trace in the JSON object format, times in microseconds", () => {
      checkWellFormed(trace);
      assert.equal(trace.displayTimeUnit, "ms");
      assert.equal(trace.otherData.producer, "asyncio-ts");
      assert.equal(trace.otherData.droppedEvents, 0);
      assert.equal(trace.otherData.events, trace.traceEvents.filter((e) => e.ph !== "M" || e.name.startsWith("process")).length);
    });

    it("gives each task a lane named 'name (id)'", () => {
      const names = [...laneNames(trace).values()];
      for (const name of ["adder", "failing", "sleeper"]) laneOf(trace, name);
      assert.ok(names.includes(`Task-${mainId} (${mainId})`), names.join(", "));
      assert.ok(trace.traceEvents.some((e) => e.ph === "M" && e.name === "process_name" && e.args?.name === "TestLoop 1"));
    });

    it("records a task's life: created, first step, its steps, finished with its result", () => {
      const adder = laneOf(trace, "adder");
      assert.deepEqual(timeline(trace, adder), [
        "created@0",
        "first step@0",
        "step@250000",
        "finished: result@250000",
      ]);
      const finished = laneEvents(trace, adder).find((e) => e.name === "finished: result");
      assert.equal(finished?.args?.result, "42");
    });

    it("records what a task awaits between its steps", () => {
      const adder = laneOf(trace, "adder");
      const awaits = laneEvents(trace, adder).filter((e) => e.cat === "await");
      assert.deepEqual(
        awaits.map((e) => `${e.ph} ${e.name}@${e.ts}`),
        ["b sleep until loop time 0.250, 0.250 s to go@0", "e sleep until loop time 0.250, 0.250 s to go@250000"],
      );
      const step = laneEvents(trace, adder).find((e) => e.name === "first step");
      assert.equal(step?.args?.awaits, "sleep until loop time 0.250, 0.250 s to go");
      const next = laneEvents(trace, adder).find((e) => e.name === "step");
      assert.equal(next?.args?.by, "sleep until loop time 0.250 (finished)");
      const main = laneEvents(trace, mainId).filter((e) => e.ph === "b" && e.cat === "await");
      assert.ok(main.some((e) => /^<GatheringFuture pending/.test(e.name)), main.map((e) => e.name).join(", "));
    });

    it("records a failing task's error", () => {
      const failing = laneOf(trace, "failing");
      assert.deepEqual(timeline(trace, failing), ["created@0", "first step@0", "step@500000", "finished: error@500000"]);
      const finished = laneEvents(trace, failing).find((e) => e.name === "finished: error");
      assert.equal(finished?.args?.error, "Error('boom')");
      assert.match(String(finished?.args?.stack), /^Error: boom\n {4}at /);
    });

    it("records a cancellation: requested with its message and by whom, delivered, finished cancelled", () => {
      const sleeper = laneOf(trace, "sleeper");
      assert.deepEqual(timeline(trace, sleeper), [
        "created@0",
        "first step@0",
        "cancel requested@1500000",
        "cancel delivered@1500000",
        "step@1500000",
        "finished: cancelled@1500000",
      ]);
      const events = laneEvents(trace, sleeper);
      const requested = events.find((e) => e.name === "cancel requested");
      assert.deepEqual(requested?.args, { message: "stop it", by: `Task-${mainId} (${mainId})` });
      assert.equal(events.find((e) => e.name === "cancel delivered")?.args?.message, "stop it");
      assert.equal(events.find((e) => e.name === "step")?.args?.resumed, "cancelled");
      assert.equal(events.find((e) => e.name === "finished: cancelled")?.args?.message, "stop it");
      assert.deepEqual(
        events.filter((e) => e.cat === "task" && e.ph !== "i").map((e) => `${e.ph}@${e.ts}`),
        ["b@0", "e@1500000"],
        "the task's lifetime is one async span",
      );
    });

    it("records a deadline's cancel as a cancel of the timeout's scope", () => {
      const requested = laneEvents(trace, mainId).filter((e) => e.name === "cancel requested");
      assert.equal(requested.length, 1);
      assert.equal(requested[0]?.ts, 2_500_000);
      assert.equal(requested[0]?.args?.by, "code outside any task");
      assert.equal(requested[0]?.args?.scope, "timeout() or taskGroup()");
      assert.ok(laneEvents(trace, mainId).some((e) => e.name === "cancel delivered" && e.ts === 2_500_000));
      const callbacks = trace.traceEvents.filter((e) => e.tid === 0 && e.ph === "X");
      assert.ok(callbacks.some((e) => e.ts === 2_500_000 && e.cat === "callback"), "the deadline's timer ran as a loop callback");
    });
  });

  describe("the files", () => {
    it("are written when main fails", async () => {
      const file = join(tmp.dir, "fails.json");
      let mainId = 0;
      await assert.rejects(
        runTest(async () => {
          mainId = idOf(currentTask());
          await sleep(1);
          throw new RangeError("main failed");
        }, { trace: { file } }),
        /main failed/,
      );
      const trace = readTrace(file);
      checkWellFormed(trace);
      const finished = laneEvents(trace, mainId).find((e) => e.name === "finished: error");
      assert.equal(finished?.ts, 1_000_000);
      assert.equal(finished?.args?.error, "RangeError('main failed')");
    });

    it("are named by a base name: .json alone, .html alone, or both", async () => {
      await runTest(() => sleep(0), { trace: join(tmp.dir, "only.json") });
      await runTest(() => sleep(0), { trace: join(tmp.dir, "page.html") });
      await runTest(() => sleep(0), { trace: join(tmp.dir, "both") });
      assert.deepEqual(
        ["only.json", "only.html", "page.json", "page.html", "both.json", "both.html"].map((f) => existsSync(join(tmp.dir, f))),
        [true, false, false, true, true, true],
      );
    });

    it("include a self-contained HTML page holding the trace's lanes", async () => {
      const html = join(tmp.dir, "page2.html");
      await runTest(async () => {
        await gather(createTask(() => sleep(1), { name: "one" }), createTask(() => sleep(2), { name: "two" }));
      }, { trace: { html } });
      const page = readFileSync(html, "utf8");
      assert.match(page, /^<!DOCTYPE html>/);
      assert.doesNotMatch(page, /<(script|link|img|iframe)\b[^>]*\b(src|href)=/i, "no external asset");
      assert.doesNotMatch(page, /@import|url\(\s*['"]?https?:/i, "no external stylesheet or font");
      const data = /<script id="trace-data" type="application\/json">(.*?)<\/script>/s.exec(page)?.[1];
      assert.ok(data !== undefined);
      const model = JSON.parse(data) as { lanes: { name: string; steps: number[]; outcome: string }[] };
      const names = model.lanes.map((lane) => lane.name);
      assert.ok(names.includes("one") && names.includes("two"), names.join(", "));
      for (const lane of model.lanes) {
        if (lane.name === "one" || lane.name === "two") {
          assert.equal(lane.steps.length, 2 * 5, "two steps, five numbers each");
          assert.equal(lane.outcome, "result");
        }
      }
    });

    it("keep at most maxEvents events and say how many were dropped", async () => {
      const file = join(tmp.dir, "bounded.json");
      await runTest(async () => {
        const tasks = Array.from({ length: 40 }, (_, i) => createTask(() => sleep(i / 10), { name: `t${i}` }));
        await gather(...tasks);
      }, { trace: { file, maxEvents: 50 } });
      const trace = readTrace(file);
      checkWellFormed(trace);
      assert.equal(trace.otherData.events, 50);
      assert.equal(trace.otherData.maxEvents, 50);
      assert.ok(trace.otherData.droppedEvents > 100, `dropped ${trace.otherData.droppedEvents}`);
      // Lanes only for the tasks whose creation was kept: the first ones.
      const lanes = laneNames(trace).size;
      assert.ok(lanes > 1 && lanes < 41, `${lanes} lanes`);
      laneOf(trace, "t0");
      assert.equal([...laneNames(trace).values()].some((name) => name.startsWith("t39 (")), false);
    });

    it("come from one Runner for all its runs", async () => {
      const file = join(tmp.dir, "runner.json");
      const runner = new Runner({ trace: { file } });
      await runner.run(() => sleep(0, "first"));
      await runner.run(() => sleep(0, "second"));
      assert.equal(existsSync(file), false, "written when the runner closes");
      await runner.close();
      const trace = readTrace(file);
      checkWellFormed(trace);
      const results = trace.traceEvents.filter((e) => e.name === "finished: result").map((e) => e.args?.result);
      assert.ok(results.includes("'first'") && results.includes("'second'"), results.join(", "));
    });

    it("come from new EventLoop({ trace }) when the loop closes", async () => {
      const file = join(tmp.dir, "loop.json");
      const loop = new EventLoop({ trace: { file } });
      assert.equal(await loop.runUntilComplete(() => sleep(0, 7)), 7);
      assert.equal(existsSync(file), false);
      loop.close();
      checkWellFormed(readTrace(file));
    });

    it("that cannot be written are reported, and the run goes on", async () => {
      const file = join(tmp.dir, "no-such-dir", "x.json");
      const errors: string[] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => void errors.push(args.join(" "));
      try {
        assert.equal(await runTest(() => sleep(0, "fine"), { trace: { file } }), "fine");
      } finally {
        console.error = original;
      }
      assert.equal(errors.length, 1);
      assert.match(errors[0] as string, /could not write the trace to .*x\.json: ENOENT/);
    });
  });

  describe("when off", () => {
    it("leaves the loop without a tracer", () => {
      assert.equal(process.env[ENV], undefined, "the tests run without the environment variable");
      const loop = new EventLoop();
      assert.equal(loop._tracer, null);
      loop.close();
    });

    it("changes nothing in the order things run", async () => {
      async function program(log: string[]): Promise<void> {
        const ping = async (name: string): Promise<void> => {
          for (let i = 0; i < 3; i++) {
            log.push(`${name}${i}`);
            await sleep(0);
          }
        };
        const a = createTask(() => ping("a"));
        const b = createTask(() => ping("b"));
        const c = createTask(() => sleep(0.5));
        await sleep(0);
        c.cancel();
        await Promise.all([a, b]);
        try {
          await c;
        } catch (error) {
          log.push(`c ${isCancellation(error) ? "cancelled" : "?"}`);
        }
      }
      const plain: string[] = [];
      const traced: string[] = [];
      await runTest(() => program(plain));
      await runTest(() => program(traced), { trace: { file: join(tmp.dir, "order.json") } });
      assert.deepEqual(traced, plain);
      assert.deepEqual(plain.slice(0, 4), ["a0", "b0", "a1", "b1"]);
    });

    it("is forced by trace: false over the environment variable", async () => {
      const base = join(tmp.dir, "from-env");
      process.env[ENV] = base;
      try {
        await runTest(() => sleep(0), { trace: false });
        assert.equal(existsSync(`${base}.json`), false);
        const loop = new EventLoop({ trace: false });
        assert.equal(loop._tracer, null);
        loop.close();
        await runTest(() => sleep(0));
        assert.equal(existsSync(`${base}.json`), true, "the environment variable traces a loop with no trace option");
        assert.equal(existsSync(`${base}.html`), true);
      } finally {
        delete process.env[ENV];
      }
    });
  });

  describe("bad options", () => {
    const main = async (): Promise<void> => {};
    const cases: [unknown, RegExp][] = [
      [5, /^TypeError: `trace` of run\(\) must be a base file name .*got 5$/],
      [true, /^TypeError: `trace` of run\(\) must be .*or false, got true$/],
      ["", /^RangeError: `trace` of run\(\) must be a file name, got ""$/],
      [{}, /^TypeError: `trace` of run\(\) needs `file`, `html` or both/],
      [{ fil: "x.json" }, /^TypeError: run\(\) `trace` got unknown option `fil` \(did you mean `file`\?\); known options: file, html, maxEvents$/],
      [{ file: 1 }, /^TypeError: `trace.file` must be a file name, got 1$/],
      [{ html: "" }, /^RangeError: `trace.html` must be a file name, got ""$/],
      [{ file: "x.json", maxEvents: 0 }, /^RangeError: `trace.maxEvents` must be >= 1, got 0$/],
      [{ file: "x.json", maxEvents: 1.5 }, /^TypeError: `trace.maxEvents` must be an integer, got 1.5$/],
      [[], /^TypeError: `trace` of run\(\) must be .*got an array$/],
    ];
    for (const [value, expected] of cases) {
      it(`run(main, { trace: ${JSON.stringify(value)} }) throws ${expected.source.split(":")[0]?.slice(1)} at once`, () => {
        assert.throws(() => run(main, { trace: value as never }), (error: Error) => {
          assert.match(`${error.name}: ${error.message}`, expected);
          return true;
        });
      });
    }

    it("names the entry point that got it", () => {
      assert.throws(() => new Runner({ trace: 1 as never }), /`trace` of new Runner\(\) must be/);
      assert.throws(() => new EventLoop({ trace: 1 as never }), /`trace` of new EventLoop\(\) must be/);
      assert.throws(() => runTest(main, { trace: 1 as never }), /`trace` of runTest\(\) must be/);
      assert.throws(() => new EventLoop({ trace: { file: "x", bogus: 1 } as never }), /new EventLoop\(\) `trace` got unknown option `bogus`/);
    });
  });
});

describe("ASYNCIO_TS_TRACE traces a program that says nothing about tracing", () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp.remove());

  /** Runs a scenario of test/fixtures/trace.ts with the variable set to `base`. */
  async function traced(scenario: string, base: string): Promise<Awaited<ReturnType<typeof runFixture>>> {
    // The child inherits the environment; nothing else in this file runs meanwhile.
    process.env[ENV] = base;
    try {
      return await runFixture("trace.ts", [scenario]);
    } finally {
      delete process.env[ENV];
    }
  }

  it("writes base.json and base.html when run() ends, and says so on stderr", async () => {
    const base = join(tmp.dir, "ok");
    const child = await traced("ok", base);
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(child.stdout, ["failing: worker failed", "run resolved: done"]);
    assert.match(child.stderr, new RegExp(`asyncio-ts: trace written to ${base}\\.json and ${base}\\.html \\(\\d+ events\\)`));
    const trace = readTrace(`${base}.json`);
    checkWellFormed(trace);
    const sleeper = laneOf(trace, "sleeper");
    assert.ok(laneEvents(trace, sleeper).some((e) => e.name === "finished: cancelled" && e.args?.message === "enough"));
    const failing = laneOf(trace, "failing");
    assert.ok(laneEvents(trace, failing).some((e) => e.name === "finished: error" && /worker failed/.test(String(e.args?.error))));
    assert.equal(trace.otherData.program, "trace.ts");
    assert.match(readFileSync(`${base}.html`, "utf8"), /<title>asyncio-ts timeline: trace\.ts<\/title>/);
  });

  it("writes the trace when main fails", async () => {
    const base = join(tmp.dir, "fails.json");
    const child = await traced("fails", base);
    assert.deepEqual(child.stdout, ["run rejected: main failed"]);
    const trace = readTrace(base);
    const main = [...laneNames(trace)].find(([, name]) => name.startsWith("Task-"))?.[0] ?? -1;
    assert.ok(laneEvents(trace, main).some((e) => e.name === "finished: error" && /main failed/.test(String(e.args?.error))));
    assert.equal(existsSync(join(tmp.dir, "fails.html")), false, "a .json name writes the JSON alone");
  });

  it("writes the trace when Ctrl-C cancels main", async () => {
    const base = join(tmp.dir, "sigint");
    const child = await traced("sigint", base);
    assert.deepEqual(child.stdout, ["run rejected: KeyboardInterrupt"]);
    const trace = readTrace(`${base}.json`);
    checkWellFormed(trace);
    const main = [...laneNames(trace)].find(([, name]) => name.startsWith("Task-"))?.[0] ?? -1;
    const names = laneEvents(trace, main).map((e) => e.name);
    for (const name of ["cancel requested", "cancel delivered", "finished: cancelled"]) assert.ok(names.includes(name), names.join(", "));
  });

  it("writes the trace so far before a second Ctrl-C ends the process", async () => {
    const base = join(tmp.dir, "twice");
    const child = await traced("sigint-twice", base);
    assert.equal(child.signal, "SIGINT");
    assert.deepEqual(child.stdout, ["first interrupt"]);
    const trace = readTrace(`${base}.json`);
    checkWellFormed(trace);
    const main = [...laneNames(trace)].find(([, name]) => name.startsWith("Task-"))?.[0] ?? -1;
    const names = laneEvents(trace, main).map((e) => e.name);
    assert.deepEqual(names.filter((n) => n.startsWith("cancel")), ["cancel requested", "cancel delivered"]);
    assert.equal(names.some((n) => n.startsWith("finished")), false, "main still ran when the trace was written");
    const end = laneEvents(trace, main).find((e) => e.ph === "e" && e.cat === "task");
    assert.equal(end?.args?.outcome, "still pending when the trace was written");
  });

  it("writes the trace of a loop never closed when the process exits", async () => {
    const base = join(tmp.dir, "never");
    const child = await traced("never-closed", base);
    assert.equal(child.status, 0, child.stderr);
    const trace = readTrace(`${base}.json`);
    laneOf(trace, "sleeper");
    assert.ok(existsSync(`${base}.html`));
  });

  it("puts every loop of the program in one trace, one process each", async () => {
    const base = join(tmp.dir, "two");
    const child = await traced("two-runs", base);
    assert.deepEqual(child.stdout, ["both ran"]);
    const trace = readTrace(`${base}.json`);
    checkWellFormed(trace);
    const processes = trace.traceEvents.filter((e) => e.ph === "M" && e.name === "process_name").map((e) => e.args?.name);
    assert.deepEqual(processes, ["EventLoop 1", "EventLoop 2"]);
    const pids = new Set(trace.traceEvents.filter((e) => e.ph === "X").map((e) => e.pid));
    assert.deepEqual([...pids].sort(), [1, 2]);
  });

  it("is overridden by trace: false", async () => {
    const base = join(tmp.dir, "opted");
    const child = await traced("opted-out", base);
    assert.deepEqual(child.stdout, ["ran untraced"]);
    assert.equal(existsSync(`${base}.json`), false);
    assert.doesNotMatch(child.stderr, /trace written/);
  });
});
