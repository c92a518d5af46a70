// retry(fn, { attempts, backoff, retryOn }): attempts, backoff and jitter on the virtual clock,
// the final RetryError, and cancellation, which is never retried (the intent of p-retry's and
// tenacity's tests, in asyncio's terms).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  RetryError,
  TimeoutError,
  createTask,
  currentTask,
  getRunningLoop,
  retry,
  sleep,
  timeout,
} from "../src/index.js";
import { runTest } from "../src/testing.js";
import { caught } from "./support/errors.js";

/** A function that fails `failures` times (recording when it was called), then returns "ok". */
function flaky(failures: number): { fn: (attempt: number) => Promise<string>; calls: number[]; attempts: number[] } {
  const calls: number[] = [];
  const attempts: number[] = [];
  let n = 0;
  return {
    calls,
    attempts,
    fn: async (attempt) => {
      calls.push(getRunningLoop().time());
      attempts.push(attempt);
      n++;
      if (n <= failures) throw new Error(`failure ${n}`);
      return "ok";
    },
  };
}

describe("retry()", () => {
  it("returns the first success without waiting", async () => {
    await runTest(async () => {
      const { fn, calls, attempts } = flaky(0);
      assert.equal(await retry(fn, { attempts: 3, backoff: { initial: 1 } }), "ok");
      assert.deepEqual(calls, [0]);
      assert.deepEqual(attempts, [1]);
    });
  });

  it("tries again after each failure, the waits growing by factor (default 2)", async () => {
    await runTest(async () => {
      const { fn, calls, attempts } = flaky(3);
      assert.equal(await retry(fn, { attempts: 4, backoff: { initial: 1 } }), "ok");
      assert.deepEqual(calls, [0, 1, 3, 7]);
      assert.deepEqual(attempts, [1, 2, 3, 4]);
    });
  });

  it("caps each wait at max", async () => {
    await runTest(async () => {
      const { fn, calls } = flaky(4);
      await retry(fn, { attempts: 5, backoff: { initial: 1, factor: 10, max: 5 } });
      assert.deepEqual(calls, [0, 1, 6, 11, 16]);
      const constant = flaky(2);
      await retry(constant.fn, { attempts: 3, backoff: { initial: 0.5, factor: 1 } });
      assert.deepEqual(constant.calls, [16, 16.5, 17]);
    });
  });

  it("rejects with a RetryError of every attempt's error when the attempts run out", async () => {
    await runTest(async () => {
      const { fn, calls } = flaky(10);
      const error = await caught(() => retry(fn, { attempts: 3, backoff: { initial: 1 } }));
      assert.ok(error instanceof RetryError);
      assert.ok(error instanceof AggregateError);
      assert.equal(error.name, "RetryError");
      assert.equal(error.attempts, 3);
      assert.deepEqual(
        error.errors.map((e) => (e as Error).message),
        ["failure 1", "failure 2", "failure 3"],
      );
      assert.equal(error.cause, error.errors[2]);
      assert.equal(error.message, "all 3 attempts failed; the last with Error: failure 3");
      assert.deepEqual(calls, [0, 1, 3], "no wait after the last attempt");
      assert.equal(getRunningLoop().time(), 3);

      const once = await caught(() => retry(flaky(1).fn, { attempts: 1, backoff: { initial: 1 } }));
      assert.ok(once instanceof RetryError);
      assert.equal(once.message, "the only attempt failed; the last with Error: failure 1");
    });
  });

  it("lets an error that retryOn refuses propagate at once, as it is", async () => {
    await runTest(async () => {
      class NotFound extends Error {}
      const seen: [string, number][] = [];
      let n = 0;
      const notFound = new NotFound("gone");
      const error = await caught(() =>
        retry(
          async () => {
            n++;
            throw n === 1 ? new Error("flaky") : notFound;
          },
          {
            attempts: 5,
            backoff: { initial: 1 },
            retryOn: (e, attempt) => {
              seen.push([(e as Error).message, attempt]);
              return !(e instanceof NotFound);
            },
          },
        ),
      );
      assert.equal(error, notFound);
      assert.deepEqual(seen, [["flaky", 1], ["gone", 2]]);
    });
  });

  it("retries a TimeoutError of a timeout() inside fn like any error", async () => {
    await runTest(async () => {
      let n = 0;
      const result = await retry(
        () =>
          timeout(1, async () => {
            n++;
            await sleep(n < 3 ? 10 : 0.5);
            return `attempt ${n}`;
          }),
        { attempts: 3, backoff: { initial: 0.25 } },
      );
      assert.equal(result, "attempt 3");
      assert.equal(getRunningLoop().time(), 1 + 0.25 + 1 + 0.5 + 0.5);
      assert.equal(currentTask()?.cancelling(), 0);
    });
  });

  it("takes up to jitter of each wait off at random", async (t) => {
    await runTest(async () => {
      const random = t.mock.method(Math, "random", () => 0.5);
      const { fn, calls } = flaky(2);
      await retry(fn, { attempts: 3, backoff: { initial: 2, jitter: 0.5 } });
      // 2 × (1 − 0.5 × 0.5) = 1.5, then 4 × 0.75 = 3.
      assert.deepEqual(calls, [0, 1.5, 4.5]);
      assert.equal(random.mock.callCount(), 2);
      random.mock.mockImplementation(() => 0);
      const full = flaky(1);
      await retry(full.fn, { attempts: 2, backoff: { initial: 2, jitter: 1 } });
      assert.deepEqual(full.calls, [4.5, 6.5], "random() 0: the whole wait");
    });
  });

  it("refuses bad arguments synchronously, naming them", async () => {
    await runTest(async () => {
      const fn = async (): Promise<number> => 1;
      const bad: [unknown, RegExp][] = [
        [undefined, /must be given/],
        [{ backoff: { initial: 1 } }, /`attempts` must be an integer/],
        [{ attempts: 0, backoff: { initial: 1 } }, /`attempts` must be >= 1/],
        [{ attempts: 2 }, /`backoff` must be an options object/],
        [{ attempts: 2, backoff: {} }, /`backoff.initial` must be a number of seconds/],
        [{ attempts: 2, backoff: { initial: -1 } }, /`backoff.initial` must be a finite number of seconds >= 0/],
        [{ attempts: 2, backoff: { initial: 1, max: -1 } }, /`backoff.max`/],
        [{ attempts: 2, backoff: { initial: 1, factor: 0.5 } }, /`backoff.factor` must be a finite number >= 1/],
        [{ attempts: 2, backoff: { initial: 1, jitter: 2 } }, /`backoff.jitter` must be a fraction from 0 to 1/],
        [{ attempts: 2, backoff: { initial: 1 }, retryOn: true }, /`retryOn` must be a function/],
        [{ attempts: 2, backoff: { initial: 1 }, retries: 3 }, /retry\(\) got unknown option `retries`/],
        [{ attempts: 2, backoff: { initial: 1, min: 1 } }, /retry\(\) `backoff` got unknown option `min`/],
      ];
      for (const [options, message] of bad) {
        assert.throws(() => retry(fn, options as never), (e) => (e instanceof TypeError || e instanceof RangeError) && message.test(e.message), String(message));
      }
      assert.throws(() => retry(5 as never, { attempts: 1, backoff: { initial: 0 } }), (e) => e instanceof TypeError && /`fn`/.test(e.message));
    });
  });
});

describe("retry() and cancellation", () => {
  it("never retries a CancelledError, even when retryOn would", async () => {
    await runTest(async () => {
      let calls = 0;
      const error = await caught(() =>
        retry(
          async () => {
            calls++;
            const inner = createTask(() => sleep(10));
            inner.cancel();
            await inner; // a CancelledError that does not cancel this task
          },
          { attempts: 3, backoff: { initial: 1 }, retryOn: () => true },
        ),
      );
      assert.ok(error instanceof CancelledError);
      assert.equal(calls, 1);
    });
  });

  it("does not retry an error that ends an attempt while the task is being cancelled", async () => {
    await runTest(async () => {
      let calls = 0;
      const task = createTask(() =>
        retry(
          async () => {
            calls++;
            try {
              await sleep(10);
            } catch {
              throw new Error("turned the cancel into this");
            }
          },
          { attempts: 3, backoff: { initial: 1 } },
        ),
      );
      await sleep(1);
      task.cancel();
      const error = await caught(() => task);
      assert.equal((error as Error).message, "turned the cancel into this");
      assert.equal(calls, 1);
    });
  });

  // Attempts at 0 (2 s long, failing), a wait of 1 s, attempt 2 at 3 (2 s, failing), a wait of
  // 2 s, attempt 3 at 7 (succeeds at 9; a cancel at 9 comes first: its timer was set first).
  // A cancel at any moment until then ends it with CancelledError, and no attempt starts after
  // the cancel.
  for (const at of [0, 1, 2, 2.5, 3, 4, 5, 6, 7, 8, 9, 10]) {
    it(`is cancelled at once wherever the cancel finds it (at ${at})`, async () => {
      await runTest(async () => {
        const loop = getRunningLoop();
        const starts: number[] = [];
        let cleanups = 0;
        const task = createTask(() =>
          retry(
            async (attempt) => {
              starts.push(loop.time());
              try {
                await sleep(2);
              } finally {
                cleanups++;
              }
              if (attempt < 3) throw new Error(`attempt ${attempt} failed`);
              return "ok";
            },
            { attempts: 3, backoff: { initial: 1 } },
          ),
        );
        loop.callAt(at, () => task.cancel());
        const outcome = await task.then(
          (value) => value,
          (e: unknown) => (e instanceof CancelledError ? "cancelled" : String(e)),
        );
        if (at > 9) {
          assert.equal(outcome, "ok");
          assert.deepEqual(starts, [0, 3, 7]);
        } else {
          assert.equal(outcome, "cancelled");
          assert.equal(loop.time(), at);
          assert.ok(starts.every((s) => s <= at), `no attempt after the cancel: ${starts.join(", ")}`);
          assert.equal(cleanups, starts.length, "every attempt's finally ran");
        }
      });
    });
  }

  it("stops when an enclosing timeout expires during a wait, with TimeoutError", async () => {
    await runTest(async () => {
      const { fn, calls } = flaky(10);
      const error = await caught(() => timeout(2.5, () => retry(fn, { attempts: 10, backoff: { initial: 1 } })));
      assert.ok(error instanceof TimeoutError);
      assert.deepEqual(calls, [0, 1]);
      assert.equal(getRunningLoop().time(), 2.5);
    });
  });
});
