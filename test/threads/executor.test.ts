// `ThreadPoolExecutor`, `ConcurrentFuture`, and the loop's default executor.
// Ported where it applies from CPython's Lib/test/test_concurrent_futures (test_thread_pool.py,
// test_shutdown.py) and the run_in_executor parts of Lib/test/test_asyncio/test_events.py and
// test_base_events.py. Worker threads are real: every wait on them is short and bounded.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import {
  CancelledError,
  ConcurrentFuture,
  EventLoop,
  Future,
  InvalidStateError,
  RuntimeError,
  ThreadPoolExecutor,
  getRunningLoop,
  run,
} from "../../src/index.js";
import { _liveWorkerThreads } from "../../src/threads/executor.js";
import { runTest } from "../../src/testing.js";
import { captureExceptions } from "../support/core.js";
import {
  FINISHED,
  GATE,
  RUNS,
  STARTED,
  blockFor,
  blockUntilOpen,
  cells,
  countRun,
  open,
  rejection,
  until,
} from "./support.js";
import { unsupportedOn } from "../support/runtime.js";

const exec = promisify(execFile);
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe("ThreadPoolExecutor", () => {
  describe("workers", () => {
    // CPython: test_thread_pool.py ThreadPoolExecutorTest.test_default_workers
    it("runs at most min(32, cpus + 4) threads by default, as Python", async () => {
      const pool = new ThreadPoolExecutor();
      assert.equal(pool.maxWorkers, Math.min(32, availableParallelism() + 4));
      await pool.shutdown();
    });

    it("refuses a maxWorkers below 1 or not an integer", () => {
      assert.throws(() => new ThreadPoolExecutor(0), RangeError);
      assert.throws(() => new ThreadPoolExecutor(1.5), TypeError);
    });

    // CPython: test_thread_pool.py ThreadPoolExecutorTest.test_saturation
    it("runs jobs concurrently up to maxWorkers and queues the rest in FIFO order", async () => {
      const pool = new ThreadPoolExecutor(3);
      const shared = cells();
      assert.equal(pool._workerCount, 0, "workers start lazily");
      const futures = Array.from({ length: 5 }, (_, i) => pool.submit(blockUntilOpen, shared, i));
      await until(shared, STARTED, 3);
      assert.equal(pool._workerCount, 3);
      assert.equal(pool._queued, 2);
      assert.deepEqual(futures.map((f) => f.running()), [true, true, true, false, false]);
      open(shared);
      assert.deepEqual(await Promise.all(futures), [0, 1, 2, 3, 4]);
      assert.equal(Atomics.load(shared, FINISHED), 5);
      assert.equal(pool._workerCount, 3);
      await pool.shutdown();
    });

    // CPython: test_thread_pool.py ThreadPoolExecutorTest.test_idle_thread_reuse
    it("reuses an idle worker rather than starting another", async () => {
      const pool = new ThreadPoolExecutor();
      assert.equal(await pool.submit((a: number, b: number) => a * b, 21, 2), 42);
      assert.equal(await pool.submit((a: number, b: number) => a * b, 6, 7), 42);
      assert.equal(await pool.submit((a: number, b: number) => a * b, 3, 14), 42);
      assert.equal(pool._workerCount, 1);
      await pool.shutdown();
    });

    it("does not keep the process alive with idle workers (child process)", async () => {
      const { stdout } = await exec(process.execPath, ["--import", "tsx", fixture("idle-pool.ts")], {
        timeout: 20_000,
      });
      assert.equal(stdout, "42\n");
    });

    it("prints its state", async () => {
      const pool = new ThreadPoolExecutor(2);
      await pool.submit(() => 1);
      assert.equal(String(pool), "<ThreadPoolExecutor open maxWorkers=2 busy=0 idle=1 queued=0>");
      await pool.shutdown();
      assert.equal(String(pool), "<ThreadPoolExecutor closed maxWorkers=2 busy=0 idle=0 queued=0>");
    });
  });

  describe("arguments and results", () => {
    it("structured-clones the arguments when the job is submitted, running or queued", async () => {
      const pool = new ThreadPoolExecutor(1);
      const shared = cells();
      const blocker = pool.submit(blockUntilOpen, shared, null);
      await until(shared, STARTED, 1);
      const arg = { n: 1, when: new Date(0), tags: new Set(["a"]), table: new Map([["k", 1]]) };
      const queued = pool.submit((x: typeof arg) => x, arg);
      arg.n = 2;
      arg.tags.add("b");
      open(shared);
      await blocker;
      const seen = await queued;
      assert.notEqual(seen, arg);
      assert.deepEqual(seen, { n: 1, when: new Date(0), tags: new Set(["a"]), table: new Map([["k", 1]]) });
      await pool.shutdown();
    });

    it("gives class instances back as plain objects, and shares a SharedArrayBuffer", async () => {
      class Point {
        constructor(readonly x: number) {}
      }
      const pool = new ThreadPoolExecutor(1);
      const point = await pool.submit((p: Point) => p, new Point(3));
      assert.deepEqual({ ...point }, { x: 3 });
      assert.equal(point instanceof Point, false);
      const shared = cells();
      await pool.submit((c: Int32Array) => Atomics.store(c, 0, 7), shared);
      assert.equal(Atomics.load(shared, 0), 7);
      await pool.shutdown();
    });

    it("rejects with a TypeError when the result cannot be sent back", async () => {
      const pool = new ThreadPoolExecutor(1);
      const error = await rejection(pool.submit(function makeFn() { return () => 1; }));
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /the result of `makeFn` cannot be sent back from the worker thread/);
      assert.equal(await pool.submit(() => "still works"), "still works");
      await pool.shutdown();
    });
  });

  describe("errors thrown in the worker", () => {
    it("keep their built-in class, name, message, stack, cause and data properties", { skip: unsupportedOn({ bun: "JavaScriptCore gives every error its own non-enumerable `line` and `column`, so a `line` the code assigns is not an own enumerable property that travels, and the rebuilt error has its own" }) }, async () => {
      const pool = new ThreadPoolExecutor(1);
      const error = await rejection(
        pool.submit(function failing() {
          class ParseError extends SyntaxError {
            override name = "ParseError";
          }
          const cause = new Error("root cause");
          throw Object.assign(new ParseError("bad input", { cause }), { line: 3, code: "E_PARSE" });
        }),
      );
      assert.ok(error instanceof SyntaxError, "the nearest built-in class");
      const e = error as SyntaxError & { line: number; code: string };
      assert.equal(e.name, "ParseError");
      assert.equal(e.message, "bad input");
      assert.equal(e.line, 3);
      assert.equal(e.code, "E_PARSE");
      assert.match(String(e.stack), /^ParseError: bad input\n.*failing/s);
      assert.ok(e.cause instanceof Error);
      assert.equal(e.cause.message, "root cause");
      await pool.shutdown();
    });

    it("keep an AggregateError's errors, and values thrown that are not errors", async () => {
      const pool = new ThreadPoolExecutor(1);
      const aggregate = await rejection(
        pool.submit(() => {
          throw new AggregateError([new TypeError("one"), new RangeError("two")], "both");
        }),
      );
      assert.ok(aggregate instanceof AggregateError);
      assert.deepEqual(aggregate.errors.map((e: Error) => [e.constructor, e.message]), [
        [TypeError, "one"],
        [RangeError, "two"],
      ]);
      assert.deepEqual(await rejection(pool.submit(() => { throw { code: 7 }; })), { code: 7 });
      assert.equal(await rejection(pool.submit(() => { throw "plain"; })), "plain");
      await pool.shutdown();
    });

    it("fail the job of a worker that exits, and a new worker takes the queued jobs", async () => {
      const pool = new ThreadPoolExecutor(1);
      const dying = pool.submit(function quit() {
        process.exit(3);
      });
      const queued = pool.submit(() => "after");
      const error = await rejection(dying);
      assert.ok(error instanceof RuntimeError);
      assert.match(error.message, /running quit\(\) died of process\.exit\(3\).*exit code 3/);
      assert.equal(await queued, "after");
      assert.equal(pool._workerCount, 1);
      await pool.shutdown();
    });

    it("fail the job of a worker killed by an uncaught error, with that error as cause", async () => {
      const pool = new ThreadPoolExecutor(1);
      const error = await rejection(
        pool.submit(function crash() {
          return new Promise(() => {
            setTimeout(() => {
              throw new TypeError("boom");
            });
          });
        }),
      );
      assert.ok(error instanceof RuntimeError);
      assert.match(error.message, /running crash\(\) died of an uncaught TypeError: boom/);
      assert.equal((error.cause as Error).message, "boom");
      assert.equal(await pool.submit(() => "replaced"), "replaced");
      await pool.shutdown();
    });
  });

  describe("shutdown", () => {
    // CPython: test_shutdown.py ExecutorShutdownTest.test_run_after_shutdown
    it("makes later submits a RuntimeError", async () => {
      const pool = new ThreadPoolExecutor(1);
      await pool.shutdown();
      assert.throws(() => pool.submit(() => 1), (e: unknown) =>
        e instanceof RuntimeError && e.message === "cannot schedule new futures after shutdown");
    });

    // CPython: test_shutdown.py ExecutorShutdownTest.test_hang_issue12364 / test_threads_terminate
    it("waits for running and queued jobs, then for every thread to exit", async () => {
      const before = _liveWorkerThreads();
      const pool = new ThreadPoolExecutor(2);
      const futures = Array.from({ length: 5 }, () => pool.submit(blockFor, 20));
      await pool.shutdown(true);
      assert.ok(futures.every((f) => f.done() && f.result() === 20));
      assert.equal(pool._workerCount, 0);
      assert.equal(_liveWorkerThreads(), before);
    });

    // CPython: test_shutdown.py ThreadPoolShutdownTest.test_shutdown_no_wait
    it("without wait resolves at once, and the jobs still run", async () => {
      const pool = new ThreadPoolExecutor(1);
      const shared = cells();
      const first = pool.submit(blockUntilOpen, shared, "a");
      const second = pool.submit(blockUntilOpen, shared, "b");
      await pool.shutdown(false);
      assert.equal(second.done(), false);
      open(shared);
      assert.deepEqual(await Promise.all([first, second]), ["a", "b"]);
      await pool.shutdown(true);
      assert.equal(pool._workerCount, 0);
    });

    // CPython: test_shutdown.py ExecutorShutdownTest.test_cancel_futures
    it("with cancelFutures cancels the jobs not started; running ones finish", async () => {
      const pool = new ThreadPoolExecutor(1);
      const shared = cells();
      const running = pool.submit(blockUntilOpen, shared, "ran");
      await until(shared, STARTED, 1);
      const queued = Array.from({ length: 5 }, () => pool.submit(countRun, shared));
      const done = pool.shutdown(true, { cancelFutures: true });
      assert.ok(queued.every((f) => f.cancelled()));
      open(shared);
      await done;
      assert.equal(running.result(), "ran");
      assert.equal(Atomics.load(shared, RUNS), 0);
      assert.ok((await rejection(queued[0] as ConcurrentFuture<number>)) instanceof CancelledError);
    });

    // CPython: test_shutdown.py ExecutorShutdownTest.test_hang_gh94440
    it("does not hang when a job was submitted and cancelled right before", async () => {
      const pool = new ThreadPoolExecutor(1);
      await pool.submit(() => 0);
      const shared = cells();
      const running = pool.submit(blockUntilOpen, shared, 1);
      pool.submit(countRun, shared).cancel();
      open(shared);
      await pool.shutdown(true);
      assert.equal(running.result(), 1);
      assert.equal(Atomics.load(shared, RUNS), 0);
    });

    it("runs at the end of an `await using` block", async () => {
      let pool: ThreadPoolExecutor | null = null;
      {
        await using p = new ThreadPoolExecutor(1);
        pool = p;
        assert.equal(await p.submit(() => 1), 1);
      }
      assert.equal(pool._workerCount, 0);
      assert.throws(() => pool.submit(() => 1), RuntimeError);
    });
  });
});

describe("ConcurrentFuture", () => {
  it("cancels a queued job (true), not a running or finished one (false)", async () => {
    const pool = new ThreadPoolExecutor(1);
    const shared = cells();
    const running = pool.submit(blockUntilOpen, shared, 1);
    const queued = pool.submit(countRun, shared);
    assert.equal(queued.cancel(), true);
    assert.equal(queued.cancel(), true);
    assert.equal(queued.cancelled(), true);
    assert.equal(running.cancel(), false);
    assert.equal(String(running), "<ConcurrentFuture running>");
    open(shared);
    assert.equal(await running, 1);
    assert.equal(running.cancel(), false);
    assert.equal(String(running), "<ConcurrentFuture finished result=1>");
    assert.throws(() => queued.result(), CancelledError);
    await pool.shutdown();
    assert.equal(Atomics.load(shared, RUNS), 0);
  });

  it("reads its outcome synchronously once done, InvalidStateError before", async () => {
    const pool = new ThreadPoolExecutor(1);
    const ok = pool.submit(() => 5);
    assert.throws(() => ok.result(), InvalidStateError);
    assert.throws(() => ok.exception(), InvalidStateError);
    await ok;
    assert.equal(ok.result(), 5);
    assert.equal(ok.exception(), null);
    const failed = pool.submit(() => {
      throw new Error("no");
    });
    await failed.catch(() => {});
    assert.equal((failed.exception() as Error).message, "no");
    assert.throws(() => failed.result(), /no/);
    await pool.shutdown();
  });

  it("does not raise unhandledRejection for a failed job nobody awaits", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on("unhandledRejection", onUnhandled);
    try {
      const pool = new ThreadPoolExecutor(1);
      const failed = pool.submit(() => {
        throw new Error("ignored");
      });
      await pool.shutdown(true);
      assert.equal(failed.done(), true);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

describe("loop.runInExecutor", () => {
  // CPython: test_events.py EventLoopTestsMixin.test_run_in_executor
  it("runs in the default pool when the executor is null, in another thread", async () => {
    const [value, threadId] = await runTest(() =>
      getRunningLoop().runInExecutor(null, async (arg: string) => {
        const { threadId } = await import("node:worker_threads");
        return [arg, threadId] as const;
      }, "yo"),
    );
    assert.equal(value, "yo");
    assert.notEqual(threadId, 0);
  });

  it("makes one default pool per loop, which run() shuts down at its end", async () => {
    const before = _liveWorkerThreads();
    await runTest(async () => {
      const loop = getRunningLoop();
      const results = await Promise.all([1, 2, 3].map((n) => loop.runInExecutor(null, blockFor, n)));
      assert.deepEqual(results, [1, 2, 3]);
      assert.ok(_liveWorkerThreads() > before);
    });
    assert.equal(_liveWorkerThreads(), before);
  });

  // CPython: test_events.py TestExecutor.test_run_in_custom_executor
  it("runs in a given pool and returns a Future of the loop", async () => {
    const pool = new ThreadPoolExecutor(1);
    await runTest(async () => {
      const future = getRunningLoop().runInExecutor(pool, (x: number) => x + 1, 1);
      assert.ok(future instanceof Future);
      assert.equal(await future, 2);
    });
    assert.equal(pool._workerCount, 1, "a pool given by the caller stays open");
    await pool.shutdown();
  });

  // CPython: test_events.py EventLoopTestsMixin.test_run_in_executor_cancel
  it("does not call back into the loop for a call cancelled before the pool shut down", async () => {
    const loop = new EventLoop();
    const seen = captureExceptions(loop);
    await loop.runUntilComplete(async () => {
      const future = loop.runInExecutor(null, blockFor, 30);
      future.cancel();
      await loop.shutdownDefaultExecutor();
    });
    loop.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(seen, []);
  });

  // CPython: test_base_events.py test_default_executor_call_after_shutdown (asyncio's message)
  it("refuses the default executor after shutdownDefaultExecutor()", async () => {
    await run(async () => {
      const loop = getRunningLoop();
      await loop.shutdownDefaultExecutor();
      assert.throws(() => loop.runInExecutor(null, () => 1), /Executor shutdown has been called/);
    });
  });

  it("leaves a loop's running jobs to finish when the run ends (run() waits)", async () => {
    const shared = cells();
    await runTest(async () => {
      void getRunningLoop().runInExecutor(null, blockUntilOpen, shared, 0);
      await until(shared, STARTED, 1);
      setTimeout(() => open(shared, GATE), 20);
    });
    assert.equal(Atomics.load(shared, FINISHED), 1);
  });
});
