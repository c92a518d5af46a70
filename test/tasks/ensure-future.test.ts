// ensureFuture: futures as they are, thunks and coroutines as tasks, promises wrapped.
// Ported from CPython's Lib/test/test_asyncio/test_tasks.py (BaseTaskTests) and
// test_futures.py (DuckTests, wrap_future tests, whose role a wrapped promise plays here).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import {
  EventLoop,
  Future,
  Task,
  coroutine,
  createTask,
  ensureFuture,
  getRunningLoop,
  isFuture,
  sleep,
} from "../../src/index.js";
import { TestLoop, runTest } from "../../src/testing.js";

describe("ensureFuture", () => {
  // CPython: test_tasks.py BaseTaskTests.test_ensure_future_coroutine
  it("makes a task of a thunk on the running loop, or on the given loop", async () => {
    const loop = new TestLoop();
    const t = ensureFuture(async () => "ok", { loop });
    assert.ok(t instanceof Task);
    assert.equal(t.getLoop(), loop);
    assert.equal(await loop.runUntilComplete(t), "ok");

    const [t2] = await loop.runUntilComplete(async () => [ensureFuture(async () => "ok")]);
    assert.equal(t2.getLoop(), loop);
    assert.equal(await loop.runUntilComplete(t2), "ok");
  });

  it("makes a task of a Coroutine object", async () => {
    const loop = new TestLoop();
    const notmuch = coroutine(async function notmuch() {
      return "ok";
    });
    const t = ensureFuture(notmuch(), { loop });
    assert.ok(t instanceof Task);
    assert.equal(await loop.runUntilComplete(t), "ok");
  });

  it("throws RuntimeError for a thunk when no loop runs and none is given", () => {
    assert.throws(() => ensureFuture(async () => 1), {
      name: "RuntimeError",
      message: /^no running event loop — /,
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_ensure_future_future
  it("returns a future as it is", async () => {
    const loop = new TestLoop();
    const fOrig = loop.createFuture<string>();
    fOrig.setResult("ko");
    const f = ensureFuture(fOrig);
    assert.equal(f, fOrig);
    assert.equal(await loop.runUntilComplete(f), "ko");
    assert.equal(ensureFuture(fOrig, { loop }), fOrig);
  });

  // CPython: test_tasks.py BaseTaskTests.test_ensure_future_task
  it("returns a task as it is", async () => {
    const loop = new TestLoop();
    const tOrig = loop.createTask(async () => "ok");
    const t = ensureFuture(tOrig);
    assert.equal(t, tOrig);
    assert.equal(await loop.runUntilComplete(t), "ok");
  });

  // CPython: test_tasks.py BaseTaskTests.test_ensure_future_error_msg
  it("refuses a future of another loop with a RangeError (Python's ValueError)", () => {
    const loop = new TestLoop();
    const other = new EventLoop();
    const f = loop.createFuture();
    assert.throws(() => ensureFuture(f, { loop: other }), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.equal(
        (e as Error).message,
        "The future belongs to a different loop than the one specified as the loop argument",
      );
      return true;
    });
    const t = loop.createTask(async () => 1);
    assert.throws(() => ensureFuture(t, { loop: other }), RangeError);
    t.cancel();
    other.close();
  });

  // CPython: test_tasks.py BaseTaskTests.test_ensure_future_awaitable
  it("wraps a thenable in a future that follows it", async () => {
    await runTest(async () => {
      const aw: PromiseLike<string> = {
        then(onOk, onErr) {
          return Promise.resolve("ok").then(onOk, onErr) as never;
        },
      };
      const fut = ensureFuture(aw);
      assert.ok(isFuture(fut));
      assert.equal(fut instanceof Task, false);
      assert.equal(await fut, "ok");
      assert.equal(fut.result(), "ok");
    });
  });

  it("wraps a promise, passing on its error", async () => {
    await runTest(async () => {
      const failure = new Error("rejected");
      const fut = ensureFuture(Promise.reject(failure));
      await assert.rejects((async () => await fut)(), (e: unknown) => e === failure);
      assert.equal(fut.exception(), failure);
    });
  });

  // CPython: test_futures.py BaseFutureTests.test_wrap_future_cancel2 (the role of
  // wrap_future: cancelling the wrapper stops the waiting, not the work)
  it("cancelling the wrapper of a promise stops the waiting, not the work", async () => {
    await runTest(async () => {
      let workDone = false;
      const work = delay(10).then(() => {
        workDone = true;
        return 42;
      });
      const fut = ensureFuture(work);
      assert.equal(fut.cancel(), true);
      assert.equal(fut.cancelled(), true);
      assert.equal(await work, 42);
      assert.equal(workDone, true);
      assert.equal(fut.cancelled(), true, "the late result does not touch the cancelled wrapper");
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_ensure_future_neither
  it("throws a TypeError for something that is not awaitable", async () => {
    await runTest(async () => {
      assert.throws(() => ensureFuture("ok" as never), (e: unknown) => {
        assert.ok(e instanceof TypeError);
        assert.match((e as Error).message, /got "ok"/);
        return true;
      });
      assert.throws(() => ensureFuture(42 as never), TypeError);
      assert.throws(() => ensureFuture(null as never), TypeError);
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_ensure_future_neither (run with no loop)
  it("throws the TypeError for a non-awaitable even with no loop running", () => {
    assert.throws(() => ensureFuture("ok" as never), TypeError);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_create_task
  it("makes tasks through the loop's createTask", async () => {
    class MyTask<T> extends Task<T> {}
    class MyLoop extends TestLoop {
      override createTask<T>(coro: Parameters<EventLoop["createTask"]>[0], options?: object): Task<T> {
        return new MyTask<T>(coro as never, { ...options, loop: this });
      }
    }
    const loop = new MyLoop();
    const task = ensureFuture(async () => 1, { loop });
    assert.ok(task instanceof MyTask);
    assert.equal(await loop.runUntilComplete(task), 1);
  });

  it("returns Futures for sleep() and for a task's own awaitables", async () => {
    await runTest(async () => {
      const s = sleep(1, "x");
      assert.equal(ensureFuture(s), s);
      const t = createTask(async () => 1);
      assert.equal(ensureFuture(t), t);
      assert.ok(s instanceof Future);
      assert.equal(await s, "x");
      await t;
      assert.equal(getRunningLoop().time(), 1);
    });
  });
});
