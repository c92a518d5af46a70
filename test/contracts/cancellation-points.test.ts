// The library's own primitives under exploreCancellation: each scenario is run with a cancel at
// every suspension of every task in it (and of the main task), and after each run the
// primitive must be back to its resting state with nothing lost or duplicated. This is the
// cancellation contract of test/contracts/cancellation.test.ts, checked at every point where a
// cancel can land rather than at the points a test author thought of.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Condition,
  Lock,
  Queue,
  Semaphore,
  TimeoutError,
  isCancellation,
  sleep,
  taskGroup,
  timeout,
} from "../../src/index.js";
import { exploreCancellation } from "../../src/testing.js";

interface Scenario {
  name: string;
  /** The tasks to cancel, by name, besides the main task. */
  tasks: string[];
  /** A fresh test (it makes its own state) and the invariant to check after each run. */
  make(): { test: () => Promise<void>; check: () => void };
}

/** Counts how many tasks are inside a critical section at once. */
function occupancy(): { enter(): void; leave(): void; inside: number; most: number } {
  return {
    inside: 0,
    most: 0,
    enter() {
      this.inside++;
      this.most = Math.max(this.most, this.inside);
    },
    leave() {
      this.inside--;
    },
  };
}

/** Swallows the task's own cancellation, which a group child that was cancelled ends with. */
function ignoreCancel(error: unknown): void {
  if (!isCancellation(error)) throw error;
}

const SCENARIOS: Scenario[] = [
  {
    name: "Lock: three tasks take turns, by acquire/release, withLock and hold()",
    tasks: ["acquire", "withLock", "hold"],
    make() {
      let lock = new Lock();
      let room = occupancy();
      return {
        async test() {
          lock = new Lock();
          room = occupancy();
          const critical = async (): Promise<void> => {
            room.enter();
            try {
              await sleep(0.1);
            } finally {
              room.leave();
            }
          };
          await taskGroup(async (tg) => {
            tg.createTask(async () => {
              for (let i = 0; i < 2; i++) {
                await lock.acquire();
                try {
                  await critical();
                } finally {
                  lock.release();
                }
              }
            }, { name: "acquire" });
            tg.createTask(async () => {
              for (let i = 0; i < 2; i++) await lock.withLock(critical);
            }, { name: "withLock" });
            tg.createTask(async () => {
              for (let i = 0; i < 2; i++) {
                await using _held = await lock.hold();
                await critical();
              }
            }, { name: "hold" });
          });
        },
        check() {
          assert.equal(lock.locked(), false, `the lock is left ${String(lock)}`);
          assert.equal(room.inside, 0);
          assert.ok(room.most <= 1, "two tasks held the lock at once");
        },
      };
    },
  },
  {
    name: "Semaphore(2): four tasks",
    tasks: ["w0", "w1", "w2", "w3"],
    make() {
      let sem = new Semaphore(2);
      let room = occupancy();
      return {
        async test() {
          sem = new Semaphore(2);
          room = occupancy();
          await taskGroup(async (tg) => {
            for (let w = 0; w < 4; w++) {
              tg.createTask(async () => {
                await sem.withLock(async () => {
                  room.enter();
                  try {
                    await sleep(0.1);
                  } finally {
                    room.leave();
                  }
                });
              }, { name: `w${w}` });
            }
          });
        },
        check() {
          assert.equal(String(sem), "<Semaphore [unlocked, value:2]>");
          assert.ok(room.most <= 2, "three tasks held two permits");
        },
      };
    },
  },
  {
    name: "Condition: consumers waitFor items a producer adds under the lock",
    tasks: ["producer", "c0", "c1"],
    make() {
      let cond = new Condition();
      let items: number[] = [];
      let taken: number[] = [];
      let added: number[] = [];
      return {
        async test() {
          cond = new Condition();
          items = [];
          taken = [];
          added = [];
          await taskGroup(async (tg) => {
            for (const name of ["c0", "c1"]) {
              tg.createTask(async () => {
                for (;;) {
                  const item = await cond.withLock(async () => {
                    await cond.waitFor(() => items.length > 0);
                    return items.shift() as number;
                  });
                  if (item < 0) return;
                  taken.push(item);
                }
              }, { name });
            }
            tg.createTask(async () => {
              try {
                for (let i = 1; i <= 4; i++) {
                  await sleep(0.1);
                  await cond.withLock(() => {
                    items.push(i);
                    added.push(i);
                    cond.notify();
                  });
                }
              } finally {
                // Two stop marks, whatever happened: the consumers end.
                items.push(-1, -1);
                if (!cond.locked()) {
                  await cond.acquire();
                  cond.notifyAll();
                  cond.release();
                }
              }
            }, { name: "producer" }).then(undefined, ignoreCancel);
          });
        },
        check() {
          assert.equal(cond.locked(), false, "the condition's lock is left held");
          const left = items.filter((i) => i >= 0);
          assert.deepEqual([...taken, ...left].sort(), added, "an item was lost or taken twice");
        },
      };
    },
  },
  {
    name: "Queue(1): a producer and two consumers",
    tasks: ["producer", "c0", "c1"],
    make() {
      let put: number[] = [];
      let got: number[] = [];
      let left: number[] = [];
      return {
        async test() {
          const queue = new Queue<number>(1);
          put = [];
          got = [];
          left = [];
          try {
            await taskGroup(async (tg) => {
              tg.createTask(async () => {
                try {
                  for (let i = 1; i <= 4; i++) {
                    await queue.put(i);
                    put.push(i);
                  }
                } finally {
                  queue.shutdown();
                }
              }, { name: "producer" });
              for (const name of ["c0", "c1"]) {
                tg.createTask(async () => {
                  for await (const item of queue) {
                    got.push(item);
                    await sleep(0.1);
                  }
                }, { name });
              }
            });
          } finally {
            while (!queue.empty()) left.push(queue.getNowait());
          }
        },
        check() {
          assert.deepEqual([...got, ...left].sort(), put, "an item was lost or delivered twice");
        },
      };
    },
  },
  {
    name: "timeout() around a contended lock",
    tasks: ["t0", "t1", "t2"],
    make() {
      let lock = new Lock();
      return {
        async test() {
          lock = new Lock();
          await taskGroup(async (tg) => {
            for (let t = 0; t < 3; t++) {
              tg.createTask(async () => {
                try {
                  await timeout(0.15, () => lock.withLock(() => sleep(0.1)));
                } catch (error) {
                  if (!(error instanceof TimeoutError)) throw error;
                }
              }, { name: `t${t}` });
            }
          });
        },
        check() {
          assert.equal(lock.locked(), false, `the lock is left ${String(lock)}`);
        },
      };
    },
  },
];

describe("every primitive keeps its invariants with a cancel at any suspension of any task", () => {
  for (const scenario of SCENARIOS) {
    it(scenario.name, async () => {
      const { test, check } = scenario.make();
      const main = await exploreCancellation(test, { check });
      assert.ok(main.points > 0);
      for (const task of scenario.tasks) {
        const report = await exploreCancellation(test, { check, task });
        assert.equal(report.task, task);
        assert.ok(report.points > 0, `task ${task} suspends`);
      }
    });
  }
});
