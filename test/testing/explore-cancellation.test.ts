// exploreCancellation: a cancel at every suspension of a task, and the invariants checked after
// each run. Each bug class it targets has a deliberately buggy fixture here that it catches and
// that the plain test passes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Lock,
  Queue,
  type Task,
  createTask,
  currentTask,
  isCancellation,
  sleep,
  taskGroup,
} from "../../src/index.js";
import { ExplorationError, exploreCancellation, runTest } from "../../src/testing.js";

/** The bug: `release()` is skipped when a cancel arrives at the `await` between. */
async function transferBuggy(lock: Lock, account: { balance: number }, amount: number): Promise<void> {
  await lock.acquire();
  const balance = account.balance;
  await sleep(0.1); // the bank's round trip
  account.balance = balance + amount;
  lock.release();
}

async function transferFixed(lock: Lock, account: { balance: number }, amount: number): Promise<void> {
  await lock.acquire();
  try {
    const balance = account.balance;
    await sleep(0.1);
    account.balance = balance + amount;
  } finally {
    lock.release();
  }
}

/** A test that makes its own state for `check()` to read. */
function bank(transfer: typeof transferBuggy): { test: () => Promise<void>; check: () => void } {
  let lock = new Lock();
  return {
    async test() {
      lock = new Lock();
      const account = { balance: 0 };
      await transfer(lock, account, 10);
      await transfer(lock, account, 5);
    },
    check: () => assert.equal(lock.locked(), false, "the lock is still held"),
  };
}

async function explorationError(explored: Promise<unknown>): Promise<ExplorationError> {
  const error = await explored.then(
    () => assert.fail("the exploration should have failed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ExplorationError, `an ExplorationError, got ${String(error)}`);
  return error;
}

describe("exploreCancellation()", () => {
  it("catches a lock held across a cancel, which the plain test misses", async () => {
    const { test, check } = bank(transferBuggy);
    await runTest(test);
    check(); // the plain test passes
    const error = await explorationError(exploreCancellation(test, { check }));
    assert.equal(error.point, 1);
    assert.match(error.message, /the test's main task at its suspension 1 of 2/);
    assert.match(error.message, /awaiting sleep\(\), made at transferBuggy \(.*explore-cancellation\.test\.ts:\d+:\d+\)/);
    assert.match(error.message, /check\(\) threw AssertionError: the lock is still held/);
    assert.match(error.message, /\{ point: 1 \}/);
    assert.ok(error.cause instanceof assert.AssertionError);
    assert.equal(error.seed, null);
  });

  it("passes the fixed code, with one run per suspension, and reports each point", async () => {
    const { test, check } = bank(transferFixed);
    const report = await exploreCancellation(test, { check });
    assert.equal(report.points, 2);
    assert.match(report.task, /^Task-\d+$/);
    assert.deepEqual(
      report.runs.map((r) => [r.point, r.awaiting, r.time, r.outcome]),
      [
        // An uncontended acquire() does not suspend: each transfer suspends once, at its sleep.
        [1, "sleep()", 0, "cancelled"],
        [2, "sleep()", 0.1, "cancelled"],
      ],
    );
  });

  it("replays one point alone with { point }, the same way every time", async () => {
    const { test, check } = bank(transferBuggy);
    const first = await explorationError(exploreCancellation(test, { check }));
    const again = await explorationError(exploreCancellation(test, { check, point: first.point as number }));
    assert.equal(again.point, first.point);
    assert.equal(again.message.replace(/Task-\d+/g, "Task-N"), first.message.replace(/Task-\d+/g, "Task-N"));
    await assert.rejects(exploreCancellation(test, { check, point: 3 }), /`point` must be at most 2/);
  });

  it("counts a run whose test handled the cancel and returned as passing when check() does", async () => {
    let cleanedUp = 0;
    const report = await exploreCancellation(async () => {
      try {
        await sleep(1);
        await sleep(1);
      } catch (error) {
        if (!isCancellation(error)) throw error;
        cleanedUp++;
        currentTask()?.uncancel(); // handled: the task takes the cancellation back
      }
    });
    assert.deepEqual(
      report.runs.map((r) => r.outcome),
      ["returned", "returned"],
    );
    assert.equal(cleanedUp, 2);
  });

  it("cancels the task `task` names, or the first that the predicate matches", async () => {
    // A worker that moves items from a queue to a list, and loses the item it holds when it
    // is cancelled at its sleep: "no item lost" fails. The main task is never cancelled here.
    const buggy = (): { test: () => Promise<void>; check: () => void } => {
      let queue = new Queue<number>();
      let done: number[] = [];
      return {
        async test() {
          queue = new Queue<number>();
          done = [];
          for (const item of [1, 2, 3]) queue.putNowait(item);
          const worker = createTask(
            async () => {
              while (!queue.empty()) {
                const item = await queue.get();
                await sleep(0.1); // processing
                done.push(item);
              }
            },
            { name: "worker" },
          );
          await worker.then(
            () => undefined,
            () => undefined,
          );
        },
        check: () => assert.equal(done.length + queue.qsize(), 3, "an item was lost"),
      };
    };
    const byName = buggy();
    await runTest(byName.test);
    byName.check();
    const error = await explorationError(exploreCancellation(byName.test, { check: byName.check, task: "worker" }));
    assert.equal(error.task, "worker");
    assert.match(error.message, /cancelling task 'worker' at its suspension 1 of 3/);
    const byPredicate = buggy();
    const again = await explorationError(
      exploreCancellation(byPredicate.test, { check: byPredicate.check, task: (t: Task<unknown>) => t.getName().startsWith("work") }),
    );
    assert.equal(again.point, 1);
  });

  it("fails a run that leaves a task running when the test ends, which a task group fixes", async () => {
    // The bug: the child is awaited at the end, but a cancel before that leaves it running.
    const leaky = async (): Promise<void> => {
      const child = createTask(() => sleep(10), { name: "child" });
      await sleep(1);
      await child;
    };
    await runTest(leaky);
    const error = await explorationError(exploreCancellation(leaky));
    assert.match(error.message, /left a task running: <Task pending name='child'/);
    const structured = async (): Promise<void> => {
      await taskGroup(async (tg) => {
        tg.createTask(() => sleep(10), { name: "child" });
        await sleep(1);
      });
    };
    const report = await exploreCancellation(structured);
    assert.equal(report.points, 2);
  });

  it("rejects when the test fails before any cancel, or when no task matches", async () => {
    const failing = await explorationError(
      exploreCancellation(async () => {
        await sleep(1);
        throw new RangeError("broken anyway");
      }),
    );
    assert.match(failing.message, /fails before any cancel: it threw RangeError: broken anyway/);
    assert.ok(failing.cause instanceof RangeError);
    const unmatched = await explorationError(exploreCancellation(() => sleep(1), { task: "nobody" }));
    assert.match(unmatched.message, /no task matched `task` \("nobody"\)/);
  });

  it("refuses a bad test or bad options synchronously", () => {
    assert.throws(() => exploreCancellation(42 as never), TypeError);
    assert.throws(() => exploreCancellation(() => sleep(0), { chek: () => {} } as never), /chek/);
    assert.throws(() => exploreCancellation(() => sleep(0), { task: 3 as never }), TypeError);
    assert.throws(() => exploreCancellation(() => sleep(0), { point: 0 }), RangeError);
    assert.throws(() => exploreCancellation(() => sleep(0), { check: "yes" as never }), TypeError);
  });
});
