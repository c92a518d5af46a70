// The cancellation contract every waiting primitive keeps, run over each of them:
// - a waiter cancelled while parked leaves no trace (state back to what it was, the others keep
//   their turn);
// - a waiter woken and then cancelled before it ran passes its wake-up on (the lock, the
//   permit, the notification, the item, the free slot), so nothing is lost;
// - a cancelled waiter never absorbs a later wake-up.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Barrier,
  BoundedSemaphore,
  CancelledError,
  CapacityLimiter,
  Condition,
  Event,
  Lock,
  Queue,
  RateLimiter,
  Semaphore,
  type Task,
  createTask,
  getRunningLoop,
  sleep,
} from "../../src/index.js";
import { TestLoop, runTest } from "../../src/testing.js";
import { errorOf, ticks } from "../locks/support.js";

/** A primitive set up so that `wait()` blocks. */
interface Fixture {
  /** Blocks until this waiter gets a wake-up (it keeps what it got). */
  wait(): PromiseLike<unknown>;
  /** Gives one wake-up (for broadcast primitives, to everyone); `null`: none exists alone. */
  wake: (() => void | PromiseLike<void>) | null;
  /** The primitive's printed state. */
  state(): string;
}

interface Subject {
  readonly name: string;
  /** Whether one wake-up reaches exactly one waiter (false for Event, join, Barrier). */
  readonly single: boolean;
  make(): Promise<Fixture>;
}

const SUBJECTS: Subject[] = [
  {
    name: "Lock.acquire",
    single: true,
    async make() {
      const lock = new Lock();
      await lock.acquire();
      return { wait: () => lock.acquire(), wake: () => lock.release(), state: () => String(lock) };
    },
  },
  {
    name: "Semaphore.acquire",
    single: true,
    async make() {
      const sem = new Semaphore(0);
      return { wait: () => sem.acquire(), wake: () => sem.release(), state: () => String(sem) };
    },
  },
  {
    name: "BoundedSemaphore.acquire",
    single: true,
    async make() {
      const sem = new BoundedSemaphore(2);
      await sem.acquire();
      await sem.acquire();
      return { wait: () => sem.acquire(), wake: () => sem.release(), state: () => String(sem) };
    },
  },
  {
    name: "CapacityLimiter.acquire",
    single: true,
    async make() {
      const limiter = new CapacityLimiter(1);
      await limiter.acquire();
      return { wait: () => limiter.acquire(), wake: () => limiter.release(), state: () => String(limiter) };
    },
  },
  {
    name: "CapacityLimiter.acquireOnBehalfOf",
    single: true,
    async make() {
      const limiter = new CapacityLimiter(1);
      await limiter.acquireOnBehalfOf("holder");
      let borrower = 0;
      return {
        wait: () => limiter.acquireOnBehalfOf(borrower++),
        wake: () => {
          limiter.totalTokens++;
        },
        state: () => String(limiter),
      };
    },
  },
  {
    name: "RateLimiter.acquire",
    single: true,
    async make() {
      const limiter = new RateLimiter({ rate: 1, per: 3600 });
      await limiter.acquire();
      // A slot leaves the window an hour after it was taken: move the virtual clock.
      // (The timer runs in the next iteration, one later than a release() would wake.)
      const wake = async (): Promise<void> => {
        (getRunningLoop() as TestLoop).advance(3600);
        await sleep(0);
      };
      return { wait: () => limiter.acquire(), wake, state: () => String(limiter) };
    },
  },
  {
    name: "Condition.wait",
    single: true,
    async make() {
      const cond = new Condition();
      return {
        wait: () => cond.withLock(() => cond.wait()),
        wake: () => cond.withLock(() => cond.notify(1)),
        state: () => String(cond),
      };
    },
  },
  {
    name: "Event.wait",
    single: false,
    async make() {
      const ev = new Event();
      return { wait: () => ev.wait(), wake: () => ev.set(), state: () => String(ev) };
    },
  },
  {
    name: "Queue.get",
    single: true,
    async make() {
      const q = new Queue<number>();
      let n = 0;
      return { wait: () => q.get(), wake: () => q.putNowait(n++), state: () => String(q) };
    },
  },
  {
    name: "Queue.put",
    single: true,
    async make() {
      const q = new Queue<number>(1);
      q.putNowait(-1);
      let n = 0;
      return {
        wait: () => q.put(n++),
        wake: () => {
          q.getNowait();
        },
        state: () => String(q),
      };
    },
  },
  {
    name: "Queue.join",
    single: false,
    async make() {
      const q = new Queue<number>();
      q.putNowait(1);
      return {
        wait: () => q.join(),
        wake: () => {
          q.getNowait();
          q.taskDone();
        },
        state: () => String(q),
      };
    },
  },
  {
    name: "Barrier.wait",
    single: false,
    async make() {
      const barrier = new Barrier(4);
      return { wait: () => barrier.wait(), wake: null, state: () => String(barrier) };
    },
  },
];

function start(fixture: Fixture, n: number): Task<unknown>[] {
  return Array.from({ length: n }, () => createTask(() => fixture.wait()));
}

async function assertCancelled(task: Task<unknown>): Promise<void> {
  assert.ok((await errorOf(task)) instanceof CancelledError, `${task} ended cancelled`);
  assert.equal(task.cancelled(), true);
}

for (const subject of SUBJECTS) {
  describe(`${subject.name} (cancellation contract)`, () => {
    it("leaves no trace when its waiting tasks are cancelled", async () => {
      await runTest(async () => {
        const fixture = await subject.make();
        const before = fixture.state();
        const waiters = start(fixture, 2);
        await ticks();
        for (const w of waiters) assert.equal(w.done(), false, "the tasks are waiting");
        for (const w of waiters) w.cancel();
        for (const w of waiters) await assertCancelled(w);
        await ticks();
        assert.equal(fixture.state(), before);
      });
    });

    if (subject.name !== "Barrier.wait") {
      it("still wakes the other waiters, in order, when one of them is cancelled", async () => {
        await runTest(async () => {
          const fixture = await subject.make();
          const [a, b, c] = start(fixture, 3) as [Task<unknown>, Task<unknown>, Task<unknown>];
          await ticks();
          b.cancel();
          await assertCancelled(b);
          await fixture.wake?.();
          await ticks(2);
          assert.equal(a.done(), true, "the first waiter got the first wake-up");
          if (subject.single) {
            assert.equal(c.done(), false, "one wake-up, one waiter");
            await fixture.wake?.();
            await ticks(2);
          }
          assert.equal(c.done(), true);
          assert.equal(a.cancelled() || c.cancelled(), false);
        });
      });
    }

    if (subject.single) {
      it("passes the wake-up on when the woken waiter is cancelled before it runs", async () => {
        await runTest(async () => {
          const fixture = await subject.make();
          const [a, b, c] = start(fixture, 3) as [Task<unknown>, Task<unknown>, Task<unknown>];
          await ticks();
          await fixture.wake?.(); // wakes a...
          a.cancel(); // ...which is cancelled before it runs
          await assertCancelled(a);
          await ticks(2);
          assert.equal(b.done(), true, "b got the wake-up a lost");
          assert.equal(b.cancelled(), false);
          assert.equal(c.done(), false, "and nobody else did");
          c.cancel();
          await assertCancelled(c);
        });
      });

      it("never lets a cancelled waiter absorb a later wake-up", async () => {
        await runTest(async () => {
          const fixture = await subject.make();
          const [a, b] = start(fixture, 2) as [Task<unknown>, Task<unknown>];
          await ticks();
          a.cancel();
          await ticks();
          await fixture.wake?.();
          await ticks(2);
          await assertCancelled(a);
          assert.equal(b.done(), true);
          assert.equal(b.cancelled(), false);
        });
      });
    }
  });
}
