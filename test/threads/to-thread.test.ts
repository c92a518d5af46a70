// `toThread` and `moduleFunction`: results, errors, what a function may be, cancellation.
// Ported where it applies from CPython's Lib/test/test_asyncio/test_threads.py (ToThreadTests).
// Worker threads are real: every wait on them is short and bounded (see ./support.ts).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import {
  CancelledError,
  Future,
  ThreadPoolExecutor,
  createTask,
  gather,
  getRunningLoop,
  moduleFunction,
  sleep,
  toThread,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import {
  FINISHED,
  GATE,
  RUNS,
  STARTED,
  blockUntilOpen,
  cells,
  countRun,
  open,
  rejection,
  until,
} from "./support.js";
import { unsupportedOn } from "../support/runtime.js";

const run = promisify(execFile);
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const WORK = new URL("./fixtures/work.mjs", import.meta.url);

describe("toThread", () => {
  describe("results and errors", () => {
    // CPython: test_threads.py ToThreadTests.test_to_thread
    it("resolves to the function's result, computed in another thread", async () => {
      const [sum, threadId] = await runTest(() =>
        gather(
          toThread((xs: number[]) => xs.reduce((a, b) => a + b, 0), [40, 2]),
          toThread(async () => (await import("node:worker_threads")).threadId),
        ),
      );
      assert.equal(sum, 42);
      assert.notEqual(threadId, 0);
    });

    // CPython: test_threads.py ToThreadTests.test_to_thread_exception
    it("rejects with the error the function threw, same class, message and code", async () => {
      const error = await runTest(() =>
        rejection(
          toThread(function raiseRange() {
            throw Object.assign(new RangeError("test"), { code: "E_TEST" });
          }),
        ),
      );
      assert.ok(error instanceof RangeError);
      assert.equal(error.message, "test");
      assert.equal((error as RangeError & { code: string }).code, "E_TEST");
      assert.match(String(error.stack), /raiseRange/);
    });

    // CPython: test_threads.py ToThreadTests.test_to_thread_once
    it("calls the function exactly once", async () => {
      const shared = cells();
      await runTest(() => toThread(countRun, shared));
      assert.equal(Atomics.load(shared, RUNS), 1);
    });

    // CPython: test_threads.py ToThreadTests.test_to_thread_concurrent
    it("runs many calls, each once, gathered", async () => {
      const shared = cells();
      const calls = Array.from({ length: 10 }, () => toThreadLater(shared));
      await runTest(() => gather(...calls.map((start) => start())));
      assert.equal(Atomics.load(shared, RUNS), 10);
    });

    // CPython: test_threads.py ToThreadTests.test_to_thread_args_kwargs (JS has no kwargs)
    it("passes every argument, in order", async () => {
      const result = await runTest(() =>
        toThread((a: string, b: { something: boolean }, ...rest: number[]) => [a, b, rest], "test", {
          something: true,
        }, 1, 2),
      );
      assert.deepEqual(result, ["test", { something: true }, [1, 2]]);
    });

    it("awaits an async function, which may import modules inside", async () => {
      const digest = await runTest(() =>
        toThread(async (text: string) => {
          const { createHash } = await import("node:crypto");
          return createHash("sha1").update(text).digest("hex");
        }, "x"),
      );
      assert.equal(digest, "11f6ad8ec52a2984abaafd7c3b516503785c2072");
    });

    it("returns a Future of the running loop, which gather and waitFor accept", async () => {
      await runTest(async () => {
        const future = toThread(() => 1);
        assert.ok(future instanceof Future);
        assert.equal(future.getLoop(), getRunningLoop());
        assert.equal(await future, 1);
      });
    });

    it("explains a ReferenceError caused by a variable of the enclosing scope", { skip: unsupportedOn({ bun: "Bun's transpiler puts the value of the enclosing `const` into the function's source, so the worker runs `() => 41 + 1` and no ReferenceError happens" }) }, async () => {
      const outside = 41;
      const error = await runTest(() => rejection(toThread(() => outside + 1)));
      assert.ok(error instanceof ReferenceError);
      assert.match(error.message, /^outside is not defined \(in a worker thread: /);
      assert.match(error.message, /pass values as arguments/);
    });
  });

  describe("what a function may be", () => {
    const refused: [string, () => unknown, RegExp][] = [
      ["a native function", () => toThread(Math.max, 1, 2), /native function \(max\).*Wrap it/],
      ["a bound function", () => toThread(countRun.bind(null), cells()), /bound function \(bound countRun\)/],
      ["a class", () => toThread(class Thing {} as unknown as () => void), /is a class \(Thing\)/],
      [
        "a method",
        () => {
          const o = { method(x: number): number { return x; } };
          return toThread(o.method, 1);
        },
        /is a method \(method\).*moduleFunction\(\)/,
      ],
      ["a generator function", () => toThread(function* gen() { yield 1; }), /generator function \(gen\)/],
      ["not a function", () => toThread(42 as unknown as () => void), /`fn` must be a function, got 42/],
    ];
    for (const [what, call, message] of refused) {
      it(`refuses ${what} with a TypeError that says what to do, at the call`, async () => {
        await runTest(async () => {
          assert.throws(call, (error: unknown) => error instanceof TypeError && message.test(error.message));
        });
      });
    }

    it("refuses an argument that cannot be cloned with a TypeError, at the call", async () => {
      await runTest(async () => {
        assert.throws(
          () => toThread((f: () => void) => f, () => {}),
          (error: unknown) =>
            error instanceof TypeError && /an argument of anonymous\(\) cannot be sent/.test(error.message),
        );
      });
    });

    it("runs functions of the same source compiled once per worker, whatever the closure", async () => {
      const results = await runTest(async () => {
        getRunningLoop().setDefaultExecutor(new ThreadPoolExecutor(1));
        const out: number[] = [];
        for (const n of [1, 2, 3]) out.push(await toThread((x: number) => x * 10, n));
        return out;
      });
      assert.deepEqual(results, [10, 20, 30]);
    });
  });

  describe("moduleFunction", () => {
    it("runs a function exported by a module, by URL and export name", async () => {
      const add = moduleFunction<(a: number, b: number) => number>(WORK, "add");
      assert.equal(add.module, WORK.href);
      assert.equal(add.exportName, "add");
      assert.equal(await runTest(() => toThread(add, 40, 2)), 42);
    });

    it("runs a default export, a node: builtin, and an absolute path", async () => {
      const results = await runTest(() =>
        gather(
          toThread(moduleFunction<() => string>(WORK)),
          toThread(moduleFunction<(s: string) => Uint8Array>("node:zlib", "gzipSync"), "hello"),
          toThread(moduleFunction<(a: number, b: number) => number>(fileURLToPath(WORK), "add"), 1, 2),
        ),
      );
      assert.equal(results[0], "default export");
      assert.equal(results[1].length > 0, true);
      assert.equal(results[2], 3);
    });

    it("keeps a module's state per worker thread", async () => {
      const counter = moduleFunction<() => number>(WORK, "nextCount");
      const seen = await runTest(async () => {
        getRunningLoop().setDefaultExecutor(new ThreadPoolExecutor(1));
        return [await toThread(counter), await toThread(counter), await toThread(counter)];
      });
      assert.deepEqual(seen, [1, 2, 3]);
    });

    it("rejects when the export is missing or not a function", async () => {
      const error = await runTest(() => rejection(toThread(moduleFunction(WORK, "notThere"))));
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /has no function export named "notThere" \(found undefined\)/);
    });

    it("refuses a relative module name, and throws when called in the main thread", () => {
      assert.throws(() => moduleFunction("./work.mjs", "add"), /must be an absolute URL or path/);
      const add = moduleFunction<(a: number, b: number) => number>(WORK, "add");
      assert.throws(() => add(1, 2), /runs in worker threads only/);
    });
  });

  describe("cancellation", () => {
    it("stops the waiting at once; the function already running finishes on its own", async () => {
      const shared = cells();
      await runTest(async () => {
        const task = createTask(() => toThread(blockUntilOpen, shared, "late"));
        await until(shared, STARTED, 1);
        task.cancel();
        assert.ok((await rejection(task)) instanceof CancelledError);
        assert.equal(Atomics.load(shared, FINISHED), 0, "the worker still runs");
        open(shared, GATE);
        await until(shared, FINISHED, 1);
      });
    });

    it("drops a call still queued in the pool", async () => {
      const first = cells();
      const second = cells();
      await runTest(async () => {
        const pool = new ThreadPoolExecutor(1);
        getRunningLoop().setDefaultExecutor(pool);
        const running = createTask(() => toThread(blockUntilOpen, first, 1));
        await until(first, STARTED, 1);
        const queued = createTask(() => toThread(countRun, second));
        await sleep(0);
        await sleep(0);
        assert.equal(pool._queued, 1);
        queued.cancel();
        assert.ok((await rejection(queued)) instanceof CancelledError);
        open(first, GATE);
        assert.equal(await running, 1);
        await pool.shutdown(true);
      });
      assert.equal(Atomics.load(second, RUNS), 0, "the queued call never ran");
    });

    it("cancels through the returned future too", async () => {
      const shared = cells();
      await runTest(async () => {
        const future = toThread(blockUntilOpen, shared, 0);
        await until(shared, STARTED, 1);
        assert.equal(future.cancel(), true);
        assert.ok((await rejection(future)) instanceof CancelledError);
        open(shared, GATE);
      });
      assert.equal(Atomics.load(shared, FINISHED), 1, "run() waited for the worker");
    });
  });

  describe("console output", () => {
    it("prints the worker's output before the caller sees the result (child process)", async () => {
      const { stdout } = await run(process.execPath, ["--import", "tsx", fixture("output-order.ts")], {
        timeout: 20_000,
      });
      assert.equal(stdout, "main: before\nworker: 1\nworker: 2\nworker: 3\nmain: after 3\n");
    });
  });
});

/** A thunk that starts `toThread(countRun, shared)` (so gather makes each call in its own task). */
function toThreadLater(shared: Int32Array): () => Future<number> {
  return () => toThread(countRun, shared);
}
