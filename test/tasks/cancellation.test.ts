// Task cancellation: what cancel() reaches, when the CancelledError arrives, and how the task
// ends. Ported from CPython's Lib/test/test_asyncio/test_tasks.py (BaseTaskTests), plus the
// asyncio-ts rule that cancellation reaches plain async code at its library awaits.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  type Task,
  coroutine,
  createTask,
  getRunningLoop,
  isCancellation,
  sleep,
} from "../../src/index.js";
import { TestLoop, runTest } from "../../src/testing.js";
import { captureExceptions, collectGarbage, runBriefly } from "../support/core.js";
import { errorOf } from "../support/errors.js";

describe("Task.cancel", () => {
  // CPython: test_tasks.py BaseTaskTests.test_cancel
  it("ends a sleeping task cancelled; cancel() is then false", async () => {
    const loop = new TestLoop({ autojump: true });
    const t = loop.createTask(async () => {
      await sleep(10);
      return 12;
    });
    loop.callSoon(() => t.cancel());
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(t.done(), true);
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
    assert.equal(loop.time(), 0, "the sleep was cut short");
  });

  // CPython: test_tasks.py BaseTaskTests.test_cancel_yield
  it("ends a task that yields with sleep(0) cancelled", async () => {
    const loop = new TestLoop();
    let reachedEnd = false;
    const t = loop.createTask(async () => {
      await sleep(0);
      await sleep(0);
      reachedEnd = true;
      return 12;
    });
    await runBriefly(loop);
    t.cancel();
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
    assert.equal(reachedEnd, false);
  });

  // CPython: test_tasks.py BaseTaskTests.test_cancel_inner_future
  it("a future the task awaits, when cancelled, cancels the task", async () => {
    const loop = new TestLoop();
    const f = loop.createFuture<void>();
    const t = loop.createTask(async () => {
      await f;
      return 12;
    });
    await runBriefly(loop);
    f.cancel();
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(f.cancelled(), true);
    assert.equal(t.cancelled(), true);
  });

  // CPython: test_tasks.py BaseTaskTests.test_cancel_both_task_and_inner_future
  it("cancelling both the task and the future it awaits ends it cancelled", async () => {
    const loop = new TestLoop();
    const f = loop.createFuture<void>();
    const t = loop.createTask(async () => {
      await f;
      return 12;
    });
    await runBriefly(loop);
    f.cancel();
    t.cancel();
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(t.done(), true);
    assert.equal(f.cancelled(), true);
    assert.equal(t.cancelled(), true);
  });

  // CPython: test_tasks.py BaseTaskTests.test_task_cancel_waiter_future
  it("cancels the future the task waits on", async () => {
    const loop = new TestLoop();
    const fut = loop.createFuture<void>();
    const task = loop.createTask(async () => {
      await fut;
    });
    await runBriefly(loop);
    assert.match(task.toString(), / wait_for=<Future pending/);
    task.cancel();
    assert.equal(fut.cancelled(), true);
    await assert.rejects(loop.runUntilComplete(task), CancelledError);
    assert.doesNotMatch(task.toString(), /wait_for/);
  });

  // CPython: test_tasks.py BaseTaskTests.test_cancel_task_catching
  it("a task that catches the CancelledError goes on and returns normally", async () => {
    const loop = new TestLoop();
    const fut1 = loop.createFuture<void>();
    const fut2 = loop.createFuture<void>();
    const t = loop.createTask(async () => {
      await fut1;
      try {
        await fut2;
      } catch (e) {
        if (e instanceof CancelledError) return 42;
        throw e;
      }
      return 0;
    });
    await runBriefly(loop);
    fut1.setResult();
    await runBriefly(loop);
    t.cancel();
    assert.equal(fut2.cancelled(), true);
    assert.equal(await loop.runUntilComplete(t), 42);
    assert.equal(t.cancelled(), false);
  });

  // CPython: test_tasks.py BaseTaskTests.test_cancel_task_ignoring
  it("is delivered once: after swallowing it, the next await is not cancelled", async () => {
    const loop = new TestLoop();
    const fut1 = loop.createFuture<void>();
    const fut2 = loop.createFuture<void>();
    const fut3 = loop.createFuture<number>();
    const t = loop.createTask(async () => {
      await fut1;
      try {
        await fut2;
      } catch {
        // ignored
      }
      return await fut3;
    });
    await runBriefly(loop);
    fut1.setResult();
    await runBriefly(loop);
    t.cancel();
    assert.equal(fut2.cancelled(), true);
    await runBriefly(loop);
    assert.match(t.toString(), /wait_for=<Future pending/);
    fut3.setResult(42);
    assert.equal(await loop.runUntilComplete(t), 42);
    assert.equal(fut3.cancelled(), false);
    assert.equal(t.cancelled(), false);
  });

  // CPython: test_tasks.py BaseTaskTests.test_cancel_current_task
  it("a task that cancels itself gets the CancelledError at its next await", async () => {
    const loop = new TestLoop({ autojump: true });
    const t: Task<number> = loop.createTask(async () => {
      t.cancel();
      await sleep(100); // cancelled at once
      return 12;
    });
    assert.equal(t.cancelled(), false);
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
    assert.equal(loop.time(), 0);
  });

  // CPython: test_tasks.py BaseTaskTests.test_cancel_at_end
  it("a task that cancels itself and then returns ends cancelled", async () => {
    const loop = new TestLoop();
    const t: Task<number> = loop.createTask(async () => {
      t.cancel();
      return 12;
    });
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(t.done(), true);
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
  });

  // CPython: test_tasks.py BaseTaskTests.test_cancel_awaited_task
  it("cancels a task that the cancelled task goes on to await, and what that one awaits", async () => {
    const loop = new TestLoop();
    const fut = loop.createFuture<void>();
    let nested: Task<void> | null = null;
    const task: Task<void> = loop.createTask(async () => {
      nested = createTask(async () => {
        await fut;
      });
      await sleep(0);
      task.cancel(); // not blocked now: the cancel waits for the next await
      await nested;
    });
    await assert.rejects(loop.runUntilComplete(task), CancelledError);
    assert.equal(task.cancelled(), true);
    assert.equal(nested!.cancelled(), true);
    assert.equal(fut.cancelled(), true);
  });

  it("cancelling a task that awaits another task cancels that one too", async () => {
    await runTest(async () => {
      const inner = createTask(async () => {
        await sleep(100);
      });
      const outer = createTask(async () => {
        await inner;
      });
      await sleep(1);
      outer.cancel();
      await assert.rejects((async () => await outer)(), CancelledError);
      assert.equal(inner.cancelled(), true);
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_task_cancel_sleeping_task
  it("a task awaiting a cancelled task gets CancelledError but is not cancelled itself", async () => {
    const loop = new TestLoop({ autojump: true });
    const result = await loop.runUntilComplete(async () => {
      const sleeper = createTask(async () => {
        await sleep(5000);
      });
      loop.callLater(0.1, () => sleeper.cancel());
      try {
        await sleeper;
      } catch (e) {
        if (e instanceof CancelledError) return "cancelled";
        throw e;
      }
      return "slept in";
    });
    assert.equal(result, "cancelled");
    assert.equal(loop.time(), 0.1);
  });

  // CPython: test_tasks.py BaseTaskTests.test_yield_future_passes_cancel
  it("passes through plain async functions: their except and finally blocks run", async () => {
    const loop = new TestLoop();
    let proof = 0;
    const waiter = loop.createFuture<void>();
    async function inner(): Promise<void> {
      try {
        await waiter;
      } catch (e) {
        if (e instanceof CancelledError) proof += 1;
        throw e;
      }
      assert.fail("got past the await in inner()");
    }
    async function outer(): Promise<void> {
      try {
        await inner();
      } catch (e) {
        if (e instanceof CancelledError) proof += 100;
        else throw e;
        return;
      }
      proof += 10;
    }
    const f = loop.createTask(outer);
    await runBriefly(loop);
    f.cancel();
    await loop.runUntilComplete(f);
    assert.equal(proof, 101);
    assert.equal(waiter.cancelled(), true);
  });

  it("runs finally blocks at every level and ends the task cancelled when nothing catches", async () => {
    await runTest(async () => {
      const log: string[] = [];
      async function leaf(): Promise<void> {
        try {
          await sleep(10);
        } finally {
          log.push("leaf finally");
        }
      }
      async function middle(): Promise<void> {
        try {
          await leaf();
        } finally {
          log.push("middle finally");
        }
      }
      const t = createTask(async () => {
        try {
          await middle();
        } finally {
          log.push("task finally");
        }
      });
      await sleep(1);
      t.cancel();
      assert.ok(isCancellation(await errorOf(t)));
      assert.deepEqual(log, ["leaf finally", "middle finally", "task finally"]);
      assert.equal(t.cancelled(), true);
    });
  });

  it("a task that swallows the CancelledError can be cancelled again later", async () => {
    await runTest(async () => {
      let caught = 0;
      const t = createTask(async () => {
        for (;;) {
          try {
            await sleep(1);
          } catch (e) {
            if (!(e instanceof CancelledError)) throw e;
            caught++;
            if (caught === 2) throw e;
          }
        }
      });
      await sleep(0.5);
      t.cancel();
      await sleep(0.5);
      assert.equal(t.done(), false);
      t.cancel();
      await assert.rejects((async () => await t)(), CancelledError);
      assert.equal(caught, 2);
    });
  });

  it("a cancel that arrives after the awaited future completed wins over its result", async () => {
    const loop = new TestLoop();
    const fut = loop.createFuture<number>();
    let got: unknown = null;
    const t = loop.createTask(async () => {
      try {
        got = await fut;
      } catch (e) {
        got = e;
        throw e;
      }
    });
    await runBriefly(loop);
    fut.setResult(1); // the wake-up is queued
    t.cancel(); // before the task resumed
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.ok(got instanceof CancelledError);
    assert.equal(fut.cancelled(), false);
    assert.equal(fut.result(), 1);
  });

  // CPython: test_tasks.py BaseTaskTests.test_cancel_with_message_then_future_result
  it("keeps the cancel message in the CancelledError that result() throws", async () => {
    for (const [args, expected] of [
      [[], ""],
      [[undefined], ""],
      [["my message"], "my message"],
    ] as const) {
      await runTest(async () => {
        const task = createTask(async () => {
          await sleep(10);
        });
        await sleep(0);
        task.cancel(...(args as unknown as [string?]));
        await errorOf(task);
        const e = (() => {
          try {
            task.result();
          } catch (error) {
            return error;
          }
          return null;
        })();
        assert.ok(e instanceof CancelledError);
        assert.equal((e as Error).message, expected);
      });
    }
  });

  // CPython: test_tasks.py BaseTaskTests.test_cancel_with_message_then_future_exception
  it("keeps the cancel message in the CancelledError that exception() throws", async () => {
    await runTest(async () => {
      const task = createTask(async () => {
        await sleep(10);
      });
      await sleep(0);
      task.cancel("my message");
      await errorOf(task);
      assert.throws(() => task.exception(), { name: "CancelledError", message: "my message" });
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_cancel_with_message_before_starting_task
  it("keeps the message when cancelled before it started", async () => {
    await runTest(async () => {
      let ran = false;
      const task = createTask(async () => {
        ran = true;
        await sleep(10);
      });
      task.cancel("my message");
      const e = await errorOf(task);
      assert.ok(e instanceof CancelledError);
      assert.equal((e as Error).message, "my message");
      assert.throws(() => task.exception(), { message: "my message" });
      assert.equal(ran, false, "the thunk never started");
    });
  });

  it("closes a Coroutine whose task was cancelled before it started", async () => {
    await runTest(async () => {
      let ran = false;
      const c = coroutine(async function never() {
        ran = true;
      })();
      const task = createTask(c);
      task.cancel();
      await errorOf(task);
      assert.equal(ran, false);
      assert.equal(c.state, "closed");
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_cancellation_exception_context
  it("gives the awaiting task the CancelledError carrying the inner task's message", async () => {
    const loop = new TestLoop({ autojump: true });
    const fut = loop.createFuture<void>();
    const task = loop.createTask(async () => {
      const inner = createTask(async () => {
        fut.setResult();
        await sleep(10);
      });
      await fut;
      loop.callSoon(() => inner.cancel("msg"));
      try {
        await inner;
      } catch (ex) {
        throw new Error("cancelled", { cause: ex });
      }
    });
    const e = await errorOf(loop.runUntilComplete(task));
    assert.equal((e as Error).message, "cancelled");
    const cause = (e as Error).cause;
    assert.ok(cause instanceof CancelledError);
    assert.equal((cause as Error).message, "msg");
    assert.equal(task.cancelled(), false);
  });

  // CPython: test_tasks.py BaseTaskTests.test_tb_logger_not_called_after_cancel
  it("cancel() on a task that already failed marks its error as retrieved", async () => {
    const loop = new TestLoop({ autojump: true });
    const seen = captureExceptions(loop);
    await loop.runUntilComplete(async () => {
      const task = createTask(async () => {
        await sleep(0);
        throw new TypeError();
      });
      await sleep(0.05);
      assert.equal(task.cancel(), false);
    });
    await collectGarbage();
    assert.deepEqual(seen, []);
  });

  it("rejects a cancel message that is not a string with a TypeError", async () => {
    await runTest(async () => {
      const t = createTask(async () => sleep(1));
      assert.throws(() => t.cancel(5 as never), TypeError);
      assert.equal(t.cancelling(), 0);
      await t;
    });
  });

  it("returns true for every call while the task is pending", async () => {
    await runTest(async () => {
      const t = createTask(async () => {
        await sleep(1);
      });
      assert.equal(t.cancel(), true);
      assert.equal(t.cancel(), true);
      await errorOf(t);
      assert.equal(t.cancel(), false);
      assert.equal(getRunningLoop().time(), 0);
    });
  });

  it("cancelling one of two tasks awaiting each other ends both cancelled (no stack overflow)", async () => {
    await runTest(async () => {
      const gate = createTask(async () => sleep(0));
      let b: Task<void> | null = null;
      const a = createTask(async () => {
        await gate;
        await (b as Task<void>);
      });
      b = createTask(async () => {
        await gate;
        await a;
      });
      await sleep(0.1);
      assert.equal(a.cancel("round"), true);
      assert.ok(isCancellation(await errorOf(a)));
      assert.ok(isCancellation(await errorOf(b)));
      assert.ok(a.cancelled() && b.cancelled());
      assert.equal(a.cancelling(), 1);
      assert.equal(b.cancelling(), 1); // a awaited b: its cancel reached b once, then came round
    });
  });
});
