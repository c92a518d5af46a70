// `waitFor`, ported from CPython 3.14's Lib/test/test_asyncio/test_waitfor.py (3.12+ semantics:
// built on `timeout()`, a coroutine runs inline in the calling task). Virtual time throughout.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  RuntimeError,
  TimeoutError,
  coroutine,
  createTask,
  currentTask,
  getRunningLoop,
  isCancelledError,
  shield,
  sleep,
  wait,
  waitFor,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { caught } from "../support/errors.js";

/** A very small timeout: it passes "timeout > 0" but ends at once (CPython's _EPSILON). */
const EPSILON = 0.0001;

/** Runs for TASK_TIMEOUT seconds of loop time, swallowing every cancel (CPython's SlowTask). */
class SlowTask {
  static readonly TASK_TIMEOUT = 0.2;
  exited = false;

  async run(): Promise<void> {
    const loop = getRunningLoop();
    const exitAt = loop.time() + SlowTask.TASK_TIMEOUT;
    while (true) {
      const toSleep = exitAt - loop.time();
      if (toSleep <= 0) break;
      try {
        await sleep(toSleep);
      } catch (e) {
        if (!isCancelledError(e)) throw e;
      }
    }
    this.exited = true;
  }
}

class FooException extends Error {
  override name = "FooException";
}

describe("waitFor()", () => {
  it("waits for a coroutine that ignores the cancel of its waiting task", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_asyncio_wait_for_cancelled
    await runTest(async () => {
      const t = new SlowTask();
      const waitForTask = createTask(() => waitFor(() => t.run(), SlowTask.TASK_TIMEOUT * 2));
      await sleep(0);
      waitForTask.cancel();
      await wait([waitForTask]);
      assert.equal(t.exited, true);
      assert.equal(getRunningLoop().time(), SlowTask.TASK_TIMEOUT);
    });
  });

  it("waits for a coroutine that ignores the timeout's cancel, and returns what it returns", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_asyncio_wait_for_timeout
    await runTest(async () => {
      const t = new SlowTask();
      // The body swallowed the cancellation and returned: as asyncio.timeout, no TimeoutError.
      await waitFor(() => t.run(), SlowTask.TASK_TIMEOUT / 2);
      assert.equal(t.exited, true);
      assert.equal(currentTask()?.cancelling(), 0);
    });
  });

  it("returns the result of a future already done, even with a timeout of zero", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_wait_for_timeout_less_then_0_or_0_future_done
    await runTest(async () => {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      fut.setResult("done");
      assert.equal(await waitFor(fut, 0), "done");
      assert.equal(fut.done(), true);
      assert.equal(loop.time(), 0);
    });
  });

  it("never starts a coroutine or thunk when the timeout is zero or less", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started
    await runTest(async () => {
      let started = false;
      const foo = coroutine(async function foo() {
        started = true;
      });
      const e1 = await caught(() => waitFor(foo(), 0));
      assert.ok(e1 instanceof TimeoutError);
      const e2 = await caught(() =>
        waitFor(async () => {
          started = true;
        }, -1),
      );
      assert.ok(e2 instanceof TimeoutError);
      assert.equal(started, false);
      assert.equal(getRunningLoop().time(), 0);
    });
  });

  for (const t of [0, -1]) {
    it(`cancels a running task and waits for it when the timeout is ${t}`, async () => {
      // CPython: test_waitfor.py AsyncioWaitForTest.test_wait_for_timeout_less_then_0_or_0
      await runTest(async () => {
        const loop = getRunningLoop();
        let running: boolean | null = null;
        const started = loop.createFuture<void>();
        const fut = createTask(async () => {
          running = true;
          started.setResult(undefined);
          try {
            await sleep(10);
          } finally {
            running = false;
          }
          return "done";
        });
        await started;
        const error = await caught(() => waitFor(fut, t));
        assert.ok(error instanceof TimeoutError);
        assert.ok(error.cause instanceof CancelledError);
        assert.equal(fut.done(), true);
        assert.equal(fut.cancelled(), true);
        assert.equal(running, false);
        assert.equal(loop.time(), 0);
      });
    });
  }

  it("cancels the task it waits for when the time runs out", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_wait_for
    await runTest(async () => {
      const loop = getRunningLoop();
      let running: boolean | null = null;
      const fut = createTask(async () => {
        running = true;
        try {
          await sleep(3600);
        } finally {
          running = false;
        }
        return "done";
      });
      const t0 = loop.time();
      const error = await caught(() => waitFor(fut, 0.1));
      assert.ok(error instanceof TimeoutError);
      assert.equal(loop.time() - t0, 0.1);
      assert.equal(fut.done(), true);
      assert.equal(fut.cancelled(), true);
      assert.equal(running, false);
    });
  });

  it("waits without limit with a timeout of null", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_wait_for_blocking
    await runTest(async () => {
      const coro = coroutine(async function coro() {
        return "done";
      });
      assert.equal(await waitFor(coro(), null), "done");
      assert.equal(await waitFor(() => sleep(1000, "later"), null), "later");
      assert.equal(getRunningLoop().time(), 1000);
    });
  });

  it("returns the result of a future completed by a callback before the deadline", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_wait_for_race_condition
    await runTest(async () => {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      const result = waitFor(fut, 0.2);
      loop.callSoon(() => fut.setResult("ok"));
      assert.equal(await result, "ok");
    });
  });

  it("returns what a coroutine returns after catching the timeout's cancel", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_wait_for_cancellation_race_condition
    await runTest(async () => {
      const result = await waitFor(async () => {
        const error = await caught(() => sleep(1));
        assert.ok(error instanceof CancelledError);
        return 1;
      }, 0.01);
      assert.equal(result, 1);
    });
  });

  it("waits for the cancelled task to finish before raising TimeoutError", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_wait_for_waits_for_task_cancellation
    await runTest(async () => {
      let taskDone = false;
      const innerTask = createTask(async () => {
        try {
          await sleep(10);
        } catch (e) {
          await sleep(EPSILON);
          throw e;
        } finally {
          taskDone = true;
        }
      });
      const error = await caught(() => waitFor(innerTask, EPSILON));
      assert.ok(error instanceof TimeoutError);
      assert.equal(taskDone, true);
      // Python chains the CancelledError as __context__; here it is the `cause`.
      assert.ok(error.cause instanceof CancelledError);
    });
  });

  it("waits for the cancelled task to finish before raising TimeoutError, with a timeout of zero", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_wait_for_waits_for_task_cancellation_w_timeout_0
    await runTest(async () => {
      let taskDone = false;
      const foo = async (): Promise<void> => {
        const innerTask = createTask(async () => {
          try {
            await sleep(10);
          } catch (e) {
            await sleep(EPSILON);
            throw e;
          } finally {
            taskDone = true;
          }
        });
        await sleep(EPSILON);
        await waitFor(innerTask, 0);
      };
      const error = await caught(foo);
      assert.ok(error instanceof TimeoutError);
      assert.equal(taskDone, true);
      assert.ok(error.cause instanceof CancelledError);
    });
  });

  it("raises the error a task raised while it was being cancelled", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_wait_for_reraises_exception_during_cancellation
    await runTest(async () => {
      const foo = async (): Promise<void> => {
        const innerTask = createTask(async () => {
          try {
            await sleep(0.2);
          } finally {
            // eslint-disable-next-line no-unsafe-finally
            throw new FooException();
          }
        });
        await waitFor(innerTask, EPSILON);
      };
      assert.ok((await caught(foo)) instanceof FooException);
    });
  });

  for (const t of [null, 60]) {
    it(`cancels the task it waits for when its own task is cancelled (timeout ${t})`, async () => {
      // CPython: test_waitfor.py AsyncioWaitForTest.test_cancel_blocking_wait_for / test_cancel_wait_for
      // (Python issue #23219: cancelling the wait must also cancel the task.)
      await runTest(async () => {
        const loop = getRunningLoop();
        const task = createTask(async () => {
          await loop.createFuture(); // never set
        });
        const waiting = createTask(() => waitFor(task, t));
        loop.callSoon(() => waiting.cancel());
        const error = await caught(() => waiting);
        assert.ok(error instanceof CancelledError);
        assert.ok(!(error instanceof TimeoutError));
        assert.equal(task.cancelled(), true);
      });
    });
  }

  it("cancels an inline coroutine where it waits when its own task is cancelled", async () => {
    await runTest(async () => {
      let finallyRan = false;
      const waiting = createTask(() =>
        waitFor(async () => {
          try {
            await sleep(10);
          } finally {
            finallyRan = true;
          }
        }, 5),
      );
      await sleep(1);
      waiting.cancel("stop");
      const error = await caught(() => waiting);
      assert.ok(error instanceof CancelledError);
      assert.equal(error.message, "stop");
      assert.equal(finallyRan, true);
      assert.equal(waiting.cancelled(), true);
    });
  });

  it("returns the value of a coroutine that suppressed the cancellation", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_wait_for_cancel_suppressed (GH-86296)
    await runTest(async () => {
      const return42 = async (): Promise<number> => {
        try {
          await sleep(10);
        } catch (e) {
          if (isCancelledError(e)) return 42;
          throw e;
        }
        return 0;
      };
      assert.equal(await waitFor(return42, 0.1), 42);
    });
  });

  it("ends cancelled, not at its next line, when cancelled right after the awaited task finished", async () => {
    // CPython: test_waitfor.py AsyncioWaitForTest.test_wait_for_issue86296
    await runTest(async () => {
      const innerTask = createTask(async () => "done");
      let reachedEnd = false;
      const task = createTask(async () => {
        await waitFor(innerTask, 100);
        await sleep(1);
        reachedEnd = true;
      });
      assert.equal(task.done(), false);
      await sleep(0); // run the task
      task.cancel();
      assert.ok((await caught(() => task)) instanceof CancelledError);
      assert.equal(innerTask.done(), true);
      assert.equal(await innerTask, "done");
      assert.equal(reachedEnd, false);
    });
  });

  it("runs a thunk inline in the calling task (3.12: no new task)", async () => {
    await runTest(async () => {
      const me = currentTask();
      const seen = await waitFor(async () => ({ task: currentTask() }), 1);
      assert.equal(seen.task, me);
    });
  });

  it("stops waiting for a promise on timeout, and ignores its later outcome", async () => {
    // JS only: a promise that already runs cannot be cancelled; the waiting stops, not the work.
    await runTest(async () => {
      const loop = getRunningLoop();
      let settled = false;
      const work = new Promise<string>((resolve) =>
        loop.callLater(5, () => {
          settled = true;
          resolve("late");
        }),
      );
      const error = await caught(() => waitFor(work, 1));
      assert.ok(error instanceof TimeoutError);
      assert.equal(loop.time(), 1);
      assert.equal(await work, "late");
      assert.equal(settled, true);
    });
  });

  it("passes the awaited error through untouched", async () => {
    await runTest(async () => {
      const boom = new FooException();
      assert.equal(await caught(() => waitFor(async () => { throw boom; }, 1)), boom);
    });
  });

  it("cancels its timer when the awaitable finishes in time", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      assert.equal(await waitFor(() => sleep(1, "ok"), 3600), "ok");
      assert.equal(loop._pendingCounts().timers, 0);
    });
  });
});

describe("waitFor() with shield()", () => {
  it("cancels only the shield with a timeout of zero: the task runs on", async () => {
    // CPython: test_waitfor.py WaitForShieldTests.test_zero_timeout
    await runTest(async () => {
      const task = createTask(async () => {
        await sleep(0.01);
        return "done";
      });
      const shielded = shield(task);
      const error = await caught(() => waitFor(shielded, 0));
      assert.ok(error instanceof TimeoutError);
      assert.equal(task.done(), false);
      assert.equal(task.cancelled(), false);
      assert.equal(shielded.cancelled(), true);
      await sleep(0.1);
      assert.equal(task.done(), true);
      assert.equal(task.result(), "done");
    });
  });

  it("waits for the shielded task to finish with a timeout of null", async () => {
    // CPython: test_waitfor.py WaitForShieldTests.test_none_timeout
    await runTest(async () => {
      const task = createTask(async () => {
        await sleep(0.1);
        return "done";
      });
      await waitFor(shield(task), null);
      assert.equal(task.done(), true);
      assert.equal(await task, "done");
    });
  });

  it("leaves the shielded task running when the time runs out", async () => {
    // CPython: test_waitfor.py WaitForShieldTests.test_shielded_timeout
    await runTest(async () => {
      const task = createTask(async () => {
        await sleep(0.1);
        return "done";
      });
      const error = await caught(() => waitFor(shield(task), 0.01));
      assert.ok(error instanceof TimeoutError);
      assert.equal(task.done(), false);
      assert.equal(task.cancelled(), false);
      assert.equal(await task, "done");
    });
  });
});

describe("waitFor() argument checks", () => {
  it("rejects a bad awaitable or timeout synchronously, naming the argument", async () => {
    await runTest(async () => {
      assert.throws(() => waitFor(123 as never, 1), (e) => e instanceof TypeError && /`aw`/.test(e.message));
      assert.throws(() => waitFor(() => sleep(0), "1" as never), (e) => e instanceof TypeError && /`timeout`/.test(e.message));
      assert.throws(() => waitFor(() => sleep(0), Number.NaN), (e) => e instanceof RangeError && /`timeout`/.test(e.message));
    });
  });

  it("rejects with TypeError when a thunk returns something that is not an awaitable", async () => {
    await runTest(async () => {
      await assert.rejects(
        waitFor((() => 5) as never, 1),
        (e) => e instanceof TypeError && /must return an awaitable/.test(e.message),
      );
      assert.equal(currentTask()?.cancelling(), 0);
    });
  });

  it("rejects with RuntimeError outside a task", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const outcome = loop.createFuture<unknown>();
      loop.callSoon(() => {
        waitFor(() => sleep(0), 1).then(
          () => outcome.setResult("resolved"),
          (e: unknown) => outcome.setResult(e),
        );
      });
      assert.ok((await outcome) instanceof RuntimeError);
    });
  });
});

describe("waitFor()'s TimeoutError says which timeout passed", () => {
  it("with a timeout that runs out", async () => {
    await runTest(async () => {
      await assert.rejects(waitFor(() => sleep(1), 0.25), { name: "TimeoutError", message: "waitFor() timeout of 0.25 s expired" });
    });
  });

  it("with a timeout of zero", async () => {
    await runTest(async () => {
      await assert.rejects(waitFor(sleep(1), 0), { name: "TimeoutError", message: "waitFor() timeout of 0 s expired" });
    });
  });
});
