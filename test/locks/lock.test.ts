// Lock: FIFO mutual exclusion with hand-off. Ported from CPython's
// Lib/test/test_asyncio/test_locks.py (LockTests), plus the asyncio-ts forms (hold, withLock).
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, it } from "node:test";
import {
  CancelledError,
  Lock,
  RuntimeError,
  type Task,
  createTask,
  currentTask,
  getRunningLoop,
  run,
  sleep,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { errorOf, settlesWithoutALoopIteration, ticks } from "./support.js";

describe("Lock", () => {
  // CPython: test_locks.py LockTests.test_repr
  it("prints its state as asyncio does, through toString and util.inspect", async () => {
    await runTest(async () => {
      const lock = new Lock();
      assert.equal(lock.toString(), "<Lock [unlocked]>");
      await lock.acquire();
      assert.equal(String(lock), "<Lock [locked]>");
      const waiters = [createTask(() => lock.acquire()), createTask(() => lock.acquire())];
      await ticks();
      assert.equal(inspect(lock), "<Lock [locked, waiters:2]>");
      for (const w of waiters) w.cancel();
      await ticks();
      assert.equal(inspect(lock), "<Lock [locked]>");
    });
  });

  // CPython: test_locks.py LockTests.test_lock, test_lock_by_with_statement. A JS `await` of
  // a non-thenable just returns it, where Python raises TypeError: what matters is that
  // awaiting the lock itself does not acquire it.
  it("is not itself awaitable: awaiting it leaves it unlocked", async () => {
    await runTest(async () => {
      const lock = new Lock();
      assert.equal(typeof (lock as unknown as { then?: unknown }).then, "undefined");
      assert.equal(await (lock as unknown as Promise<Lock>), lock);
      assert.equal(lock.locked(), false);
    });
  });

  // CPython: test_locks.py LockTests.test_lock_doesnt_accept_loop_parameter
  it("takes no constructor arguments (no loop parameter)", () => {
    const Ctor = Lock as unknown as new (options: unknown) => Lock;
    assert.throws(() => new Ctor({ loop: null }), { name: "TypeError", message: /takes no arguments/ });
  });

  // CPython: test_locks.py LockTests.test_acquire
  it("wakes waiters in FIFO order when released, each resolving true", async () => {
    await runTest(async () => {
      const lock = new Lock();
      const result: number[] = [];
      assert.equal(await lock.acquire(), true);
      const contender = (n: number) => async () => {
        if (await lock.acquire()) result.push(n);
        return true;
      };
      const t1 = createTask(contender(1));
      const t2 = createTask(contender(2));
      await ticks();
      assert.deepEqual(result, []);

      lock.release();
      await ticks();
      assert.deepEqual(result, [1]);
      await ticks();
      assert.deepEqual(result, [1]);

      const t3 = createTask(contender(3));
      lock.release();
      await ticks();
      assert.deepEqual(result, [1, 2]);

      lock.release();
      await ticks();
      assert.deepEqual(result, [1, 2, 3]);
      for (const t of [t1, t2, t3]) assert.equal(t.result(), true);
    });
  });

  // CPython: test_locks.py LockTests.test_acquire_cancel
  it("leaves no waiter behind when a waiting acquire is cancelled", async () => {
    await runTest(async () => {
      const lock = new Lock();
      assert.equal(await lock.acquire(), true);
      const task = createTask(() => lock.acquire());
      getRunningLoop().callSoon(() => task.cancel());
      assert.ok((await errorOf(task)) instanceof CancelledError);
      assert.equal(lock.toString(), "<Lock [locked]>");
    });
  });

  // CPython: test_locks.py LockTests.test_cancel_race. asyncio reports `locked()` false at the
  // end (C was woken but has not run); here the lock was handed to C, so it reads true.
  it("skips a waiter cancelled at the moment the holder releases, handing the lock to the next", async () => {
    await runTest(async () => {
      const lock = new Lock();
      const lockit = async (blocker: PromiseLike<unknown> | null): Promise<void> => {
        await lock.acquire();
        try {
          if (blocker !== null) await blocker;
        } finally {
          lock.release();
        }
      };
      const fa = getRunningLoop().createFuture<void>();
      const ta = createTask(() => lockit(fa));
      await ticks();
      assert.equal(lock.locked(), true);
      const tb = createTask(() => lockit(null));
      await ticks();
      assert.match(lock.toString(), /waiters:1/);
      const tc = createTask(() => lockit(null));
      await ticks();
      assert.match(lock.toString(), /waiters:2/);

      fa.setResult();
      tb.cancel();
      assert.match(lock.toString(), /waiters:1/, "the cancelled waiter left at once");
      await ticks();
      assert.equal(lock.locked(), true, "handed to C");
      assert.equal(ta.done(), true);
      assert.equal(tb.cancelled(), true);
      await tc;
      assert.equal(lock.locked(), false);
    });
  });

  // CPython: test_locks.py LockTests.test_cancel_release_race (bpo-32734)
  it("gives the lock to exactly one waiter when one is cancelled as the lock is released", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const lock = new Lock();
      let lockCount = 0;
      let callCount = 0;
      const lockit = async (): Promise<void> => {
        callCount++;
        await lock.acquire();
        lockCount++;
      };
      await lock.acquire();
      const t1 = createTask(lockit);
      const t2 = createTask(lockit);
      const t3 = createTask(lockit);
      await ticks(); // start the tasks
      loop.callSoon(() => {
        t1.cancel();
        lock.release();
      });
      assert.ok((await errorOf(t1)) instanceof CancelledError);
      assert.equal(lockCount, 1);
      assert.equal(callCount, 3);
      assert.ok(t1.cancelled() && t2.done());
      t3.cancel();
      await ticks();
      assert.equal(t3.cancelled(), true);
    });
  });

  // CPython: test_locks.py LockTests.test_finished_waiter_cancelled
  it("lets a newcomer take the lock when the only waiter is cancelled as the lock is released", async () => {
    await runTest(async () => {
      const lock = new Lock();
      await lock.acquire();
      const tb = createTask(() => lock.acquire());
      await ticks();
      assert.match(lock.toString(), /waiters:1/);
      const tc = createTask(() => lock.acquire());
      tb.cancel();
      lock.release();
      await ticks();
      assert.equal(lock.locked(), true);
      assert.equal(tb.cancelled(), true);
      await tc;
    });
  });

  it("passes the lock on when the woken waiter is cancelled before it runs", async () => {
    await runTest(async () => {
      const lock = new Lock();
      await lock.acquire();
      const order: string[] = [];
      const contender = (name: string) => async () => {
        await lock.acquire();
        order.push(name);
        lock.release();
      };
      const tb = createTask(contender("b"));
      const tc = createTask(contender("c"));
      await ticks();
      lock.release(); // hands the lock to b...
      tb.cancel(); // ...which is cancelled before it runs: c must get it
      await ticks(2);
      assert.equal(tb.cancelled(), true);
      assert.deepEqual(order, ["c"]);
      assert.equal(tc.done(), true);
      assert.equal(lock.toString(), "<Lock [unlocked]>");
    });
  });

  // CPython: test_locks.py LockTests.test_release_not_acquired
  it("refuses to release an unlocked lock with RuntimeError", () => {
    const lock = new Lock();
    assert.throws(() => lock.release(), RuntimeError);
  });

  // CPython: test_locks.py LockTests.test_release_no_waiters
  it("unlocks when released with nobody waiting", async () => {
    await runTest(async () => {
      const lock = new Lock();
      await lock.acquire();
      assert.equal(lock.locked(), true);
      lock.release();
      assert.equal(lock.locked(), false);
    });
  });

  it("has no owner: another task may release it", async () => {
    await runTest(async () => {
      const lock = new Lock();
      await lock.acquire();
      await createTask(async () => lock.release());
      assert.equal(lock.locked(), false);
    });
  });

  it("acquires without suspending when free (not a cancellation point), keeping the current task", async () => {
    await runTest(async () => {
      const lock = new Lock();
      const me = currentTask();
      let iterated = false;
      getRunningLoop().callSoon(() => (iterated = true));
      assert.equal(await settlesWithoutALoopIteration(lock.acquire()), true);
      assert.equal(iterated, false);
      assert.equal(currentTask(), me);
      lock.release();
      // A cancel requested now is delivered at the next real suspension, not by acquire().
      const task = createTask(async () => {
        (currentTask() as Task).cancel();
        await lock.acquire();
        lock.release();
        await sleep(0);
      });
      assert.ok((await errorOf(task)) instanceof CancelledError);
      assert.equal(lock.locked(), false);
    });
  });

  it("throws RuntimeError outside any loop, free or not (no state-dependent fast path)", async () => {
    const lock = new Lock();
    assert.throws(() => lock.acquire(), RuntimeError, "a free lock needs a running loop too");
    assert.equal(lock.locked(), false, "and is not taken");
    await runTest(async () => {
      await lock.acquire();
    });
    assert.throws(() => lock.acquire(), RuntimeError, "a held one too");
    lock.release();
  });

  // CPython: test_locks.py ConditionTests.test_ambiguous_loops (the lock half)
  it("refuses to be waited on from a loop other than the one it is bound to", async () => {
    const lock = new Lock();
    await runTest(async () => {
      await lock.acquire();
      const waiter = createTask(() => lock.acquire());
      await ticks();
      waiter.cancel();
      await ticks();
    });
    await run(async () => {
      assert.throws(() => lock.acquire(), {
        name: "RuntimeError",
        message: "<Lock [locked]> is bound to a different event loop",
      });
    });
  });

  // CPython: test_locks.py LockTests.test_context_manager
  describe("scoped forms", () => {
    it("hold() acquires and its disposal releases, with await using", async () => {
      await runTest(async () => {
        const lock = new Lock();
        {
          await using held = await lock.hold();
          assert.equal(lock.locked(), true);
          assert.equal(held.released, false);
        }
        assert.equal(lock.locked(), false);
      });
    });

    it("hold() releases when the block throws, and release() early makes the disposal a no-op", async () => {
      await runTest(async () => {
        const lock = new Lock();
        await assert.rejects(async () => {
          using _held = await lock.hold();
          throw new Error("boom");
        }, /boom/);
        assert.equal(lock.locked(), false);
        {
          using held = await lock.hold();
          held.release();
          assert.equal(lock.locked(), false);
          assert.equal(String(held), "<Held Lock released>");
          await lock.acquire(); // someone else's acquisition: the disposal must not release it
        }
        assert.equal(lock.locked(), true);
      });
    });

    it("withLock(fn) holds the lock while fn runs and resolves to its result", async () => {
      await runTest(async () => {
        const lock = new Lock();
        const seen: boolean[] = [];
        const result = await lock.withLock(async () => {
          seen.push(lock.locked());
          await sleep(1);
          return 42;
        });
        assert.equal(result, 42);
        assert.deepEqual(seen, [true]);
        assert.equal(lock.locked(), false);
        await assert.rejects(
          lock.withLock(() => {
            throw new Error("inside");
          }),
          /inside/,
        );
        assert.equal(lock.locked(), false);
        assert.throws(() => lock.withLock(42 as never), { name: "TypeError", message: /`fn` must be a function/ });
      });
    });

    it("withLock(fn) serialises critical sections in FIFO order", async () => {
      await runTest(async () => {
        const lock = new Lock();
        const log: string[] = [];
        const worker = (name: string) => () =>
          lock.withLock(async () => {
            log.push(`${name} in`);
            await sleep(0.1);
            log.push(`${name} out`);
          });
        await Promise.all([createTask(worker("a")), createTask(worker("b")), createTask(worker("c"))]);
        assert.deepEqual(log, ["a in", "a out", "b in", "b out", "c in", "c out"]);
      });
    });

    it("withLock(fn) never runs fn when cancelled while waiting, and releases when cancelled inside", async () => {
      await runTest(async () => {
        const lock = new Lock();
        await lock.acquire();
        let ran = false;
        const waiting = createTask(() => lock.withLock(() => (ran = true)));
        await ticks();
        waiting.cancel();
        assert.ok((await errorOf(waiting)) instanceof CancelledError);
        assert.equal(ran, false);
        lock.release();

        const inside = createTask(() => lock.withLock(() => sleep(10)));
        await ticks();
        assert.equal(lock.locked(), true);
        inside.cancel();
        assert.ok((await errorOf(inside)) instanceof CancelledError);
        assert.equal(lock.locked(), false);
      });
    });

    it("hold() cancelled while waiting acquires nothing", async () => {
      await runTest(async () => {
        const lock = new Lock();
        await lock.acquire();
        const t = createTask(async () => {
          await using _held = await lock.hold();
        });
        await ticks();
        t.cancel();
        assert.ok((await errorOf(t)) instanceof CancelledError);
        lock.release();
        assert.equal(lock.toString(), "<Lock [unlocked]>");
      });
    });
  });
});
