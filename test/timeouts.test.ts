// Timeouts: `timeout()`, `timeoutAt()` and the `Timeout` scope, ported from CPython 3.13/3.14's
// Lib/test/test_asyncio/test_timeouts.py. Every test runs on the virtual clock (`runTest`), so
// deadlines are exact and take no real time.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  ExceptionGroup,
  RuntimeError,
  Timeout,
  TimeoutError,
  createTask,
  currentTask,
  getRunningLoop,
  isCancelledError,
  sleep,
  taskGroup,
  timeout,
  timeoutAt,
} from "../src/index.js";
import { runTest } from "../src/testing.js";
import { KeyError, ValueError, ZeroDivisionError, caught } from "./support/errors.js";

describe("timeout()", () => {
  it("raises TimeoutError when the body runs past the delay, and the scope is expired", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_basic
    await runTest(async () => {
      let scope: Timeout | undefined;
      const error = await caught(() =>
        timeout(0.01, async (cm) => {
          scope = cm;
          await sleep(10);
        }),
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(scope?.expired(), true);
      assert.equal(getRunningLoop().time(), 0.01);
    });
  });

  it("raises TimeoutError at an absolute deadline and reports it as when()", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_at_basic
    await runTest(async () => {
      const loop = getRunningLoop();
      const deadline = loop.time() + 0.01;
      let scope: Timeout | undefined;
      const error = await caught(() =>
        timeoutAt(deadline, async (cm) => {
          scope = cm;
          await sleep(10);
        }),
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(scope?.expired(), true);
      assert.equal(scope?.when(), deadline);
    });
  });

  it("lets only the outermost of two scopes with the same deadline raise TimeoutError", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_nested_timeouts
    await runTest(async () => {
      const deadline = getRunningLoop().time() + 0.01;
      let cancelled = false;
      let cm1: Timeout | undefined;
      let cm2: Timeout | undefined;
      const error = await caught(() =>
        timeoutAt(deadline, async (outer) => {
          cm1 = outer;
          try {
            await timeoutAt(deadline, async (inner) => {
              cm2 = inner;
              await sleep(10);
            });
          } catch (e) {
            // The inner scope passes the cancellation on: it is not its own alone.
            cancelled = isCancelledError(e);
            throw e;
          }
        }),
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(cancelled, true);
      assert.equal(cm1?.expired(), true);
      assert.equal(cm2?.expired(), true);
    });
  });

  it("cancels the body where it waits: the body sees CancelledError", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_waiter_cancelled
    await runTest(async () => {
      let cancelled = false;
      const error = await caught(() =>
        timeout(0.01, async () => {
          try {
            await sleep(10);
          } catch (e) {
            cancelled = isCancelledError(e);
            throw e;
          }
        }),
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(cancelled, true);
    });
  });

  it("does nothing when the body finishes in time", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_not_called
    await runTest(async () => {
      const loop = getRunningLoop();
      let scope: Timeout | undefined;
      const result = await timeout(10, async (cm) => {
        scope = cm;
        await sleep(0.01);
        return "done";
      });
      const t1 = loop.time();
      assert.equal(result, "done");
      assert.equal(scope?.expired(), false);
      assert.ok((scope?.when() ?? 0) > t1);
      assert.equal(t1, 0.01);
    });
  });

  it("has no deadline with a delay of null", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_disabled
    await runTest(async () => {
      let scope: Timeout | undefined;
      await timeout(null, async (cm) => {
        scope = cm;
        await sleep(0.01);
      });
      assert.equal(scope?.expired(), false);
      assert.equal(scope?.when(), null);
    });
  });

  it("has no deadline with timeoutAt(null)", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_at_disabled
    await runTest(async () => {
      let scope: Timeout | undefined;
      await timeoutAt(null, async (cm) => {
        scope = cm;
        await sleep(0.01);
      });
      assert.equal(scope?.expired(), false);
      assert.equal(scope?.when(), null);
    });
  });

  it("expires at once with a delay of zero", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_zero
    await runTest(async () => {
      const loop = getRunningLoop();
      const t0 = loop.time();
      let scope: Timeout | undefined;
      const error = await caught(() =>
        timeout(0, async (cm) => {
          scope = cm;
          await sleep(10);
        }),
      );
      const t1 = loop.time();
      assert.ok(error instanceof TimeoutError);
      assert.equal(scope?.expired(), true);
      const when = scope?.when() as number;
      assert.ok(t0 <= when && when <= t1);
      assert.equal(t1, t0, "no time passes");
    });
  });

  it("expires a delay of zero even when the body only yields with sleep(0)", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_zero_sleep_zero
    await runTest(async () => {
      const loop = getRunningLoop();
      const t0 = loop.time();
      let scope: Timeout | undefined;
      const error = await caught(() =>
        timeout(0, async (cm) => {
          scope = cm;
          await sleep(0);
        }),
      );
      const t1 = loop.time();
      assert.ok(error instanceof TimeoutError);
      assert.equal(scope?.expired(), true);
      const when = scope?.when() as number;
      assert.ok(t0 <= when && when <= t1);
    });
  });

  it("expires a deadline in the past at the body's first yield", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_in_the_past_sleep_zero
    await runTest(async () => {
      const loop = getRunningLoop();
      const t0 = loop.time();
      let scope: Timeout | undefined;
      const error = await caught(() =>
        timeout(-11, async (cm) => {
          scope = cm;
          await sleep(0);
        }),
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(scope?.expired(), true);
      assert.equal(scope?.when(), t0 - 11);
    });
  });

  it("lets an error of the body through untouched, and does not expire", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_foreign_exception_passed
    await runTest(async () => {
      let scope: Timeout | undefined;
      const boom = new KeyError("k");
      const error = await caught(() =>
        timeout(0.01, async (cm) => {
          scope = cm;
          throw boom;
        }),
      );
      assert.equal(error, boom);
      assert.equal(scope?.expired(), false);
    });
  });

  it("turns a CancelledError that replaced a body error into TimeoutError", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_exception_context
    // (Python also chains the original error as __context__; JS has no implicit chaining.)
    await runTest(async () => {
      const error = await caught(() =>
        timeout(0.01, async () => {
          try {
            throw new ZeroDivisionError();
          } finally {
            await sleep(1);
          }
        }),
      );
      assert.ok(error instanceof TimeoutError);
      assert.ok(error.cause instanceof CancelledError);
    });
  });

  it("lets an error raised while the body is being cancelled win over the timeout", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_foreign_exception_on_timeout
    await runTest(async () => {
      const crash = async (): Promise<void> => {
        try {
          await sleep(1);
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          throw new ZeroDivisionError();
        }
      };
      const error = await caught(() => timeout(0.01, () => crash()));
      assert.ok(error instanceof ZeroDivisionError);
    });
  });

  it("lets the last error of nested cleanups win over the timeout", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_foreign_exception_on_timeout_2
    await runTest(async () => {
      const error = await caught(() =>
        timeout(0.01, async () => {
          try {
            try {
              throw new ValueError();
            } finally {
              await sleep(1);
            }
          } finally {
            try {
              // eslint-disable-next-line no-unsafe-finally
              throw new KeyError();
            } finally {
              // eslint-disable-next-line no-unsafe-finally
              throw new ZeroDivisionError();
            }
          }
        }),
      );
      assert.ok(error instanceof ZeroDivisionError);
    });
  });

  it("never turns a cancel from outside into a timeout when the scope has not expired", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_foreign_cancel_doesnt_timeout_if_not_expired
    await runTest(async () => {
      let scope: Timeout | undefined;
      const task = createTask(() =>
        timeout(10, async (cm) => {
          scope = cm;
          currentTask()?.cancel();
          await sleep(10);
        }),
      );
      const error = await caught(() => task);
      assert.ok(error instanceof CancelledError);
      assert.ok(!(error instanceof TimeoutError));
      assert.equal(task.cancelled(), true);
      assert.equal(scope?.expired(), false);
    });
  });

  it("never turns an outside cancel that comes with the deadline into a timeout", async () => {
    // Pins the rule of CPython 3.13's Timeout.__aexit__ (uncancel() must reach the count
    // recorded on entry) for the case where both cancels reach the task in one iteration.
    await runTest(async () => {
      const loop = getRunningLoop();
      let scope: Timeout | undefined;
      const task = createTask(() =>
        timeout(1, async (cm) => {
          scope = cm;
          await sleep(10);
        }),
      );
      await sleep(0);
      // Due at the same time as the deadline, scheduled after it: both cancels arrive together.
      loop.callAt(1, () => task.cancel("from outside"));
      const error = await caught(() => task);
      assert.ok(error instanceof CancelledError);
      assert.equal(task.cancelled(), true);
      assert.equal(scope?.expired(), true);
      assert.equal(loop.time(), 1);
    });
  });

  it("leaves the task that ran the scope uncancelled after a timeout", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_outer_task_is_not_cancelled
    await runTest(async () => {
      const task = createTask(async () => {
        const error = await caught(() => timeout(0.001, () => sleep(10)));
        assert.ok(error instanceof TimeoutError);
        return currentTask()?.cancelling();
      });
      assert.equal(await task, 0);
      assert.equal(task.cancelled(), false);
      assert.equal(task.done(), true);
    });
  });

  it("lets the outer scope time out when its deadline passed while the loop was busy", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_nested_timeouts_concurrent
    // The blocking `time.sleep(0.01)` becomes a jump of the virtual clock between iterations.
    await runTest(async () => {
      const loop = getRunningLoop() as import("../src/testing.js").TestLoop;
      const error = await caught(() =>
        timeout(0.002, async () => {
          await timeout(0.1, async () => {
            loop.advance(0.01); // "crunch numbers" past the outer deadline only
            await sleep(1);
          });
        }),
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(loop.time(), 0.01);
    });
  });

  it("raises TimeoutError from the outer scope when both deadlines passed while the loop was busy", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_nested_timeouts_loop_busy
    await runTest(async () => {
      const loop = getRunningLoop() as import("../src/testing.js").TestLoop;
      const t0 = loop.time();
      let reachedAfterInner = false;
      const error = await caught(() =>
        timeout(0.1, async () => {
          try {
            await timeout(0.01, async () => {
              loop.advance(0.1); // the loop is busy past both deadlines
              await sleep(1);
            });
          } catch (e) {
            // Both deadlines fire in one iteration: the inner scope sees a second cancel
            // request (the outer one) and must let the CancelledError through.
            assert.ok(isCancelledError(e));
            throw e;
          }
          reachedAfterInner = true;
          await sleep(10);
        }),
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(reachedAfterInner, false);
      assert.ok(loop.time() - t0 <= 1);
    });
  });

  it("can move the deadline, and remove it with reschedule(null)", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_reschedule
    await runTest(async () => {
      const loop = getRunningLoop();
      const entered = loop.createFuture<Timeout>();
      const deadline1 = loop.time() + 10;
      const deadline2 = deadline1 + 20;
      const task = createTask(() =>
        timeoutAt(deadline1, async (cm) => {
          entered.setResult(cm);
          await sleep(50);
        }),
      );
      const cm = await entered;
      assert.equal(cm.when(), deadline1);
      cm.reschedule(deadline2);
      assert.equal(cm.when(), deadline2);
      cm.reschedule(null);
      assert.equal(cm.when(), null);
      task.cancel();
      assert.ok((await caught(() => task)) instanceof CancelledError);
      assert.equal(cm.expired(), false);
    });
  });

  it("fires at the new deadline after reschedule", async () => {
    // The other half of test_reschedule: the moved deadline is the one that fires.
    await runTest(async () => {
      const loop = getRunningLoop();
      const error = await caught(() =>
        timeout(10, async (cm) => {
          cm.reschedule(loop.time() + 3);
          await sleep(50);
        }),
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(loop.time(), 3);
    });
  });

  it("expires in the next iteration when rescheduled to a time already past", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const error = await caught(() =>
        timeout(10, async (cm) => {
          cm.reschedule(loop.time() - 1);
          await sleep(0);
        }),
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(loop.time(), 0);
    });
  });

  it("prints as <Timeout [active] when=…> while active", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_repr_active
    await runTest(async () => {
      await timeout(10, (cm) => {
        assert.match(String(cm), /^<Timeout \[active\] when=\d+\.\d*>$/);
      });
    });
  });

  it("prints as <Timeout [expired]> after it expired", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_repr_expired
    await runTest(async () => {
      let scope: Timeout | undefined;
      await caught(() =>
        timeout(0.01, async (cm) => {
          scope = cm;
          await sleep(10);
        }),
      );
      assert.equal(String(scope), "<Timeout [expired]>");
    });
  });

  it("prints as <Timeout [finished]> after the body finished in time", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_repr_finished
    await runTest(async () => {
      let scope: Timeout | undefined;
      await timeout(10, async (cm) => {
        scope = cm;
        await sleep(0);
      });
      assert.equal(String(scope), "<Timeout [finished]>");
    });
  });

  it("prints as <Timeout [active] when=None> without a deadline", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_repr_disabled
    await runTest(async () => {
      await timeout(null, (cm) => {
        assert.equal(String(cm), "<Timeout [active] when=None>");
      });
    });
  });

  it("lets a scope inside a finally block of an expired scope raise its own TimeoutError", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_nested_timeout_in_finally
    await runTest(async () => {
      let innerError: unknown;
      const outerError = await caught(() =>
        timeout(0.01, async () => {
          try {
            await sleep(1);
          } finally {
            innerError = await caught(() => timeout(0.01, () => sleep(10)));
          }
        }),
      );
      assert.ok(outerError instanceof TimeoutError);
      assert.ok(outerError.cause instanceof CancelledError);
      assert.ok(innerError instanceof TimeoutError);
      assert.ok((innerError as TimeoutError).cause instanceof CancelledError);
      assert.notEqual((innerError as TimeoutError).cause, outerError.cause);
      assert.equal(getRunningLoop().time(), 0.02);
    });
  });

  it("records the task's cancel count on entry: a task still cancelling can time out", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_after_cancellation
    await runTest(async () => {
      let error: unknown;
      try {
        currentTask()?.cancel();
        await sleep(1); // work which will be cancelled
      } catch (e) {
        assert.ok(isCancelledError(e));
      } finally {
        assert.equal(currentTask()?.cancelling(), 1);
        error = await caught(() => timeout(0, () => sleep(1))); // some cleanup
      }
      assert.ok(error instanceof TimeoutError);
      currentTask()?.uncancel();
    });
  });

  it("passes a new cancel through a scope entered while the task was still cancelling", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_cancel_in_timeout_after_cancellation
    await runTest(async () => {
      let error: unknown;
      try {
        currentTask()?.cancel();
        await sleep(1);
      } catch (e) {
        assert.ok(isCancelledError(e));
      } finally {
        error = await caught(() =>
          timeout(1, async () => {
            currentTask()?.cancel();
            await sleep(2);
          }),
        );
      }
      assert.ok(error instanceof CancelledError);
      assert.ok(!(error instanceof TimeoutError));
      assert.equal(currentTask()?.cancelling(), 2);
      currentTask()?.uncancel();
      currentTask()?.uncancel();
    });
  });

  it("gives the TimeoutError the CancelledError as its cause", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_exception_cause
    await runTest(async () => {
      const error = await caught(() => timeout(0, () => sleep(1)));
      assert.ok(error instanceof TimeoutError);
      assert.ok(error.cause instanceof CancelledError);
      assert.equal(error.name, "TimeoutError");
    });
  });

  it("refuses reschedule() after the scope finished", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_finished
    await runTest(async () => {
      let scope: Timeout | undefined;
      await timeout(0.01, (cm) => {
        scope = cm;
      });
      assert.throws(() => scope?.reschedule(0.02), (e) => e instanceof RuntimeError && /finished/.test(e.message));
    });
  });

  it("refuses reschedule() after the scope expired", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_expired
    await runTest(async () => {
      let scope: Timeout | undefined;
      await caught(() =>
        timeout(0.01, async (cm) => {
          scope = cm;
          await sleep(1);
        }),
      );
      assert.throws(() => scope?.reschedule(0.02), (e) => e instanceof RuntimeError && /expired/.test(e.message));
    });
  });

  it("refuses reschedule() while the scope is expiring", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_expiring
    await runTest(async () => {
      const result = await timeout(0.01, async (cm) => {
        const error = await caught(() => sleep(1));
        assert.ok(error instanceof CancelledError);
        assert.throws(() => cm.reschedule(0.02), (e) => e instanceof RuntimeError && /expiring/.test(e.message));
        return "swallowed";
      });
      // The body swallowed the cancellation and returned: no TimeoutError, as in asyncio.
      assert.equal(result, "swallowed");
      assert.equal(currentTask()?.cancelling(), 0);
    });
  });

  it("refuses reschedule() on a scope that was never entered", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_not_entered
    await runTest(async () => {
      const scope = new Timeout(getRunningLoop().time() + 1);
      assert.throws(() => scope.reschedule(0.02), (e) => e instanceof RuntimeError && /has not been entered/.test(e.message));
    });
  });

  it("rejects with RuntimeError outside a task", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_without_task
    await runTest(async () => {
      const loop = getRunningLoop();
      const outcome = loop.createFuture<unknown>();
      let ran = false;
      loop.callSoon(() => {
        timeout(0.01, () => {
          ran = true;
        }).then(
          () => outcome.setResult("resolved"),
          (e: unknown) => outcome.setResult(e),
        );
      });
      const error = await outcome;
      assert.ok(error instanceof RuntimeError);
      assert.match(error.message, /task/);
      assert.equal(ran, false);
    });
  });

  it("lets the ExceptionGroup of a task group pass through an expired scope", async () => {
    // CPython: test_timeouts.py TimeoutTests.test_timeout_taskgroup
    // (The checks of __context__ chains are Python-only: JS has no implicit chaining.)
    await runTest(async () => {
      const child = async (): Promise<void> => {
        try {
          await sleep(2); // interrupted after 0.01 seconds
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          throw new ZeroDivisionError(); // crash in cleanup
        }
      };
      const error = await caught(() =>
        timeout(0.01, () =>
          taskGroup(async (tg) => {
            tg.createTask(child);
            try {
              throw new ValueError();
            } finally {
              await sleep(1);
            }
          }),
        ),
      );
      assert.ok(error instanceof ExceptionGroup);
      assert.equal(error.errors.length, 1);
      assert.ok(error.errors[0] instanceof ZeroDivisionError);
      assert.equal(currentTask()?.cancelling(), 0);
    });
  });

  it("still raises TimeoutError when the body returns from foreign code after the deadline", async () => {
    // JS only: a body awaiting a promise the library did not make cannot be interrupted there;
    // the cancel is remembered, and when the body returns first the scope still times out.
    await runTest(async () => {
      const loop = getRunningLoop();
      const foreign = new Promise<string>((resolve) => loop.callLater(2, () => resolve("late")));
      const error = await caught(() => timeout(1, () => foreign));
      assert.ok(error instanceof TimeoutError);
      assert.ok(error.cause instanceof CancelledError);
      assert.equal(loop.time(), 2);
      assert.equal(currentTask()?.cancelling(), 0);
    });
  });

  it("delivers the timeout at the next library await after foreign code", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const foreign = new Promise<void>((resolve) => loop.callLater(2, resolve));
      let reached = false;
      const error = await caught(() =>
        timeout(1, async () => {
          await foreign;
          reached = true;
          await sleep(10);
        }),
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(reached, true);
      assert.equal(loop.time(), 2);
    });
  });

  it("runs the body in the calling task, with no new task", async () => {
    await runTest(async () => {
      const me = currentTask();
      const inside = await timeout(1, async () => ({ task: currentTask() }));
      assert.equal(inside.task, me);
    });
  });

  it("resolves to what the body resolves to, also for a synchronous body", async () => {
    await runTest(async () => {
      assert.equal(await timeout(1, () => 42), 42);
      assert.equal(await timeoutAt(null, async () => "x"), "x");
    });
  });

  it("cancels its timer when the body finishes in time", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      await timeout(3600, () => sleep(0));
      assert.equal(loop._pendingCounts().timers, 0);
    });
  });
});

describe("timeout() argument checks", () => {
  it("rejects a bad delay or body synchronously, naming the argument", async () => {
    await runTest(async () => {
      assert.throws(() => timeout("1" as never, () => undefined), (e) => e instanceof TypeError && /`delay`/.test(e.message));
      assert.throws(() => timeout(Number.NaN, () => undefined), (e) => e instanceof RangeError && /`delay`/.test(e.message));
      assert.throws(() => timeout(1, "body" as never), (e) => e instanceof TypeError && /`body`/.test(e.message));
      assert.throws(() => timeoutAt("1" as never, () => undefined), (e) => e instanceof TypeError && /`when`/.test(e.message));
      assert.throws(() => timeoutAt(Number.NaN, () => undefined), (e) => e instanceof RangeError && /`when`/.test(e.message));
      assert.throws(() => timeoutAt(1, null as never), (e) => e instanceof TypeError && /`body`/.test(e.message));
    });
  });

  it("rejects a bad deadline given to reschedule(), naming it", async () => {
    await runTest(async () => {
      await timeout(1, (cm) => {
        assert.throws(() => cm.reschedule("2" as never), (e) => e instanceof TypeError && /`when`/.test(e.message));
        assert.throws(() => cm.reschedule(Number.NaN), (e) => e instanceof RangeError && /`when`/.test(e.message));
        assert.equal(cm.when(), 1, "a refused reschedule leaves the deadline alone");
      });
    });
  });

  it("throws RuntimeError synchronously when no loop is running", () => {
    assert.throws(() => timeout(1, () => undefined), RuntimeError);
    assert.throws(() => timeoutAt(1, () => undefined), RuntimeError);
  });
});

describe("the TimeoutError's message says which deadline passed", () => {
  it("timeout(delay): the delay", async () => {
    await runTest(async () => {
      await assert.rejects(timeout(0.2, () => sleep(1)), { name: "TimeoutError", message: "timeout of 0.2 s expired" });
    });
  });

  it("timeoutAt(when): the deadline on the loop's clock", async () => {
    await runTest(async () => {
      const when = getRunningLoop().time() + 1.5;
      await assert.rejects(timeoutAt(when, () => sleep(10)), {
        name: "TimeoutError",
        message: "timeoutAt() deadline 1.5 (loop time) expired",
      });
    });
  });

  it("a rescheduled timeout: its new deadline", async () => {
    await runTest(async () => {
      await assert.rejects(
        timeout(10, async (scope) => {
          scope.reschedule(getRunningLoop().time() + 2);
          await sleep(10);
        }),
        { name: "TimeoutError", message: "rescheduled timeout deadline 2.0 (loop time) expired" },
      );
    });
  });

  it("a body that returns from foreign code after the deadline: the same message", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const foreign = new Promise<string>((resolve) => loop.callLater(2, () => resolve("late")));
      await assert.rejects(timeout(1, () => foreign), { name: "TimeoutError", message: "timeout of 1 s expired" });
    });
  });
});
