// `loop.callSoonThreadsafe` and `runCoroutineThreadsafe`, called from code outside the loop's
// iterations (Node timers, a worker's 'message' handler): the Node counterpart of "another thread".
// Ported from CPython's Lib/test/test_asyncio/test_events.py (test_call_soon_threadsafe*) and
// test_tasks.py (RunCoroutineThreadsafeTests).
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { describe, it } from "node:test";
import {
  CancelledError,
  ConcurrentFuture,
  ContextVar,
  EventLoop,
  Future,
  RuntimeError,
  Task,
  allTasks,
  currentTask,
  getRunningLoop,
  runCoroutineThreadsafe,
  sleep,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { rejection } from "./support.js";
import { unsupportedOn } from "../support/runtime.js";

/**
 * Runs `fn` from a Node timer: outside the loop's iterations and outside any task. Its value
 * comes back boxed, as a future is a thenable that a promise would otherwise adopt.
 */
function fromNodeCallback<T>(fn: () => T): Promise<[T]> {
  return new Promise((resolve, reject) => {
    setTimeout(() => {
      try {
        resolve([fn()]);
      } catch (error) {
        reject(error);
      }
    }, 5);
  });
}

describe("loop.callSoonThreadsafe", () => {
  // CPython: test_events.py EventLoopTestsMixin.test_call_soon_threadsafe
  it("wakes an idle loop to run a callback scheduled from a Node callback", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const woken = loop.createFuture<string>();
      setTimeout(() => {
        loop.callSoonThreadsafe((word: string) => woken.setResult(word), "hello");
      }, 5);
      // Nothing else is scheduled: only the threadsafe call can wake the loop.
      assert.equal(await woken, "hello");
    });
  });

  // CPython: test_events.py EventLoopTestsMixin.test_call_soon_threadsafe_same_thread
  it("keeps FIFO order with callSoon", async () => {
    const results: string[] = [];
    await runTest(async () => {
      const loop = getRunningLoop();
      const done = loop.createFuture<void>();
      const callback = (word: string): void => {
        results.push(word);
        if (results.length === 2) done.setResult();
      };
      loop.callSoonThreadsafe(callback, "hello");
      loop.callSoon(callback, "world");
      await done;
    });
    assert.deepEqual(results, ["hello", "world"]);
  });

  it("runs the callback outside any task, in the context current at the call", async () => {
    const request = new ContextVar<string>("request", { default: "none" });
    await runTest(async () => {
      const loop = getRunningLoop();
      const seen = loop.createFuture<[string, unknown]>();
      request.set("r-1");
      loop.callSoonThreadsafe(() => seen.setResult([request.get(), currentTask()]));
      assert.deepEqual(await seen, ["r-1", null]);
    });
  });

  it("returns a Handle that cancels the callback", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      let ran = false;
      const [handle] = await fromNodeCallback(() => loop.callSoonThreadsafe(() => (ran = true)));
      handle.cancel();
      await sleep(0);
      await sleep(0);
      assert.equal(ran, false);
    });
  });

  it("delivers a worker thread's message into the loop, through the 'message' handler", { skip: unsupportedOn({ deno: "Deno's async hooks and getActiveResourcesInfo() do not see a worker thread's message port, so runTest may report a deadlock while the worker is still to answer" }) }, async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const received = loop.createFuture<string>();
      const worker = new Worker(
        'require("node:worker_threads").parentPort.postMessage("from the worker");',
        { eval: true },
      );
      worker.on("message", (text: string) => {
        loop.callSoonThreadsafe(() => received.setResult(text));
      });
      assert.equal(await received, "from the worker");
      await worker.terminate();
    });
  });

  it("throws RuntimeError on a closed loop, TypeError for a non-function", () => {
    const loop = new EventLoop();
    assert.throws(() => loop.callSoonThreadsafe(1 as unknown as () => void), TypeError);
    loop.close();
    assert.throws(() => loop.callSoonThreadsafe(() => {}), (e: unknown) =>
      e instanceof RuntimeError && e.message === "Event loop is closed");
  });
});

describe("runCoroutineThreadsafe", () => {
  /** CPython's `add`: waits a little, then returns a + b, fails, or cancels its own task. */
  async function add(a: number, b: number, how: "ok" | "fail" | "cancel" = "ok"): Promise<number> {
    await sleep(0.05);
    if (how === "fail") throw new RangeError("Fail!");
    if (how === "cancel") {
      (currentTask() as Task<unknown>).cancel();
      await sleep(0);
    }
    return a + b;
  }

  // CPython: test_tasks.py RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe
  it("runs a coroutine on the loop from a Node callback and settles with its result", async () => {
    const result = await runTest(async () => {
      const loop = getRunningLoop();
      const [future] = await fromNodeCallback(() => runCoroutineThreadsafe(() => add(1, 2), loop));
      assert.ok(future instanceof ConcurrentFuture);
      return await future;
    });
    assert.equal(result, 3);
  });

  // CPython: test_tasks.py RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe_with_exception
  it("settles with the coroutine's error", async () => {
    const error = await runTest(async () => {
      const loop = getRunningLoop();
      const [future] = await fromNodeCallback(() => runCoroutineThreadsafe(() => add(1, 2, "fail"), loop));
      return await rejection(future);
    });
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, "Fail!");
  });

  // CPython: test_tasks.py RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe_with_timeout
  it("cancels the task when the future is cancelled (as after a timeout)", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const [future] = await fromNodeCallback(() => runCoroutineThreadsafe(() => sleep(3600), loop));
      await sleep(0);
      assert.equal(future.cancel(), true);
      assert.equal(future.cancelled(), true);
      assert.ok((await rejection(future)) instanceof CancelledError);
      await sleep(0);
      await sleep(0);
      assert.deepEqual([...allTasks()].filter((t) => t !== currentTask()), [], "no pending task");
    });
  });

  // CPython: test_tasks.py RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe_task_cancelled
  it("ends cancelled when the task ends cancelled", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const [future] = await fromNodeCallback(() => runCoroutineThreadsafe(() => add(1, 2, "cancel"), loop));
      assert.ok((await rejection(future)) instanceof CancelledError);
      assert.equal(future.cancelled(), true);
      assert.equal(future.cancel(), true);
    });
  });

  // CPython: test_tasks.py RunCoroutineThreadsafeTests.test_run_coroutine_threadsafe_task_factory_exception
  it("throws at the call when the loop's task factory throws (asyncio fails the future)", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      loop.setTaskFactory(() => {
        throw new ReferenceError("wrong_name is not defined");
      });
      try {
        await fromNodeCallback(() => {
          assert.throws(() => runCoroutineThreadsafe(() => add(1, 2), loop), /wrong_name/);
        });
      } finally {
        loop.setTaskFactory(null);
      }
    });
  });

  it("creates the task on a loop that does not run yet; it starts when the loop runs", async () => {
    const loop = new EventLoop();
    const future = runCoroutineThreadsafe(async () => 7, loop);
    assert.equal(future.done(), false);
    await loop.runUntilComplete(async () => {
      await sleep(0);
      await sleep(0);
    });
    assert.equal(future.result(), 7);
    loop.close();
  });

  it("cannot be cancelled once the task is done", async () => {
    await runTest(async () => {
      const future = runCoroutineThreadsafe(async () => "done", getRunningLoop());
      assert.equal(await future, "done");
      assert.equal(future.cancel(), false);
      assert.equal(String(future), "<ConcurrentFuture finished result='done'>");
    });
  });

  it("refuses a closed loop, a non-loop and a non-awaitable", () => {
    const loop = new EventLoop();
    assert.throws(() => runCoroutineThreadsafe(42 as unknown as () => Promise<void>, loop), TypeError);
    assert.throws(() => runCoroutineThreadsafe(async () => {}, {} as EventLoop), /must be an EventLoop/);
    loop.close();
    assert.throws(() => runCoroutineThreadsafe(async () => {}, loop), RuntimeError);
  });

  it("is awaitable from plain code outside any loop task", async () => {
    const loop = new EventLoop();
    const future = runCoroutineThreadsafe(() => sleep(0.01, "slept"), loop);
    const running = loop.runUntilComplete(async () => {
      const fut: Future<string> = loop.createFuture();
      setTimeout(() => loop.callSoonThreadsafe(() => fut.setResult("stop")), 30);
      await fut;
    });
    assert.equal(await future, "slept");
    await running;
    loop.close();
  });
});
