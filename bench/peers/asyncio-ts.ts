/**
 * asyncio-ts: every workload as a user of the library writes it, inside `run()`.
 */
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import {
  Event,
  Lock,
  Queue,
  Semaphore,
  type Task,
  asCompleted,
  createTask,
  gather,
  run,
  sleep,
  taskGroup,
  timeout,
  waitFor,
} from "../../src/index.js";
import { exploreCancellation } from "../../src/testing.js";
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

function spawn(p: Params): Promise<Metrics> {
  return run(async () => {
    const n = p.n;
    const t0 = now();
    const tasks: Task<number>[] = [];
    for (let i = 0; i < n; i++) {
      tasks.push(createTask(async () => {
        await sleep(0);
        return i;
      }));
    }
    await gather(...tasks);
    return { us_per_task: ((now() - t0) * 1000) / n };
  });
}

function memory(p: Params): Promise<Metrics> {
  return run(async () => {
    const n = p.n;
    const event = new Event();
    const tasks: Task<void>[] = [];
    // The harness sets this to learn what a blocked task is made of (RESULTS.md's breakdown).
    const snapshots = process.env.BENCH_HEAP_SNAPSHOT_DIR;
    const before = heapAfterGc();
    if (snapshots !== undefined) writeHeapSnapshot(join(snapshots, "before.heapsnapshot"));
    for (let i = 0; i < n; i++) {
      tasks.push(createTask(async () => {
        await event.wait();
      }));
    }
    await sleep(0);
    await sleep(0);
    const after = heapAfterGc();
    if (snapshots !== undefined) writeHeapSnapshot(join(snapshots, "after.heapsnapshot"));
    event.set();
    await gather(...tasks);
    return { bytes_per_task: (after - before) / n };
  });
}

function cancel(p: Params): Promise<Metrics> {
  return run(async () => {
    const n = p.n;
    const event = new Event();
    const tasks: Task<void>[] = [];
    for (let i = 0; i < n; i++) {
      tasks.push(createTask(async () => {
        await event.wait();
      }));
    }
    await sleep(0);
    await sleep(0);
    const t0 = now();
    for (const task of tasks) task.cancel();
    await gather(...tasks, { returnExceptions: true });
    return { us_per_task: ((now() - t0) * 1000) / n };
  });
}

function queue(p: Params): Promise<Metrics> {
  return run(async () => {
    const n = p.n;
    const producers = p.producers ?? 1;
    const consumers = p.consumers ?? 1;
    const q = new Queue<number>(p.size ?? 100);
    const t0 = now();
    const tasks: Task<void>[] = [];
    for (let w = 0; w < producers; w++) {
      tasks.push(createTask(async () => {
        for (let i = 0, m = n / producers; i < m; i++) await q.put(i);
      }));
    }
    for (let w = 0; w < consumers; w++) {
      tasks.push(createTask(async () => {
        for (let i = 0, m = n / consumers; i < m; i++) await q.get();
      }));
    }
    await gather(...tasks);
    return { items_per_s: n / ((now() - t0) / 1000) };
  });
}

function locking(p: Params, make: () => Lock | Semaphore): Promise<Metrics> {
  return run(async () => {
    const tasks = p.tasks ?? 100;
    const iterations = p.iterations ?? 1000;
    const lock = make();
    const t0 = now();
    const all: Task<void>[] = [];
    for (let w = 0; w < tasks; w++) {
      all.push(createTask(async () => {
        for (let i = 0; i < iterations; i++) {
          await lock.acquire();
          try {
            await sleep(0);
          } finally {
            lock.release();
          }
        }
      }));
    }
    await gather(...all);
    return { acq_per_s: (tasks * iterations) / ((now() - t0) / 1000) };
  });
}

function lock(p: Params): Promise<Metrics> {
  return locking(p, () => new Lock());
}

function semaphore(p: Params): Promise<Metrics> {
  return locking(p, () => new Semaphore(p.size ?? 10));
}

function timers(p: Params): Promise<Metrics> {
  return run(async () => {
    const delays = timerDelaysMs(p.n, p.maxDelayMs ?? 100, p.seed ?? 1);
    const late = new Float64Array(p.n);
    const t0 = now();
    const tasks: Task<void>[] = [];
    for (let i = 0; i < p.n; i++) {
      const delay = delays[i] as number;
      tasks.push(createTask(async () => {
        await sleep(delay / 1000);
        late[i] = now() - (t0 + delay);
      }));
    }
    await gather(...tasks);
    return timerMetrics(t0, now(), delays, late);
  });
}

async function body(i: number): Promise<number> {
  return i;
}

function timeoutScopes(p: Params): Promise<Metrics> {
  return run(async () => {
    const n = p.n;
    let sum = 0;
    const t0 = now();
    if (p.variant === "waitfor") {
      for (let i = 0; i < n; i++) sum += await waitFor(() => body(i), 10);
    } else {
      for (let i = 0; i < n; i++) sum += await timeout(10, () => body(i));
    }
    if (sum < 0) throw new Error("unreachable");
    return { us_per_scope: ((now() - t0) * 1000) / n };
  });
}

/**
 * exploreCancellation over a test whose main task suspends `n` times (a lock held around a
 * `sleep(0)`, `n` times): one run to count, one run per suspension, a check after each.
 */
async function explore(p: Params): Promise<Metrics> {
  const n = p.n;
  let lock = new Lock();
  const test = async (): Promise<void> => {
    lock = new Lock();
    for (let i = 0; i < n; i++) {
      await lock.acquire();
      try {
        await sleep(0);
      } finally {
        lock.release();
      }
    }
  };
  const check = (): void => {
    if (lock.locked()) throw new Error("the lock is still held");
  };
  const t0 = now();
  const report = await exploreCancellation(test, { check });
  const ms = now() - t0;
  if (report.points !== n) throw new Error(`expected ${n} suspension points, explored ${report.points}`);
  return { ms_total: ms, us_per_run: (ms * 1000) / (report.points + 1) };
}

/** A thunk's body that awaits something foreign to the library: a native promise, already resolved. */
async function foreign(i: number): Promise<number> {
  await Promise.resolve();
  return i;
}

/** `gather` of `n` thunks: each becomes a task whose body awaits a native promise. */
function gatherThunks(p: Params): Promise<Metrics> {
  return run(async () => {
    const n = p.n;
    const thunks: (() => Promise<number>)[] = [];
    for (let i = 0; i < n; i++) thunks.push(() => foreign(i));
    const t0 = now();
    const results = await gather(...thunks);
    const us = ((now() - t0) * 1000) / n;
    let sum = 0;
    for (const r of results) sum += r;
    if (sum !== (n * (n - 1)) / 2) throw new Error(`gather returned a wrong sum ${sum}`);
    return { us_per_task: us };
  });
}

/** A task group whose body creates `n` children that each `sleep(0)` once. */
function group(p: Params): Promise<Metrics> {
  return run(async () => {
    const n = p.n;
    let finished = 0;
    const t0 = now();
    await taskGroup(async (tg) => {
      for (let i = 0; i < n; i++) {
        tg.createTask(async () => {
          await sleep(0);
          finished++;
        });
      }
    });
    const us = ((now() - t0) * 1000) / n;
    if (finished !== n) throw new Error(`the group ended with ${finished} of ${n} children done`);
    return { us_per_task: us };
  });
}

/** `n` tasks that each yield a seeded number of times; their results taken as they complete. */
function completed(p: Params): Promise<Metrics> {
  return run(async () => {
    const n = p.n;
    const yields = completionYields(n, p.maxYields ?? 8, p.seed ?? 1);
    const t0 = now();
    const tasks: Task<number>[] = [];
    for (let i = 0; i < n; i++) {
      tasks.push(createTask(async () => {
        for (let k = yields[i] as number; k > 0; k--) await sleep(0);
        return i;
      }));
    }
    let sum = 0;
    if (p.variant === "iterator") {
      for (const next of asCompleted(tasks)) sum += await next;
    } else {
      for await (const done of asCompleted(tasks)) sum += done.result();
    }
    const us = ((now() - t0) * 1000) / n;
    if (sum !== (n * (n - 1)) / 2) throw new Error(`asCompleted gave a wrong sum ${sum}`);
    return { us_per_task: us };
  });
}

/**
 * The create/cancel soak: `batch` tasks blocked on an Event, cancelled, collected; again and
 * again. The heap after a full GC at the start, half way and at the end.
 */
function soak(p: Params): Promise<Metrics> {
  return run(async () => {
    const { batches, batch } = soakBatches(p.n, p.batch ?? 1000);
    const event = new Event();
    const heap: number[] = [heapAfterGc()];
    let busy = 0;
    for (let half = 0; half < 2; half++) {
      const t0 = now();
      for (let b = 0; b < batches / 2; b++) {
        const tasks: Task<void>[] = [];
        for (let i = 0; i < batch; i++) {
          tasks.push(createTask(async () => {
            await event.wait();
          }));
        }
        await sleep(0);
        for (const task of tasks) task.cancel();
        await gather(...tasks, { returnExceptions: true });
      }
      busy += now() - t0;
      heap.push(heapAfterGc());
    }
    return soakMetrics(heap as [number, number, number], batches * batch, busy);
  });
}

export const peer: PeerModule = {
  workloads: {
    spawn,
    memory,
    cancel,
    queue,
    lock,
    semaphore,
    timers,
    timeout: timeoutScopes,
    explore,
    gather: gatherThunks,
    taskgroup: group,
    ascompleted: completed,
    soak,
  },
};
