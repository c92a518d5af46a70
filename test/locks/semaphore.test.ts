// Semaphore and BoundedSemaphore: CPython 3.12's fair semaphore. Ported from CPython's
// Lib/test/test_asyncio/test_locks.py (SemaphoreTests).
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, it } from "node:test";
import {
  BoundedSemaphore,
  CancelledError,
  Semaphore,
  createTask,
  gather,
  getRunningLoop,
  sleep,
  taskGroup,
  waitFor,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { errorOf, settlesWithoutALoopIteration, ticks } from "./support.js";

describe("Semaphore", () => {
  // CPython: test_locks.py SemaphoreTests.test_initial_value_zero
  it("is locked when made with no permits", () => {
    assert.equal(new Semaphore(0).locked(), true);
  });

  // CPython: test_locks.py SemaphoreTests.test_repr
  it("prints its state as asyncio does", async () => {
    await runTest(async () => {
      const sem = new Semaphore();
      assert.equal(sem.toString(), "<Semaphore [unlocked, value:1]>");
      await sem.acquire();
      assert.equal(inspect(sem), "<Semaphore [locked]>");
      const waiters = [createTask(() => sem.acquire())];
      await ticks();
      assert.equal(String(sem), "<Semaphore [locked, waiters:1]>");
      waiters.push(createTask(() => sem.acquire()));
      await ticks();
      assert.equal(String(sem), "<Semaphore [locked, waiters:2]>");
      for (const w of waiters) w.cancel();
      await ticks();
      assert.equal(String(sem), "<Semaphore [locked]>");
      assert.equal(String(new BoundedSemaphore(3)), "<BoundedSemaphore [unlocked, value:3]>");
    });
  });

  // CPython: test_locks.py SemaphoreTests.test_semaphore (`await sem` is a TypeError in Python;
  // in JS awaiting a non-thenable returns it: it must not take a permit)
  it("is not itself awaitable: awaiting it takes no permit", async () => {
    await runTest(async () => {
      const sem = new Semaphore();
      assert.equal(await (sem as unknown as Promise<Semaphore>), sem);
      assert.equal(sem.locked(), false);
      assert.equal(sem.toString(), "<Semaphore [unlocked, value:1]>");
    });
  });

  // CPython: test_locks.py SemaphoreTests.test_semaphore_value, test_lock_doesnt_accept_loop_parameter
  it("refuses a value that is not an integer >= 0", () => {
    assert.throws(() => new Semaphore(-1), { name: "RangeError", message: "`value` must be >= 0, got -1" });
    assert.throws(() => new Semaphore(1.5), { name: "TypeError", message: /`value` must be an integer/ });
    assert.throws(() => new Semaphore({ loop: null } as never), TypeError);
    assert.throws(() => new BoundedSemaphore(-1), RangeError);
  });

  // CPython: test_locks.py SemaphoreTests.test_acquire
  it("hands released permits to waiters in order", async () => {
    await runTest(async () => {
      const sem = new Semaphore(3);
      const result: number[] = [];
      assert.equal(await sem.acquire(), true);
      assert.equal(await sem.acquire(), true);
      assert.equal(sem.locked(), false);
      const contender = (n: number) => async () => {
        await sem.acquire();
        result.push(n);
        return true;
      };
      const t1 = createTask(contender(1));
      const t2 = createTask(contender(2));
      const t3 = createTask(contender(3));
      await ticks();
      assert.deepEqual(result, [1]);
      assert.equal(sem.toString(), "<Semaphore [locked, waiters:2]>");

      const t4 = createTask(contender(4));
      sem.release();
      sem.release();
      assert.equal(sem.toString(), "<Semaphore [locked]>", "both permits handed on at once");

      await ticks();
      assert.equal(result.length, 3);
      assert.equal(sem.toString(), "<Semaphore [locked, waiters:1]>");
      assert.equal(t1.result(), true);
      const raced = [t2, t3, t4].filter((t) => t.done() && t.result());
      assert.equal(raced.length, 2);
      sem.release();
      await gather(t2, t3, t4);
    });
  });

  // CPython: test_locks.py SemaphoreTests.test_acquire_cancel
  it("leaves no waiter behind when a waiting acquire is cancelled", async () => {
    await runTest(async () => {
      const sem = new Semaphore();
      await sem.acquire();
      const acquire = createTask(() => sem.acquire());
      getRunningLoop().callSoon(() => acquire.cancel());
      assert.ok((await errorOf(acquire)) instanceof CancelledError);
      assert.equal(sem.toString(), "<Semaphore [locked]>");
    });
  });

  // CPython: test_locks.py SemaphoreTests.test_acquire_cancel_before_awoken
  it("hands a permit past waiters cancelled before it was released", async () => {
    await runTest(async () => {
      const sem = new Semaphore(0);
      const [t1, t2, t3, t4] = [1, 2, 3, 4].map(() => createTask(() => sem.acquire()));
      await ticks();
      t1?.cancel();
      t2?.cancel();
      sem.release();
      await ticks(2);
      assert.equal([t3, t4].filter((t) => t?.done()).length, 1);
      assert.equal(t3?.done(), true);
      assert.equal(t4?.done(), false);
      t3?.cancel();
      t4?.cancel();
      await ticks();
    });
  });

  // CPython: test_locks.py SemaphoreTests.test_acquire_hang
  it("does not hang the next waiter when the first is cancelled", async () => {
    await runTest(async () => {
      const sem = new Semaphore(0);
      const t1 = createTask(() => sem.acquire());
      const t2 = createTask(() => sem.acquire());
      await ticks();
      t1.cancel();
      sem.release();
      await ticks(2);
      assert.equal(sem.locked(), true);
      assert.equal(t2.done(), true);
    });
  });

  // CPython: test_locks.py SemaphoreTests.test_acquire_no_hang
  it("gives the permit back when the woken waiter is cancelled before it runs", async () => {
    await runTest(async () => {
      const sem = new Semaphore(1);
      let t2: ReturnType<typeof createTask<void>> | null = null;
      const t1 = createTask(async () => {
        await sem.withLock(() => sleep(0));
        t2?.cancel();
      });
      t2 = createTask(() =>
        sem.withLock(() => {
          assert.fail("must not get the permit");
        }),
      );
      const [r1, r2] = await gather(t1, t2, { returnExceptions: true });
      assert.equal(r1, undefined);
      assert.ok(r2 instanceof CancelledError);
      assert.equal(await waitFor(sem.acquire(), 1), true);
    });
  });

  // CPython: test_locks.py SemaphoreTests.test_release_not_acquired
  it("BoundedSemaphore refuses to be released past its value with RangeError", () => {
    const sem = new BoundedSemaphore();
    assert.throws(() => sem.release(), {
      name: "RangeError",
      message: "BoundedSemaphore(1) released too many times: every permit is already free",
    });
  });

  it("BoundedSemaphore may be released back up to its value", async () => {
    await runTest(async () => {
      const sem = new BoundedSemaphore(2);
      await sem.acquire();
      await sem.acquire();
      sem.release();
      sem.release();
      assert.throws(() => sem.release(), RangeError);
      assert.equal(sem.toString(), "<BoundedSemaphore [unlocked, value:2]>");
    });
  });

  // CPython: test_locks.py SemaphoreTests.test_release_no_waiters
  it("unlocks when released with nobody waiting", async () => {
    await runTest(async () => {
      const sem = new Semaphore();
      await sem.acquire();
      assert.equal(sem.locked(), true);
      sem.release();
      assert.equal(sem.locked(), false);
    });
  });

  it("acquires without suspending when a permit is free", async () => {
    await runTest(async () => {
      const sem = new Semaphore(2);
      assert.equal(await settlesWithoutALoopIteration(sem.acquire()), true);
      assert.equal(sem.toString(), "<Semaphore [unlocked, value:1]>");
    });
  });

  // CPython: test_locks.py SemaphoreTests.test_acquire_fifo_order
  it("sends a task that releases and re-acquires to the back of the queue", async () => {
    await runTest(async () => {
      const sem = new Semaphore(1);
      const result: string[] = [];
      const worker = (tag: string) => async () => {
        await sem.acquire();
        result.push(`${tag}_1`);
        await sleep(0.01);
        sem.release();
        await sem.acquire();
        result.push(`${tag}_2`);
        await sleep(0.01);
        sem.release();
      };
      await taskGroup(async (tg) => {
        tg.createTask(worker("c1"));
        tg.createTask(worker("c2"));
        tg.createTask(worker("c3"));
      });
      assert.deepEqual(result, ["c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"]);
    });
  });

  // CPython: test_locks.py SemaphoreTests.test_acquire_fifo_order_2
  it("keeps FIFO order when a woken task releases and re-acquires at once", async () => {
    await runTest(async () => {
      const sem = new Semaphore(1);
      const result: number[] = [];
      const t1 = createTask(async () => {
        await sem.acquire();
        result.push(1);
        return true;
      });
      const t2 = createTask(async () => {
        await sem.acquire();
        result.push(2);
        sem.release();
        await sem.acquire();
        result.push(4);
        return true;
      });
      const t3 = createTask(async () => {
        await sem.acquire();
        result.push(3);
        return true;
      });
      await ticks();
      sem.release();
      sem.release();
      await gather(t1, t2, t3);
      assert.deepEqual(result, [1, 2, 3, 4]);
    });
  });

  // CPython: test_locks.py SemaphoreTests.test_acquire_fifo_order_3
  it("skips a cancelled waiter when handing out permits", async () => {
    await runTest(async () => {
      const sem = new Semaphore(0);
      const result: number[] = [];
      const contender = (n: number) => async () => {
        await sem.acquire();
        result.push(n);
        return true;
      };
      const tasks = [createTask(contender(1)), createTask(contender(2)), createTask(contender(3))];
      await ticks();
      tasks[0]?.cancel();
      await ticks();
      sem.release();
      sem.release();
      await gather(...tasks, { returnExceptions: true });
      assert.deepEqual(result, [2, 3]);
    });
  });

  // CPython: test_locks.py SemaphoreTests.test_acquire_fifo_order_4 (3.12)
  it("stays locked for newcomers until the woken waiter runs, which then wakes them", async () => {
    await runTest(async () => {
      const sem = new Semaphore(0);
      const result: number[] = [];
      let t4: ReturnType<typeof createTask<boolean>> | null = null;
      const t1 = createTask(async () => {
        await sem.acquire();
        // Every waiting task has been woken by now: no permit is left over.
        assert.equal(sem.toString(), "<Semaphore [locked]>");
        t4 = createTask(async () => {
          result.push(4);
          return true;
        });
        result.push(1);
        return true;
      });
      const t2 = createTask(async () => {
        sem.release();
        sem.release();
        sem.release();
        assert.equal(sem.locked(), true, "locked: the woken t1 has not run yet");
        await sem.acquire();
        result.push(2);
        return true;
      });
      const t3 = createTask(async () => {
        await sem.acquire();
        assert.equal(sem.locked(), true);
        result.push(3);
        return true;
      });
      await ticks();
      // t1 woken but not run; t2 and t3 queued behind it although two permits are free.
      assert.equal(sem.toString(), "<Semaphore [locked, waiters:2]>");
      await ticks();
      await gather(t1, t2, t3, t4 as unknown as ReturnType<typeof createTask<boolean>>);
      assert.deepEqual(result, [1, 2, 3, 4]);
    });
  });

  it("passes a permit on when the woken waiter is cancelled before it runs", async () => {
    await runTest(async () => {
      const sem = new Semaphore(0);
      const got: string[] = [];
      const contender = (name: string) => async () => {
        await sem.acquire();
        got.push(name);
      };
      const ta = createTask(contender("a"));
      const tb = createTask(contender("b"));
      await ticks();
      sem.release(); // to a...
      ta.cancel(); // ...cancelled before it runs: b must get the permit
      await ticks(2);
      assert.equal(ta.cancelled(), true);
      assert.deepEqual(got, ["b"]);
      assert.equal(tb.done(), true);
      assert.equal(sem.toString(), "<Semaphore [locked]>");
    });
  });

  it("limits concurrency through withLock()", async () => {
    await runTest(async () => {
      const sem = new Semaphore(3);
      let running = 0;
      let peak = 0;
      await gather(
        ...Array.from({ length: 10 }, () => () =>
          sem.withLock(async () => {
            running++;
            peak = Math.max(peak, running);
            await sleep(1);
            running--;
          }),
        ),
      );
      assert.equal(peak, 3);
      assert.equal(getRunningLoop().time(), 4);
      assert.equal(sem.toString(), "<Semaphore [unlocked, value:3]>");
    });
  });
});
