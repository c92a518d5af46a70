/**
 * p-queue: a promise job queue with a concurrency limit. Tasks are jobs added with `add()`;
 * `concurrency: 1` is the lock and `concurrency: 10` the semaphore (a job holds its slot while it
 * runs); `sleep(0)` is `await setImmediate()` from node:timers/promises, as a p-queue user writes
 * it; cancellation is the job's `AbortSignal`; the timeout is the `timeout` option of `add()`.
 * `addAll()` gathers thunks and `onIdle()` waits for every job, as a task group does. It is no
 * producer/consumer channel, has no timers of its own and no completion-order iteration: those
 * workloads say so.
 */
import { setImmediate as immediate } from "node:timers/promises";
import PQueue from "p-queue";
import { type Metrics, type Params, type PeerModule, heapAfterGc, now, soakBatches, soakMetrics } from "../common.js";

function makeEvent(): { wait: Promise<void>; set: () => void } {
  let set!: () => void;
  const wait = new Promise<void>((resolve) => {
    set = resolve;
  });
  return { wait, set };
}

async function spawn(p: Params): Promise<Metrics> {
  const queue = new PQueue({ concurrency: Infinity });
  const t0 = now();
  const jobs: Promise<number>[] = [];
  for (let i = 0; i < p.n; i++) {
    jobs.push(queue.add(async () => {
      await immediate();
      return i;
    }));
  }
  await Promise.all(jobs);
  return { us_per_task: ((now() - t0) * 1000) / p.n };
}

async function memory(p: Params): Promise<Metrics> {
  const queue = new PQueue({ concurrency: Infinity });
  const event = makeEvent();
  const before = heapAfterGc();
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < p.n; i++) {
    jobs.push(queue.add(async () => {
      await event.wait;
    }));
  }
  await immediate();
  await immediate();
  const after = heapAfterGc();
  event.set();
  await Promise.all(jobs);
  return { bytes_per_task: (after - before) / p.n };
}

/** A running job stops only if it listens to its signal: it waits for the event or the abort. */
function waitOrAbort(event: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    void event.then(resolve);
    signal?.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
  });
}

async function cancel(p: Params): Promise<Metrics> {
  const queue = new PQueue({ concurrency: Infinity });
  const event = makeEvent();
  const controllers: AbortController[] = [];
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < p.n; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    jobs.push(queue.add(async ({ signal }) => {
      await waitOrAbort(event.wait, signal);
    }, { signal: controller.signal }));
  }
  await immediate();
  await immediate();
  const t0 = now();
  for (const controller of controllers) controller.abort();
  await Promise.allSettled(jobs);
  return { us_per_task: ((now() - t0) * 1000) / p.n };
}

async function locking(p: Params, concurrency: number): Promise<Metrics> {
  const tasks = p.tasks ?? 100;
  const iterations = p.iterations ?? 1000;
  const queue = new PQueue({ concurrency });
  const t0 = now();
  const all: Promise<void>[] = [];
  for (let w = 0; w < tasks; w++) {
    all.push((async () => {
      for (let i = 0; i < iterations; i++) await queue.add(() => immediate());
    })());
  }
  await Promise.all(all);
  return { acq_per_s: (tasks * iterations) / ((now() - t0) / 1000) };
}

async function body(i: number): Promise<number> {
  return i;
}

async function timeout(p: Params): Promise<Metrics> {
  const queue = new PQueue({ concurrency: Infinity });
  let sum = 0;
  const t0 = now();
  for (let i = 0; i < p.n; i++) sum += await queue.add(() => body(i), { timeout: 10_000 });
  if (sum < 0) throw new Error("unreachable");
  return { us_per_scope: ((now() - t0) * 1000) / p.n };
}

async function foreign(i: number): Promise<number> {
  await Promise.resolve();
  return i;
}

/** gather: `addAll` of the thunks on a queue without a concurrency limit. */
async function gatherThunks(p: Params): Promise<Metrics> {
  const n = p.n;
  const queue = new PQueue({ concurrency: Infinity });
  const thunks: (() => Promise<number>)[] = [];
  for (let i = 0; i < n; i++) thunks.push(() => foreign(i));
  const t0 = now();
  const results = await queue.addAll(thunks);
  const us = ((now() - t0) * 1000) / n;
  let sum = 0;
  for (const r of results) sum += r;
  if (sum !== (n * (n - 1)) / 2) throw new Error(`wrong sum ${sum}`);
  return { us_per_task: us };
}

/** The task group: jobs added, then `onIdle()` waits until every one is done. */
async function group(p: Params): Promise<Metrics> {
  const n = p.n;
  const queue = new PQueue({ concurrency: Infinity });
  let finished = 0;
  const child = async (): Promise<void> => {
    await immediate();
    finished++;
  };
  const t0 = now();
  for (let i = 0; i < n; i++) void queue.add(child);
  await queue.onIdle();
  const us = ((now() - t0) * 1000) / n;
  if (finished !== n) throw new Error(`${finished} of ${n} children done`);
  return { us_per_task: us };
}

/** A job that runs until its signal aborts (nothing else shared, so nothing else holds it). */
function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((_resolve, reject) => {
    signal?.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
  });
}

/** The soak: jobs blocked until their `AbortController` aborts them, batch after batch. */
async function soak(p: Params): Promise<Metrics> {
  const { batches, batch } = soakBatches(p.n, p.batch ?? 1000);
  const queue = new PQueue({ concurrency: Infinity });
  const heap: number[] = [heapAfterGc()];
  let busy = 0;
  for (let half = 0; half < 2; half++) {
    const t0 = now();
    for (let b = 0; b < batches / 2; b++) {
      const controllers: AbortController[] = [];
      const jobs: Promise<void>[] = [];
      for (let i = 0; i < batch; i++) {
        const controller = new AbortController();
        controllers.push(controller);
        jobs.push(queue.add(({ signal }) => untilAborted(signal), { signal: controller.signal }));
      }
      await immediate();
      for (const controller of controllers) controller.abort();
      await Promise.allSettled(jobs);
    }
    busy += now() - t0;
    heap.push(heapAfterGc());
  }
  return soakMetrics(heap as [number, number, number], batches * batch, busy);
}

export const peer: PeerModule = {
  workloads: {
    spawn,
    memory,
    cancel,
    queue: "p-queue is a job scheduler, not a producer/consumer channel",
    lock: (p) => locking(p, 1),
    semaphore: (p) => locking(p, p.size ?? 10),
    timers: "p-queue has no timers (its users sleep with setTimeout: the raw row)",
    timeout,
    explore: "no peer explores cancellation points (asyncio-ts/testing's exploreCancellation has no counterpart)",
    gather: gatherThunks,
    taskgroup: group,
    ascompleted: "p-queue has no completion-order iteration (its users attach a `then` to each job: the raw row)",
    soak,
  },
};
