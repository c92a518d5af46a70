// `wait`, ported from CPython 3.14's Lib/test/test_asyncio/test_tasks.py (BaseTaskTests.test_wait*).
// CPython's TestLoop generators that check each deadline become exact readings of the virtual clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ALL_COMPLETED,
  CancelledError,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type Future,
  type Task,
  coroutine,
  createTask,
  getRunningLoop,
  sleep,
  wait,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { ZeroDivisionError, caught } from "../support/errors.js";

describe("wait()", () => {
  it("waits for every awaitable by default and returns them all in done", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait
    await runTest(async () => {
      const loop = getRunningLoop();
      const a = createTask(() => sleep(0.1));
      const b = createTask(() => sleep(0.15));
      const foo = async (): Promise<number> => {
        const { done, pending } = await wait([b, a]);
        assert.deepEqual(done, new Set([a, b]));
        assert.deepEqual(pending, new Set());
        return 42;
      };
      assert.equal(await createTask(foo), 42);
      assert.equal(loop.time(), 0.15);
      // Doing it again takes no time and exercises a different path.
      assert.equal(await createTask(foo), 42);
      assert.equal(loop.time(), 0.15);
    });
  });

  it("counts an awaitable given twice once", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait_duplicate_coroutines
    await runTest(async () => {
      const c = createTask(async () => "test");
      const { done, pending } = await wait([c, c, createTask(async () => "spam")]);
      assert.equal(pending.size, 0);
      assert.equal(done.size, 2);
      assert.deepEqual(new Set([...done].map((f) => f.result())), new Set(["test", "spam"]));
    });
  });

  it("refuses an empty set and an unknown returnWhen synchronously", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait_errors and test_wait_invalid_args
    await runTest(async () => {
      assert.throws(() => wait(new Set<Future<unknown>>()), (e) => e instanceof RangeError && /empty/.test(e.message));
      assert.throws(() => wait([]), RangeError);
      const t = createTask(() => sleep(10));
      assert.throws(
        () => wait([t], { returnWhen: -1 as never }),
        (e) => e instanceof RangeError && /`returnWhen`/.test(e.message),
      );
      t.cancel();
    });
  });

  it("refuses a single future or coroutine where an iterable is expected", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait_invalid_args
    await runTest(async () => {
      const fut = getRunningLoop().createFuture();
      assert.throws(() => wait(fut as never), TypeError);
      const coro = coroutine(async function coro() {})();
      assert.throws(() => wait(coro as never), TypeError);
      coro.close();
      assert.throws(() => wait([42] as never), (e) => e instanceof TypeError && /element 0/.test(e.message));
      assert.throws(() => wait(null as never), (e) => e instanceof TypeError && /`aws`/.test(e.message));
      assert.throws(() => wait([fut], 5 as never), (e) => e instanceof TypeError && /`options`/.test(e.message));
      assert.throws(() => wait([fut], { timeout: "1" as never }), (e) => e instanceof TypeError && /`timeout`/.test(e.message));
    });
  });

  it("returns at the first completion with FIRST_COMPLETED", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait_first_completed
    await runTest(async () => {
      const loop = getRunningLoop();
      const a = createTask(() => sleep(10));
      const b = createTask(() => sleep(0.1));
      const { done, pending } = await wait([b, a], { returnWhen: FIRST_COMPLETED });
      assert.deepEqual(done, new Set([b]));
      assert.deepEqual(pending, new Set([a]));
      assert.equal(a.done(), false);
      assert.equal(b.done(), true);
      assert.equal(b.result(), undefined);
      assert.equal(loop.time(), 0.1);
      a.cancel();
    });
  });

  it("reports everything done by the time the waiter resumes, not just the first", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait_really_done
    // Pins the iteration structure: b completes in the iteration before the waiter resumes.
    await runTest(async () => {
      const a = createTask(async () => {
        await sleep(0);
      });
      const b = createTask(async () => {
        await sleep(0);
        await sleep(0);
      });
      const { done } = await createTask(() => wait([b, a], { returnWhen: FIRST_COMPLETED }));
      assert.deepEqual(done, new Set([a, b]));
      assert.equal(a.result(), undefined);
      assert.equal(b.result(), undefined);
    });
  });

  it("returns at once with FIRST_EXCEPTION when a task has already failed", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait_first_exception
    await runTest(async () => {
      const loop = getRunningLoop();
      const a = createTask(() => sleep(10));
      const b = createTask(async () => {
        throw new ZeroDivisionError("err");
      });
      const { done, pending } = await wait([b, a], { returnWhen: FIRST_EXCEPTION });
      assert.deepEqual(done, new Set([b]));
      assert.deepEqual(pending, new Set([a]));
      assert.equal(loop.time(), 0);
      a.cancel();
    });
  });

  it("returns at the first failure with FIRST_EXCEPTION", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait_first_exception_in_wait
    await runTest(async () => {
      const loop = getRunningLoop();
      const a = createTask(() => sleep(10));
      const b = createTask(async () => {
        await sleep(0.01);
        throw new ZeroDivisionError("err");
      });
      const { done, pending } = await wait([b, a], { returnWhen: FIRST_EXCEPTION });
      assert.deepEqual(done, new Set([b]));
      assert.deepEqual(pending, new Set([a]));
      assert.equal(loop.time(), 0.01);
      a.cancel();
    });
  });

  it("does not count a cancellation as an exception with FIRST_EXCEPTION", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const a = createTask(() => sleep(1));
      const b = createTask(() => sleep(10));
      loop.callLater(0.5, () => b.cancel());
      const { done, pending } = await wait([a, b], { returnWhen: FIRST_EXCEPTION });
      assert.deepEqual(done, new Set([a, b]));
      assert.equal(pending.size, 0);
      assert.equal(loop.time(), 1);
    });
  });

  it("marks the error that ended a FIRST_EXCEPTION wait as retrieved", async () => {
    // CPython's _on_completion calls f.exception(), which marks it retrieved.
    await runTest(async () => {
      const loop = getRunningLoop();
      const reports: unknown[] = [];
      loop.setExceptionHandler((_loop, context) => reports.push(context.exception));
      await (async () => {
        const b = loop.createFuture();
        const c = loop.createFuture();
        // Errors made where the futures are not in scope, and with their stack formatted: an
        // unformatted V8 stack keeps its frames' closures alive (see the report on futures.ts).
        const errors = makeErrors(["read by wait", "control"]);
        loop.callSoon(() => b.setException(errors[0]));
        await wait([b, loop.createFuture()], { returnWhen: FIRST_EXCEPTION });
        // A control: with ALL_COMPLETED, wait reads nothing, so this one is reported.
        loop.callSoon(() => c.setException(errors[1]));
        await wait([c]);
      })();
      await collectUntil(() => reports.length > 0);
      assert.deepEqual(reports.map((e) => (e as Error).message), ["control"]);
    });
  });

  it("waits for all, failures included, with ALL_COMPLETED", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait_with_exception
    await runTest(async () => {
      const loop = getRunningLoop();
      const a = createTask(() => sleep(0.1));
      const b = createTask(async () => {
        await sleep(0.15);
        throw new ZeroDivisionError("really");
      });
      const foo = async (): Promise<void> => {
        const { done, pending } = await wait([b, a], { returnWhen: ALL_COMPLETED });
        assert.equal(done.size, 2);
        assert.equal(pending.size, 0);
        const errors = [...done].filter((f) => f.exception() !== null);
        assert.equal(errors.length, 1);
      };
      await createTask(foo);
      assert.equal(loop.time(), 0.15);
      await createTask(foo);
      assert.equal(loop.time(), 0.15);
    });
  });

  it("returns what is done when the timeout passes, and cancels nothing", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait_with_timeout
    await runTest(async () => {
      const loop = getRunningLoop();
      const a = createTask(() => sleep(0.1));
      const b = createTask(() => sleep(0.15));
      const { done, pending } = await wait([b, a], { timeout: 0.11 });
      assert.deepEqual(done, new Set([a]));
      assert.deepEqual(pending, new Set([b]));
      assert.equal(loop.time(), 0.11);
      assert.equal(b.cancelled(), false);
      await b;
      assert.equal(b.done(), true);
    });
  });

  it("counts an awaitable that completes at the timeout's own deadline as done", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait_concurrent_complete
    await runTest(async () => {
      const loop = getRunningLoop();
      const a = createTask(() => sleep(0.1));
      const b = createTask(() => sleep(0.15));
      // As run_until_complete(wait(...)) in CPython: the wait runs in a task made after a and b,
      // so its timer is due after a's sleep.
      const { done, pending } = await createTask(() => wait([b, a], { timeout: 0.1 }));
      assert.deepEqual(done, new Set([a]));
      assert.deepEqual(pending, new Set([b]));
      assert.equal(loop.time(), 0.1);
      b.cancel();
    });
  });

  it("accepts an iterator of tasks", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait_with_iterator_of_tasks
    await runTest(async () => {
      const a = createTask(() => sleep(0.1));
      const b = createTask(() => sleep(0.15));
      const { done, pending } = await wait([b, a][Symbol.iterator]());
      assert.deepEqual(done, new Set([a, b]));
      assert.equal(pending.size, 0);
      assert.equal(getRunningLoop().time(), 0.15);
    });
  });

  it("accepts a generator of tasks", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_wait_generator
    await runTest(async () => {
      function* tasks(): Generator<Task<number>> {
        for (let i = 0; i < 10; i++) yield createTask(async () => i);
      }
      const { done, pending } = await wait(tasks(), { returnWhen: ALL_COMPLETED });
      assert.equal(done.size, 10);
      assert.equal(pending.size, 0);
    });
  });

  it("stops waiting when its task is cancelled, and leaves the awaitables running", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_yield_wait_does_not_shield_cancel
    await runTest(async () => {
      const loop = getRunningLoop();
      let proof = 0;
      const waiter = loop.createFuture();
      const inner = createTask(async () => {
        await waiter;
        proof += 1;
      });
      const f = createTask(async () => {
        await wait([inner]);
        proof += 100;
      });
      await sleep(0);
      f.cancel();
      assert.ok((await caught(() => f)) instanceof CancelledError);
      waiter.setResult(null);
      await sleep(0);
      await sleep(0);
      assert.equal(proof, 1);
      assert.equal(inner.done(), true);
    });
  });

  it("puts the very objects passed in its sets, and the task made for a thunk or coroutine", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const fut = loop.createFuture<number>();
      fut.setResult(1);
      const promise = Promise.resolve(2);
      const thunk = (): Future<number> => sleep(0.1, 3);
      const coro = coroutine(async function coro() {
        return 4;
      })();
      const slow = createTask(() => sleep(1));
      const { done, pending } = await wait([fut, promise, thunk, coro, slow], { timeout: 0.5 });
      assert.equal(done.has(fut), true);
      assert.equal(done.has(promise), true);
      assert.deepEqual(pending, new Set([slow]));
      const made = [...done].filter((x) => x !== fut && x !== promise) as Task<number>[];
      assert.equal(made.length, 2);
      assert.deepEqual(made.map((t) => t.result()).sort(), [3, 4]);
      assert.equal(done.has(thunk as never), false);
      assert.equal(done.has(coro as never), false);
      slow.cancel();
    });
  });
});

function makeErrors(messages: string[]): Error[] {
  return messages.map((m) => {
    const error = new ZeroDivisionError(m);
    void error.stack;
    return error;
  });
}

/**
 * Runs the garbage collector, letting finalization callbacks run, until `done()` is true or
 * 50 rounds passed (then a few more rounds, so that a report that should not come has had
 * every chance to).
 */
async function collectUntil(done: () => boolean): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "tests run with --expose-gc");
  for (let i = 0; i < 50 && !done(); i++) {
    gc();
    await new Promise<void>((resolve) => setImmediate(resolve));
    await sleep(0);
  }
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise<void>((resolve) => setImmediate(resolve));
    await sleep(0);
  }
}
