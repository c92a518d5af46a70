// exploreSchedules: the test under seeded orders of each iteration's ready callbacks, within
// what asyncio leaves unordered; a failing seed replays exactly.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  Event,
  Lock,
  Queue,
  type Task,
  createTask,
  gather,
  getRunningLoop,
  sleep,
  taskGroup,
} from "../../src/index.js";
import { ExplorationError, exploreSchedules, runTest, waitAllTasksBlocked } from "../../src/testing.js";

/** A deposit: read, a round trip, write back. */
async function deposit(account: { balance: number }, amount: number): Promise<void> {
  const balance = account.balance;
  await sleep(0); // the round trip
  account.balance = balance + amount;
}

/**
 * The bug: two deposits race on the balance. In the default order the second task's extra
 * step (a log line that yields) happens to serialise them, so the plain test passes.
 */
async function twoDeposits(lock: Lock | null): Promise<number> {
  const account = { balance: 0 };
  const guarded = (amount: number) => (lock === null ? deposit(account, amount) : lock.withLock(() => deposit(account, amount)));
  await gather(
    () => guarded(10),
    async () => {
      await sleep(0); // writes a log line first
      await guarded(5);
    },
  );
  return account.balance;
}

async function explorationError(explored: Promise<unknown>): Promise<ExplorationError> {
  const error = await explored.then(
    () => assert.fail("the exploration should have failed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ExplorationError, `an ExplorationError, got ${String(error)}`);
  return error;
}

describe("exploreSchedules()", () => {
  it("catches a lost update between two tasks, which the default order hides", async () => {
    assert.equal(await runTest(() => twoDeposits(null)), 15, "the plain test passes");
    const test = async (): Promise<void> => {
      assert.equal(await twoDeposits(null), 15);
    };
    const error = await explorationError(exploreSchedules(test));
    assert.equal(typeof error.seed, "number");
    assert.notEqual(error.seed, 0, "seed 0 is the default order, which passes");
    assert.match(error.message, new RegExp(`fails with seed ${error.seed} \\(run \\d+ of 100\\): AssertionError`));
    assert.match(error.message, new RegExp(`\\{ seeds: \\[${error.seed}\\] \\}`));
    assert.ok(error.cause instanceof assert.AssertionError);
    // The seed replays the same schedule: the same failure, every time.
    for (let i = 0; i < 3; i++) {
      const again = await explorationError(exploreSchedules(test, { seeds: [error.seed as number] }));
      assert.equal(again.seed, error.seed);
      assert.deepEqual(
        (again.cause as assert.AssertionError).actual,
        (error.cause as assert.AssertionError).actual,
      );
    }
  });

  it("passes the fixed code (a lock around the read-modify-write) in every schedule", async () => {
    const report = await exploreSchedules(async () => {
      assert.equal(await twoDeposits(new Lock()), 15);
    });
    assert.equal(report.runs, 100);
    assert.ok(report.schedules > 1, `several distinct schedules ran (${report.schedules})`);
  });

  it("runs seed 0 in the default order, and `runs` with the seeds 0, 1, 2, …", async () => {
    const starts: string[][] = [];
    const test = async (): Promise<void> => {
      const order: string[] = [];
      await gather(...["a", "b", "c"].map((name) => async () => {
        order.push(name);
      }));
      starts.push(order);
    };
    await exploreSchedules(test, { seeds: [0] });
    assert.deepEqual(starts, [["a", "b", "c"]]);
    starts.length = 0;
    const report = await exploreSchedules(test, { runs: 30 });
    assert.equal(report.runs, 30);
    assert.deepEqual(starts[0], ["a", "b", "c"]);
    assert.equal(new Set(starts.map((s) => s.join(""))).size, 6, "every start order of three independent tasks ran");
  });

  it("keeps the orders asyncio guarantees: a future's callbacks, a primitive's waiters, callSoon, deadlines", async () => {
    const seen = new Set<string>();
    await exploreSchedules(async () => {
      const loop = getRunningLoop();
      const log: string[] = [];
      // One future's callbacks, in the order they were added.
      const future = loop.createFuture<void>();
      for (const name of ["f1", "f2", "f3"]) future.addDoneCallback(() => log.push(name));
      // The waiters of one Event wake in the order they waited (which task waits first is
      // incidental: they start in any order).
      const event = new Event();
      const waited: string[] = [];
      const waiters = ["e1", "e2", "e3"].map((name) =>
        createTask(async () => {
          const waiting = event.wait();
          waited.push(name);
          await waiting;
          log.push(name);
        }),
      );
      // A queue's getters get the items in the order they asked.
      const queue = new Queue<string>();
      const asked: string[] = [];
      const getters = ["g1", "g2", "g3"].map((name) =>
        createTask(async () => {
          const getting = queue.get();
          asked.push(name);
          log.push(`${name}:${await getting}`);
        }),
      );
      // callSoon callbacks, in the order they were scheduled.
      for (const name of ["s1", "s2", "s3"]) loop.callSoon(() => log.push(name));
      // Timers with different deadlines, in deadline order.
      for (const [name, delay] of [["t2", 0.2], ["t1", 0.1], ["t3", 0.3]] as const) {
        loop.callLater(delay, () => log.push(name));
      }
      await waitAllTasksBlocked(); // every task waits now
      future.setResult();
      event.set();
      for (const item of ["q1", "q2", "q3"]) queue.putNowait(item);
      await gather(...waiters, ...getters);
      await sleep(1);
      const only = (prefix: string) => log.filter((name) => name.startsWith(prefix));
      assert.deepEqual(only("f"), ["f1", "f2", "f3"]);
      assert.deepEqual(only("e"), waited);
      assert.deepEqual(only("g"), asked.map((name, i) => `${name}:q${i + 1}`));
      assert.deepEqual(only("s"), ["s1", "s2", "s3"]);
      assert.deepEqual(only("t"), ["t1", "t2", "t3"]);
      seen.add(log.filter((name) => !name.startsWith("t")).join(" "));
    });
    assert.ok(seen.size > 10, `independent sources interleave in many ways (${seen.size})`);
  });

  it("runs timers due at the same instant in any order (asyncio leaves it undefined)", async () => {
    const orders = new Set<string>();
    await exploreSchedules(async () => {
      const loop = getRunningLoop();
      const log: string[] = [];
      for (const name of ["a", "b", "c"]) loop.callLater(1, () => log.push(name));
      await sleep(2);
      orders.add(log.join(""));
    }, { runs: 40 });
    assert.equal(orders.size, 6);
  });

  it("flushes out a test that relies on two sleeps of one length ending in the order they began", async () => {
    const test = async (): Promise<void> => {
      const finished: string[] = [];
      await gather(
        ...["first", "second"].map((name) => async () => {
          await sleep(1);
          finished.push(name);
        }),
      );
      assert.deepEqual(finished, ["first", "second"]);
    };
    await runTest(test);
    const error = await explorationError(exploreSchedules(test));
    assert.deepEqual((error.cause as assert.AssertionError).actual, ["second", "first"]);
  });

  it("refuses bad options synchronously", () => {
    const test = () => sleep(0);
    assert.throws(() => exploreSchedules(test, { runs: 2, seeds: [1] }), /`runs` or `seeds`, not both/);
    assert.throws(() => exploreSchedules(test, { runs: 0 }), RangeError);
    assert.throws(() => exploreSchedules(test, { seeds: [-1] }), RangeError);
    assert.throws(() => exploreSchedules(test, { seeds: [2 ** 32] }), RangeError);
    assert.throws(() => exploreSchedules(test, { seeds: 3 as never }), TypeError);
    assert.throws(() => exploreSchedules("test" as never), TypeError);
  });
});

describe("the library's own primitives under exploreSchedules", () => {
  it("a lock serves its waiters in FIFO order and never two at once, in every schedule", async () => {
    await exploreSchedules(async () => {
      const lock = new Lock();
      const served: number[] = [];
      let inside = 0;
      await lock.acquire();
      const tasks = [0, 1, 2, 3].map((i) =>
        createTask(async () => {
          await sleep(i * 0.01); // ask in order 0, 1, 2, 3
          await lock.withLock(async () => {
            inside++;
            assert.equal(inside, 1);
            served.push(i);
            await sleep(0);
            inside--;
          });
        }),
      );
      await sleep(1);
      lock.release();
      await gather(...tasks);
      assert.deepEqual(served, [0, 1, 2, 3]);
    });
  });

  it("a lock woken for a task that a cancel reaches before or after it resumes is never lost, in every schedule", async () => {
    // The cancel and the wake-up are independent ready items: some schedules run the cancel
    // first (the task was woken, not resumed: the lock must go to the next waiter), others the
    // wake-up (the task holds the lock and gives it back in its finally). The waits keep their
    // await inline here (exploreSchedules only reorders), so this explores that path.
    let inline = 0;
    const cancelled = { beforeResuming: 0, holdingTheLock: 0 };
    const report = await exploreSchedules(async () => {
      const lock = new Lock();
      const acquired: number[] = [];
      await lock.acquire();
      const tasks = [0, 1, 2].map((i) =>
        createTask(async () => {
          await sleep(i * 0.01); // park in order 0, 1, 2
          await lock.acquire();
          try {
            acquired.push(i);
            await sleep(0);
          } finally {
            lock.release();
          }
        }),
      );
      await sleep(1); // all three parked
      if (tasks[1]?._waits === tasks[1]?._futWaiter) inline++;
      lock.release(); // wakes task 0
      getRunningLoop().callSoon(() => tasks[0]?.cancel());
      const outcomes = await gather(...tasks, { returnExceptions: true });
      assert.equal(lock.locked(), false);
      assert.deepEqual(acquired.filter((i) => i !== 0), [1, 2]);
      assert.ok((outcomes[0] as Error | undefined)?.name === "CancelledError");
      if (acquired.includes(0)) cancelled.holdingTheLock++;
      else cancelled.beforeResuming++;
    });
    assert.ok(cancelled.beforeResuming > 0 && cancelled.holdingTheLock > 0, "both orders of the cancel and the wake-up were run");
    assert.equal(inline, report.runs, "the waits' await was kept inline in every run");
  });

  it("an item put for a getter that a cancel reaches before or after its step is got exactly once, in every schedule", async () => {
    // The queue's twin of the lock case above: the cancel and the woken getter's step are
    // independent ready items. Cancelled first, the getter passes its wake-up on and the next
    // getter gets the item; stepped first, it has the item and its task returns it.
    const firstGot = { yes: 0, no: 0 };
    await exploreSchedules(async () => {
      const queue = new Queue<string>();
      const getters = [0, 1].map((i) =>
        createTask(async () => {
          await sleep(i * 0.01); // park in order 0, 1
          return await queue.get();
        }),
      );
      await sleep(1);
      queue.putNowait("item"); // wakes getter 0
      getRunningLoop().callSoon(() => getters[0]?.cancel());
      await sleep(0.5);
      const [first, second] = getters as [Task<string>, Task<string>];
      if (first.cancelled()) {
        assert.equal(second.result(), "item", "the item went on to the next getter");
        firstGot.no++;
      } else {
        assert.equal(first.result(), "item");
        assert.equal(second.done(), false, "nothing more for the next getter");
        second.cancel();
        firstGot.yes++;
      }
      assert.equal(queue.qsize(), 0);
      await gather(...getters, { returnExceptions: true });
    });
    assert.ok(firstGot.yes > 0 && firstGot.no > 0, "both orders of the cancel and the step were run");
  });

  it("a task group collects every child's result and cancels the rest on a failure, in every schedule", async () => {
    await exploreSchedules(async () => {
      const done: number[] = [];
      const error = await taskGroup(async (tg) => {
        for (let i = 0; i < 4; i++) {
          tg.createTask(async () => {
            await sleep(0);
            if (i === 2) throw new RangeError("child 2 failed");
            await sleep(1);
            done.push(i);
          });
        }
      }).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(error instanceof AggregateError);
      assert.equal(error.errors.length, 1);
      assert.deepEqual(done, []);
    });
  });
});

describe("exploreSchedules with fast-check", () => {
  // The recipe: fast-check draws the data and the seed; a failure shrinks to a small case and
  // prints both, and `{ seeds: [seed] }` replays the schedule.
  /** Deposits `amounts` from one task each (the i-th after i steps), then checks the total. */
  const depositAll = (amounts: number[], lock: Lock | null) => async (): Promise<void> => {
    const account = { balance: 0 };
    await gather(
      ...amounts.map((amount, i) => async () => {
        for (let k = 0; k < i; k++) await sleep(0);
        await (lock === null ? deposit(account, amount) : lock.withLock(() => deposit(account, amount)));
      }),
    );
    assert.equal(account.balance, amounts.reduce((a, b) => a + b, 0));
  };
  const property = (guard: boolean) =>
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 2, maxLength: 4 }),
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      async (amounts, seed) => {
        await exploreSchedules(depositAll(amounts, guard ? new Lock() : null), { seeds: [seed] });
      },
    );

  it("finds the lost update with drawn amounts and seeds, and shrinks it", async () => {
    const outcome = await fc.check(property(false), { numRuns: 200, seed: 42 });
    assert.equal(outcome.failed, true);
    const [amounts, seed] = outcome.counterexample as [number[], number];
    assert.equal(amounts.length, 2, "shrunk to two deposits");
    await assert.rejects(
      exploreSchedules(depositAll(amounts, null), { seeds: [seed] }),
      (e: unknown) => e instanceof ExplorationError && e.seed === seed,
      "the counterexample's seed replays the failure",
    );
  });

  it("passes with the lock", async () => {
    await fc.assert(property(true), { numRuns: 50 });
  });
});
