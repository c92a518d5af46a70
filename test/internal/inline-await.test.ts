// A task's plain `await` on a lock's, an event's, a semaphore's or a queue's wait is kept in the
// wait's future itself, without an await record (src/internal/inline-await.ts), as sleep(0)'s is
// (test/tasks/sleep-zero-inline.test.ts). Every way of reaching such an await must behave exactly
// as the general path does, above all a cancel that arrives after the primitive woke the task and
// before it resumed (the wake-up must be handed on, never lost). Debug mode always takes the
// general path, so each scenario runs both ways and must log the same thing; each also checks its
// log against what asyncio's semantics give, so that both ways being wrong alike fails too.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  Event,
  type Future,
  Lock,
  Queue,
  QueueShutDown,
  Semaphore,
  type Task,
  captureCallGraph,
  createTask,
  getRunningLoop,
  sleep,
} from "../../src/index.js";
import { exploreCancellation, runTest } from "../../src/testing.js";
import { _tasksSnapshot } from "../../src/debug/snapshot.js";
import { join } from "node:path";
import { laneEvents, laneOf, readTrace, tempDir } from "../support/trace.js";
import { bothWays, expectBothWays, loggedAwait } from "../support/both-ways.js";
import { ticks } from "../locks/support.js";

/** A future awaited inline, read as introspection reads it: the record its await became, if any. */
interface InlineWait {
  _awaitRecord(): unknown;
}

/** What a task's awaits are kept as: the future itself (inline), a record, or nothing. */
function waitKind(task: Task<unknown>): string {
  const waits = task._waits;
  if (waits === null) return "none";
  return waits === task._futWaiter ? "inline" : "record";
}

/** A task that takes `primitive` once and gives it back: its result is "acquired". */
function acquirer(primitive: { acquire(): PromiseLike<unknown>; release(): void }, name?: string): Task<string> {
  return createTask(
    async () => {
      await primitive.acquire();
      primitive.release();
      return "acquired";
    },
    name === undefined ? {} : { name },
  );
}

/** How a task ended: its result, or the name of its error. */
async function outcome(task: Task<unknown>): Promise<unknown> {
  try {
    return await task;
  } catch (error) {
    return (error as Error).name;
  }
}

describe("a lock's, event's, semaphore's or queue's wait awaited by its task, without an await record", () => {
  it("keeps the await in the wait's future outside debug mode, and makes the record in it", async () => {
    const { inline, general } = await bothWays(async (log) => {
      const lock = new Lock();
      const event = new Event();
      const queue = new Queue<number>();
      await lock.acquire();
      const locker = createTask(async () => {
        await lock.acquire();
        lock.release();
      });
      const waiter = createTask(async () => {
        await event.wait();
      });
      const getter = createTask(async () => {
        await queue.get();
      });
      await ticks(1);
      log.push(waitKind(locker), waitKind(waiter), waitKind(getter));
      lock.release();
      event.set();
      queue.putNowait(1);
      await Promise.all([locker, waiter, getter]);
    });
    assert.deepEqual(inline, ["inline", "inline", "inline"]);
    assert.deepEqual(general, ["record", "record", "record"]);
  });

  it("a lock handed over resumes its waiter in the next pass, after callbacks queued before the release", async () => {
    await expectBothWays(["released", "callback", "acquired", ["waits", "none"]], async (log) => {
      const loop = getRunningLoop();
      const lock = new Lock();
      await lock.acquire();
      const task = createTask(async () => {
        await lock.acquire();
        log.push("acquired");
        lock.release();
      });
      await ticks(1);
      loop.callSoon(() => log.push("callback"));
      lock.release();
      log.push("released");
      await task;
      log.push(["waits", waitKind(task)]);
    });
  });

  it("a cancel while parked: CancelledError at the await, its finally runs, the lock stays free for others", async () => {
    await expectBothWays(
      [["cancel", true], ["caught", "CancelledError", "stop"], "finally", ["outcome", "CancelledError"], ["locked", false], ["next", "acquired"]],
      async (log) => {
        const lock = new Lock();
        await lock.acquire();
        const task = loggedAwait(log, () => lock.acquire());
        await ticks(1);
        log.push(["cancel", task.cancel("stop")]);
        log.push(["outcome", await outcome(task)]);
        lock.release();
        log.push(["locked", lock.locked()]);
        log.push(["next", await acquirer(lock)]);
      },
    );
  });

  it("woken by release(), then cancelled before it resumed: it raises, and the lock goes to the next waiter", async () => {
    await expectBothWays([["first", "CancelledError"], ["second", "acquired"], ["locked", false]], async (log) => {
      const lock = new Lock();
      await lock.acquire();
      const first = acquirer(lock);
      const second = acquirer(lock);
      await ticks(1);
      lock.release(); // wakes `first`: its wake-up is queued
      first.cancel(); // before it runs
      log.push(["first", await outcome(first)]);
      log.push(["second", await outcome(second)]);
      log.push(["locked", lock.locked()]);
    });
  });

  it("woken, cancelled, then uncancelled before it resumed: the cancel is withdrawn, the task gets the lock", async () => {
    await expectBothWays([["task", "acquired", 0], ["locked", false]], async (log) => {
      const lock = new Lock();
      await lock.acquire();
      const task = acquirer(lock);
      await ticks(1);
      lock.release();
      task.cancel();
      task.uncancel();
      log.push(["task", await outcome(task), task.cancelling()]);
      log.push(["locked", lock.locked()]);
    });
  });

  it("a semaphore's permit given to a waiter cancelled before it resumed goes back to the next one", async () => {
    await expectBothWays([["first", "CancelledError"], ["second", "acquired"], ["locked", false]], async (log) => {
      const semaphore = new Semaphore(1);
      await semaphore.acquire();
      const first = acquirer(semaphore);
      const second = acquirer(semaphore);
      await ticks(1);
      semaphore.release();
      first.cancel();
      log.push(["first", await outcome(first)]);
      log.push(["second", await outcome(second)]);
      log.push(["locked", semaphore.locked()]);
    });
  });

  it("an event set, then the waiter cancelled before it resumed: the waiter raises, the event stays set", async () => {
    await expectBothWays([["waiter", "CancelledError"], ["set", true], ["other", true]], async (log) => {
      const event = new Event();
      const waiter = createTask(async () => {
        await event.wait();
        return "woke";
      });
      const other = createTask(async () => await event.wait());
      await ticks(1);
      event.set();
      waiter.cancel();
      log.push(["waiter", await outcome(waiter)]);
      log.push(["set", event.isSet()]);
      log.push(["other", await other]);
    });
  });

  it("a queue's getter woken by a put, then cancelled before its step: the item waits for the next getter", async () => {
    await expectBothWays([["first", "CancelledError"], ["second", "item"], ["size", 0]], async (log) => {
      const queue = new Queue<string>();
      const getter = (): Task<string> => createTask(async () => await queue.get());
      const first = getter();
      const second = getter();
      await ticks(1);
      queue.putNowait("item"); // wakes `first`: its step is queued
      first.cancel();
      log.push(["first", await outcome(first)]);
      log.push(["second", await outcome(second)]);
      log.push(["size", queue.qsize()]);
    });
  });

  it("a queue's putter waiting for room resumes once a get frees a slot; cancelled while waiting, its item is not put", async () => {
    await expectBothWays([["put", "done"], ["items", ["a", "b"]], ["cancelled putter", "CancelledError"], ["size", 1]], async (log) => {
      const queue = new Queue<string>(1);
      queue.putNowait("a");
      const putter = createTask(async () => {
        await queue.put("b");
        return "done";
      });
      await ticks(1);
      const items = [queue.getNowait()];
      log.push(["put", await putter]);
      items.push(queue.getNowait());
      log.push(["items", items]);
      queue.putNowait("c");
      const cancelled = createTask(async () => {
        await queue.put("d");
      });
      await ticks(1);
      cancelled.cancel();
      log.push(["cancelled putter", await outcome(cancelled)]);
      log.push(["size", queue.qsize()]);
    });
  });

  it("a failure reaches the inline await: a queue shut down while a getter waits raises QueueShutDown there", async () => {
    await expectBothWays([["getter", "QueueShutDown"]], async (log) => {
      const queue = new Queue<number>();
      const getter = createTask(async () => await queue.get());
      await ticks(1);
      queue.shutdown();
      const result = await outcome(getter);
      log.push(["getter", result === QueueShutDown.name ? "QueueShutDown" : result]);
    });
  });

  it("one task awaiting the same event wait twice (Promise.all) gets it twice, and a cancel reaches both", async () => {
    await expectBothWays([[true, true], "cancelled"], async (log) => {
      const event = new Event();
      const twice = createTask(async () => {
        const wait = event.wait();
        log.push(await Promise.all([wait, wait]));
      });
      await ticks(1);
      event.set();
      await twice;
      const never = new Event();
      const cancelled = createTask(async () => {
        const wait = never.wait();
        try {
          await Promise.all([wait, wait]);
        } catch (error) {
          if (error instanceof CancelledError && (wait as Future<true>).cancelled()) log.push("cancelled");
          throw error;
        }
      });
      await ticks(1);
      cancelled.cancel();
      await assert.rejects(async () => await cancelled, CancelledError);
    });
  });

  it("a second task awaiting a waiter's future resumes after the first, both with its result", async () => {
    await expectBothWays([["a", true], ["b", true]], async (log) => {
      const event = new Event();
      let shared: PromiseLike<true> | null = null;
      const a = createTask(async () => {
        shared = event.wait();
        log.push(["a", await shared]);
      });
      await ticks(1);
      const b = createTask(async () => {
        log.push(["b", await (shared as unknown as PromiseLike<true>)]);
      });
      await ticks(1);
      event.set();
      await Promise.all([a, b]);
    });
  });

  it("a task waiting on a lock shows it in its repr and call graph while parked and once woken", async () => {
    await expectBothWays([true, true, true, true, "acquired"], async (log) => {
      const lock = new Lock();
      await lock.acquire();
      const task = acquirer(lock, "locker");
      await ticks(1);
      log.push(/wait_for=/.test(task.toString()));
      const graph = captureCallGraph(task._futWaiter as never);
      log.push(graph?.awaitedBy.some((node) => node.future === task) ?? false);
      lock.release(); // woken: the repr still names what it waits on until it resumes
      log.push(/wait_for=/.test(task.toString()));
      log.push(task._futWaiter?.done() === true);
      log.push(await task);
    });
  });

  it("what then() returns for a lock's wait, chained on, follows the await's outcome", async () => {
    await expectBothWays(["inner", "chain", undefined, "cancelled inner", "cancelled chain"], async (log) => {
      const lock = new Lock();
      await lock.acquire();
      let chain: PromiseLike<unknown> | null = null;
      const task = createTask(async () => {
        await new Promise<unknown>((resolve, reject) => {
          chain = lock.acquire().then(resolve, reject);
        });
        log.push("inner");
        lock.release();
      });
      await ticks(1);
      const chained = (chain as unknown as PromiseLike<unknown>).then((value) => {
        log.push("chain");
        return value;
      });
      lock.release();
      await task;
      log.push(await chained);
      // The same, the await cancelled while parked.
      await lock.acquire();
      let cancelledChain: PromiseLike<unknown> | null = null;
      const cancelled = createTask(async () => {
        try {
          await new Promise<unknown>((resolve, reject) => {
            cancelledChain = lock.acquire().then(resolve, reject);
          });
        } catch {
          log.push("cancelled inner");
        }
      });
      await ticks(1);
      const afterCancel = (cancelledChain as unknown as PromiseLike<unknown>).then(() => log.push("cancelled chain"));
      cancelled.cancel();
      await cancelled;
      await afterCancel;
      lock.release();
    });
  });

  it("a woken waiter, queued as its own wake-up, names the await it resumes (what slow-step reports read)", async () => {
    await runTest(async () => {
      const lock = new Lock();
      await lock.acquire();
      const task = acquirer(lock);
      await ticks(1);
      const waiter = task._futWaiter as Future<unknown>;
      assert.equal(waitKind(task), "inline");
      lock.release();
      // Woken, the waiter is the ready item that resumes the task: it names that await (a view
      // of its record, made for the reader), and the await stays inline.
      assert.equal(waiter.done(), true);
      assert.equal((waiter._firstRecord() as { _task: unknown } | null)?._task, task);
      assert.equal(waitKind(task), "inline");
      await task;
      assert.equal(lock.locked(), false);
      assert.equal((waiter as unknown as InlineWait)._awaitRecord(), null, "the task resumed with no record made");
    });
  });

  it("reading an inline await (repr, call graph, snapshot, a trace) shows it as its record would and leaves it inline", async () => {
    await runTest(async () => {
      const lock = new Lock();
      await lock.acquire();
      const task = acquirer(lock, "reader");
      await ticks(1);
      const waiter = task._futWaiter as Future<unknown>;
      assert.equal(waitKind(task), "inline");
      assert.match(String(task), /wait_for=<Future pending cb=\[await in 'reader'\]>/);
      assert.match(String(waiter), /cb=\[await in 'reader'\]/);
      const graph = captureCallGraph(waiter as never);
      assert.deepEqual(graph?.awaitedBy.map((node) => node.future), [task]);
      const entry = _tasksSnapshot()
        .loops.flatMap((loop) => loop.tasks)
        .find((snapshot) => snapshot.name === "reader");
      assert.equal(entry?.awaiting.length, 1);
      assert.equal(waitKind(task), "inline", "nothing of the reading made a record");
      lock.release();
      assert.equal(await task, "acquired");
      assert.equal((waiter as unknown as InlineWait)._awaitRecord(), null, "the task resumed with no record made");
    });
  });

  it("exploreCancellation cancels the inline await itself, the path a program runs, at every point", async () => {
    // Each run cancels the task at one point; the wait it cancels there is the one whose inline
    // await the cancel turned into a record (on the general path it never was inline).
    const waits: InlineWait[][] = [];
    let lock = new Lock();
    const test = async (): Promise<void> => {
      lock = new Lock();
      const made: InlineWait[] = [];
      waits.push(made);
      await lock.acquire(); // free: done at once, no suspension
      try {
        const yielded = sleep(0);
        made.push(yielded as unknown as InlineWait);
        await yielded;
      } finally {
        lock.release();
      }
      const queue = new Queue<number>();
      createTask(async () => queue.putNowait(7));
      const got = queue.get();
      made.push(got as unknown as InlineWait);
      assert.equal(await got, 7);
    };
    const report = await exploreCancellation(test, { check: () => assert.equal(lock.locked(), false) });
    assert.equal(report.points, 2);
    // The counting run, then one run per point: in run k, the k-th wait became a record, and
    // every other wait of every run stayed inline to the end.
    assert.equal(waits.length, 3);
    const kinds = waits.map((made) => made.map((wait) => (wait._awaitRecord() === null ? "inline" : "record")));
    assert.deepEqual(kinds, [["inline", "inline"], ["record"], ["inline", "record"]]);
    assert.deepEqual(report.runs.map((run) => run.outcome), ["cancelled", "cancelled"]);
  });

  it("a traced program takes the inline path, and its trace names the wait a step resumed from", async () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, "inline.json");
      let waiter: InlineWait | null = null;
      let sleeper: InlineWait | null = null;
      await runTest(
        async () => {
          const lock = new Lock();
          await lock.acquire();
          const task = createTask(async () => {
            const wait = lock.acquire();
            waiter = wait as unknown as InlineWait;
            await wait;
            lock.release();
            const yielded = sleep(0);
            sleeper = yielded as unknown as InlineWait;
            await yielded;
          }, { name: "traced" });
          await ticks(1);
          lock.release();
          await task;
        },
        { trace: { file } },
      );
      assert.equal((waiter as InlineWait | null)?._awaitRecord(), null, "the lock's wait stayed inline");
      assert.equal((sleeper as InlineWait | null)?._awaitRecord(), null, "the sleep(0) stayed inline");
      const trace = readTrace(file);
      const steps = laneEvents(trace, laneOf(trace, "traced")).filter((event) => event.name === "step");
      assert.deepEqual(
        steps.map((event) => [event.args?.resumed, typeof event.args?.by]),
        [["result", "string"], ["result", "string"]],
      );
    } finally {
      tmp.remove();
    }
  });

  it("a task that returns while a lock wait it raced is pending stops waiting on it", async () => {
    await expectBothWays(["won", ["waits", "none"], ["locked", true]], async (log) => {
      const lock = new Lock();
      await lock.acquire();
      let loser: PromiseLike<true> | null = null;
      const task = createTask(async () => {
        loser = lock.acquire();
        log.push(await Promise.race([loser, Promise.resolve("won")]));
      });
      await task;
      log.push(["waits", waitKind(task)]);
      lock.release(); // the loser acquires: nobody awaits it any more, the lock stays taken
      await ticks(2);
      log.push(["locked", lock.locked()]);
    });
  });
});
