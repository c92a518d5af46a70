// Task.cancelling() and Task.uncancel(): the cancel-request count of 3.11+, and 3.13's
// withdrawal of an undelivered cancel. Ported from CPython's
// Lib/test/test_asyncio/test_tasks.py (BaseTaskTests).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { CancelledError, type Task, createTask, currentTask, sleep } from "../../src/index.js";
import { TestLoop, runTest } from "../../src/testing.js";
import { runBriefly } from "../support/core.js";
import { errorOf } from "../support/errors.js";

describe("Task.cancelling", () => {
  // CPython: test_tasks.py BaseTaskTests.test_cancelling
  it("counts cancel() calls and shows 'cancelling' in the repr", async () => {
    const loop = new TestLoop({ autojump: true });
    const t = loop.createTask(async () => {
      await sleep(10);
    });
    assert.equal(t.cancelling(), 0);
    assert.doesNotMatch(t.toString(), / cancelling /);
    assert.equal(t.cancel(), true);
    assert.equal(t.cancelling(), 1);
    assert.match(t.toString(), / cancelling /);
    assert.equal(t.cancel(), true);
    assert.equal(t.cancelling(), 2);
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    loop.close();
  });

  it("does not count a cancel() of a task that is done", async () => {
    await runTest(async () => {
      const t = createTask(async () => 1);
      await t;
      assert.equal(t.cancel(), false);
      assert.equal(t.cancelling(), 0);
    });
  });

  it("two cancels before the task runs again deliver one CancelledError", async () => {
    await runTest(async () => {
      let caught = 0;
      const t = createTask(async () => {
        try {
          await sleep(10);
        } catch (e) {
          if (e instanceof CancelledError) caught++;
        }
        await sleep(1); // not cancelled: the two requests were one delivery
        return "went on";
      });
      await sleep(0);
      t.cancel();
      t.cancel();
      assert.equal(await t, "went on");
      assert.equal(caught, 1);
      assert.equal(t.cancelling(), 2, "the count stays as a record of the requests");
    });
  });
});

describe("Task.uncancel", () => {
  // CPython: test_tasks.py BaseTaskTests.test_uncancel_basic
  it("takes back one request; the task is then cancellable again", async () => {
    const loop = new TestLoop({ autojump: true });
    const t: Task<void> = loop.createTask(async () => {
      try {
        await sleep(10);
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        currentTask()!.uncancel();
        await sleep(10);
      }
    });
    await loop.runUntilComplete(() => sleep(0.01));

    assert.equal(t.cancel(), true);
    assert.match(t.toString(), / cancelling /);
    assert.equal(t.cancelling(), 1);
    assert.equal(t.cancelled(), false);
    await loop.runUntilComplete(() => sleep(0.01));

    assert.doesNotMatch(t.toString(), / cancelling /);
    assert.equal(t.cancelling(), 0);
    assert.equal(t.cancelled(), false);

    assert.equal(t.cancel(), true);
    assert.equal(t.cancelling(), 1);
    assert.equal(t.cancelled(), false);
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
    assert.equal(t.cancelled(), true);
    assert.equal(t.done(), true);

    // No longer effective once the task is done.
    t.uncancel();
    assert.equal(t.cancelled(), true);
    assert.equal(t.done(), true);
    loop.close();
  });

  it("never goes below zero", async () => {
    await runTest(async () => {
      const t = createTask(async () => sleep(1));
      assert.equal(t.uncancel(), 0);
      t.cancel();
      assert.equal(t.uncancel(), 0);
      assert.equal(t.uncancel(), 0);
      assert.equal(t.cancelling(), 0);
      await t;
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_uncancel_structured_blocks
  it("lets a timeout-like structure turn its own cancel into a timeout, and go on", async () => {
    const loop = new TestLoop({ autojump: true });

    async function makeRequestWithTimeout(sleepFor: number, timeout: number) {
      const task = currentTask()!;
      let timedOut = false;
      let structuredBlockFinished = false;
      const handle = loop.callLater(timeout, () => {
        timedOut = true;
        task.cancel();
      });
      try {
        let escaping: unknown = null;
        try {
          await sleep(sleepFor); // the structured block affected by the timeout
          structuredBlockFinished = true;
        } catch (e) {
          escaping = e;
          throw e;
        } finally {
          handle.cancel();
          // The rules: only our own cancel, only when uncancel() brings the count to zero,
          // only a CancelledError becomes a timeout; others propagate.
          if (timedOut && task.uncancel() === 0 && escaping instanceof CancelledError) {
            // eslint-disable-next-line no-unsafe-finally
            throw new Error("timeout");
          }
        }
      } catch (e) {
        if ((e as Error).message !== "timeout") throw e;
        assert.equal(timedOut, true);
      }
      const outerCodeReached = true; // code after the structured block is not affected
      await sleep(0);
      return { timedOut, structuredBlockFinished, outerCodeReached };
    }

    const t1 = loop.createTask(() => makeRequestWithTimeout(10, 0.1));
    assert.deepEqual(await loop.runUntilComplete(t1), {
      timedOut: true,
      structuredBlockFinished: false,
      outerCodeReached: true,
    });
    assert.equal(t1.cancelling(), 0);

    const t2 = loop.createTask(() => makeRequestWithTimeout(0, 10));
    assert.deepEqual(await loop.runUntilComplete(t2), {
      timedOut: false,
      structuredBlockFinished: true,
      outerCodeReached: true,
    });
    assert.equal(t2.cancelling(), 0);
    loop.close();
  });

  // CPython: test_tasks.py BaseTaskTests.test_uncancel_resets_must_cancel
  it("down to zero withdraws a cancel not yet delivered", async () => {
    const loop = new TestLoop();
    const fut = loop.createFuture<void>();
    const task = loop.createTask(async () => {
      await fut;
      return 42;
    });
    await runBriefly(loop); // the task now waits for fut
    fut.setResult(); // the task is runnable: the cancel cannot reach a waiter
    task.cancel();
    assert.equal(task.cancelling(), 1);
    task.uncancel();
    assert.equal(task.cancelling(), 0);
    assert.equal(await loop.runUntilComplete(task), 42);
    loop.close();
  });

  it("down to zero withdraws a cancel waiting for a task in foreign code", async () => {
    await runTest(async () => {
      const t = createTask(async () => {
        await delay(15);
        await sleep(1);
        return "not cancelled";
      });
      await sleep(0);
      await sleep(0);
      t.cancel();
      assert.equal(t.uncancel(), 0);
      assert.equal(await t, "not cancelled");
    });
  });

  it("not down to zero keeps the pending cancel", async () => {
    await runTest(async () => {
      const t = createTask(async () => {
        await delay(15);
        await sleep(1);
        return "not cancelled";
      });
      await sleep(0);
      await sleep(0);
      t.cancel();
      t.cancel();
      assert.equal(t.uncancel(), 1);
      assert.ok((await errorOf(t)) instanceof CancelledError);
    });
  });
});
