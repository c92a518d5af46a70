/**
 * Effection (v4): every workload it can express, as generator operations under `run()` —
 * `spawn` for tasks, `all` to gather, `sleep(0)` to yield, `withResolvers` as an event,
 * `task.halt()` to cancel, and `race` against a `sleep` as the timeout (Effection's core has no
 * timeout operation; `race` is how its docs build one). It has no bounded queue, lock or
 * semaphore: those workloads say so.
 */
import { type Operation, type Task, all, race, run, sleep, spawn, withResolvers } from "effection";
import { type Metrics, type Params, type PeerModule, heapAfterGc, now, timerDelaysMs, timerMetrics } from "../common.js";

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
  },
};
