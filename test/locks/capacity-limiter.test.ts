// CapacityLimiter: Trio's (and AnyIO's) limiter with named borrowers. The cases port the intent
// of Trio's test_sync.py (test_CapacityLimiter, _inf, _change_total_tokens, _memleak_548,
// _zero_limit_tokens) and of AnyIO's test_synchronization.py TestCapacityLimiter, with one
// planned difference: the default borrower is one per acquisition, not the task.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import {
  CancelledError,
  CapacityLimiter,
  RuntimeError,
  TimeoutError,
  createTask,
  currentTask,
  gather,
  getRunningLoop,
  sleep,
  taskGroup,
  waitFor,
} from "../../src/index.js";
import { runTest, waitAllTasksBlocked } from "../../src/testing.js";
import { errorOf, ticks } from "./support.js";

describe("CapacityLimiter", () => {
  it("checks its number of tokens: an integer >= 0, or Infinity", () => {
    // Trio: test_sync.py test_CapacityLimiter, test_CapacityLimiter_inf
    assert.equal(new CapacityLimiter(0).totalTokens, 0);
    assert.equal(new CapacityLimiter(Infinity).availableTokens, Infinity);
    assert.throws(() => new CapacityLimiter(1.5), { name: "TypeError", message: /`totalTokens` must be an integer or Infinity, got 1.5/ });
    assert.throws(() => new CapacityLimiter("2" as never), { name: "TypeError" });
    assert.throws(() => new CapacityLimiter(-1), { name: "RangeError", message: "`totalTokens` must be >= 0, got -1" });
    const limiter = new CapacityLimiter(2);
    assert.throws(() => (limiter.totalTokens = 1.5), { name: "TypeError" });
    assert.throws(() => (limiter.totalTokens = -10), { name: "RangeError" });
    assert.equal(limiter.totalTokens, 2);
  });

  it("counts borrowed and available tokens, and names the borrower that asks twice", async () => {
    // Trio: test_sync.py test_CapacityLimiter
    await runTest(async () => {
      const c = new CapacityLimiter(2);
      assert.equal(c.totalTokens, 2);
      assert.equal(c.borrowedTokens, 0);
      assert.equal(c.availableTokens, 2);
      assert.throws(() => c.release(), RuntimeError);
      assert.equal(c.borrowedTokens, 0);

      assert.equal(await c.acquire(), true);
      assert.equal(c.borrowedTokens, 1);
      assert.equal(c.availableTokens, 1);

      const me = currentTask();
      await c.acquireOnBehalfOf(me);
      assert.equal(c.borrowedTokens, 2);
      assert.equal(c.locked(), true);
      assert.throws(
        () => c.acquireOnBehalfOf(me),
        (e) => e instanceof RuntimeError && /is already holding one of the tokens of <CapacityLimiter \[borrowed:2\/2\]>/.test(e.message),
      );
      assert.equal(c.borrowedTokens, 2);
      assert.throws(() => c.releaseOnBehalfOf("someone else"), (e) => e instanceof RuntimeError && /"someone else" holds none/.test(e.message));

      c.releaseOnBehalfOf(me);
      assert.throws(() => c.releaseOnBehalfOf(me), RuntimeError);
      c.release();
      assert.equal(c.borrowedTokens, 0);
      assert.throws(() => c.acquireOnBehalfOf(undefined), TypeError);
    });
  });

  it("refuses a borrower that is already waiting for a token, and forgets it once cancelled", async () => {
    // Trio: test_sync.py test_CapacityLimiter_memleak_548 (a cancelled waiter leaves nothing)
    await runTest(async () => {
      const c = new CapacityLimiter(1);
      await c.acquire();
      const waiting = createTask(() => c.acquireOnBehalfOf("job"));
      await ticks();
      assert.throws(() => c.acquireOnBehalfOf("job"), (e) => e instanceof RuntimeError && /is already waiting for/.test(e.message));
      waiting.cancel();
      assert.ok((await errorOf(waiting)) instanceof CancelledError);
      const again = createTask(() => c.acquireOnBehalfOf("job"));
      await ticks();
      c.release();
      await again;
      assert.equal(c.borrowedTokens, 1);
      c.releaseOnBehalfOf("job");
      assert.equal(String(c), "<CapacityLimiter [borrowed:0/1]>");
    });
  });

  it("gives each acquire() its own borrower: branches of one task each hold a token", async () => {
    await runTest(async () => {
      const c = new CapacityLimiter(2);
      const order: string[] = [];
      const branch = async (name: string): Promise<void> => {
        await c.acquire();
        order.push(`${name} in at ${getRunningLoop().time()}`);
        await sleep(1);
        c.release();
      };
      await Promise.all([branch("a"), branch("b"), branch("c")]);
      assert.deepEqual(order, ["a in at 0", "b in at 0", "c in at 1"]);
      assert.equal(c.borrowedTokens, 0);
    });
  });

  it("holds a token for a hold() block and for withLock()", async () => {
    await runTest(async () => {
      const c = new CapacityLimiter(1);
      {
        await using held = await c.hold();
        assert.equal(c.borrowedTokens, 1);
        assert.equal(String(held), "<Held CapacityLimiter holding>");
      }
      assert.equal(c.borrowedTokens, 0);
      assert.equal(await c.withLock(async () => c.borrowedTokens), 1);
      assert.equal(c.borrowedTokens, 0);
    });
  });

  it("is fair: a released token goes to the first waiter, and newcomers queue behind", async () => {
    // Trio: test_sync.py test_CapacityLimiter (fairness)
    await runTest(async () => {
      const c = new CapacityLimiter(2);
      await c.acquireOnBehalfOf("value 1");
      await c.acquireOnBehalfOf("value 2");
      const got: string[] = [];
      const waiters = ["value 3", "value 4", "value 5"].map((name) =>
        createTask(async () => {
          await c.acquireOnBehalfOf(name);
          got.push(name);
        }),
      );
      await waitAllTasksBlocked();
      assert.equal(String(c), "<CapacityLimiter [borrowed:2/2, waiters:3]>");
      c.releaseOnBehalfOf("value 2");
      assert.equal(c.borrowedTokens, 2, "handed over at once");
      assert.equal(c.locked(), true, "a newcomer must queue");
      const newcomer = createTask(async () => {
        await c.acquire();
        got.push("newcomer");
      });
      c.releaseOnBehalfOf("value 1");
      await waitAllTasksBlocked();
      assert.deepEqual(got, ["value 3", "value 4"]);
      c.releaseOnBehalfOf("value 3");
      c.releaseOnBehalfOf("value 4");
      await gather(...waiters, newcomer);
      assert.deepEqual(got, ["value 3", "value 4", "value 5", "newcomer"]);
    });
  });

  it("lets waiters in when totalTokens grows, and takes nothing back when it shrinks", async () => {
    // Trio: test_sync.py test_CapacityLimiter_change_total_tokens
    await runTest(async () => {
      const c = new CapacityLimiter(2);
      const holding = new Set<number>();
      await taskGroup(async (tg) => {
        for (let i = 0; i < 5; i++) {
          tg.createTask(async () => {
            await c.acquireOnBehalfOf(i);
            holding.add(i);
          });
          await waitAllTasksBlocked();
        }
        assert.deepEqual([...holding], [0, 1]);
        c.totalTokens += 2;
        await waitAllTasksBlocked();
        assert.deepEqual([...holding].sort(), [0, 1, 2, 3]);
        c.totalTokens -= 3;
        assert.equal(c.borrowedTokens, 4);
        assert.equal(c.totalTokens, 1);
        assert.equal(c.availableTokens, 0);
        for (const i of [0, 1, 2]) {
          c.releaseOnBehalfOf(i);
          holding.delete(i);
        }
        await waitAllTasksBlocked();
        assert.deepEqual([...holding], [3], "still one token too many borrowed");
        c.releaseOnBehalfOf(3);
        holding.delete(3);
        await waitAllTasksBlocked();
        assert.deepEqual([...holding], [4]);
      });
      c.releaseOnBehalfOf(4);
    });
  });

  it("lets nobody in with zero tokens until some are added", async () => {
    // Trio: test_sync.py test_CapacityLimiter_zero_limit_tokens
    await runTest(async () => {
      const c = new CapacityLimiter(5);
      c.totalTokens = 0;
      assert.equal(c.locked(), true);
      const holding = new Set<number>();
      await taskGroup(async (tg) => {
        for (let i = 0; i < 5; i++) {
          tg.createTask(async () => {
            await c.acquireOnBehalfOf(i);
            holding.add(i);
          });
        }
        await waitAllTasksBlocked();
        assert.equal(holding.size, 0);
        c.totalTokens = 5;
        await waitAllTasksBlocked();
        assert.deepEqual([...holding], [0, 1, 2, 3, 4]);
        for (let i = 0; i < 5; i++) c.releaseOnBehalfOf(i);
        c.totalTokens = 0;
        const late = tg.createTask(() => c.acquireOnBehalfOf(6));
        await waitAllTasksBlocked();
        assert.equal(late.done(), false);
        c.totalTokens = 1;
        await waitAllTasksBlocked();
        assert.equal(late.done(), true);
        c.releaseOnBehalfOf(6);
      });
      assert.equal(c.borrowedTokens, 0);
    });
  });

  it("takes a cancelled waiter out of the queue; a woken one that is cancelled passes its token on", async () => {
    await runTest(async () => {
      const c = new CapacityLimiter(1);
      await c.acquireOnBehalfOf("holder");
      const a = createTask(() => c.acquireOnBehalfOf("a"));
      const b = createTask(() => c.acquireOnBehalfOf("b"));
      const d = createTask(() => c.acquire());
      await ticks();
      c.releaseOnBehalfOf("holder"); // the token goes to a...
      a.cancel(); // ...which is cancelled before it resumes
      assert.ok((await errorOf(a)) instanceof CancelledError);
      await ticks(2);
      assert.equal(b.done(), true, "b got the token a lost");
      assert.throws(() => c.releaseOnBehalfOf("a"), RuntimeError, "a holds nothing");
      assert.equal(c.borrowedTokens, 1);
      d.cancel();
      assert.ok((await errorOf(d)) instanceof CancelledError);
      c.releaseOnBehalfOf("b");
      assert.equal(String(c), "<CapacityLimiter [borrowed:0/1]>");
    });
  });

  it("holds nothing when a hold() times out as the token is handed to it", async () => {
    await runTest(async () => {
      const c = new CapacityLimiter(1);
      await c.acquire();
      const loop = getRunningLoop();
      // The release and the deadline come in the same iteration: the hold raises, and holds nothing.
      loop.callAt(1, () => c.release());
      const error = await errorOf(waitFor(c.hold(), 1));
      assert.ok(error instanceof TimeoutError);
      await ticks();
      assert.equal(c.borrowedTokens, 0);
      assert.equal(inspect(c), "<CapacityLimiter [borrowed:0/1]>");
    });
  });
});
