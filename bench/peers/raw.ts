/**
 * The floor: each workload written with nothing but promises, async functions and Node's own
 * timers — the least any library on Node can cost for the same program. Where the workload needs
 * a primitive Node lacks (a bounded queue, a lock), a minimal one is written here: no validation,
 * no cancellation, direct hand-off.
 *
 * `sleep(0)` is {@link nextTurn}: one shared `setImmediate` per loop turn, awaited by everyone who
 * yields in that turn. It gives the same guarantee as asyncio's `sleep(0)` (I/O and other ready
 * work runs before the caller resumes) at the least cost Node allows.
 */
import { setImmediate as immediate } from "node:timers/promises";
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
import { spawnFrames, spawnParts, spawnPartsUndrained, spawnThenables } from "../parts.js";

let tick: Promise<void> | null = null;

/** Resolves after the current loop turn: one `setImmediate` shared by every caller in the turn. */
export function nextTurn(): Promise<void> {
  if (tick === null) {
    tick = new Promise<void>((resolve) => {
      setImmediate(() => {
        tick = null;
        resolve();
      });
    });
  }
  return tick;
}

/** An "event": a promise and the function that settles it. */
function makeEvent(): { wait: Promise<void>; set: () => void } {
  let set!: () => void;
  const wait = new Promise<void>((resolve) => {
    set = resolve;
  });
  return { wait, set };
}

/** A FIFO of waiters with O(1) push and shift. */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

/** A minimal bounded async queue: items hand off directly to a waiting getter or from a waiting putter. */
class RawQueue<T> {
  readonly #items = new Fifo<T>();
  readonly #getters = new Fifo<(item: T) => void>();
  readonly #putters = new Fifo<{ item: T; resolve: () => void }>();
  readonly #maxsize: number;

  constructor(maxsize: number) {
    this.#maxsize = maxsize;
  }

  put(item: T): Promise<void> | void {
    const getter = this.#getters.shift();
    if (getter !== undefined) {
      getter(item);
      return;
    }
    if (this.#items.length < this.#maxsize) {
      this.#items.push(item);
      return;
    }
    return new Promise<void>((resolve) => this.#putters.push({ item, resolve }));
  }

  get(): Promise<T> | T {
    if (this.#items.length > 0) {
      const item = this.#items.shift() as T;
      const putter = this.#putters.shift();
      if (putter !== undefined) {
        this.#items.push(putter.item);
        putter.resolve();
      }
      return item;
    }
    return new Promise<T>((resolve) => this.#getters.push(resolve));
  }
}

/** A minimal counting semaphore (a lock when `value` is 1): release hands the permit over. */
class RawSemaphore {
  #value: number;
  readonly #waiters = new Fifo<() => void>();

  constructor(value: number) {
    this.#value = value;
  }

  acquire(): Promise<void> | void {
    if (this.#value > 0) {
      this.#value--;
      return;
    }
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter();
    else this.#value++;
  }
}

/** The spawn variants built by hand from the parts of a cancellable task (bench/parts.ts). */
const BY_HAND: ReadonlyMap<string, (n: number) => Promise<void>> = new Map([
  ["thenable", spawnThenables],
  ["frames", spawnFrames],
  ["parts", spawnParts],
  ["parts-undrained", spawnPartsUndrained],
]);

async function spawn(p: Params): Promise<Metrics> {
  const n = p.n;
  const variant = p.variant ?? "tick";
  const t0 = now();
  const byHand = BY_HAND.get(variant);
  if (byHand !== undefined) {
    // Not floors: the parts of a cancellable task, built by hand (bench/parts.ts).
    await byHand(n);
    return { us_per_task: ((now() - t0) * 1000) / n };
  }
  const tasks: Promise<number>[] = [];
  if (variant === "immediate") {
    for (let i = 0; i < n; i++) {
      tasks.push((async () => {
        await immediate();
        return i;
      })());
    }
  } else if (variant === "microtask") {
    for (let i = 0; i < n; i++) {
      tasks.push((async () => {
        await null;
        return i;
      })());
    }
  } else {
    for (let i = 0; i < n; i++) {
      tasks.push((async () => {
        await nextTurn();
        return i;
      })());
    }
  }
  await Promise.all(tasks);
  return { us_per_task: ((now() - t0) * 1000) / n };
}

async function memory(p: Params): Promise<Metrics> {
  const n = p.n;
  const event = makeEvent();
  const tasks: Promise<void>[] = [];
  const before = heapAfterGc();
  for (let i = 0; i < n; i++) {
    tasks.push((async () => {
      await event.wait;
    })());
  }
  await nextTurn();
  await nextTurn();
  const after = heapAfterGc();
  event.set();
  await Promise.all(tasks);
  return { bytes_per_task: (after - before) / n };
}

async function cancel(p: Params): Promise<Metrics> {
  const n = p.n;
  const rejecters: ((reason: unknown) => void)[] = [];
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const blocked = new Promise<void>((_resolve, reject) => {
      rejecters.push(reject);
    });
    tasks.push((async () => {
      await blocked;
    })());
  }
  await nextTurn();
  await nextTurn();
  const t0 = now();
  for (const reject of rejecters) reject(new Error("cancelled"));
  await Promise.allSettled(tasks);
  return { us_per_task: ((now() - t0) * 1000) / n };
}

async function queue(p: Params): Promise<Metrics> {
  const n = p.n;
  const producers = p.producers ?? 1;
  const consumers = p.consumers ?? 1;
  const q = new RawQueue<number>(p.size ?? 100);
  const t0 = now();
  const tasks: Promise<void>[] = [];
  for (let w = 0; w < producers; w++) {
    tasks.push((async () => {
      for (let i = 0, m = n / producers; i < m; i++) await q.put(i);
    })());
  }
  for (let w = 0; w < consumers; w++) {
    tasks.push((async () => {
      for (let i = 0, m = n / consumers; i < m; i++) await q.get();
    })());
  }
  await Promise.all(tasks);
  return { items_per_s: n / ((now() - t0) / 1000) };
}

async function locking(p: Params, value: number): Promise<Metrics> {
  const tasks = p.tasks ?? 100;
  const iterations = p.iterations ?? 1000;
  const sem = new RawSemaphore(value);
  const t0 = now();
  const all: Promise<void>[] = [];
  for (let w = 0; w < tasks; w++) {
    all.push((async () => {
      for (let i = 0; i < iterations; i++) {
        await sem.acquire();
        try {
          await nextTurn();
        } finally {
          sem.release();
        }
      }
    })());
  }
  await Promise.all(all);
  return { acq_per_s: (tasks * iterations) / ((now() - t0) / 1000) };
}

async function timers(p: Params): Promise<Metrics> {
  const delays = timerDelaysMs(p.n, p.maxDelayMs ?? 100, p.seed ?? 1);
  const late = new Float64Array(p.n);
  const t0 = now();
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < p.n; i++) {
    const delay = delays[i] as number;
    tasks.push((async () => {
      await new Promise<void>((resolve) => setTimeout(resolve, delay));
      late[i] = now() - (t0 + delay);
    })());
  }
  await Promise.all(tasks);
  return timerMetrics(t0, now(), delays, late);
}

async function body(i: number): Promise<number> {
  return i;
}

function onExpiry(): void {
  throw new Error("a scope expired");
}

async function timeout(p: Params): Promise<Metrics> {
  const n = p.n;
  let sum = 0;
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const handle = setTimeout(onExpiry, 10_000);
    try {
      sum += await body(i);
    } finally {
      clearTimeout(handle);
    }
  }
  if (sum < 0) throw new Error("unreachable");
  return { us_per_scope: ((now() - t0) * 1000) / n };
}

async function foreign(i: number): Promise<number> {
  await Promise.resolve();
  return i;
}

/** gather's floor: every thunk called, `Promise.all` of what they return. */
async function gatherThunks(p: Params): Promise<Metrics> {
  const n = p.n;
  const thunks: (() => Promise<number>)[] = [];
  for (let i = 0; i < n; i++) thunks.push(() => foreign(i));
  const t0 = now();
  const results = await Promise.all(thunks.map((thunk) => thunk()));
  const us = ((now() - t0) * 1000) / n;
  let sum = 0;
  for (const r of results) sum += r;
  if (sum !== (n * (n - 1)) / 2) throw new Error(`wrong sum ${sum}`);
  return { us_per_task: us };
}

/** A task group's floor: `n` async functions that yield one loop turn, waited for with `Promise.all`. */
async function group(p: Params): Promise<Metrics> {
  const n = p.n;
  let finished = 0;
  const t0 = now();
  const children: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    children.push((async () => {
      await nextTurn();
      finished++;
    })());
  }
  await Promise.all(children);
  const us = ((now() - t0) * 1000) / n;
  if (finished !== n) throw new Error(`${finished} of ${n} children done`);
  return { us_per_task: us };
}

/** asCompleted's floor: each promise's `then` puts its value in a FIFO that one consumer drains. */
async function completed(p: Params): Promise<Metrics> {
  const n = p.n;
  const yields = completionYields(n, p.maxYields ?? 8, p.seed ?? 1);
  const t0 = now();
  const ready = new Fifo<number>();
  let wake: ((value: number) => void) | null = null;
  const arrive = (value: number): void => {
    if (wake !== null) {
      const w = wake;
      wake = null;
      w(value);
    } else {
      ready.push(value);
    }
  };
  for (let i = 0; i < n; i++) {
    void (async () => {
      for (let k = yields[i] as number; k > 0; k--) await nextTurn();
      return i;
    })().then(arrive);
  }
  let sum = 0;
  for (let taken = 0; taken < n; taken++) {
    sum += ready.length > 0 ? (ready.shift() as number) : await new Promise<number>((resolve) => (wake = resolve));
  }
  const us = ((now() - t0) * 1000) / n;
  if (sum !== (n * (n - 1)) / 2) throw new Error(`wrong sum ${sum}`);
  return { us_per_task: us };
}

/** The soak's floor: async functions each awaiting a promise of its own, rejected, settled; batch after batch. */
async function soak(p: Params): Promise<Metrics> {
  const { batches, batch } = soakBatches(p.n, p.batch ?? 1000);
  const heap: number[] = [heapAfterGc()];
  let busy = 0;
  for (let half = 0; half < 2; half++) {
    const t0 = now();
    for (let b = 0; b < batches / 2; b++) {
      const rejecters: ((reason: unknown) => void)[] = [];
      const tasks: Promise<void>[] = [];
      for (let i = 0; i < batch; i++) {
        const blocked = new Promise<void>((_resolve, reject) => {
          rejecters.push(reject);
        });
        tasks.push((async () => {
          await blocked;
        })());
      }
      await nextTurn();
      for (const reject of rejecters) reject(new Error("cancelled"));
      await Promise.allSettled(tasks);
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
    queue,
    lock: (p) => locking(p, 1),
    semaphore: (p) => locking(p, p.size ?? 10),
    timers,
    timeout,
    explore: "no peer explores cancellation points (asyncio-ts/testing's exploreCancellation has no counterpart)",
    gather: gatherThunks,
    taskgroup: group,
    ascompleted: completed,
    soak,
  },
};
