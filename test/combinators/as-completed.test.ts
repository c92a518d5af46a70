// `asCompleted`, ported from CPython 3.14's Lib/test/test_asyncio/test_tasks.py
// (BaseTaskTests.test_as_completed*): 3.13 semantics, a plain iterator of awaitables and an
// async iterator yielding the original futures. Each behaviour is checked for both forms.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  type Coroutine,
  type Task,
  TimeoutError,
  asCompleted,
  coroutine,
  createTask,
  ensureFuture,
  getRunningLoop,
  isCoroutine,
  sleep,
  wait,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";

type Aw = Parameters<typeof asCompleted>[0] extends Iterable<infer A> ? A : never;

/** Collects the results with `for (const next of asCompleted(aws)) await next`. */
async function tryIterator(aws: Iterable<Aw>, options?: { timeout?: number }): Promise<unknown[]> {
  const values: unknown[] = [];
  for (const next of asCompleted(aws, options)) values.push(await next);
  return values;
}

/** Collects the results with `for await (const fut of asCompleted(aws)) await fut`. */
async function tryAsyncIterator(aws: Iterable<Aw>, options?: { timeout?: number }): Promise<unknown[]> {
  const values: unknown[] = [];
  for await (const fut of asCompleted(aws, options)) values.push(await fut);
  return values;
}

const FORMS = { tryIterator, tryAsyncIterator } as const;

describe("asCompleted()", () => {
  for (const [name, collect] of Object.entries(FORMS)) {
    it(`gives the results in completion order (${name})`, async () => {
      // CPython: test_tasks.py BaseTaskTests.test_as_completed
      await runTest(async () => {
        const loop = getRunningLoop();
        const sleeper = coroutine(async function sleeper(dt: number, x: string) {
          await sleep(dt);
          return x;
        });
        const a = sleeper(0.01, "a");
        const b = sleeper(0.01, "b");
        const c = sleeper(0.15, "c");
        const res = await createTask(() => collect([b, c, a]));
        assert.equal(loop.time(), 0.15);
        assert.deepEqual(new Set(res.slice(0, 2)), new Set(["a", "b"]));
        assert.equal(res[2], "c");
      });
    });

    it(`raises TimeoutError for what is not done when the timeout passes (${name})`, async () => {
      // CPython: test_tasks.py BaseTaskTests.test_as_completed_with_timeout
      await runTest(async () => {
        const loop = getRunningLoop();
        const a = createTask(() => sleep(0.1, "a"));
        const b = createTask(() => sleep(0.15, "b"));
        const values: [number, unknown][] = [];
        if (name === "tryIterator") {
          for (const next of asCompleted([a, b], { timeout: 0.12 })) {
            try {
              values.push([1, await next]);
            } catch (e) {
              values.push([2, e]);
            }
          }
        } else {
          try {
            for await (const fut of asCompleted([a, b], { timeout: 0.12 })) values.push([1, await fut]);
          } catch (e) {
            values.push([2, e]);
          }
        }
        assert.equal(values.length, 2);
        assert.deepEqual(values[0], [1, "a"]);
        assert.equal(values[1]?.[0], 2);
        assert.ok(values[1]?.[1] instanceof TimeoutError);
        assert.equal((values[1]?.[1] as Error).message, "asCompleted() timeout of 0.12 s expired with 1 awaitable not done");
        assert.equal(loop.time(), 0.12);
        // The timeout cancels nothing.
        assert.equal(b.cancelled(), false);
        assert.equal(await b, "b");
      });
    });

    it(`cancels its timer when everything completes before the timeout (${name})`, async () => {
      // CPython: test_tasks.py BaseTaskTests.test_as_completed_with_unused_timeout
      await runTest(async () => {
        const loop = getRunningLoop();
        assert.deepEqual(await collect([sleep(0.01, "a")], { timeout: 1 }), ["a"]);
        assert.equal(loop.time(), 0.01);
        assert.equal(loop._pendingCounts().timers, 0);
      });
    });

    it(`runs an awaitable given twice once (${name})`, async () => {
      // CPython: test_tasks.py BaseTaskTests.test_as_completed_duplicate_coroutines
      await runTest(async () => {
        const coro = coroutine(async function coro(s: string) {
          return s;
        });
        const c = coro("ham");
        const result = await createTask(() => collect([c, c, coro("spam")]));
        assert.deepEqual(new Set(result), new Set(["ham", "spam"]));
        assert.equal(result.length, 2);
      });
    });

    it(`gives each result once, in whatever order awaits come (${name})`, async () => {
      await runTest(async () => {
        const res = await collect([() => sleep(0.3, 3), () => sleep(0.1, 1), () => sleep(0.2, 2)]);
        assert.deepEqual(res, [1, 2, 3]);
      });
    });
  }

  it("can be resumed after a break, with either form", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_as_completed_resume_iterator
    await runTest(async () => {
      const coro = coroutine(async function coro(i: number) {
        return i;
      });
      // Plain iterator.
      {
        const iterator = asCompleted([coro(0), coro(1), coro(2), coro(3)]);
        const collected: number[] = [];
        for (const next of iterator) {
          collected.push(await next);
          if (collected.length === 2) break;
        }
        assert.equal(collected.length, 2);
        for (const next of iterator) collected.push(await next);
        assert.deepEqual(collected.sort(), [0, 1, 2, 3]);
      }
      // Async iterator.
      {
        const iterator = asCompleted([coro(0), coro(1), coro(2), coro(3)]);
        const collected: number[] = [];
        for await (const fut of iterator) {
          collected.push(fut.result()); // done: the types hide its `then` (AsCompletedItem)
          if (collected.length === 2) break;
        }
        assert.equal(collected.length, 2);
        for await (const fut of iterator) {
          const task: Task<number> = fut; // widened, it can be awaited again, as in CPython
          collected.push(await task);
        }
        assert.deepEqual(collected.sort(), [0, 1, 2, 3]);
      }
    });
  });

  it("gives the first completed result to the first await, whichever awaitable it is", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_as_completed_reverse_wait
    await runTest(async () => {
      const loop = getRunningLoop();
      const a = sleep(0.05, "a");
      const b = sleep(0.1, "b");
      const futs = [...asCompleted([a, b])];
      assert.equal(futs.length, 2);
      const x = await (futs[1] as PromiseLike<string>);
      assert.equal(x, "a");
      assert.equal(loop.time(), 0.05);
      const y = await (futs[0] as PromiseLike<string>);
      assert.equal(y, "b");
      assert.equal(loop.time(), 0.1);
    });
  });

  it("yields lazy coroutines from the plain iterator, which can be awaited concurrently", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_as_completed_concurrent
    await runTest(async () => {
      for (const form of ["iterator", "async iterator"]) {
        const aws = [sleep(0.05, "a"), sleep(0.05, "b")];
        const futs: PromiseLike<string>[] = [];
        if (form === "iterator") {
          for (const next of asCompleted(aws)) {
            assert.ok(isCoroutine(next), "a coroutine, as CPython's _wait_for_one()");
            futs.push(next);
          }
        } else {
          for await (const fut of asCompleted(aws)) futs.push(fut);
        }
        assert.equal(futs.length, 2);
        const { done } = await wait(futs.map((f) => ensureFuture(f as Coroutine<string>)));
        assert.deepEqual(new Set([...done].map((f) => f.result())), new Set(["a", "b"]));
      }
    });
  });

  it("yields the futures and tasks passed in, and the tasks made for coroutines and thunks", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_as_completed_same_tasks_in_as_out
    await runTest(async () => {
      const loop = getRunningLoop();
      const coro = coroutine(async function coro(x: string) {
        return x;
      });
      const coroA = coro("a");
      const taskB = createTask(() => coro("b"));
      const thunkC = (): PromiseLike<string> => coro("c");
      const taskD = createTask(() => coro("d"));
      const futE = loop.createFuture<string>();
      loop.callSoon(() => futE.setResult("e"));
      const promiseF = Promise.resolve("f");
      const inputs: Aw[] = [coroA, taskB, thunkC, taskD, futE, promiseF];
      const out = new Set<unknown>();
      for await (const fut of asCompleted(inputs)) out.add(fut);
      assert.equal(out.size, 6);
      // Coroutines are not yielded back: a finished coroutine cannot be awaited again.
      assert.equal(out.has(coroA), false);
      assert.equal(out.has(thunkC), false);
      assert.deepEqual(
        new Set(inputs.filter((x) => out.has(x))),
        new Set([taskB, taskD, futE, promiseF]),
        "only futures, tasks and promises are yielded as they were given",
      );
      const made = [...out].filter((x) => !inputs.includes(x as Aw)) as Task<string>[];
      assert.deepEqual(made.map((t) => t.result()).sort(), ["a", "c"]);
    });
  });

  it("needs a running loop to make tasks", () => {
    // CPython: test_tasks.py BaseTaskTests.test_as_completed_coroutine_without_loop
    const c = coroutine(async function coro() {
      return 42;
    })();
    assert.throws(() => asCompleted([c]), /no running event loop/);
    c.close();
  });

  it("uses the running loop for the tasks it makes", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_as_completed_coroutine_use_running_loop
    await runTest(async () => {
      const coro = coroutine(async function coro() {
        return 42;
      });
      const futs = [...asCompleted([coro()])];
      assert.equal(futs.length, 1);
      assert.equal(await futs[0], 42);
    });
  });

  it("refuses a single future or coroutine, and non-awaitables, synchronously", async () => {
    // CPython: test_tasks.py BaseTaskTests.test_as_completed_invalid_args
    await runTest(async () => {
      const fut = getRunningLoop().createFuture();
      assert.throws(() => asCompleted(fut as never), TypeError);
      const coro = coroutine(async function coro() {})();
      assert.throws(() => asCompleted(coro as never), TypeError);
      coro.close();
      assert.throws(() => asCompleted(42 as never), (e) => e instanceof TypeError && /`aws`/.test(e.message));
      assert.throws(() => asCompleted([fut, 42] as never), (e) => e instanceof TypeError && /element 1/.test(e.message));
      assert.throws(() => asCompleted([fut], 1 as never), (e) => e instanceof TypeError && /`options`/.test(e.message));
      assert.throws(
        () => asCompleted([fut], { timeout: "1" as never }),
        (e) => e instanceof TypeError && /`timeout`/.test(e.message),
      );
      assert.throws(() => asCompleted([fut], { timeout: Number.NaN }), RangeError);
    });
  });

  it("passes errors through as the outcome of their turn", async () => {
    await runTest(async () => {
      const boom = new RangeError("boom");
      const out: unknown[] = [];
      for (const next of asCompleted([() => sleep(0.2, "late"), async () => { await sleep(0.1); throw boom; }])) {
        try {
          out.push(await next);
        } catch (e) {
          out.push(e);
        }
      }
      assert.deepEqual(out, [boom, "late"]);
    });
  });

  it("keeps a result for the next await when the task waiting for it is cancelled", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      const [first, second] = [...asCompleted([fut, sleep(1, "later")])];
      const waiter = createTask(() => first as PromiseLike<string>);
      await sleep(0);
      waiter.cancel();
      fut.setResult("kept");
      const error = await waiter.then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(error instanceof CancelledError);
      assert.equal(await (second as PromiseLike<string>), "kept");
      assert.equal(loop.time(), 0);
    });
  });

  it("hands a result that arrived for a cancelled getter to the next getter", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      const it = asCompleted([fut, sleep(1, "later")])[Symbol.asyncIterator]();
      const waiter = createTask(() => it.next());
      await sleep(0);
      fut.setResult("kept");
      // Cancelled after the completion woke its turn (this iteration), before it resumed.
      loop.callSoon(() => waiter.cancel());
      await waiter.then(
        () => undefined,
        () => undefined,
      );
      const next = await it.next();
      assert.equal(next.done, false);
      assert.equal(next.value, fut);
      // As CPython's __anext__, the cancelled call used up its turn: the iteration is over.
      assert.equal((await it.next()).done, true);
    });
  });

  it("ends a cancelled `for await` turn with CancelledError and keeps its result for the next", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      const items = asCompleted([fut, sleep(1, "later")]);
      const iterating = createTask(async () => {
        for await (const done of items) return done;
        return null;
      });
      await sleep(0); // parked on its first turn
      iterating.cancel();
      await sleep(0);
      assert.equal(iterating.cancelled(), true);
      fut.setResult("kept");
      const seen: unknown[] = [];
      for await (const done of items) seen.push(done.result());
      // The cancelled turn was used up (CPython's __anext__); "kept" comes out of the next one.
      assert.deepEqual(seen, ["kept"]);
    });
  });

  it("hands a completion that woke a cancelled turn to the turn parked behind it", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      const [first, second] = [...asCompleted([fut, sleep(1, "later")])];
      const a = createTask(() => first as PromiseLike<string>);
      const b = createTask(() => second as PromiseLike<string>);
      await sleep(0); // both parked, a first
      fut.setResult("kept");
      // After the completion woke `a`'s turn (in this iteration), before `a` resumed (the next).
      loop.callSoon(() => a.cancel());
      assert.equal(await b, "kept");
      assert.equal(loop.time(), 0);
      assert.equal(a.cancelled(), true);
    });
  });

  it("does not lose a failure that woke a cancelled turn", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      const boom = new RangeError("boom");
      const [first, second] = [...asCompleted([fut, sleep(1, "later")])];
      const a = createTask(() => first as PromiseLike<string>);
      await sleep(0);
      fut.setException(boom);
      loop.callSoon(() => a.cancel()); // woken, then cancelled before it read the failure
      await a.then(
        () => undefined,
        () => undefined,
      );
      assert.equal(a.cancelled(), true);
      const error = await createTask(() => second as PromiseLike<string>).then(
        () => null,
        (e: unknown) => e,
      );
      assert.equal(error, boom);
      assert.equal(loop.time(), 0);
    });
  });

  it("times out a `for await` turn that is parked when the timeout passes, and every later turn", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const it = asCompleted([loop.createFuture(), loop.createFuture()], { timeout: 0.5 })[Symbol.asyncIterator]();
      await assert.rejects(it.next(), (e) => e instanceof TimeoutError && /2 awaitables not done/.test(e.message));
      await assert.rejects(it.next(), TimeoutError);
      assert.equal((await it.next()).done, true);
      assert.equal(loop.time(), 0.5);
    });
  });
});
