// Condition: wait/notify with a lock held, and CPython 3.13's cancellation rules. Ported from
// CPython's Lib/test/test_asyncio/test_locks.py (ConditionTests).
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, it } from "node:test";
import {
  CancelledError,
  Condition,
  Lock,
  RuntimeError,
  TimeoutError,
  createTask,
  getRunningLoop,
  run,
  timeout,
  waitFor,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { errorOf, ticks } from "./support.js";

describe("Condition", () => {
  // CPython: test_locks.py ConditionTests.test_wait
  it("wakes notified waiters one lock hand-over at a time", async () => {
    await runTest(async () => {
      const cond = new Condition();
      const result: number[] = [];
      const waiter = (n: number) => async () => {
        await cond.acquire();
        if (await cond.wait()) result.push(n);
        return true;
      };
      const t1 = createTask(waiter(1));
      const t2 = createTask(waiter(2));
      const t3 = createTask(waiter(3));
      await ticks();
      assert.deepEqual(result, []);
      assert.equal(cond.locked(), false);

      assert.equal(await cond.acquire(), true);
      cond.notify();
      await ticks();
      assert.deepEqual(result, [], "notified, but the lock is still held");
      assert.equal(cond.locked(), true);

      cond.release();
      await ticks();
      assert.deepEqual(result, [1]);
      assert.equal(cond.locked(), true);

      cond.notify(2);
      await ticks();
      assert.deepEqual(result, [1]);
      assert.equal(cond.locked(), true);

      cond.release();
      await ticks();
      assert.deepEqual(result, [1, 2]);
      assert.equal(cond.locked(), true);

      cond.release();
      await ticks();
      assert.deepEqual(result, [1, 2, 3]);
      assert.equal(cond.locked(), true);
      for (const t of [t1, t2, t3]) assert.equal(t.result(), true);
    });
  });

  // CPython: test_locks.py ConditionTests.test_wait_cancel
  it("re-acquires the lock and leaves no waiter when a wait is cancelled", async () => {
    await runTest(async () => {
      const cond = new Condition();
      await cond.acquire();
      const wait = createTask(() => cond.wait());
      getRunningLoop().callSoon(() => wait.cancel());
      assert.ok((await errorOf(wait)) instanceof CancelledError);
      assert.equal(cond.toString(), "<Condition [locked]>");
    });
  });

  // CPython: test_locks.py ConditionTests.test_wait_cancel_contested
  it("holds the lock again after a wait cancelled while contesting the lock", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const cond = new Condition();
      await cond.acquire();
      assert.equal(cond.locked(), true);
      const waitTask = createTask(() => cond.wait());
      await ticks();
      assert.equal(cond.locked(), false);

      // Notify, but contest the lock before cancelling.
      await cond.acquire();
      assert.equal(cond.locked(), true);
      cond.notify();
      loop.callSoon(() => waitTask.cancel());
      loop.callSoon(() => cond.release());
      try {
        await waitTask;
      } catch (error) {
        assert.ok(error instanceof CancelledError);
      }
      assert.equal(cond.locked(), true);
    });
  });

  // CPython: test_locks.py ConditionTests.test_wait_cancel_after_notify (bpo-32841)
  it("ends cancelled, lock released by its scope, when cancelled between notify and re-acquire", async () => {
    await runTest(async () => {
      let waited = false;
      const cond = new Condition();
      const waiter = createTask(() =>
        cond.withLock(async () => {
          waited = true;
          await cond.wait();
        }),
      );
      await ticks(); // start waiting
      await cond.acquire();
      cond.notify();
      await ticks(); // get to the re-acquire
      waiter.cancel();
      await ticks(); // deliver the cancellation
      cond.release();
      await ticks(); // the cancellation ends the task
      assert.equal(waiter.cancelled(), true);
      assert.equal(waited, true);
      assert.equal(cond.locked(), false);
    });
  });

  // CPython: test_locks.py ConditionTests.test_wait_unacquired
  it("rejects wait() with RuntimeError when the lock is not held", async () => {
    await runTest(async () => {
      const cond = new Condition();
      await assert.rejects(cond.wait(), RuntimeError);
    });
  });

  // CPython: test_locks.py ConditionTests.test_wait_for
  it("waitFor() waits until the predicate holds, re-checking on every notify", async () => {
    await runTest(async () => {
      const cond = new Condition();
      let presult = false;
      const result: number[] = [];
      const t = createTask(async () => {
        await cond.acquire();
        if (await cond.waitFor(() => presult)) {
          result.push(1);
          cond.release();
        }
        return true;
      });
      await ticks();
      assert.deepEqual(result, []);

      await cond.acquire();
      cond.notify();
      cond.release();
      await ticks();
      assert.deepEqual(result, []);

      presult = true;
      await cond.acquire();
      cond.notify();
      cond.release();
      await ticks();
      assert.deepEqual(result, [1]);
      assert.equal(t.result(), true);
    });
  });

  // CPython: test_locks.py ConditionTests.test_wait_for_unacquired
  it("waitFor() resolves the predicate's value, needing the lock only to wait", async () => {
    await runTest(async () => {
      const cond = new Condition();
      assert.deepEqual(await cond.waitFor(() => [1, 2, 3]), [1, 2, 3]);
      await assert.rejects(cond.waitFor(() => false), RuntimeError);
      assert.throws(() => cond.waitFor("x" as never), { name: "TypeError", message: /`predicate`/ });
    });
  });

  // CPython: test_locks.py ConditionTests.test_notify
  it("notify(n) wakes at most n waiters, in order", async () => {
    await runTest(async () => {
      const cond = new Condition();
      const result: number[] = [];
      const waiter = (n: number) => async () => {
        await cond.acquire();
        if (await cond.wait()) {
          result.push(n);
          cond.release();
        }
        return true;
      };
      const tasks = [createTask(waiter(1)), createTask(waiter(2)), createTask(waiter(3))];
      await ticks();
      assert.deepEqual(result, []);

      await cond.acquire();
      cond.notify(1);
      cond.release();
      await ticks();
      assert.deepEqual(result, [1]);

      await cond.acquire();
      cond.notify(1);
      cond.notify(2048);
      cond.release();
      await ticks();
      assert.deepEqual(result, [1, 2, 3]);
      for (const t of tasks) assert.equal(t.result(), true);
    });
  });

  // CPython: test_locks.py ConditionTests.test_notify_all
  it("notifyAll() wakes every waiter", async () => {
    await runTest(async () => {
      const cond = new Condition();
      const result: number[] = [];
      const waiter = (n: number) => async () => {
        await cond.acquire();
        if (await cond.wait()) {
          result.push(n);
          cond.release();
        }
        return true;
      };
      const tasks = [createTask(waiter(1)), createTask(waiter(2))];
      await ticks();
      assert.deepEqual(result, []);
      await cond.acquire();
      cond.notifyAll();
      cond.release();
      await ticks();
      assert.deepEqual(result, [1, 2]);
      for (const t of tasks) assert.equal(t.result(), true);
    });
  });

  // CPython: test_locks.py ConditionTests.test_notify_unacquired, test_notify_all_unacquired
  it("refuses notify() and notifyAll() with RuntimeError when the lock is not held", () => {
    const cond = new Condition();
    assert.throws(() => cond.notify(), RuntimeError);
    assert.throws(() => cond.notifyAll(), RuntimeError);
  });

  it("validates notify(n)", async () => {
    await runTest(async () => {
      const cond = new Condition();
      await cond.acquire();
      assert.throws(() => cond.notify(-1), { name: "RangeError", message: /`n` must be >= 0/ });
      assert.throws(() => cond.notify(1.5), { name: "TypeError", message: /`n` must be an integer/ });
    });
  });

  // CPython: test_locks.py ConditionTests.test_repr
  it("prints its state as asyncio does", async () => {
    await runTest(async () => {
      const cond = new Condition();
      assert.equal(cond.toString(), "<Condition [unlocked]>");
      await cond.acquire();
      assert.equal(inspect(cond), "<Condition [locked]>");
      cond.release();
      const waiters = [createTask(() => cond.withLock(() => cond.wait()))];
      await ticks();
      // The waiter released the lock while waiting.
      assert.equal(String(cond), "<Condition [unlocked, waiters:1]>");
      waiters.push(createTask(() => cond.withLock(() => cond.wait())));
      await ticks();
      assert.equal(String(cond), "<Condition [unlocked, waiters:2]>");
      for (const w of waiters) w.cancel();
      await ticks(2);
      assert.equal(String(cond), "<Condition [unlocked]>");
    });
  });

  // CPython: test_locks.py ConditionTests.test_context_manager
  it("holds its lock through withLock() and hold()", async () => {
    await runTest(async () => {
      const cond = new Condition();
      assert.equal(cond.locked(), false);
      await cond.withLock(() => assert.equal(cond.locked(), true));
      assert.equal(cond.locked(), false);
      {
        await using _ = await cond.hold();
        assert.equal(cond.locked(), true);
      }
      assert.equal(cond.locked(), false);
    });
  });

  // CPython: test_locks.py ConditionTests.test_explicit_lock
  it("shares an explicit lock: holding either holds both", async () => {
    await runTest(async () => {
      const check = async (lock: Lock, cond: Condition): Promise<void> => {
        assert.equal(lock.locked(), false);
        assert.equal(cond.locked(), false);
        await cond.withLock(() => {
          assert.equal(lock.locked(), true);
          assert.equal(cond.locked(), true);
        });
        assert.equal(lock.locked(), false);
        await lock.withLock(() => {
          assert.equal(lock.locked(), true);
          assert.equal(cond.locked(), true);
        });
        assert.equal(cond.locked(), false);
      };
      const lock = new Lock();
      await check(lock, new Condition(lock));
      const shared = new Lock();
      const c1 = new Condition(shared);
      const c2 = new Condition(shared);
      await check(shared, c1);
      await check(shared, c2);
      assert.throws(() => new Condition({} as Lock), { name: "TypeError", message: /`lock` must be a Lock/ });
    });
  });

  // CPython: test_locks.py ConditionTests.test_ambiguous_loops
  it("refuses to be waited on from a loop other than the one it is bound to", async () => {
    const cond = new Condition();
    await runTest(async () => {
      await cond.acquire();
      const t = createTask(() => cond.wait());
      await ticks();
      t.cancel();
      await ticks();
      cond.release();
    });
    await run(async () => {
      await cond.acquire();
      await assert.rejects(cond.wait(), { name: "RuntimeError", message: /bound to a different event loop/ });
      assert.equal(cond.locked(), true, "the lock was not released before the check");
    });
  });

  // CPython: test_locks.py ConditionTests.test_timeout_in_block
  it("re-acquires the lock when waitFor() times the wait out", async () => {
    await runTest(async () => {
      const cond = new Condition();
      await cond.withLock(async () => {
        await assert.rejects(waitFor(() => cond.wait(), 0.5), TimeoutError);
        assert.equal(cond.locked(), true);
      });
      assert.equal(cond.locked(), false);
    });
  });

  // CPython: test_locks.py ConditionTests.test_cancelled_error_wakeup
  it("re-raises the very CancelledError received while waiting", async () => {
    await runTest(async () => {
      const cond = new Condition();
      let raised: unknown = null;
      const task = createTask(() =>
        cond.withLock(async () => {
          const error = await errorOf(cond.waitFor(() => false));
          assert.ok(error instanceof CancelledError);
          raised = error;
          throw error;
        }),
      );
      await ticks();
      task.cancel("foo");
      const error = await errorOf(task);
      assert.ok(error instanceof CancelledError);
      assert.equal(error.message, "foo");
      assert.equal(error, raised);
    });
  });

  // CPython: test_locks.py ConditionTests.test_cancelled_error_re_aquire
  it("re-raises the very CancelledError received while re-acquiring the lock", async () => {
    await runTest(async () => {
      const cond = new Condition();
      let wake = false;
      let raised: unknown = null;
      const task = createTask(() =>
        cond.withLock(async () => {
          const error = await errorOf(cond.waitFor(() => wake));
          raised = error;
          throw error;
        }),
      );
      await ticks();
      await cond.acquire();
      wake = true;
      cond.notify();
      await ticks(); // the task now waits to re-acquire the lock
      task.cancel("foo");
      cond.release();
      const error = await errorOf(task);
      assert.ok(error instanceof CancelledError);
      assert.equal(error.message, "foo");
      assert.equal(error, raised);
    });
  });

  // Differs from asyncio, which also wakes another waiter here (a spurious wake-up).
  it("wakes nobody when a waiter cancelled before any notify leaves", async () => {
    await runTest(async () => {
      const cond = new Condition();
      const woken: string[] = [];
      const waiter = (name: string) => () =>
        cond.withLock(async () => {
          await cond.wait();
          woken.push(name);
        });
      const a = createTask(waiter("a"));
      const b = createTask(waiter("b"));
      await ticks();
      a.cancel();
      assert.ok((await errorOf(a)) instanceof CancelledError);
      await ticks(3);
      assert.deepEqual(woken, []);
      assert.equal(cond.toString(), "<Condition [unlocked, waiters:1]>");
      await cond.withLock(() => cond.notify());
      await b;
      assert.deepEqual(woken, ["b"]);
    });
  });

  /** Two consumers of a counter guarded by `cond`; returns them and the shared state. */
  function consumers(cond: Condition): { tasks: ReturnType<typeof createTask<void>>[]; state: { n: number } } {
    const state = { n: 0 };
    const consumer = () =>
      cond.withLock(async () => {
        for (;;) {
          await cond.waitFor(() => state.n !== 0);
          if (state.n < 0) return;
          state.n -= 1;
        }
      });
    return { tasks: [createTask(consumer), createTask(consumer)], state };
  }

  // CPython: test_locks.py ConditionTests.test_cancelled_wakeup (3.13)
  it("does not lose a notify to a waiter cancelled as it is woken", async () => {
    await runTest(async () => {
      const cond = new Condition();
      const { tasks, state } = consumers(cond);
      await ticks();
      await cond.withLock(async () => {
        state.n += 1;
        cond.notify(1);
        tasks[0]?.cancel(); // cancelled while waiting to run
        try {
          await timeout(0.01, () => cond.waitFor(() => state.n === 0));
        } catch (error) {
          if (!(error instanceof TimeoutError)) throw error;
        }
        assert.equal(state.n, 0, "the other consumer got the notification");
        state.n = -1;
        cond.notifyAll();
      });
      await tasks[1];
    });
  });

  // CPython: test_locks.py ConditionTests.test_cancelled_wakeup_relock (3.13)
  it("does not lose a notify to a waiter cancelled while re-acquiring the lock", async () => {
    await runTest(async () => {
      const cond = new Condition();
      const { tasks, state } = consumers(cond);
      await ticks();
      await cond.withLock(async () => {
        state.n += 1;
        cond.notify(1);
        await ticks(); // the woken consumer now waits for the lock
        tasks[0]?.cancel();
        try {
          await timeout(0.01, () => cond.waitFor(() => state.n === 0));
        } catch (error) {
          if (!(error instanceof TimeoutError)) throw error;
        }
        assert.equal(state.n, 0, "the other consumer got the notification");
        state.n = -1;
        cond.notifyAll();
      });
      await tasks[1];
    });
  });
});
