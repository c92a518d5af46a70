// Property: random interleavings of put/get/cancel/shutdown across many tasks never lose or
// duplicate an item, never let a cancelled put enqueue, never overfill a bounded queue, and
// never leave a task stranded. Runs on the virtual clock: a few hundred runs take seconds.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LifoQueue, PriorityQueue, Queue, QueueShutDown, type Task, createTask, sleep } from "../src/index.js";
import { runTest, waitAllTasksBlocked } from "../src/testing.js";

/**
 * What the driver does. `then` on a command cancels one of the live tasks right after it, in
 * the same loop iteration: the race between a wake-up and a cancel that the queue must survive.
 */
type Command =
  | { readonly kind: "put"; readonly tasks: number }
  | { readonly kind: "get"; readonly tasks: number }
  | { readonly kind: "putNowait"; readonly then: number | null }
  | { readonly kind: "getNowait"; readonly then: number | null }
  | { readonly kind: "cancel"; readonly which: number }
  | { readonly kind: "tick"; readonly n: number; readonly then: number | null }
  | { readonly kind: "settle" }
  | { readonly kind: "shutdown"; readonly immediate: boolean };

const thenCancel = fc.option(fc.nat({ max: 3 }), { freq: 2 });

// Shut-downs are rare: after one, the rest of a run has little left to exercise.
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant("put" as const), tasks: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 12, arbitrary: fc.record({ kind: fc.constant("get" as const), tasks: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("putNowait" as const), then: thenCancel }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("getNowait" as const), then: thenCancel }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("cancel" as const), which: fc.nat({ max: 7 }) }) },
  {
    weight: 10,
    arbitrary: fc.record({ kind: fc.constant("tick" as const), n: fc.integer({ min: 0, max: 2 }), then: thenCancel }),
  },
  { weight: 6, arbitrary: fc.constant({ kind: "settle" } as const) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("shutdown" as const), immediate: fc.boolean() }) },
);

/** The two hand-on paths, spelled out: a woken getter, then a woken putter, cancelled before they run. */
const EXAMPLES: [number, Command[]][] = [
  [0, [{ kind: "get", tasks: 2 }, { kind: "tick", n: 1, then: null }, { kind: "putNowait", then: 0 }]],
  [1, [{ kind: "putNowait", then: null }, { kind: "put", tasks: 2 }, { kind: "tick", n: 1, then: null }, { kind: "getNowait", then: 0 }]],
];

const KINDS = {
  Queue: (maxsize: number) => new Queue<number>(maxsize),
  LifoQueue: (maxsize: number) => new LifoQueue<number>(maxsize),
  PriorityQueue: (maxsize: number) => new PriorityQueue<number>(maxsize),
};

async function check(kind: keyof typeof KINDS, maxsize: number, commands: Command[]): Promise<void> {
  await runTest(async () => {
    const q = KINDS[kind](maxsize);
    let next = 0;
    const enqueued = new Set<number>(); // items whose put succeeded
    const cancelledPuts = new Set<number>();
    const got: number[] = [];
    let dropped = 0;
    const tasks: Task<unknown>[] = [];
    const checkSize = (): void => {
      if (maxsize > 0) assert.ok(q.qsize() <= maxsize, `overfull: ${q}`);
    };
    /** Once everything has run, nobody may wait for what is there (a lost wake-up). */
    const checkLiveness = (): void => {
      const state = String(q);
      if (!q.empty()) assert.doesNotMatch(state, /getters/, `a getter waits while items are queued: ${state}`);
      if (!q.full()) assert.doesNotMatch(state, /putters/, `a putter waits while there is room: ${state}`);
    };
    for (const c of commands) {
      switch (c.kind) {
        case "put":
          for (let i = 0; i < c.tasks; i++) {
            const item = next++;
            const t = createTask(async () => {
              try {
                await q.put(item);
                enqueued.add(item);
              } catch (error) {
                if (!(error instanceof QueueShutDown)) cancelledPuts.add(item);
                throw error;
              }
            });
            tasks.push(t);
          }
          break;
        case "get":
          for (let i = 0; i < c.tasks; i++) tasks.push(createTask(async () => got.push(await q.get())));
          break;
        case "putNowait": {
          const item = next++;
          try {
            q.putNowait(item);
            enqueued.add(item);
          } catch {
            // full or shut down
          }
          if (c.then !== null) cancelOne(tasks, c.then);
          break;
        }
        case "getNowait":
          try {
            got.push(q.getNowait());
          } catch {
            // empty
          }
          if (c.then !== null) cancelOne(tasks, c.then);
          break;
        case "cancel":
          cancelOne(tasks, c.which);
          break;
        case "tick":
          for (let i = 0; i < c.n; i++) await sleep(0);
          if (c.then !== null) cancelOne(tasks, c.then);
          break;
        case "settle":
          await waitAllTasksBlocked();
          checkLiveness();
          break;
        case "shutdown":
          if (c.immediate) dropped += q.qsize();
          q.shutdown(c.immediate);
          break;
      }
      checkSize();
    }
    await waitAllTasksBlocked();
    checkLiveness();
    // Then stop whatever still waits.
    for (const t of tasks) t.cancel();
    await waitAllTasksBlocked();
    for (const t of tasks) assert.ok(t.done(), `stranded: ${t}`);
    assert.doesNotMatch(String(q), /getters|putters/);
    while (!q.empty()) got.push(q.getNowait());

    assert.equal(new Set(got).size, got.length, `an item was handed out twice: ${got}`);
    for (const item of got) assert.ok(enqueued.has(item), `got ${item}, which was never put`);
    for (const item of cancelledPuts) assert.ok(!got.includes(item), `cancelled put of ${item} enqueued it`);
    assert.equal(got.length + dropped, enqueued.size, "an item was lost");
  });
}

/** Cancels one of the tasks not done yet (the `which`-th, modulo their number). */
function cancelOne(tasks: Task<unknown>[], which: number): void {
  const live = tasks.filter((t) => !t.done());
  if (live.length > 0) live[which % live.length]?.cancel();
}

describe("queues under random interleavings (property)", () => {
  for (const kind of Object.keys(KINDS) as (keyof typeof KINDS)[]) {
    it(`${kind} never loses, duplicates or overfills, and strands no task`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(0, 1, 1, 2, 3), fc.array(command, { minLength: 5, maxLength: 50 }), (maxsize, commands) =>
          check(kind, maxsize, commands),
        ),
        { numRuns: 150, examples: EXAMPLES },
      );
    });
  }
});
