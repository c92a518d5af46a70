// Property: random acquire/hold/release/cancel across many tasks never lets more tasks hold a
// primitive than it allows, never strands a waiter (once nothing can run, every worker has
// finished), and leaves the primitive free. Runs on the virtual clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type Acquirable,
  BoundedSemaphore,
  Condition,
  Lock,
  Semaphore,
  type Task,
  createTask,
  sleep,
} from "../../src/index.js";
import { runTest, waitAllTasksBlocked } from "../../src/testing.js";

type Command =
  | { readonly kind: "worker"; readonly hold: number; readonly form: "acquire" | "withLock" | "hold" }
  | { readonly kind: "cancel"; readonly which: number }
  | { readonly kind: "tick"; readonly n: number; readonly then: number | null }
  | { readonly kind: "settle" };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("worker" as const),
      hold: fc.integer({ min: 0, max: 3 }),
      form: fc.constantFrom("acquire" as const, "withLock" as const, "hold" as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("cancel" as const), which: fc.nat({ max: 3 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("tick" as const),
      n: fc.integer({ min: 0, max: 2 }),
      // A cancel right after the tick, in the same iteration: it races the wake-ups.
      then: fc.option(fc.nat({ max: 3 }), { freq: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "settle" } as const) },
);

interface Subject {
  readonly name: string;
  readonly capacity: number;
  make(): Acquirable;
  /** The printed state once everyone is gone. */
  readonly idle: string;
}

const SUBJECTS: Subject[] = [
  { name: "Lock", capacity: 1, make: () => new Lock(), idle: "<Lock [unlocked]>" },
  { name: "Semaphore(2)", capacity: 2, make: () => new Semaphore(2), idle: "<Semaphore [unlocked, value:2]>" },
  {
    name: "BoundedSemaphore(3)",
    capacity: 3,
    make: () => new BoundedSemaphore(3),
    idle: "<BoundedSemaphore [unlocked, value:3]>",
  },
  { name: "Condition", capacity: 1, make: () => new Condition(), idle: "<Condition [unlocked]>" },
];

async function check(subject: Subject, commands: Command[]): Promise<void> {
  await runTest(async () => {
    const primitive = subject.make();
    let holders = 0;
    const tasks: Task<unknown>[] = [];
    const critical = async (hold: number): Promise<void> => {
      holders++;
      assert.ok(holders <= subject.capacity, `${holders} holders of ${primitive}`);
      try {
        for (let i = 0; i < hold; i++) await sleep(0);
      } finally {
        holders--;
      }
    };
    /**
     * Once nothing can run, every worker has finished: holding is only `sleep(0)`s, so a task
     * still waiting then waits for a wake-up that was lost.
     */
    const settled = async (): Promise<void> => {
      await waitAllTasksBlocked();
      for (const t of tasks) assert.ok(t.done(), `stranded: ${t} on ${primitive}`);
      assert.equal(holders, 0);
    };
    for (const c of commands) {
      if (c.kind === "worker") {
        tasks.push(
          createTask(async () => {
            if (c.form === "withLock") {
              await primitive.withLock(() => critical(c.hold));
            } else if (c.form === "hold") {
              await using _ = await primitive.hold();
              await critical(c.hold);
            } else {
              await primitive.acquire();
              try {
                await critical(c.hold);
              } finally {
                primitive.release();
              }
            }
          }),
        );
      } else if (c.kind === "cancel") {
        cancelOne(tasks, c.which);
      } else if (c.kind === "tick") {
        for (let i = 0; i < c.n; i++) await sleep(0);
        if (c.then !== null) cancelOne(tasks, c.then);
      } else {
        await settled();
      }
    }
    await settled();
    assert.equal(String(primitive), subject.idle);
  });
}

/** Cancels one of the tasks not done yet (the `which`-th, modulo their number). */
function cancelOne(tasks: Task<unknown>[], which: number): void {
  const live = tasks.filter((t) => !t.done());
  if (live.length > 0) live[which % live.length]?.cancel();
}

describe("locks under random acquire/release/cancel (property)", () => {
  for (const subject of SUBJECTS) {
    it(`${subject.name} never over-admits, and is left free with no waiter`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 5, maxLength: 50 }), (commands) => check(subject, commands)),
        { numRuns: 150 },
      );
    });
  }
});
