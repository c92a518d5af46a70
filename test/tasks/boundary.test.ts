// Where asyncio-ts meets plain JavaScript: what a cancel reaches and what it must not, beyond
// the race and effect tests (test/combinators/race.test.ts, test/effects.property.test.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import {
  CancelledError,
  TimeoutError,
  createTask,
  currentTask,
  getRunningLoop,
  isCancellation,
  sleep,
  taskGroup,
  timeout,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { captureExceptions } from "../support/core.js";
import { errorOf } from "../support/errors.js";

describe("a thenable whose then() throws", () => {
  it("fails the task with that error when a thunk returns it", async () => {
    await runTest(async () => {
      const failure = new Error("then exploded");
      const bad = { then(): never { throw failure; } };
      const t = createTask(() => bad as unknown as PromiseLike<number>);
      assert.equal(await errorOf(t), failure);
    });
  });

  it("fails the task with that error when it is handed over as the task's awaitable", async () => {
    await runTest(async () => {
      const failure = new Error("then exploded");
      const bad = { then(): never { throw failure; } };
      const t = createTask(bad as unknown as PromiseLike<number>);
      assert.equal(await errorOf(t), failure);
    });
  });
});

describe("fut.then(callback) from a task's code", () => {
  it("does not make the task a waiter: cancelling the task leaves a shared task alone", async () => {
    await runTest(async () => {
      const shared = createTask(() => sleep(10, "shared"));
      let seen: unknown = null;
      const t = createTask(async () => {
        void shared.then((v) => (seen = v));
        await delay(5); // foreign
        await sleep(10); // the cancel lands here
      });
      await sleep(0);
      await sleep(0);
      t.cancel();
      assert.ok((await errorOf(t)) instanceof CancelledError, "the cancel reached the task's own await");
      assert.equal(shared.cancelled(), false, "the shared task was not cancelled");
      assert.equal(await shared, "shared");
      await sleep(0);
      assert.equal(seen, "shared");
    });
  });

  it("catch() and finally() are callbacks too", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const fut = loop.createFuture<number>();
      const t = createTask(async () => {
        void fut.catch(() => undefined);
        void fut.finally(() => undefined);
        await delay(5);
        await sleep(10);
      });
      await sleep(0);
      await sleep(0);
      t.cancel();
      assert.ok((await errorOf(t)) instanceof CancelledError);
      assert.equal(fut.cancelled(), false);
      fut.setResult(1);
      assert.equal(await fut.finally(() => undefined), 1);
      assert.equal(Object.prototype.toString.call(fut), "[object Future]");
    });
  });
});

describe("task.signal over time", () => {
  it("a signal read once and kept is not aborted by a timeout that expired and was handled", async () => {
    await runTest(async () => {
      const outcomes: string[] = [];
      const worker = createTask(async () => {
        const signal = currentTask()!.signal; // cached, as a worker loop would
        for (const job of [5, 0.01]) {
          try {
            await timeout(1, async () => {
              await sleep(job);
              if (signal.aborted) throw signal.reason;
            });
            outcomes.push("done");
          } catch (e) {
            if (e instanceof TimeoutError) outcomes.push("timed out");
            else if (isCancellation(e)) throw e;
            else outcomes.push(`failed: ${String(e)}`);
          }
        }
        return signal.aborted;
      });
      assert.equal(await worker, false, "the task's own signal never aborted");
      assert.deepEqual(outcomes, ["timed out", "done"]);
    });
  });

  it("inside a timeout body it is the scope's signal: it aborts at the deadline", async () => {
    await runTest(async () => {
      let inner: AbortSignal | null = null;
      await assert.rejects(
        timeout(0.5, async () => {
          inner = currentTask()!.signal;
          await delay(50, undefined, { signal: inner }); // real time: longer than the deadline
        }),
        TimeoutError,
      );
      assert.equal(inner!.aborted, true);
      assert.equal(currentTask()!.signal.aborted, false, "outside the scope: not aborted");
    });
  });

  it("a cancel of the task from outside aborts a scope's signal too", async () => {
    await runTest(async () => {
      let inner: AbortSignal | null = null;
      const t = createTask(() =>
        timeout(100, async () => {
          inner = currentTask()!.signal;
          await sleep(10);
        }),
      );
      await sleep(0);
      await sleep(0);
      t.cancel("stop");
      assert.ok((await errorOf(t)) instanceof CancelledError);
      assert.equal(inner!.aborted, true);
      assert.equal((inner!.reason as Error).message, "stop");
    });
  });
});

describe("scope-local cancellation", () => {
  it("a deadline in one Promise.all branch does not cancel the other branch's await", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const [a, b] = await Promise.all([
        timeout(0.1, () => sleep(1)).catch((e: unknown) => (e instanceof TimeoutError ? "timed out" : e)),
        sleep(0.5, "other branch slept"),
      ]);
      assert.equal(a, "timed out");
      assert.equal(b, "other branch slept");
      assert.equal(loop.time() >= 0.5, true);
      assert.equal(currentTask()!.cancelling(), 0);
    });
  });

  it("a failing child of a task group cancels the group's body, not the rest of the task", async () => {
    await runTest(async () => {
      const [group, other] = await Promise.all([
        taskGroup(async (tg) => {
          tg.createTask(async () => {
            await sleep(0.1);
            throw new Error("child failed");
          });
          await sleep(10);
        }).catch((e: unknown) => (e as Error).name),
        sleep(0.5, "untouched"),
      ]);
      assert.equal(group, "ExceptionGroup");
      assert.equal(other, "untouched");
    });
  });

  it("counts the expiring scope in cancelling() while it expires, and takes it back", async () => {
    await runTest(async () => {
      const seen: number[] = [];
      await timeout(0.1, async () => {
        try {
          await sleep(1);
        } catch (e) {
          seen.push(currentTask()!.cancelling());
          throw e;
        }
      }).catch(() => undefined);
      seen.push(currentTask()!.cancelling());
      assert.deepEqual(seen, [1, 0]);
    });
  });
});

describe("debug reports at the boundary", () => {
  it("reports once a cancel that waits in a foreign await longer than slowCallbackDuration", async () => {
    await runTest(
      async () => {
        const loop = getRunningLoop();
        const seen = captureExceptions(loop);
        const t = createTask(
          async () => {
            await sleep(0.01);
            await delay(30); // foreign, real time; the virtual clock runs past the threshold
            await sleep(1);
          },
          { name: "stuck-worker" },
        );
        await sleep(0.02);
        t.cancel();
        assert.ok((await errorOf(t)) instanceof CancelledError);
        const stuck = seen.filter((c) => /has not reached a library await/.test(c.message));
        assert.equal(stuck.length, 1);
        assert.match(stuck[0]!.message, /stuck-worker/);
        assert.match(stuck[0]!.message, /last library await was <Future|last library await was <Task|sleep|Future/);
      },
      { debug: true },
    );
  });

  it("reports a task that finished still registered as the awaiter of a Promise.race loser", async () => {
    await runTest(
      async () => {
        const loop = getRunningLoop();
        const seen = captureExceptions(loop);
        const never = loop.createFuture<void>();
        const t = createTask(
          async () => {
            await Promise.race([never, sleep(0.1)]);
            return "done";
          },
          { name: "racer" },
        );
        assert.equal(await t, "done");
        const stale = seen.filter((c) => /still registered as the awaiter/.test(c.message));
        assert.equal(stale.length, 1);
        assert.match(stale[0]!.message, /racer/);
        assert.match(stale[0]!.message, /race\(\)/);
        never.cancel();
      },
      { debug: true },
    );
  });

  it("reports nothing for a race made with race()", async () => {
    const { race } = await import("../../src/index.js");
    await runTest(
      async () => {
        const loop = getRunningLoop();
        const seen = captureExceptions(loop);
        const never = loop.createFuture<void>();
        const t = createTask(async () => {
          await race(never, sleep(0.1));
          return "done";
        });
        assert.equal(await t, "done");
        assert.deepEqual(seen.map((c) => c.message), []);
      },
      { debug: true },
    );
  });
});

describe("the limit of Promise.race (what V8 lets a thenable see)", () => {
  it("V8 calls then() the same way for an await and for a race contender, and adopts a thenable in both", async () => {
    // Why a dead race loser cannot be told from a live await: both receive a fresh promise's
    // resolving functions (anonymous, native), and both adopt a thenable passed to them later.
    const calls: Array<{ resolve: (v: unknown) => void; native: boolean }> = [];
    const probeThenable = () => ({
      then(resolve: (v: unknown) => void) {
        calls.push({ resolve, native: Function.prototype.toString.call(resolve).includes("[native code]") });
      },
    });
    const raced = Promise.race([probeThenable(), probeThenable()]);
    const awaited = (async () => await probeThenable())();
    await delay(1);
    assert.equal(calls.length, 3);
    assert.ok(calls.every((c) => c.native), "every then() got native resolving functions");
    calls[0]!.resolve("won");
    assert.equal(await raced, "won");
    let adoptions = 0;
    const probe = { then(ok: (v: unknown) => void) { adoptions++; ok("probe"); } };
    calls[1]!.resolve(probe); // the settled race's loser
    calls[2]!.resolve(probe); // the live await
    assert.equal(await awaited, "probe");
    await delay(1);
    assert.equal(adoptions, 2, "the loser adopted the probe exactly as the live await did");
  });
});

