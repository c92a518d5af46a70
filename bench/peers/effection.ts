/**
 * Effection (v4): every workload it can express, as generator operations under `run()` —
 * `spawn` for tasks, `all` to gather, `sleep(0)` to yield, `withResolvers` as an event,
 * `task.halt()` to cancel, and `race` against a `sleep` as the timeout (Effection's core has no
 * timeout operation; `race` is how its docs build one), `call` to await a promise, `scoped` as
 * the task group, and its (unbounded) `createQueue` to take results as they complete. It has
 * no bounded queue, lock or semaphore: those workloads say so.
 */
import {
  type Operation,
  type Task,
  all,
  call,
  createQueue,
  race,
  run,
  scoped,
  sleep,
  spawn,
  withResolvers,
} from "effection";
import {
  type Metrics,
  type Params,
  type PeerModule,
  completionYields,
  heapAfterGc,
  now,
  soakBatches,
  soakMetrics,
  timerDelaysMs,
  timerMetrics,
} from "../common.js";

const spawnWorkload = (p: Params): Promise<Metrics> =>
  run(function* () {
    const t0 = now();
    const tasks: Task<number>[] = [];
    for (let i = 0; i < p.n; i++) {
      tasks.push(
        yield* spawn(function* () {
          yield* sleep(0);
          return i;
        }),
      );
    }
    yield* all(tasks);
    return { us_per_task: ((now() - t0) * 1000) / p.n };
  });

function* blockOn(gate: Operation<void>, n: number): Operation<Task<void>[]> {
  const tasks: Task<void>[] = [];
  for (let i = 0; i < n; i++) {
    tasks.push(
      yield* spawn(function* () {
        yield* gate;
      }),
    );
  }
  yield* sleep(0);
  return tasks;
}

const memory = (p: Params): Promise<Metrics> =>
  run(function* () {
    const gate = withResolvers<void>();
    const before = heapAfterGc();
    const tasks = yield* blockOn(gate.operation, p.n);
    const after = heapAfterGc();
    gate.resolve();
    yield* all(tasks);
    return { bytes_per_task: (after - before) / p.n };
  });

const cancel = (p: Params): Promise<Metrics> =>
  run(function* () {
    const gate = withResolvers<void>();
    const tasks = yield* blockOn(gate.operation, p.n);
    const t0 = now();
    yield* all(tasks.map((task) => task.halt()));
    return { us_per_task: ((now() - t0) * 1000) / p.n };
  });

const timers = (p: Params): Promise<Metrics> =>
  run(function* () {
    const delays = timerDelaysMs(p.n, p.maxDelayMs ?? 100, p.seed ?? 1);
    const late = new Float64Array(p.n);
    const t0 = now();
    const tasks: Task<void>[] = [];
    for (let i = 0; i < p.n; i++) {
      const delay = delays[i] as number;
      tasks.push(
        yield* spawn(function* () {
          yield* sleep(delay);
          late[i] = now() - (t0 + delay);
        }),
      );
    }
    yield* all(tasks);
    return timerMetrics(t0, now(), delays, late);
  });

// A body that returns at once, as `async (i) => i` in the other peers.
// eslint-disable-next-line require-yield
function* body(i: number): Operation<number> {
  return i;
}

function* expire(ms: number): Operation<never> {
  yield* sleep(ms);
  throw new Error("a scope expired");
}

/** Effection's timeout: the body races a sleep that throws. */
function timebox<T>(ms: number, operation: Operation<T>): Operation<T> {
  return race([operation, expire(ms)]);
}

const timeout = (p: Params): Promise<Metrics> =>
  run(function* () {
    let sum = 0;
    const t0 = now();
    for (let i = 0; i < p.n; i++) sum += yield* timebox(10_000, body(i));
    if (sum < 0) throw new Error("unreachable");
    return { us_per_scope: ((now() - t0) * 1000) / p.n };
  });

async function foreign(i: number): Promise<number> {
  await Promise.resolve();
  return i;
}

function checkSum(sum: number, n: number): void {
  if (sum !== (n * (n - 1)) / 2) throw new Error(`wrong sum ${sum}`);
}

/** gather: `all` of one `call` per thunk (each runs as a task of its own). */
const gatherThunks = (p: Params): Promise<Metrics> =>
  run(function* () {
    const ops: Operation<number>[] = [];
    for (let i = 0; i < p.n; i++) ops.push(call(() => foreign(i)));
    const t0 = now();
    const results = yield* all(ops);
    const us = ((now() - t0) * 1000) / p.n;
    checkSum(results.reduce((a, b) => a + b, 0), p.n);
    return { us_per_task: us };
  });

/** The task group: a `scoped` operation that spawns the children and waits for them. */
const group = (p: Params): Promise<Metrics> =>
  run(function* () {
    let finished = 0;
    const t0 = now();
    yield* scoped(function* () {
      const tasks: Task<void>[] = [];
      for (let i = 0; i < p.n; i++) {
        tasks.push(
          yield* spawn(function* () {
            yield* sleep(0);
            finished++;
          }),
        );
      }
      yield* all(tasks);
    });
    const us = ((now() - t0) * 1000) / p.n;
    if (finished !== p.n) throw new Error(`${finished} of ${p.n} children done`);
    return { us_per_task: us };
  });

/** asCompleted: each spawned task adds its result to a queue, which the parent reads n times. */
const completed = (p: Params): Promise<Metrics> =>
  run(function* () {
    const yields = completionYields(p.n, p.maxYields ?? 8, p.seed ?? 1);
    const results = createQueue<number, void>();
    const t0 = now();
    for (let i = 0; i < p.n; i++) {
      yield* spawn(function* () {
        for (let k = yields[i] as number; k > 0; k--) yield* sleep(0);
        results.add(i);
      });
    }
    let sum = 0;
    for (let taken = 0; taken < p.n; taken++) {
      const next = yield* results.next();
      if (next.done === true) throw new Error("the queue closed");
      sum += next.value;
    }
    const us = ((now() - t0) * 1000) / p.n;
    checkSum(sum, p.n);
    return { us_per_task: us };
  });

/** The soak: tasks blocked on an operation that never resolves, halted, batch after batch. */
const soak = (p: Params): Promise<Metrics> =>
  run(function* () {
    const { batches, batch } = soakBatches(p.n, p.batch ?? 1000);
    const gate = withResolvers<void>();
    const heap: number[] = [heapAfterGc()];
    let busy = 0;
    for (let half = 0; half < 2; half++) {
      const t0 = now();
      for (let b = 0; b < batches / 2; b++) {
        const tasks = yield* blockOn(gate.operation, batch);
        yield* all(tasks.map((task) => task.halt()));
      }
      busy += now() - t0;
      heap.push(heapAfterGc());
    }
    return soakMetrics(heap as [number, number, number], batches * batch, busy);
  });

export const peer: PeerModule = {
  workloads: {
    spawn: spawnWorkload,
    memory,
    cancel,
    queue: "Effection has no bounded queue (its createQueue is unbounded, without backpressure)",
    lock: "Effection has no lock",
    semaphore: "Effection has no semaphore",
    timers,
    timeout,
    explore: "no peer explores cancellation points (asyncio-ts/testing's exploreCancellation has no counterpart)",
    gather: gatherThunks,
    taskgroup: group,
    ascompleted: completed,
    soak,
  },
};
