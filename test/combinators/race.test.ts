// `race` and `any`: an addition to asyncio (no CPython original). The first to finish (or, for
// any(), to succeed) wins; the losers are let go of at once, and cancelled when they are the
// race's own (tasks it made, library operations). The key case: unlike `Promise.race`, no loser
// stays a waiter of the calling task, so a later cancel of that task is not lost.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import {
  CancelledError,
  Event,
  ExceptionGroup,
  type Future,
  Lock,
  Queue,
  any,
  coroutine,
  createTask,
  getRunningLoop,
  race,
  sleep,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { collected } from "../support/core.js";
import { ZeroDivisionError, errorOf } from "../support/errors.js";
import { COLLECTOR_CHECK, unsupportedOn } from "../support/runtime.js";

function assertNoCallbacks(fut: Future<unknown>): void {
  assert.deepEqual(fut._callbackNames(), [], `${fut.toString()} still holds callbacks`);
}


describe("race()", () => {
  it("resolves with the first result and cancels the losers it made from thunks, whose finally blocks run", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const log: string[] = [];
      const slow = async (name: string, seconds: number): Promise<string> => {
        try {
          await sleep(seconds);
          log.push(`${name} done`);
          return name;
        } catch (e) {
          log.push(`${name} ${(e as Error).name}`);
          throw e;
        } finally {
          log.push(`${name} finally`);
        }
      };
      const winner = await race(() => slow("a", 0.3), () => slow("b", 0.1), () => slow("c", 0.2));
      assert.equal(winner, "b");
      assert.equal(loop.time(), 0.1);
      await sleep(0);
      assert.deepEqual(log, ["b done", "b finally", "a CancelledError", "a finally", "c CancelledError", "c finally"]);
      await sleep(1);
      assert.equal(log.length, 6, "the losers never ran to their end");
    });
  });

  it("cancels the task it made for a losing coroutine object", async () => {
    await runTest(async () => {
      let finished = false;
      const work = coroutine(async () => {
        try {
          await sleep(10);
        } finally {
          finished = true;
        }
      });
      assert.equal(await race(work(), sleep(0.1, "quick")), "quick");
      await sleep(0);
      assert.equal(finished, true);
    });
  });

  it("lets go of a losing Task passed in without cancelling it", async () => {
    await runTest(async () => {
      const shared = createTask(() => sleep(1, "shared"));
      assert.equal(await race(shared, sleep(0.1, "quick")), "quick");
      assert.equal(shared.done(), false);
      assertNoCallbacks(shared);
      assert.equal(await shared, "shared", "the task ran on to its end");
    });
  });

  it("lets go of a losing plain Future passed in without cancelling it", async () => {
    await runTest(async () => {
      const fut = getRunningLoop().createFuture<string>();
      assert.equal(await race(fut, () => sleep(0.1, "quick")), "quick");
      assert.equal(fut.done(), false);
      assertNoCallbacks(fut);
      fut.setResult("later");
      assert.equal(await fut, "later");
    });
  });

  it("cancels losing library operations: a sleep and an event wait", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const event = new Event();
      const long = sleep(10);
      const waiting = event.wait() as Future<true>;
      assert.equal(await race(long, waiting, sleep(0.1, "quick")), "quick");
      assert.equal(long.cancelled(), true);
      assert.equal(waiting.cancelled(), true);
      assert.equal(event.toString().includes("waiters"), false, "the event has no waiter left");
      assert.equal(loop._pendingCounts().timers, 0, "the long sleep's timer is gone");
    });
  });

  it("hands on a lock that was given to a losing acquire in the same iteration", async () => {
    await runTest(async () => {
      const lock = new Lock();
      const event = new Event();
      await lock.acquire();
      const t = createTask(() => race(event.wait(), lock.acquire()));
      await sleep(0);
      event.set(); // wakes the first contender ...
      lock.release(); // ... and hands the lock to the second, before the race sees either
      assert.equal(await t, true);
      assert.equal(lock.locked(), false, "the lock the loser got was released again");
    });
  });

  it("hands on a lock it won when its awaiting task is cancelled before resuming", async () => {
    await runTest(async () => {
      const lock = new Lock();
      await lock.acquire();
      let raced!: Future<unknown>;
      const t = createTask(async () => {
        raced = race(lock.acquire(), sleep(100));
        await raced;
        return "resumed";
      });
      await sleep(0);
      lock.release(); // hands the lock to the race's acquire
      await sleep(0);
      assert.equal(raced.done(), true, "the race has its result ...");
      assert.equal(t.done(), false, "... and its task has not resumed yet");
      t.cancel();
      assert.ok((await errorOf(t)) instanceof CancelledError);
      assert.equal(lock.locked(), false, "the lock went on instead of being lost");
    });
  });

  it("rejects with the error of the first to finish, and cancels the rest", async () => {
    await runTest(async () => {
      const other = sleep(10);
      const failure = new ZeroDivisionError("first");
      const e = await errorOf(
        race(other, async () => {
          await sleep(0.1);
          throw failure;
        }),
      );
      assert.equal(e, failure);
      assert.equal(other.cancelled(), true);
    });
  });

  it("rejects with the CancelledError of a first finisher that ended cancelled, without being cancelled itself", async () => {
    await runTest(async () => {
      const victim = createTask(() => sleep(10));
      const raced = race(victim, () => sleep(1));
      await sleep(0.1);
      victim.cancel("victim");
      const e = await errorOf(raced);
      assert.ok(e instanceof CancelledError);
      assert.equal((e as Error).message, "victim");
      assert.equal(raced.cancelled(), false);
    });
  });

  it("settles at once with an awaitable already done, the first in argument order, and never starts the thunks", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const first = loop.createFuture<string>();
      first.setResult("first");
      const second = loop.createFuture<string>();
      second.setResult("second");
      let started = false;
      const raced = race(
        () => {
          started = true;
          return sleep(1);
        },
        first,
        second,
      );
      assert.equal(raced.done(), true);
      assert.equal(raced.result(), "first");
      await sleep(0);
      assert.equal(started, false);
    });
  });

  it("resolves with the value of a promise that finishes first, and counts an awaitable given twice once", async () => {
    await runTest(async () => {
      const thunk = async (): Promise<string> => await sleep(0.2, "thunk");
      let calls = 0;
      const counted = (): Future<string> => {
        calls++;
        return sleep(0.3, "counted");
      };
      const promise = Promise.resolve("promise");
      assert.equal(await race(thunk, counted, promise, counted), "promise");
      assert.equal(calls, 1);
    });
  });

  it("ends cancelled when its awaiting task is cancelled, cancelling its own contenders only", async () => {
    await runTest(async () => {
      const log: string[] = [];
      const shared = createTask(() => sleep(100, "shared"));
      const operation = sleep(50);
      let raced!: Future<unknown>;
      const t = createTask(async () => {
        raced = race(
          async () => {
            try {
              await sleep(10);
            } finally {
              log.push("made finally");
            }
          },
          shared,
          operation,
        );
        return await raced;
      });
      await sleep(1);
      t.cancel("stop");
      const e = await errorOf(t);
      assert.ok(e instanceof CancelledError);
      assert.equal((e as Error).message, "stop");
      assert.equal(t.cancelled(), true);
      assert.equal(raced.cancelled(), true);
      await sleep(0);
      assert.deepEqual(log, ["made finally"]);
      assert.equal(operation.cancelled(), true);
      assert.equal(shared.cancelled(), false);
      assertNoCallbacks(shared);
      shared.cancel();
    });
  });

  it("cancelled directly, cancels its own contenders and ends cancelled at once", async () => {
    await runTest(async () => {
      let started = 0;
      const operation = sleep(30);
      const raced = race(() => (started++, sleep(10)), () => (started++, sleep(20)), operation);
      assert.equal(raced.cancel("enough"), true);
      assert.equal(raced.cancelled(), true, "at once");
      assert.equal(operation.cancelled(), true);
      assert.equal(raced.cancel(), false);
      const e = await errorOf(raced);
      assert.ok(e instanceof CancelledError);
      assert.equal((e as Error).message, "enough");
      await sleep(0);
      assert.equal(started, 0, "the tasks it made were cancelled before they started");
      const other = race(sleep(1));
      assert.throws(() => other.cancel(42 as never), TypeError);
      other.cancel();
    });
  });

  it("leaves no callback on any contender once it is over, and its state is collected", { skip: unsupportedOn(COLLECTOR_CHECK) }, async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const long = loop.createFuture();
      const shared = createTask(() => sleep(3600));
      let ref!: WeakRef<object>;
      await (async () => {
        const raced = race(long, shared, () => sleep(3600), sleep(0.1, "quick"));
        ref = new WeakRef(raced);
        assert.equal(await raced, "quick");
      })();
      assertNoCallbacks(long);
      assertNoCallbacks(shared);
      assert.equal(await collected(ref), true);
      for (let i = 0; i < 100; i++) {
        await race(long, sleep(0.01));
        assertNoCallbacks(long);
      }
      assert.equal(long.done(), false);
      shared.cancel();
    });
  });

  it("does not lose a later cancel of the task while it runs foreign code", async () => {
    // The case Promise.race gets wrong (the todo in test/tasks/foreign.test.ts): its loser
    // `never` would stay a waiter of the task and absorb the cancel.
    await runTest(async () => {
      const loop = getRunningLoop();
      const never = loop.createFuture<void>();
      const log: string[] = [];
      const t = createTask(async () => {
        await race(never, sleep(0.1)); // sleep wins; `never` stays pending
        await delay(15); // foreign: the cancel arrives here
        log.push("back from foreign code");
        await sleep(10);
        log.push("never printed");
        return "finished";
      });
      await sleep(0.5);
      t.cancel();
      const outcome = await errorOf(t);
      assert.ok(outcome instanceof CancelledError, String(outcome));
      assert.equal(t.cancelled(), true);
      assert.deepEqual(log, ["back from foreign code"]);
      assert.equal(never.done(), false, "the loser passed in was not cancelled");
      assertNoCallbacks(never);
    });
  });

  it("refuses no awaitables with a RangeError and a non-awaitable with a TypeError naming its position", async () => {
    await runTest(async () => {
      assert.throws(() => race(), (e) => e instanceof RangeError && /race\(\)/.test(e.message));
      const t = createTask(() => sleep(10));
      assert.throws(
        () => race(t, 42 as never),
        (e) => e instanceof TypeError && /race\(\): argument 1/.test(e.message),
      );
      assert.throws(
        () => race(t, { timeout: 1 } as never),
        (e) => e instanceof TypeError && /argument 1/.test(e.message),
        "there are no options",
      );
      assert.throws(() => race(null as never), (e) => e instanceof TypeError && /argument 0/.test(e.message));
      assert.equal(t.done(), false);
      assertNoCallbacks(t);
      t.cancel();
    });
  });
});

describe("any()", () => {
  it("skips failures and resolves with the first success, cancelling the rest", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const other = sleep(10);
      const result = await any(
        async () => {
          await sleep(0.1);
          throw new ZeroDivisionError("fails first");
        },
        async () => {
          await sleep(0.2);
          throw new CancelledError("ends cancelled");
        },
        () => sleep(0.3, "succeeds"),
        other,
      );
      assert.equal(result, "succeeds");
      assert.equal(loop.time(), 0.3);
      assert.equal(other.cancelled(), true);
    });
  });

  it("rejects with an ExceptionGroup of every failure in argument order when all fail", async () => {
    await runTest(async () => {
      const first = new ZeroDivisionError("late");
      const second = new RangeError("early");
      const victim = createTask(() => sleep(10));
      const raced = any(
        async () => {
          await sleep(0.2);
          throw first;
        },
        victim,
        async () => {
          await sleep(0.1);
          throw second;
        },
      );
      await sleep(0.05);
      victim.cancel("victim");
      const e = await errorOf(raced);
      assert.ok(e instanceof ExceptionGroup);
      assert.ok(e instanceof AggregateError);
      assert.equal(e.errors.length, 3);
      assert.equal(e.errors[0], first);
      assert.ok(e.errors[1] instanceof CancelledError);
      assert.equal((e.errors[1] as Error).message, "victim");
      assert.equal(e.errors[2], second);
    });
  });

  it("ends cancelled when its awaiting task is cancelled, cancelling the contenders it made", async () => {
    await runTest(async () => {
      let made!: Future<unknown>;
      const operation = sleep(20);
      const t = createTask(() => any(() => (made = sleep(10)), operation));
      await sleep(1);
      t.cancel();
      assert.ok((await errorOf(t)) instanceof CancelledError);
      assert.equal(made.cancelled(), true);
      assert.equal(operation.cancelled(), true);
    });
  });

  it("refuses no awaitables with a RangeError and a non-awaitable with a TypeError naming its position", async () => {
    await runTest(async () => {
      assert.throws(() => any(), (e) => e instanceof RangeError && /any\(\)/.test(e.message));
      assert.throws(
        () => any(sleep(0), "x" as never),
        (e) => e instanceof TypeError && /any\(\): argument 1/.test(e.message),
      );
    });
  });

  it("a losing q.get() and q.put() are cancelled: no item is taken or sent after the race", async () => {
    await runTest(async () => {
      const empty = new Queue<number>();
      assert.equal(await race(empty.get(), sleep(0.1, "late")), "late");
      empty.putNowait(1);
      await sleep(0);
      assert.equal(empty.qsize(), 1, "the losing get took nothing");
      const full = new Queue<number>(1);
      full.putNowait(0);
      assert.equal(await race(full.put(1), sleep(0.1, "late")), "late");
      assert.equal(full.getNowait(), 0);
      await sleep(0);
      assert.equal(full.qsize(), 0, "the losing put sent nothing");
    });
  });
});
