// sleep(0)'s usual await is kept in the future itself, without an await record (YieldFuture in
// src/tasks.ts, on src/internal/inline-await.ts): a task's plain `await sleep(0)`. Every way of reaching such an await must behave
// exactly as the general path does. Debug mode always takes the general path, so each scenario
// runs both ways and must log the same thing; each also checks its log against what asyncio's
// semantics give, so that both ways being wrong the same way fails too.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  type Future,
  type Task,
  captureCallGraph,
  createTask,
  gather,
  getRunningLoop,
  sleep,
} from "../../src/index.js";
import { bothWays, expectBothWays, loggedAwait } from "../support/both-ways.js";

/** A promise the library did not make, resolved `n` passes of the ready queue from now. */
function afterPasses(n: number): Promise<void> {
  const loop = getRunningLoop();
  return new Promise((resolve) => {
    const step = (left: number): void => {
      if (left === 0) resolve();
      else loop.callSoon(() => step(left - 1));
    };
    step(n);
  });
}

describe("sleep(0) awaited by its task, without an await record", () => {
  it("resumes the task with sleep(0)'s result, one pass later", async () => {
    await expectBothWays(["start", "callback", ["resumed", "r"]], async (log) => {
      const loop = getRunningLoop();
      const task = createTask(async () => {
        log.push("start");
        loop.callSoon(() => log.push("callback"));
        log.push(["resumed", await sleep(0, "r")]);
      });
      await task;
    });
  });

  it("keeps the await in the future itself (no record) outside debug mode, and makes the record in it", async () => {
    const { inline, general } = await bothWays(async (log) => {
      let yielded: Future<undefined> | null = null;
      const task = createTask(async () => {
        yielded = sleep(0);
        await yielded;
      });
      await sleep(0);
      log.push(task._waits === yielded ? "inline" : "record");
      await task;
      // A plain callback too, when it is the task's only wait.
      let chained: Future<number> | null = null;
      const withCallback = createTask(async () => {
        chained = sleep(0, 1);
        void chained.then((value) => value + 1);
        await afterPasses(2);
      });
      await sleep(0);
      log.push(withCallback._waits === chained ? "inline" : "record");
      await withCallback;
    });
    assert.deepEqual(inline, ["inline", "inline"]);
    assert.deepEqual(general, ["record", "record"]);
  });

  it("a cancel reaches the await: CancelledError there, its finally runs, the sleep is cancelled", async () => {
    await expectBothWays(
      [["suspended", true], ["cancel", true], ["sleep cancelled", true], ["caught", "CancelledError", "stop"], "finally", ["task cancelled", true]],
      async (log) => {
        let yielded: Future<undefined> | null = null;
        const task = loggedAwait(log, () => (yielded = sleep(0)));
        await sleep(0); // the task starts and suspends at its sleep(0)
        log.push(["suspended", task._futWaiter === yielded]);
        log.push(["cancel", task.cancel("stop")]);
        log.push(["sleep cancelled", (yielded as unknown as Future<undefined>).cancelled()]);
        await assert.rejects(async () => await task, CancelledError);
        log.push(["task cancelled", task.cancelled()]);
      },
    );
  });

  it("a second task awaiting the same sleep(0) resumes after the first, both with its result", async () => {
    await expectBothWays([["a", "r"], ["b", "r"]], async (log) => {
      let shared: Future<string> | null = null;
      const a = createTask(async () => {
        shared = sleep(0, "r");
        log.push(["a", await shared]);
      });
      const b = createTask(async () => {
        log.push(["b", await (shared as unknown as Future<string>)]);
      });
      await gather(a, b);
    });
  });

  it("one task awaiting the same sleep(0) twice (Promise.all) gets it twice, and a cancel reaches both", async () => {
    await expectBothWays([[7, 7], "cancelled both"], async (log) => {
      const twice = createTask(async () => {
        const s = sleep(0, 7);
        log.push(await Promise.all([s, s]));
      });
      await twice;
      const cancelled = createTask(async () => {
        const s = sleep(0);
        const t = sleep(0);
        try {
          await Promise.all([s, t]);
        } catch (error) {
          if (error instanceof CancelledError && s.cancelled() && t.cancelled()) log.push("cancelled both");
          throw error;
        }
      });
      await sleep(0);
      cancelled.cancel();
      await assert.rejects(async () => await cancelled, CancelledError);
    });
  });

  it("a done callback added while the task awaits runs in the same pass, after the task's wake-up is queued", async () => {
    // The general path runs a completed sleep(0)'s callbacks at once, in order: the await's
    // record settles the awaiter (its code resumes in the microtasks after the pass's item),
    // then the done callback runs, synchronously.
    await expectBothWays(["callback", "resumed"], async (log) => {
      let yielded: Future<undefined> | null = null;
      const task = createTask(async () => {
        yielded = sleep(0);
        await yielded;
        log.push("resumed");
      });
      await sleep(0);
      (yielded as unknown as Future<undefined>).addDoneCallback(() => log.push("callback"));
      await task;
    });
  });

  it("a task waiting at sleep(0) shows it in its repr, and the sleep's call graph names the task", async () => {
    await expectBothWays([true, true, true], async (log) => {
      let yielded: Future<undefined> | null = null;
      const task = createTask(async () => {
        yielded = sleep(0);
        await yielded;
      }, { name: "yielder" });
      await sleep(0);
      log.push(/wait_for=/.test(task.toString()));
      const graph = captureCallGraph(yielded as unknown as Future<undefined>);
      log.push(graph?.awaitedBy.some((node) => node.future === task) ?? false);
      await task;
      log.push(task.done());
    });
  });

  it("what then() returns, given a promise's own resolving functions, settles with undefined after the awaiter", async () => {
    await expectBothWays(["inner resolved", "chain", undefined], async (log) => {
      const task = createTask(async () => {
        let chain: PromiseLike<unknown> | null = null;
        const inner = new Promise<unknown>((resolve, reject) => {
          chain = sleep(0, "r").then(resolve, reject);
        });
        const chained = (chain as unknown as PromiseLike<unknown>).then((value) => {
          log.push("chain");
          return value;
        });
        assert.equal(await inner, "r");
        log.push("inner resolved");
        log.push(await chained);
      });
      await task;
    });
  });

  it("what then() returns, chained on before a cancel, follows the cancelled await", async () => {
    await expectBothWays(["inner", "CancelledError", "chain", undefined], async (log) => {
      let chain: PromiseLike<unknown> | null = null;
      let inner: Promise<unknown> | null = null;
      const task = createTask(async () => {
        inner = new Promise<unknown>((resolve, reject) => {
          chain = sleep(0).then(resolve, reject);
        });
        await inner;
      });
      await sleep(0);
      const chained = (chain as unknown as PromiseLike<unknown>).then((value) => {
        log.push("chain");
        return value;
      });
      task.cancel();
      await (inner as unknown as Promise<unknown>).catch((error: unknown) => log.push("inner", (error as Error).name));
      log.push(await chained);
      await assert.rejects(async () => await task, CancelledError);
    });
  });

  it("a task that returns while a sleep(0) it raced is still pending stops waiting on it; the sleep still completes", async () => {
    await expectBothWays(["won", [true, false], [true, true]], async (log) => {
      let loser: Future<string> | null = null;
      const task: Task<void> = createTask(async () => {
        loser = sleep(0, "late");
        log.push(await Promise.race([loser, Promise.resolve("won")]));
      });
      await sleep(0); // the task has raced and returned; its sleep(0) is still pending
      log.push([task.done(), (loser as unknown as Future<string>).done()]);
      await task;
      await sleep(0); // the sleep's pass
      const late = loser as unknown as Future<string>;
      log.push([task._futWaiter === null, late.result() === "late"]);
    });
  });

  it("a plain callback given to then() (not an await) gets the general path's chain", async () => {
    await expectBothWays([["chained", 2]], async (log) => {
      const task = createTask(async () => {
        log.push(["chained", await sleep(0, 1).then((value) => value + 1)]);
      });
      await task;
    });
  });

  it("a plain callback's chain, asked for after the sleep completed, has the callback's outcome", async () => {
    await expectBothWays([["late chain", 2, 2]], async (log) => {
      const task = createTask(async () => {
        const chain = sleep(0, 1).then((value) => value + 1);
        // A wait the library does not see, so the sleep's then stays the task's only one.
        await afterPasses(2);
        log.push(["late chain", await chain, await chain.then((value) => value)]);
      });
      await task;
    });
  });

  it("a plain callback that throws: its chain rejects with the error, caught by a handler added in the same pass", async () => {
    await expectBothWays([["caught", "boom"]], async (log) => {
      const loop = getRunningLoop();
      const task = createTask(async () => {
        const chain = sleep(0).then(() => {
          throw new Error("boom");
        });
        // Runs just after the sleep in the next pass: before Node looks for unhandled rejections.
        loop.callSoon(() => {
          chain.catch((error: unknown) => log.push(["caught", (error as Error).message]));
        });
        await afterPasses(2);
      });
      await task;
    });
  });

  it("cancel() then uncancel() while the task waits at sleep(0): the await still raises, the task carries on", async () => {
    await expectBothWays([["caught", "CancelledError", 0], "carried on", ["task", "done"]], async (log) => {
      const task = createTask(async () => {
        try {
          await sleep(0);
        } catch (error) {
          log.push(["caught", (error as Error).name, task.cancelling()]);
        }
        log.push("carried on");
        return "done";
      });
      await sleep(0);
      task.cancel();
      task.uncancel();
      log.push(["task", await task]);
    });
  });
});
