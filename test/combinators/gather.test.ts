// `gather`, ported from CPython 3.14's Lib/test/test_asyncio/test_tasks.py (GatherTestsBase,
// FutureGatherTests, CoroutineGatherTests, and the gather tests of BaseTaskTests).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  EventLoop,
  type ExceptionContext,
  Future,
  GatheringFuture,
  RuntimeError,
  allTasks,
  coroutine,
  createTask,
  ensureFuture,
  gather,
  getRunningLoop,
  sleep,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { ZeroDivisionError, caught } from "../support/errors.js";

type Tuple<T, N extends number, R extends T[] = []> = R["length"] extends N ? R : Tuple<T, N, [...R, T]>;

/** `n` pending futures of the running loop, typed as a tuple so they destructure. */
function futures<const N extends number>(n: N): Tuple<Future<unknown>, N> {
  const loop = getRunningLoop();
  return Array.from({ length: n }, () => loop.createFuture()) as Tuple<Future<unknown>, N>;
}

/** Lets the loop run until nothing is ready (CPython's `_run_loop` in GatherTestsBase). */
async function runLoop(): Promise<void> {
  for (let i = 0; i < 10; i++) await sleep(0);
}

/** Records the calls of a done callback. */
function mockCallback(): { (fut: unknown): void; calls: unknown[] } {
  const cb = (fut: unknown): void => {
    cb.calls.push(fut);
  };
  cb.calls = [] as unknown[];
  return cb;
}

/** How the children are given to gather: as the futures themselves, as thunks, or as coroutines. */
const WRAPPERS = {
  futures: (futs: Future<unknown>[]) => futs,
  thunks: (futs: Future<unknown>[]) => futs.map((f) => () => f),
  coroutines: (futs: Future<unknown>[]) =>
    futs.map((f) => coroutine(async function child() {
      return await f;
    })()),
} as const;

for (const [kind, wrap] of Object.entries(WRAPPERS)) {
  describe(`gather() of ${kind}`, () => {
    for (const options of [undefined, { returnExceptions: false }, { returnExceptions: true }]) {
      it(`resolves to the results in argument order, not completion order (${JSON.stringify(options)})`, async () => {
        // CPython: test_tasks.py GatherTestsBase.test_success / test_result_exception_success
        await runTest(async () => {
          const loop = getRunningLoop();
          const [a, b, c] = [loop.createFuture(), loop.createFuture(), loop.createFuture()];
          const children = wrap([a, b, c]) as never[];
          const fut = options === undefined ? gather(...children) : gather(...children, options);
          const cb = mockCallback();
          fut.addDoneCallback(cb);
          b.setResult(1);
          a.setResult(2);
          await runLoop();
          assert.equal(cb.calls.length, 0);
          assert.equal(fut.done(), false);
          c.setResult(3);
          await runLoop();
          assert.deepEqual(cb.calls, [fut]);
          assert.deepEqual(fut.result(), [2, 1, 3]);
        });
      });
    }

    it("fails with the first error at once; later outcomes change nothing", async () => {
      // CPython: test_tasks.py GatherTestsBase.test_one_exception
      await runTest(async () => {
        const [a, b, c, d, e] = futures(5);
        const fut = gather(...(wrap([a, b, c, d, e]) as never[]));
        const cb = mockCallback();
        fut.addDoneCallback(cb);
        const exc = new ZeroDivisionError();
        a.setResult(1);
        b.setException(exc);
        await runLoop();
        assert.equal(fut.done(), true);
        assert.deepEqual(cb.calls, [fut]);
        assert.equal(fut.exception(), exc);
        // Does nothing
        c.setResult(3);
        d.cancel();
        e.setException(new RangeError());
        e.exception();
        await runLoop();
        assert.equal(fut.exception(), exc);
        assert.equal(cb.calls.length, 1);
      });
    });

    it("puts errors in the results with returnExceptions", async () => {
      // CPython: test_tasks.py GatherTestsBase.test_return_exceptions
      await runTest(async () => {
        const [a, b, c, d] = futures(4);
        const fut = gather(...(wrap([a, b, c, d]) as never[]), { returnExceptions: true });
        const cb = mockCallback();
        fut.addDoneCallback(cb);
        const exc = new ZeroDivisionError();
        const exc2 = new RangeError();
        b.setResult(1);
        c.setException(exc);
        a.setResult(3);
        await runLoop();
        assert.equal(fut.done(), false);
        d.setException(exc2);
        await runLoop();
        assert.equal(fut.done(), true);
        assert.deepEqual(cb.calls, [fut]);
        assert.deepEqual(fut.result(), [3, 1, exc, exc2]);
      });
    });
  });
}

describe("gather() of futures", () => {
  it("resolves an empty gather to [] at once", async () => {
    // CPython: test_tasks.py FutureGatherTests.test_constructor_empty_sequence_use_running_loop
    await runTest(async () => {
      const fut = gather();
      assert.ok(fut instanceof Future);
      assert.equal(fut.getLoop(), getRunningLoop());
      assert.equal(fut.done(), true);
      assert.deepEqual(fut.result(), []);
      assert.deepEqual(await fut, []);
    });
  });

  it("needs a running loop for an empty gather", () => {
    // CPython: test_tasks.py FutureGatherTests.test_constructor_empty_sequence_without_loop
    assert.throws(() => gather(), RuntimeError);
  });

  it("refuses futures of two different loops", async () => {
    // CPython: test_tasks.py FutureGatherTests.test_constructor_heterogenous_futures
    await runTest(async () => {
      const other = new EventLoop();
      try {
        const fut1 = getRunningLoop().createFuture();
        const fut2 = other.createFuture();
        assert.throws(() => gather(fut1, fut2), RangeError);
      } finally {
        other.close();
      }
    });
  });

  it("belongs to the loop of the futures it gathers", async () => {
    // CPython: test_tasks.py FutureGatherTests.test_constructor_homogenous_futures
    await runTest(async () => {
      const other = new EventLoop();
      try {
        const children = [other.createFuture(), other.createFuture(), other.createFuture()];
        const fut = gather(...children);
        assert.equal(fut.getLoop(), other);
        assert.equal(fut.done(), false);
      } finally {
        other.close();
      }
    });
  });

  it("fails with CancelledError, without being cancelled itself, when a child is cancelled", async () => {
    // CPython: test_tasks.py FutureGatherTests.test_one_cancellation
    await runTest(async () => {
      const [a, b, c, d, e] = futures(5);
      const fut = gather(a, b, c, d, e);
      const cb = mockCallback();
      fut.addDoneCallback(cb);
      a.setResult(1);
      b.cancel();
      await runLoop();
      assert.equal(fut.done(), true);
      assert.deepEqual(cb.calls, [fut]);
      assert.equal(fut.cancelled(), false);
      assert.ok(fut.exception() instanceof CancelledError);
      // Does nothing
      c.setResult(3);
      d.cancel();
      e.setException(new RangeError());
      e.exception();
    });
  });

  it("puts a CancelledError in the results for each cancelled child with returnExceptions", async () => {
    // CPython: test_tasks.py FutureGatherTests.test_result_exception_one_cancellation
    await runTest(async () => {
      const [a, b, c, d, e, f] = futures(6);
      const fut = gather(a, b, c, d, e, f, { returnExceptions: true });
      const cb = mockCallback();
      fut.addDoneCallback(cb);
      a.setResult(1);
      const zde = new ZeroDivisionError();
      b.setException(zde);
      c.cancel("c stopped");
      await runLoop();
      assert.equal(fut.done(), false);
      d.setResult(3);
      e.cancel();
      const rte = new RangeError();
      f.setException(rte);
      const res = (await fut) as unknown[];
      assert.ok(res[2] instanceof CancelledError);
      assert.equal(res[2].message, "c stopped");
      assert.ok(res[4] instanceof CancelledError);
      assert.equal(res[4].message, "");
      res[2] = res[4] = null;
      assert.deepEqual(res, [1, zde, null, 3, null, rte]);
      assert.deepEqual(cb.calls, [fut]);
    });
  });

  it("completes at once when every child is already done", async () => {
    // CPython 3.12+: "in the special case that *all* futures finished eagerly, this will
    // effectively complete the gather eagerly".
    await runTest(async () => {
      const loop = getRunningLoop();
      const a = loop.createFuture<number>();
      const b = loop.createFuture<string>();
      a.setResult(1);
      b.setResult("x");
      const fut = gather(a, b);
      assert.equal(fut.done(), true);
      assert.deepEqual(fut.result(), [1, "x"]);
    });
  });

  it("fills every place when done futures, a thunk given twice and pending futures are mixed", async () => {
    // The places of a future given twice, of a thunk given again and of children done before
    // the gather must all be filled, whatever order the children complete in.
    await runTest(async () => {
      const loop = getRunningLoop();
      const done = loop.createFuture<string>();
      done.setResult("done");
      const late = loop.createFuture<string>();
      const early = loop.createFuture<string>();
      const thunk = async (): Promise<string> => {
        await sleep(0);
        return "thunk";
      };
      const fut = gather(done, thunk, late, thunk, early, done, late);
      early.setResult("early");
      await sleep(0);
      late.setResult("late");
      assert.deepEqual(await fut, ["done", "thunk", "late", "thunk", "early", "done", "late"]);
    });
  });

  it("does not cancel the other children when one fails", async () => {
    // asyncio's gather: "the first raised exception will be immediately propagated";
    // the others keep running.
    await runTest(async () => {
      const slow = createTask(() => sleep(1, "slow"));
      const failing = createTask(async () => {
        await sleep(0.1);
        throw new ZeroDivisionError();
      });
      const error = await caught(() => gather(slow, failing));
      assert.ok(error instanceof ZeroDivisionError);
      assert.equal(slow.cancelled(), false);
      assert.equal(await slow, "slow");
    });
  });
});

describe("gather() of coroutines and thunks", () => {
  it("uses the running loop for the tasks it makes", async () => {
    // CPython: test_tasks.py CoroutineGatherTests.test_constructor_use_running_loop
    await runTest(async () => {
      const coro = coroutine(async function coro() {
        return "abc";
      });
      const fut = gather(coro(), coro(), () => Promise.resolve("def"));
      assert.equal(fut.getLoop(), getRunningLoop());
      assert.deepEqual(await fut, ["abc", "abc", "def"]);
    });
  });

  it("needs a running loop to make tasks", () => {
    // CPython: test_tasks.py CoroutineGatherTests.test_constructor_without_loop
    const coro = coroutine(async function coro() {
      return "abc";
    });
    const c1 = coro();
    const c2 = coro();
    assert.throws(() => gather(c1, c2), RuntimeError);
    c1.close();
    c2.close();
  });

  it("runs an awaitable given twice once, and puts its result in both places", async () => {
    // CPython: test_tasks.py CoroutineGatherTests.test_duplicate_coroutines
    await runTest(async () => {
      let runs = 0;
      const coro = coroutine(async function coro(s: string) {
        runs++;
        return s;
      });
      const c = coro("abc");
      const thunk = async (): Promise<string> => {
        runs++;
        return "ghi";
      };
      const fut = gather(c, c, coro("def"), c, thunk, thunk);
      assert.deepEqual(await fut, ["abc", "abc", "def", "abc", "ghi", "ghi"]);
      assert.equal(runs, 3);
    });
  });

  it("cancels every child when the task awaiting it is cancelled", async () => {
    // CPython: test_tasks.py CoroutineGatherTests.test_cancellation_broadcast
    await runTest(async () => {
      const loop = getRunningLoop();
      let proof = 0;
      const waiter = loop.createFuture();
      const inner = async (): Promise<void> => {
        await waiter;
        proof += 1;
      };
      const child1 = ensureFuture(inner);
      const child2 = ensureFuture(inner);
      let gatherer: GatheringFuture<unknown> | null = null;
      const f = createTask(async () => {
        gatherer = gather(child1, child2);
        await gatherer;
        proof += 100;
      });
      await sleep(0);
      assert.equal(f.cancel(), true);
      assert.ok((await caught(() => f)) instanceof CancelledError);
      assert.equal((gatherer as unknown as GatheringFuture<unknown>).cancel(), false);
      assert.equal(waiter.cancelled(), true);
      assert.equal(child1.cancelled(), true);
      assert.equal(child2.cancelled(), true);
      await sleep(0);
      assert.equal(proof, 0);
    });
  });

  it("marks the errors of later failing children as retrieved", async () => {
    // CPython: test_tasks.py CoroutineGatherTests.test_exception_marking
    await runTest(async () => {
      const loop = getRunningLoop();
      const reports: ExceptionContext[] = [];
      loop.setExceptionHandler((_loop, context) => reports.push(context));
      const a = loop.createFuture();
      const b = loop.createFuture();
      const inner = (f: Future<unknown>) => async (): Promise<never> => {
        await f;
        throw new RangeError("should not be ignored");
      };
      const f = createTask(() => gather(inner(a), inner(b)));
      await sleep(0);
      a.setResult(null);
      await runLoop();
      b.setResult(null);
      await runLoop();
      assert.ok(f.exception() instanceof RangeError);
      // A control: a failed future nobody reads is reported once it is collected...
      (() => {
        const control = loop.createFuture();
        control.setException(new RangeError("control"));
      })();
      await collectUntil(() => reports.length > 0);
      const messages = reports.map((r) => (r.exception as Error).message);
      assert.deepEqual(messages, ["control"], "...but the second child's error is not");
    });
  });

  it("refuses a non-awaitable argument synchronously, before starting anything", async () => {
    // CPython: test_tasks.py CoroutineGatherTests.test_issue46672
    await runTest(async () => {
      const before = allTasks().size;
      const coro = coroutine(async function coro(s: string) {
        return s;
      });
      const c = coro("abc");
      assert.throws(() => gather(c, 42 as never), (e) => e instanceof TypeError && /argument 1/.test(e.message));
      assert.throws(() => gather({} as never, c), (e) => e instanceof TypeError && /argument 0/.test(e.message));
      assert.equal(allTasks().size, before);
      assert.equal(c.state, "created");
      c.close();
    });
  });
});

describe("cancelling gather()", () => {
  it("refuses to be cancelled once every child is done", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_cancel_gather_1 (Python issue #26923)
    await runTest(async () => {
      const loop = getRunningLoop();
      const fut = loop.createFuture<number>();
      // The indirection fut -> child is needed, else gather is done with the child future.
      const gatherFuture = gather(async () => await fut);
      await sleep(0); // the child starts and waits for fut
      let cancelResult: boolean | null = null;
      fut.addDoneCallback(() => {
        cancelResult = gatherFuture.cancel();
      });
      fut.setResult(42); // the callback runs after fut is done, before gather is
      assert.deepEqual(await gatherFuture, [42]);
      assert.equal(cancelResult, false);
      assert.equal(gatherFuture.cancelled(), false);
    });
  });

  for (const [args, expected] of [
    [[], ""],
    [[undefined], ""],
    [["my message"], "my message"],
  ] as const) {
    it(`propagates the cancellation of the awaiting task through gather (cancel(${args.join()}))`, async () => {
      // CPython: test_tasks.py BaseTaskTests.test_cancel_gather_2
      await runTest(async () => {
        const test = async (): Promise<void> => {
          let time = 0;
          while (true) {
            time += 0.05;
            await gather(() => sleep(0.05), { returnExceptions: true });
            if (time > 1) return;
          }
        };
        const error = await caught(async () => {
          const qwe = createTask(test);
          await sleep(0.2);
          qwe.cancel(...(args as unknown as [string?]));
          await qwe;
        });
        assert.ok(error instanceof CancelledError, "gather() propagates the cancellation to its caller");
        assert.equal(error.message, expected);
      });
    });
  }

  it("cancels the unfinished children with the message, and rejects with it", async () => {
    await runTest(async () => {
      const a = createTask(() => sleep(10));
      const b = createTask(async () => "quick");
      const g = gather(a, b);
      await sleep(0);
      assert.equal(b.done(), true);
      assert.equal(g.cancel("enough"), true);
      const error = await caught(() => g);
      assert.ok(error instanceof CancelledError);
      assert.equal(error.message, "enough");
      assert.equal(a.cancelled(), true);
      assert.equal(b.result(), "quick");
      // gather's future fails with the CancelledError; it is not itself "cancelled", as asyncio's.
      assert.equal(g.done(), true);
    });
  });

  it("refuses a cancel message that is not a string, even once done", async () => {
    await runTest(async () => {
      const g = gather(() => sleep(1));
      assert.throws(() => g.cancel(5 as never), (e) => e instanceof TypeError && /`msg`/.test(e.message));
      await g;
      assert.throws(() => g.cancel({} as never), (e) => e instanceof TypeError && /`msg`/.test(e.message));
      assert.equal(g.cancel("late"), false);
    });
  });

  it("rejects with CancelledError even with returnExceptions when it was cancelled", async () => {
    // Python issue 32684: a cancel of gather propagates regardless of return_exceptions.
    await runTest(async () => {
      const a = createTask(() => sleep(10));
      const g = gather(a, { returnExceptions: true });
      await sleep(0);
      g.cancel();
      assert.ok((await caught(() => g)) instanceof CancelledError);
    });
  });

  it("does not cancel children a child's own cancellation left running", async () => {
    await runTest(async () => {
      const a = createTask(() => sleep(10));
      const b = createTask(() => sleep(1, "b"));
      const g = gather(a, b, { returnExceptions: true });
      await sleep(0);
      a.cancel();
      const results = await g;
      assert.ok(results[0] instanceof CancelledError);
      assert.equal(results[1], "b");
      assert.equal(b.cancelled(), false);
    });
  });
});

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
