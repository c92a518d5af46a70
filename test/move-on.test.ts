// moveOnAfter / moveOnAt (Trio's move_on_after / move_on_at) and currentEffectiveDeadline
// (Trio's current_effective_deadline): the intent of Trio's test_timeouts.py and of
// test_run.py's test_cancel_scope_nesting / test_current_effective_deadline, on asyncio's
// scopes. Every test runs on the virtual clock (`runTest`): deadlines are exact, no real time.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  RuntimeError,
  type Timeout,
  TimeoutError,
  createTask,
  currentEffectiveDeadline,
  currentTask,
  getRunningLoop,
  isCancelledError,
  moveOnAfter,
  moveOnAt,
  sleep,
  taskGroup,
  timeout,
  timeoutAt,
  waitFor,
} from "../src/index.js";
import { runTest } from "../src/testing.js";
import { caught } from "./support/errors.js";

describe("moveOnAfter()", () => {
  it("resolves undefined when the deadline cancels the body, which saw CancelledError", async () => {
    // Trio: test_timeouts.py test_move_on_after
    await runTest(async () => {
      let scope: Timeout | undefined;
      let seen: unknown = null;
      const result = await moveOnAfter(0.5, async (cm) => {
        scope = cm;
        try {
          await sleep(100);
        } catch (e) {
          seen = e;
          throw e;
        }
        return "slept";
      });
      assert.equal(result, undefined);
      assert.ok(seen instanceof CancelledError);
      assert.equal(scope?.expired(), true);
      assert.equal(getRunningLoop().time(), 0.5);
      assert.equal(currentTask()?.cancelling(), 0, "the scope took its own cancel back");
    });
  });

  it("resolves to the body's value when the body finishes in time", async () => {
    await runTest(async () => {
      let scope: Timeout | undefined;
      const result = await moveOnAfter(1, async (cm) => {
        scope = cm;
        return sleep(0.25, "in time");
      });
      assert.equal(result, "in time");
      assert.equal(scope?.expired(), false);
      assert.equal(getRunningLoop().time(), 0.25);
    });
  });

  it("has no deadline with a delay of null until the scope is given one", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const result = await moveOnAfter(null, async (scope) => {
        assert.equal(scope.when(), null);
        await sleep(5);
        scope.reschedule(loop.time() + 1);
        await sleep(100);
        return "never";
      });
      assert.equal(result, undefined);
      assert.equal(loop.time(), 6);
    });
  });

  it("never swallows a cancel from outside", async () => {
    await runTest(async () => {
      const task = createTask(() =>
        moveOnAfter(10, async () => {
          await sleep(100);
        }),
      );
      await sleep(1);
      task.cancel("stop");
      const error = await caught(() => task);
      assert.ok(error instanceof CancelledError);
      assert.equal(error.message, "stop");
      assert.equal(task.cancelled(), true);
    });
  });

  for (const order of ["before", "after"] as const) {
    it(`never swallows a cancel from outside that comes at the deadline (${order} it fires)`, async () => {
      await runTest(async () => {
        const loop = getRunningLoop();
        const main = currentTask();
        // Timers at the same moment fire in the order they were set.
        if (order === "before") loop.callAt(1, () => main?.cancel());
        let scope: Timeout | undefined;
        const error = await caught(() =>
          moveOnAt(1, async (cm) => {
            scope = cm;
            if (order === "after") loop.callAt(1, () => main?.cancel());
            await sleep(100);
          }),
        );
        assert.ok(isCancelledError(error), "the outside cancel propagates");
        assert.equal(scope?.expired(), true);
        assert.equal(main?.uncancel(), 0, "only the outside cancel remains");
      });
    });
  }

  it("keeps the value of a body that returned from foreign code after the deadline", async () => {
    // The deadline found no library await to cancel: the body finished, so its value stands
    // (timeout() raises TimeoutError there, as its deadline was missed).
    await runTest(async () => {
      const loop = getRunningLoop();
      let scope: Timeout | undefined;
      const result = await moveOnAfter(1, async (cm) => {
        scope = cm;
        await new Promise<void>((resolve) => loop.callLater(2, resolve));
        return "late";
      });
      assert.equal(result, "late");
      assert.equal(scope?.expired(), true);
      assert.equal(currentTask()?.cancelling(), 0);
      assert.equal(await sleep(0.5, "no cancel left over"), "no cancel left over");
    });
  });

  it("returns the value of a body that swallows its cancellation", async () => {
    await runTest(async () => {
      const result = await moveOnAfter(1, async () => {
        try {
          await sleep(100);
        } catch {
          return "swallowed";
        }
        return "slept";
      });
      assert.equal(result, "swallowed");
    });
  });

  it("lets errors of the body through unchanged", async () => {
    await runTest(async () => {
      const boom = new Error("boom");
      const error = await caught(() =>
        moveOnAfter(1, async () => {
          await sleep(0.5);
          throw boom;
        }),
      );
      assert.equal(error, boom);
    });
  });

  it("refuses bad arguments synchronously", async () => {
    await runTest(async () => {
      assert.throws(() => moveOnAfter("1" as never, () => 1), (e) => e instanceof TypeError && /`delay`/.test(e.message));
      assert.throws(() => moveOnAfter(Number.NaN, () => 1), (e) => e instanceof RangeError && /`delay`/.test(e.message));
      assert.throws(() => moveOnAt({} as never, () => 1), (e) => e instanceof TypeError && /`when`/.test(e.message));
      assert.throws(() => moveOnAfter(1, 5 as never), (e) => e instanceof TypeError && /`body`/.test(e.message));
    });
  });

  it("rejects outside a task, in a plain loop callback", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const error = await new Promise<unknown>((resolve) =>
        loop.callSoon(() => {
          moveOnAfter(1, () => 1).then(resolve, resolve);
        }),
      );
      assert.ok(error instanceof RuntimeError);
    });
  });
});

describe("moveOnAt()", () => {
  it("moves on at an absolute deadline and reports it as when()", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      let scope: Timeout | undefined;
      const result = await moveOnAt(loop.time() + 2, async (cm) => {
        scope = cm;
        await sleep(100);
      });
      assert.equal(result, undefined);
      assert.equal(scope?.when(), 2);
      assert.equal(loop.time(), 2);
    });
  });

  it("moves on at the next iteration when the deadline has passed already", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      await sleep(3);
      const result = await moveOnAt(1, () => sleep(100, "slept"));
      assert.equal(result, undefined);
      assert.equal(loop.time(), 3);
    });
  });
});

describe("moveOn* nested with timeout(): each scope catches only its own cancellation", () => {
  it("an outer timeout that expires first raises TimeoutError through an inner moveOn", async () => {
    await runTest(async () => {
      let inner: Timeout | undefined;
      const error = await caught(() =>
        timeout(1, () =>
          moveOnAfter(2, async (cm) => {
            inner = cm;
            await sleep(100);
          }),
        ),
      );
      assert.ok(error instanceof TimeoutError);
      assert.equal(inner?.expired(), false);
      assert.equal(getRunningLoop().time(), 1);
    });
  });

  it("an outer moveOn that expires first moves on through an inner timeout, which raises nothing", async () => {
    await runTest(async () => {
      let inner: Timeout | undefined;
      let innerError: unknown = null;
      const result = await moveOnAfter(1, async () => {
        try {
          await timeout(2, async (cm) => {
            inner = cm;
            await sleep(100);
          });
        } catch (e) {
          innerError = e;
          throw e;
        }
      });
      assert.equal(result, undefined);
      assert.equal(inner?.expired(), false);
      assert.ok(innerError instanceof CancelledError, "the inner timeout let the cancellation through");
    });
  });

  it("an inner moveOn that expires first ends only its own body; the outer body goes on", async () => {
    await runTest(async () => {
      let outer: Timeout | undefined;
      const result = await timeout(5, async (cm) => {
        outer = cm;
        const inner = await moveOnAfter(1, () => sleep(100, "inner"));
        return `inner ${String(inner)}, then ${await sleep(1, "outer")}`;
      });
      assert.equal(result, "inner undefined, then outer");
      assert.equal(outer?.expired(), false);
      assert.equal(getRunningLoop().time(), 2);
    });
  });

  it("when both expire together the outer scope handles it (Trio: the outer one wins)", async () => {
    // Trio: test_run.py test_cancel_scope_nesting
    await runTest(async () => {
      const loop = getRunningLoop();
      const at = loop.time() + 1;
      let innerTimeout: Timeout | undefined;
      const moved = await moveOnAt(at, () =>
        timeoutAt(at, async (cm) => {
          innerTimeout = cm;
          await sleep(100);
        }),
      );
      assert.equal(moved, undefined, "the outer moveOn caught it; the inner timeout raised nothing");
      assert.equal(innerTimeout?.expired(), true);

      let innerMoveOn: Timeout | undefined;
      const error = await caught(() =>
        timeoutAt(loop.time() + 1, () =>
          moveOnAt(loop.time() + 1, async (cm) => {
            innerMoveOn = cm;
            await sleep(100);
          }),
        ),
      );
      assert.ok(error instanceof TimeoutError, "the outer timeout raised; the inner moveOn swallowed nothing");
      assert.equal(innerMoveOn?.expired(), true);
      assert.equal(currentTask()?.cancelling(), 0);
    });
  });
});

describe("moveOnAfter(): a cancel at each of its awaits", () => {
  // The body awaits at 0 (sleep 0), then sleeps until 1 and 2; the deadline is 1.5. A cancel
  // from outside at any of these moments is a CancelledError, never undefined; without one
  // the call resolves undefined at 1.5.
  const moments = [null, 0, 0.5, 1, 1.5, 2] as const;
  for (const at of moments) {
    it(at === null ? "without a cancel: undefined at the deadline" : `cancelled at ${at}`, async () => {
      await runTest(async () => {
        const loop = getRunningLoop();
        const steps: string[] = [];
        const task = createTask(() =>
          moveOnAfter(1.5, async () => {
            try {
              await sleep(0);
              steps.push("yielded");
              await sleep(1);
              steps.push("slept 1");
              await sleep(1);
              steps.push("slept 2");
              return "done";
            } finally {
              steps.push("finally");
            }
          }),
        );
        if (at !== null) loop.callAt(at, () => task.cancel());
        const outcome = await task.then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        assert.equal(steps.at(-1), "finally", "the body's finally ran");
        if (at === null || at > 1.5) {
          assert.deepEqual(outcome, { value: undefined });
          assert.equal(loop.time(), 1.5);
        } else {
          assert.ok("error" in outcome && outcome.error instanceof CancelledError, `cancelled at ${at}`);
          assert.equal(task.cancelled(), true);
          assert.equal(loop.time(), at);
        }
      });
    });
  }
});

describe("currentEffectiveDeadline()", () => {
  it("is Infinity outside any scope and in a plain loop callback", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      assert.equal(currentEffectiveDeadline(), Infinity);
      const inCallback = await timeout(5, () => new Promise<number>((resolve) => loop.callSoon(() => resolve(currentEffectiveDeadline()))));
      assert.equal(inCallback, Infinity);
      await timeout(null, () => assert.equal(currentEffectiveDeadline(), Infinity));
    });
  });

  it("is the nearest enclosing deadline, and follows reschedule()", async () => {
    // Trio: test_run.py test_current_effective_deadline (without shields, which asyncio has not)
    await runTest(async () => {
      await timeoutAt(5, async () => {
        await timeoutAt(10, async (inner) => {
          assert.equal(currentEffectiveDeadline(), 5);
          inner.reschedule(3);
          assert.equal(currentEffectiveDeadline(), 3);
          inner.reschedule(10);
          assert.equal(currentEffectiveDeadline(), 5);
          inner.reschedule(null);
          assert.equal(currentEffectiveDeadline(), 5);
        });
        assert.equal(currentEffectiveDeadline(), 5, "the inner scope ended");
      });
      assert.equal(currentEffectiveDeadline(), Infinity);
    });
  });

  it("counts the scopes of timeout, timeoutAt, moveOnAfter, moveOnAt and waitFor, in loop time", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      await sleep(10);
      assert.equal(await timeout(2, () => currentEffectiveDeadline()), 12);
      assert.equal(await timeoutAt(11, () => currentEffectiveDeadline()), 11);
      assert.equal(await moveOnAfter(3, () => currentEffectiveDeadline()), 13);
      assert.equal(await moveOnAt(14, () => currentEffectiveDeadline()), 14);
      assert.equal(await waitFor(async () => currentEffectiveDeadline(), 4), 14);
      assert.equal(loop.time(), 10);
    });
  });

  it("sees through a task group's body to the deadline around the group", async () => {
    await runTest(async () => {
      const inBody = await timeout(2, () => taskGroup(async () => currentEffectiveDeadline()));
      assert.equal(inBody, 2);
    });
  });

  it("is per branch: two Promise.all branches of one task each see their own deadline", async () => {
    await runTest(async () => {
      const seen = await Promise.all([
        timeout(1, async () => {
          await sleep(0);
          const first = currentEffectiveDeadline();
          await sleep(0.5);
          return [first, currentEffectiveDeadline()];
        }),
        timeout(3, async () => {
          await sleep(0);
          const first = currentEffectiveDeadline();
          await sleep(0.5);
          return [first, currentEffectiveDeadline()];
        }),
        (async () => {
          await sleep(0.25);
          return [currentEffectiveDeadline()];
        })(),
      ]);
      assert.deepEqual(seen, [[1, 1], [3, 3], [Infinity]]);
    });
  });

  it("does not reach a task created inside the scope", async () => {
    await runTest(async () => {
      const inTask = await timeout(1, () => createTask(async () => currentEffectiveDeadline()));
      assert.equal(inTask, Infinity);
    });
  });

  it("still reports a deadline that has passed (while the body handles its expiry)", async () => {
    await runTest(async () => {
      let seen: number | null = null;
      await moveOnAfter(1, async () => {
        try {
          await sleep(100);
        } finally {
          seen = currentEffectiveDeadline();
        }
      });
      assert.equal(seen, 1);
      assert.equal(getRunningLoop().time(), 1);
    });
  });
});
