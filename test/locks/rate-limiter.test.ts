// RateLimiter: a sliding window, never more than `rate` acquisitions in any `per` seconds;
// FIFO, and cancellation-safe on the shared waiter queue. Everything runs on the virtual clock
// (`runTest`), so the times below are exact.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import {
  CancelledError,
  RateLimiter,
  TimeoutError,
  createTask,
  gather,
  getRunningLoop,
  sleep,
  taskGroup,
  waitFor,
} from "../../src/index.js";
import { runTest, waitAllTasksBlocked } from "../../src/testing.js";
import { errorOf, ticks } from "./support.js";

/** The loop time now. */
function now(): number {
  return getRunningLoop().time();
}

/** Whether no `per`-second window (half-open) of `times` holds more than `rate` of them. */
function withinRate(times: number[], rate: number, per: number): boolean {
  const sorted = [...times].sort((a, b) => a - b);
  for (let i = 0; i + rate < sorted.length; i++) {
    if ((sorted[i + rate] as number) - (sorted[i] as number) < per) return false;
  }
  return true;
}

describe("RateLimiter", () => {
  it("refuses a missing or bad rate or per, and unknown options", () => {
    assert.throws(() => new RateLimiter(undefined as never), { name: "TypeError", message: /must be given/ });
    assert.throws(() => new RateLimiter({ per: 1 } as never), { name: "TypeError", message: /`rate` must be an integer, got undefined/ });
    assert.throws(() => new RateLimiter({ rate: 0, per: 1 }), { name: "RangeError", message: "`rate` must be >= 1, got 0" });
    assert.throws(() => new RateLimiter({ rate: 1.5, per: 1 }), { name: "TypeError" });
    assert.throws(() => new RateLimiter({ rate: 1 } as never), { name: "TypeError", message: /`per` must be a number of seconds, got undefined/ });
    for (const per of [0, -1, Infinity, Number.NaN]) {
      assert.throws(() => new RateLimiter({ rate: 1, per }), { name: "RangeError", message: /`per` must be a finite number of seconds > 0/ });
    }
    assert.throws(() => new RateLimiter({ rate: 1, per: 1, burst: 2 } as never), { name: "TypeError", message: /unknown option `burst`/ });
    const limiter = new RateLimiter({ rate: 5, per: 0.5 });
    assert.equal(limiter.rate, 5);
    assert.equal(limiter.per, 0.5);
    assert.equal(limiter.locked(), false);
  });

  it("lets rate acquisitions through at once, then one more each time a slot leaves the window", async () => {
    await runTest(async () => {
      const limiter = new RateLimiter({ rate: 3, per: 1 });
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        await limiter.acquire();
        times.push(now());
      }
      assert.deepEqual(times, [0, 0, 0, 1, 1, 1, 2]);
    });
  });

  it("is a sliding window, not a bucket refilled once per period", async () => {
    await runTest(async () => {
      const limiter = new RateLimiter({ rate: 3, per: 1 });
      const times: number[] = [];
      for (const gap of [0, 0.5, 0.4, 0, 0, 0]) {
        await sleep(gap);
        await limiter.acquire();
        times.push(now());
      }
      // The 4th waits for the slot of 0, the 5th for the one of 0.5, the 6th for the one of 0.9.
      assert.deepEqual(times, [0, 0.5, 0.9, 1, 1.5, 1.9]);
    });
  });

  it("never lets more than rate through in any window, whatever the arrivals", async () => {
    await runTest(async () => {
      const rate = 4;
      const per = 0.75;
      const limiter = new RateLimiter({ rate, per });
      const times: number[] = [];
      let seed = 7;
      const random = (): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed / 2147483648;
      };
      await taskGroup(async (tg) => {
        for (let i = 0; i < 60; i++) {
          const start = Math.floor(random() * 40) / 8; // arrivals over 5 s, many at the same time
          tg.createTask(async () => {
            await sleep(start);
            await limiter.acquire();
            times.push(now());
          });
        }
      });
      assert.equal(times.length, 60);
      assert.ok(withinRate(times, rate, per), `too many in a window: ${times.join(", ")}`);
      assert.equal(withinRate([0, 0.1, 0.2, 0.3, 0.5], rate, per), false, "the check can fail");
    });
  });

  it("serves waiters in FIFO order, and newcomers queue behind them", async () => {
    await runTest(async () => {
      const limiter = new RateLimiter({ rate: 1, per: 1 });
      await limiter.acquire();
      const order: string[] = [];
      const waiter = (name: string) =>
        createTask(async () => {
          await limiter.acquire();
          order.push(`${name}@${now()}`);
        });
      const tasks = [waiter("a"), waiter("b")];
      await waitAllTasksBlocked();
      assert.equal(limiter.locked(), true);
      assert.equal(String(limiter), "<RateLimiter rate=1 per=1 [used:1, waiters:2]>");
      await sleep(1.5);
      tasks.push(waiter("c")); // the window has room only at 2, and b asked first
      await gather(...tasks);
      assert.deepEqual(order, ["a@1", "b@2", "c@3"]);
    });
  });

  it("uses no slot for a waiter cancelled while it waits", async () => {
    await runTest(async () => {
      const limiter = new RateLimiter({ rate: 2, per: 1 });
      await limiter.acquire();
      await limiter.acquire();
      const a = createTask(() => limiter.acquire());
      const b = createTask(() => limiter.acquire());
      await ticks();
      a.cancel();
      assert.ok((await errorOf(a)) instanceof CancelledError);
      await b;
      assert.equal(now(), 1);
      await limiter.acquire(); // the slot a would have taken at 1 is free
      assert.equal(now(), 1);
      assert.equal(inspect(limiter), "<RateLimiter rate=2 per=1 [used:2]>");
    });
  });

  it("passes the slot of a waiter woken and cancelled before it resumed to the next one", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const limiter = new RateLimiter({ rate: 1, per: 1 });
      await limiter.acquire();
      const a = createTask(() => limiter.acquire());
      const b = createTask(() => limiter.acquire());
      await ticks();
      // Set after a parked, so it fires after the limiter's timer that wakes a at 1.
      loop.callAt(1, () => a.cancel());
      assert.ok((await errorOf(a)) instanceof CancelledError);
      await b;
      assert.equal(now(), 1, "b got the slot a lost, at once");
      assert.equal(String(limiter), "<RateLimiter rate=1 per=1 [used:1]>");
    });
  });

  it("hold() takes a slot, and its handle gives nothing back", async () => {
    await runTest(async () => {
      const limiter = new RateLimiter({ rate: 1, per: 1 });
      {
        await using held = await limiter.hold();
        assert.equal(String(held), "<Held RateLimiter holding>");
      }
      assert.equal(limiter.locked(), true, "the slot stays used after the block");
      await limiter.hold();
      assert.equal(now(), 1);
    });
  });

  it("uses no slot for a hold() that times out as the slot is handed to it", async () => {
    await runTest(async () => {
      const limiter = new RateLimiter({ rate: 1, per: 1 });
      await limiter.acquire();
      // The limiter's timer (set by hold) and the deadline (set after) both fire at 1.
      const error = await errorOf(waitFor(limiter.hold(), 1));
      assert.ok(error instanceof TimeoutError);
      assert.equal(now(), 1);
      await limiter.acquire();
      assert.equal(now(), 1, "the slot the hold was given is free again");
    });
  });

  it("is cancellation-safe at each moment: a task cancelled while waiting takes no slot", async () => {
    // Three tasks each acquire twice (rate 2 per 1): at 0, 0, 1, 1, 2, 2 without cancels. The
    // first is cancelled at each of these moments; whatever was admitted, never more than 2
    // per second, and every acquisition a cancelled task did not get goes to someone else.
    for (const at of [0, 0.5, 1, 1.5, 2]) {
      await runTest(async () => {
        const loop = getRunningLoop();
        const limiter = new RateLimiter({ rate: 2, per: 1 });
        const times: number[] = [];
        const worker = () =>
          createTask(async () => {
            for (let i = 0; i < 2; i++) {
              await limiter.acquire();
              times.push(now());
            }
          });
        const [first, ...rest] = [worker(), worker(), worker()];
        loop.callAt(at, () => first?.cancel());
        await gather(...rest);
        await first?.then(undefined, () => undefined);
        assert.ok(withinRate(times, 2, 1), `cancelled at ${at}: ${times.join(", ")}`);
        const done = times.length;
        const expected = [0, 0, 1, 1, 2, 2].slice(0, done);
        assert.deepEqual(times, expected, `cancelled at ${at}: no slot went unused`);
      });
    }
  });

  it("starts a fresh window on another loop (another run of the program)", async () => {
    const limiter = new RateLimiter({ rate: 1, per: 10 });
    await runTest(async () => {
      await limiter.acquire();
    });
    await runTest(async () => {
      await limiter.acquire();
      assert.equal(now(), 0);
    });
  });
});
