// sleep(), and the iteration costs the library promises: sleep(0) is one pass through the ready
// queue; awaiting a completed future costs microtasks only; a woken task runs to its next
// suspension before the next ready callback.
// Ported from CPython's Lib/test/test_asyncio/test_tasks.py (BaseTaskTests, SleepTests).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CancelledError, createTask, getRunningLoop, isFuture, sleep } from "../../src/index.js";
import { TestLoop, runTest } from "../../src/testing.js";
import { runBriefly } from "../support/core.js";

function timerCount(loop: { toString(): string }): number {
  return Number(/timers=(\d+)/.exec(loop.toString())?.[1]);
}

describe("sleep", () => {
  // CPython: test_tasks.py BaseTaskTests.test_sleep
  it("waits the given seconds and resolves to the result", async () => {
    const loop = new TestLoop({ autojump: true });
    async function sleeper(dt: number, arg: string): Promise<string> {
      await sleep(dt / 2);
      return await sleep(dt / 2, arg);
    }
    const t = loop.createTask(() => sleeper(0.1, "yeah"));
    await loop.runUntilComplete(t);
    assert.equal(t.result(), "yeah");
    assert.equal(loop.time(), 0.1);
  });

  it("resolves to undefined without a result", async () => {
    await runTest(async () => {
      assert.equal(await sleep(1), undefined);
    });
  });

  it("returns a Future (asyncio's is a coroutine)", async () => {
    await runTest(async () => {
      const s = sleep(1);
      assert.ok(isFuture(s));
      await s;
      assert.equal(s.done(), true);
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_sleep_when_delay_is_nan
  it("rejects NaN with a RangeError (Python's ValueError) naming delay", async () => {
    await runTest(async () => {
      assert.throws(() => sleep(Number.NaN), (e: unknown) => {
        assert.ok(e instanceof RangeError);
        assert.match((e as Error).message, /`delay`/);
        return true;
      });
    });
  });

  it("rejects a delay that is not a number with a TypeError naming it", async () => {
    await runTest(async () => {
      assert.throws(() => sleep("1" as never), /`delay` must be a number of seconds, got "1"/);
      assert.throws(() => sleep(undefined as never), TypeError);
    });
  });

  it("throws RuntimeError when no loop is running", () => {
    assert.throws(() => sleep(1), { name: "RuntimeError", message: /^no running event loop — / });
  });

  it("treats a negative delay as zero: one yield", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const log: string[] = [];
      loop.callSoon(() => log.push("callback"));
      assert.equal(await sleep(-5, "r"), "r");
      log.push("resumed");
      assert.deepEqual(log, ["callback", "resumed"]);
      assert.equal(loop.time(), 0);
    });
  });

  it("wakes sleepers in deadline order, then in the order they slept", async () => {
    await runTest(async () => {
      const log: string[] = [];
      const sleeper = (name: string, seconds: number) =>
        createTask(async () => {
          await sleep(seconds);
          log.push(name);
        });
      const tasks = [sleeper("c3", 3), sleeper("a1", 1), sleeper("b3", 3), sleeper("d2", 2)];
      for (const t of tasks) await t;
      assert.deepEqual(log, ["a1", "d2", "c3", "b3"]);
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_sleep_cancel
  it("takes its timer off the loop when the sleeping task is cancelled", async () => {
    const loop = new TestLoop();
    const t = loop.createTask(() => sleep(10, "yeah"));
    await runBriefly(loop);
    assert.equal(timerCount(loop), 1);
    t.cancel();
    assert.equal(timerCount(loop), 0);
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(loop.time(), 0);
  });

  it("can be cancelled directly, ending at once", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const s = sleep(100);
      loop.callLater(1, () => s.cancel("no more"));
      await assert.rejects((async () => await s)(), { name: "CancelledError", message: "no more" });
      assert.equal(loop.time(), 1);
      assert.equal(timerCount(loop), 0);
    });
  });

  it("sleep(0, result) cancelled before its pass ends with the cancel's message, not the result", async () => {
    await runTest(async () => {
      const s = sleep(0, "the result");
      assert.equal(s.cancel("stopped"), true);
      await assert.rejects((async () => await s)(), { name: "CancelledError", message: "stopped" });
      assert.match(String(s), /cancelled/);
      assert.doesNotMatch(String(s), /the result/);
      // Left alone, the same kind of future resolves to its result.
      assert.equal(await sleep(0, "the result"), "the result");
    });
  });
});

describe("loop iterations seen from tasks", () => {
  // CPython: test_tasks.py SleepTests.test_sleep_zero
  it("sleep(0) lets the callbacks already scheduled run, then resumes with the result", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      let result = 0;
      const read = (): number => result; // (assert.equal narrows a variable it checks)
      loop.callSoon(() => {
        result += 1;
      });
      assert.equal(read(), 0);
      const num = await sleep(0, 10);
      assert.equal(read(), 1);
      result += num;
      assert.equal(read(), 11);
    });
  });

  it("sleep(0) is exactly one pass through the ready queue", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const log: string[] = [];
      loop.callSoon(() => {
        log.push("x");
        loop.callSoon(() => log.push("y, scheduled by x"));
      });
      await sleep(0);
      log.push("resumed");
      await sleep(0);
      assert.deepEqual(log, ["x", "resumed", "y, scheduled by x"]);
    });
  });

  it("tasks that keep yielding take turns, one step each per iteration", async () => {
    await runTest(async () => {
      const log: string[] = [];
      const spinner = (name: string) =>
        createTask(async () => {
          for (let i = 0; i < 3; i++) {
            log.push(`${name}${i}`);
            await sleep(0);
          }
        });
      const a = spinner("a");
      const b = spinner("b");
      await a;
      await b;
      assert.deepEqual(log, ["a0", "b0", "a1", "b1", "a2", "b2"]);
    });
  });

  it("awaiting a completed future costs microtasks only, never an iteration", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const done = loop.createFuture<number>();
      done.setResult(1);
      const log: string[] = [];
      loop.callSoon(() => log.push("callback"));
      let sum = 0;
      for (let i = 0; i < 100; i++) sum += await done;
      log.push("awaited 100 times");
      assert.equal(sum, 100);
      assert.deepEqual(log, ["awaited 100 times"]);
      await sleep(0);
      assert.deepEqual(log, ["awaited 100 times", "callback"]);
    });
  });

  it("a woken task runs to its next real suspension before the next ready callback", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const fut = loop.createFuture<void>();
      const log: string[] = [];
      const a = createTask(async () => {
        await fut;
        log.push("A1");
        await Promise.resolve();
        log.push("A2");
        await new Promise<void>((resolve) => queueMicrotask(resolve));
        log.push("A3");
        await sleep(1);
      });
      await sleep(0); // A now waits for fut
      fut.setResult(); // A's wake-up is queued...
      loop.callSoon(() => log.push("callback")); // ...before this callback
      await sleep(0);
      await sleep(0);
      assert.deepEqual(log, ["A1", "A2", "A3", "callback"]);
      await a;
    });
  });
});
