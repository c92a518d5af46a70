// Barrier: filling, draining, resetting and broken, as CPython's. Ported from CPython's
// Lib/test/test_asyncio/test_locks.py (BarrierTests). Python's `async with barrier as i` is
// `const i = await barrier.wait()` here.
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, it } from "node:test";
import {
  Barrier,
  BrokenBarrierError,
  CancelledError,
  type Task,
  createTask,
  gather,
  wait,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { errorOf, ticks } from "./support.js";

const N = 5;

function makeTasks<T>(n: number, body: () => Promise<T>): Task<T>[] {
  return Array.from({ length: n }, () => createTask(body));
}

async function gatherTasks<T>(n: number, body: () => Promise<T>): Promise<T[]> {
  return (await gather(...makeTasks(n, body))) as T[];
}

describe("Barrier", () => {
  // CPython: test_locks.py BarrierTests.test_barrier (`await barrier` is a TypeError in Python)
  it("starts filling and is not itself awaitable", async () => {
    await runTest(async () => {
      const barrier = new Barrier(N);
      assert.match(String(barrier), /filling/);
      assert.equal(await (barrier as unknown as Promise<Barrier>), barrier);
      assert.match(String(barrier), /filling/);
    });
  });

  // CPython: test_locks.py BarrierTests.test_repr
  it("prints its state as asyncio does through filling, draining, resetting and broken", async () => {
    await runTest(async () => {
      const barrier = new Barrier(N);
      assert.equal(barrier.toString(), "<Barrier [filling, waiters:0/5]>");
      const waiters: Task<number>[] = [];
      const incr = 2;
      for (let i = 0; i < incr; i++) waiters.push(createTask(() => barrier.wait()));
      await ticks();
      assert.equal(inspect(barrier), "<Barrier [filling, waiters:2/5]>");

      for (let i = barrier.nWaiting; i < barrier.parties; i++) waiters.push(createTask(() => barrier.wait()));
      await ticks();
      assert.equal(String(barrier), "<Barrier [draining, waiters:0/5]>");

      for (let i = 0; i < incr; i++) waiters.push(createTask(() => barrier.wait()));
      await ticks();
      await barrier.reset();
      assert.match(String(barrier), /^<Barrier \[resetting, waiters:0\/5\]>$/);

      for (let i = 0; i < incr; i++) waiters.push(createTask(() => barrier.wait()));
      await ticks();
      await barrier.abort();
      assert.equal(String(barrier), "<Barrier [broken]>");
      assert.equal(barrier.broken, true);
      await gather(...waiters, { returnExceptions: true });
    });
  });

  // CPython: test_locks.py BarrierTests.test_barrier_parties
  it("refuses fewer than one party", () => {
    assert.throws(() => new Barrier(0), { name: "RangeError", message: "`parties` must be >= 1, got 0" });
    assert.throws(() => new Barrier(-4), RangeError);
    assert.throws(() => new Barrier("3" as never), TypeError);
    assert.ok(new Barrier(N) instanceof Barrier);
  });

  // CPython: test_locks.py BarrierTests.test_context_manager
  it("gives each of the parties a distinct index", async () => {
    await runTest(async () => {
      const barrier = new Barrier(3);
      const results: number[] = [];
      await gatherTasks(3, async () => {
        results.push(await barrier.wait());
      });
      assert.deepEqual([...results].sort(), [0, 1, 2]);
      assert.equal(barrier.nWaiting, 0);
      assert.equal(barrier.broken, false);
    });
  });

  // CPython: test_locks.py BarrierTests.test_filling_one_task
  it("lets a single party straight through", async () => {
    await runTest(async () => {
      const barrier = new Barrier(1);
      assert.equal(await barrier.wait(), 0);
      assert.equal(barrier.nWaiting, 0);
      assert.equal(barrier.broken, false);
    });
  });

  // CPython: test_locks.py BarrierTests.test_filling_one_task_twice
  it("lets a single party through twice in a row", async () => {
    await runTest(async () => {
      const barrier = new Barrier(1);
      const t1 = createTask(() => barrier.wait());
      await ticks();
      assert.equal(barrier.nWaiting, 0);
      const t2 = createTask(() => barrier.wait());
      await ticks();
      assert.equal(t1.result(), t2.result());
      assert.equal(t1.done(), t2.done());
      assert.equal(barrier.nWaiting, 0);
      assert.equal(barrier.broken, false);
    });
  });

  // CPython: test_locks.py BarrierTests.test_filling_task_by_task
  it("counts waiting parties as they arrive", async () => {
    await runTest(async () => {
      const barrier = new Barrier(3);
      const t1 = createTask(() => barrier.wait());
      await ticks();
      assert.equal(barrier.nWaiting, 1);
      assert.match(String(barrier), /filling/);
      const t2 = createTask(() => barrier.wait());
      await ticks();
      assert.equal(barrier.nWaiting, 2);
      assert.match(String(barrier), /filling/);
      const t3 = createTask(() => barrier.wait());
      await ticks();
      await wait([t1, t2, t3]);
      assert.equal(barrier.nWaiting, 0);
      assert.equal(barrier.broken, false);
    });
  });

  // CPython: test_locks.py BarrierTests.test_filling_tasks_wait_twice
  it("can be passed twice by the same parties", async () => {
    await runTest(async () => {
      const barrier = new Barrier(N);
      const results: boolean[] = [];
      await gatherTasks(N, async () => {
        await barrier.wait();
        results.push(true);
        await barrier.wait();
        results.push(false);
      });
      assert.equal(results.length, N * 2);
      assert.equal(results.filter((r) => r).length, N);
      assert.equal(results.filter((r) => !r).length, N);
      assert.equal(barrier.nWaiting, 0);
      assert.equal(barrier.broken, false);
    });
  });

  // CPython: test_locks.py BarrierTests.test_filling_tasks_check_return_value
  it("gives distinct indexes on the second pass too", async () => {
    await runTest(async () => {
      const barrier = new Barrier(N);
      const res = await gatherTasks(N, async () => {
        await barrier.wait();
        return barrier.wait();
      });
      assert.deepEqual([...res].sort(), [0, 1, 2, 3, 4]);
      assert.equal(barrier.nWaiting, 0);
      assert.equal(barrier.broken, false);
    });
  });

  // CPython: test_locks.py BarrierTests.test_draining_state
  it("is draining while parties leave, and filling once the last has left", async () => {
    await runTest(async () => {
      const barrier = new Barrier(N);
      const results: boolean[] = [];
      await gatherTasks(N, async () => {
        await barrier.wait();
        results.push(String(barrier).includes("draining"));
      });
      assert.equal(results.length, N);
      assert.equal(results[N - 1], false);
      assert.ok(results.slice(0, N - 1).every((r) => r));
      assert.equal(barrier.nWaiting, 0);
      assert.equal(barrier.broken, false);
    });
  });

  // CPython: test_locks.py BarrierTests.test_blocking_tasks_while_draining
  it("holds back parties that arrive while it drains", async () => {
    await runTest(async () => {
      const rewait = 2;
      const barrier = new Barrier(N);
      const barrierNoWaiting = new Barrier(N - rewait);
      let rewaitN = rewait;
      // Success means barrierNoWaiting was waited for exactly N - rewait times.
      await gatherTasks(N, async () => {
        await barrier.wait();
        if (rewaitN > 0) {
          rewaitN--;
          await barrier.wait();
        } else {
          await barrierNoWaiting.wait();
          await barrier.wait();
        }
      });
      assert.equal(barrier.nWaiting, 0);
    });
  });

  // CPython: test_locks.py BarrierTests.test_filling_tasks_cancel_one
  it("stops counting a party cancelled while it waits", async () => {
    await runTest(async () => {
      const barrier = new Barrier(3);
      const results: boolean[] = [];
      const party = async (): Promise<void> => {
        await barrier.wait();
        results.push(true);
      };
      const t1 = createTask(party);
      await ticks();
      assert.equal(barrier.nWaiting, 1);
      const t2 = createTask(party);
      await ticks();
      assert.equal(barrier.nWaiting, 2);

      t1.cancel();
      await ticks();
      assert.equal(barrier.nWaiting, 1);
      assert.ok((await errorOf(t1)) instanceof CancelledError);
      assert.equal(t1.cancelled(), true);

      const t3 = createTask(party);
      await ticks();
      assert.equal(barrier.nWaiting, 2);
      const t4 = createTask(party);
      await gather(t2, t3, t4);
      assert.equal(results.length, 3);
      assert.equal(barrier.nWaiting, 0);
      assert.equal(barrier.broken, false);
    });
  });

  // CPython: test_locks.py BarrierTests.test_reset_barrier
  it("reset() of an idle barrier leaves it filling", async () => {
    await runTest(async () => {
      const barrier = new Barrier(1);
      createTask(() => barrier.reset());
      await ticks();
      assert.equal(barrier.nWaiting, 0);
      assert.equal(barrier.broken, false);
    });
  });

  // CPython: test_locks.py BarrierTests.test_reset_barrier_while_tasks_waiting
  it("reset() breaks the wait of every waiting party, then fills again", async () => {
    await runTest(async () => {
      const barrier = new Barrier(N);
      const results: boolean[] = [];
      const tasks = makeTasks(N - 1, async () => {
        try {
          await barrier.wait();
        } catch (error) {
          if (error instanceof BrokenBarrierError) results.push(true);
          else throw error;
        }
      });
      await ticks();
      createTask(() => barrier.reset());
      await gather(...tasks);
      assert.equal(results.length, N - 1);
      assert.equal(barrier.nWaiting, 0);
      assert.doesNotMatch(String(barrier), /resetting/);
      assert.equal(barrier.broken, false);
    });
  });

  // CPython: test_locks.py BarrierTests.test_reset_barrier_when_tasks_half_draining
  it("reset() while draining breaks only the parties still inside", async () => {
    await runTest(async () => {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const restOfTasks = Math.floor(N / 2);
      await gatherTasks(N, async () => {
        try {
          await barrier.wait();
        } catch (error) {
          if (!(error instanceof BrokenBarrierError)) throw error;
          results1.push(true); // a party still waiting
          return;
        }
        // A drained party, outside the barrier.
        if (barrier._count === restOfTasks) await barrier.reset();
      });
      assert.deepEqual(results1, Array(restOfTasks).fill(true));
      assert.equal(barrier.nWaiting, 0);
      assert.doesNotMatch(String(barrier), /resetting/);
      assert.equal(barrier.broken, false);
    });
  });

  // CPython: test_locks.py BarrierTests.test_reset_barrier_when_tasks_half_draining_half_blocking
  it("reset() while draining does not break parties blocked until it fills again", async () => {
    await runTest(async () => {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const blockingTasks = Math.floor(N / 2);
      let count = 0;
      await gatherTasks(N, async () => {
        try {
          await barrier.wait();
        } catch (error) {
          if (!(error instanceof BrokenBarrierError)) throw error;
          results1.push(true);
          await barrier.wait(); // wait again to reach the parties
          return;
        }
        count++;
        if (count > blockingTasks) {
          await barrier.reset(); // breaks the waiting parties
          await barrier.wait();
        } else {
          try {
            await barrier.wait();
          } catch (error) {
            if (!(error instanceof BrokenBarrierError)) throw error;
            results2.push(true); // never: blocked parties are not broken
          }
        }
      });
      assert.deepEqual(results1, Array(blockingTasks).fill(true));
      assert.deepEqual(results2, []);
      assert.equal(barrier.nWaiting, 0);
      assert.doesNotMatch(String(barrier), /resetting/);
      assert.equal(barrier.broken, false);
    });
  });

  // CPython: test_locks.py BarrierTests.test_reset_barrier_while_tasks_waiting_and_waiting_again
  it("lets broken parties wait again after a reset", async () => {
    await runTest(async () => {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const tasks = makeTasks(N - 1, async () => {
        try {
          await barrier.wait();
        } catch (error) {
          if (!(error instanceof BrokenBarrierError)) throw error;
          results1.push(true);
        } finally {
          await barrier.wait();
          results2.push(true);
        }
      });
      createTask(() => barrier.reset());
      await ticks();
      createTask(async () => {
        await barrier.wait();
        results2.push(true);
      });
      await gather(...tasks);
      assert.equal(barrier.broken, false);
      assert.equal(results1.length, N - 1);
      assert.equal(results2.length, N);
      assert.equal(barrier.nWaiting, 0);
    });
  });

  // CPython: test_locks.py BarrierTests.test_reset_barrier_while_tasks_draining
  it("reset() by the last party out does not break the next round", async () => {
    await runTest(async () => {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const results3: boolean[] = [];
      let count = 0;
      await gatherTasks(N, async () => {
        await barrier.wait();
        count++;
        if (count === N) {
          await barrier.reset(); // the last party out
          await barrier.wait();
        } else {
          try {
            await barrier.wait();
            results1.push(true);
          } catch {
            results2.push(true); // never
          }
        }
        await barrier.wait();
        results3.push(true);
      });
      assert.equal(barrier.broken, false);
      assert.equal(results1.length, N - 1);
      assert.equal(results2.length, 0);
      assert.equal(results3.length, N);
      assert.equal(barrier.nWaiting, 0);
    });
  });

  // CPython: test_locks.py BarrierTests.test_abort_barrier
  it("abort() breaks the barrier", async () => {
    await runTest(async () => {
      const barrier = new Barrier(1);
      createTask(() => barrier.abort());
      await ticks();
      assert.equal(barrier.nWaiting, 0);
      assert.equal(barrier.broken, true);
      await assert.rejects(barrier.wait(), { name: "BrokenBarrierError", message: "Barrier aborted" });
    });
  });

  // CPython: test_locks.py BarrierTests.test_abort_barrier_when_tasks_half_draining_half_blocking
  it("abort() while draining breaks the parties inside and those blocked", async () => {
    await runTest(async () => {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const blockingTasks = Math.floor(N / 2);
      let count = 0;
      await gatherTasks(N, async () => {
        try {
          await barrier.wait();
        } catch (error) {
          if (!(error instanceof BrokenBarrierError)) throw error;
          results1.push(true); // a party waiting to drain
          return;
        }
        count++;
        if (count > blockingTasks) {
          await barrier.abort();
        } else {
          try {
            await barrier.wait();
          } catch (error) {
            if (!(error instanceof BrokenBarrierError)) throw error;
            results2.push(true); // a blocked party (already drained)
          }
        }
      });
      assert.equal(barrier.broken, true);
      assert.deepEqual(results1, Array(blockingTasks).fill(true));
      assert.deepEqual(results2, Array(N - blockingTasks - 1).fill(true));
      assert.equal(barrier.nWaiting, 0);
      assert.doesNotMatch(String(barrier), /resetting/);
    });
  });

  // CPython: test_locks.py BarrierTests.test_abort_barrier_when_exception
  it("abort() by a failing party breaks every other party", async () => {
    await runTest(async () => {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      class Failure extends Error {}
      await gatherTasks(N, async () => {
        try {
          const i = await barrier.wait();
          if (i === Math.floor(N / 2)) throw new Failure();
          await barrier.wait();
          results1.push(true);
        } catch (error) {
          if (error instanceof BrokenBarrierError) results2.push(true);
          else if (error instanceof Failure) await barrier.abort();
          else throw error;
        }
      });
      assert.equal(barrier.broken, true);
      assert.equal(results1.length, 0);
      assert.equal(results2.length, N - 1);
      assert.equal(barrier.nWaiting, 0);
    });
  });

  // CPython: test_locks.py BarrierTests.test_abort_barrier_when_exception_then_resetting
  it("can be reset after an abort and used again", async () => {
    await runTest(async () => {
      const barrier1 = new Barrier(N);
      const barrier2 = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const results3: boolean[] = [];
      class Failure extends Error {}
      await gatherTasks(N, async () => {
        try {
          const i = await barrier1.wait();
          if (i === Math.floor(N / 2)) throw new Failure();
          await barrier1.wait();
          results1.push(true);
        } catch (error) {
          if (error instanceof BrokenBarrierError) results2.push(true);
          else if (error instanceof Failure) await barrier1.abort();
          else throw error;
        }
        // Synchronise, so that everyone has left barrier1 before it is reset, and nobody
        // enters it before.
        const i = await barrier2.wait();
        if (i === Math.floor(N / 2)) await barrier1.reset();
        await barrier2.wait();
        await barrier1.wait();
        results3.push(true);
      });
      assert.equal(barrier1.broken, false);
      assert.equal(results1.length, 0);
      assert.equal(results2.length, N - 1);
      assert.equal(results3.length, N);
      assert.equal(barrier1.nWaiting, 0);
    });
  });
});
