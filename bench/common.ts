/**
 * What the harness (run.ts), the worker (worker.ts) and every peer module share: the names of
 * the workloads, their parameters, what a measurement returns, and a seeded random generator
 * whose sequence bench/python/common.py reproduces exactly.
 */

/** The workloads a worker process can run (one per process). */
export type WorkloadName =
  | "spawn"
  | "memory"
  | "cancel"
  | "queue"
  | "lock"
  | "semaphore"
  | "timers"
  | "timeout"
  | "explore"
  | "gather"
  | "taskgroup"
  | "ascompleted"
  | "soak";

/** Parameters of one run. Each workload reads the fields it needs. */
export interface Params {
  /** Number of tasks, items, scopes or sleeps. */
  n: number;
  /** A program variant, for peers that measure several ways of writing the same thing. */
  variant?: string;
  /** queue: producers and consumers; lock/semaphore: tasks. */
  producers?: number;
  consumers?: number;
  tasks?: number;
  /** lock/semaphore: acquisitions per task. */
  iterations?: number;
  /** queue: capacity; semaphore: initial value. */
  size?: number;
  /** timers: the largest delay, in milliseconds. */
  maxDelayMs?: number;
  /** timers: the seed of the delays; ascompleted: the seed of each task's number of yields. */
  seed?: number;
  /** ascompleted: each task yields (`sleep(0)`) a seeded number of times in [0, maxYields). */
  maxYields?: number;
  /** soak: tasks created and cancelled together, `n / batch` times. */
  batch?: number;
}

/** The outcome of one run: named numbers (the workload says which one is primary). */
export type Metrics = Record<string, number>;

/** What the harness gives a worker (bench/worker.ts, bench/python/bench.py): one measurement. */
export interface WorkerSpec {
  params: Params;
  /** The warm-up's parameters, or `null`: none. */
  warmup: Params | null;
  /** The warm-up repeats until this many seconds have passed (0: once). */
  warmupSeconds?: number;
  /** The measured program repeats until this many seconds have passed (0: once). */
  measureSeconds?: number;
  /** The metrics that are rates (higher is better): averaged harmonically, see {@link averageRuns}. */
  rates?: string[];
}

/** The median and the range of one row's runs. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/**
 * Whether `a` is worse than `b` beyond the spread of their runs: every run of `a` worse than
 * every run of `b` (`better`: which way the metric improves). A worse median within the spread
 * is as likely the machine as the code, on a shared machine.
 */
export function worseBeyondSpread(a: Spread, b: Spread, better: "lower" | "higher"): boolean {
  return better === "lower" ? a.min > b.max : a.max < b.min;
}

/**
 * The metrics of several measured runs of the same program as one: the mean of each metric,
 * the harmonic mean for the `rates` (the rate of all the runs' work together, as each run does
 * the same work), so a run that paid for a garbage collection counts as it costs. A metric
 * missing from some run is averaged over the runs that have it.
 */
export function averageRuns(runs: readonly Metrics[], rates: readonly string[]): Metrics {
  const sums = new Map<string, { sum: number; count: number }>();
  for (const run of runs) {
    for (const [key, value] of Object.entries(run)) {
      const entry = sums.get(key) ?? { sum: 0, count: 0 };
      entry.sum += rates.includes(key) ? 1 / value : value;
      entry.count++;
      sums.set(key, entry);
    }
  }
  const out: Metrics = {};
  for (const [key, { sum, count }] of sums) out[key] = rates.includes(key) ? count / sum : sum / count;
  return out;
}

/** What a worker prints, as one JSON line on stdout. */
export type WorkerResult =
  | { status: "ok"; metrics: Metrics; note?: string }
  | { status: "unavailable"; reason: string }
  | { status: "cannot"; reason: string }
  | { status: "error"; reason: string };

/** A workload as a peer implements it, or the reason the peer cannot express it. */
export type WorkloadFn = (params: Params) => Promise<Metrics | { metrics: Metrics; note: string }>;

/** A peer module (bench/peers/*.ts): every workload, written for that peer. */
export interface PeerModule {
  readonly workloads: Readonly<Record<WorkloadName, WorkloadFn | string>>;
}

/**
 * Thrown by a workload whose asyncio-ts names are not exported yet (they are being built):
 * the harness records "not available yet" instead of a failure.
 */
export class NotAvailableYet extends Error {
  constructor(what: string) {
    super(`not available yet: ${what} is not exported from src/index.ts`);
    this.name = "NotAvailableYet";
  }
}

/**
 * mulberry32: a tiny seeded generator of floats in [0, 1). bench/python/common.py has the same
 * function, so every peer sleeps the same delays in the timers workload.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The delays of the timers workload, in milliseconds, in [0, maxDelayMs). */
export function timerDelaysMs(n: number, maxDelayMs: number, seed: number): Float64Array {
  const random = mulberry32(seed);
  const delays = new Float64Array(n);
  for (let i = 0; i < n; i++) delays[i] = random() * maxDelayMs;
  return delays;
}

/**
 * The ascompleted workload: how many times task i yields (`sleep(0)`) before it returns, in
 * [0, maxYields), from the same seeded sequence in every peer, so that tasks complete in an
 * order unlike the one they were made in.
 */
export function completionYields(n: number, maxYields: number, seed: number): Uint8Array {
  const random = mulberry32(seed);
  const yields = new Uint8Array(n);
  for (let i = 0; i < n; i++) yields[i] = Math.floor(random() * maxYields);
  return yields;
}

/** The soak workload: `n` rounded to a whole, even number of batches, and the batch size. */
export function soakBatches(n: number, batch: number): { batches: number; batch: number } {
  const size = Math.max(1, Math.min(batch, n));
  const batches = Math.max(2, 2 * Math.round(n / size / 2));
  return { batches, batch: size };
}

/** The soak workload's report, from the heap after a full GC at start, middle and end. */
export function soakMetrics(heap: readonly [number, number, number], cycles: number, busyMs: number): Metrics {
  const [start, middle, end] = heap;
  return {
    growth_bytes: end - start,
    second_half_bytes: end - middle,
    heap_start_mb: start / 1e6,
    heap_middle_mb: middle / 1e6,
    heap_end_mb: end / 1e6,
    bytes_per_cycle: (end - middle) / (cycles / 2),
    us_per_cycle: (busyMs * 1000) / cycles,
  };
}

/** Forces a full collection; the worker runs with --expose-gc. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run the worker with --expose-gc");
  gc();
  gc();
}

/** The heap in use after a full collection, in bytes. */
export function heapAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Milliseconds since an arbitrary origin, with sub-millisecond resolution. */
export function now(): number {
  return performance.now();
}

/** Timers workload: what each peer reports, from the lateness of every sleeper. */
export function timerMetrics(startMs: number, endMs: number, delays: Float64Array, late: Float64Array): Metrics {
  let maxDelay = 0;
  let worst = 0;
  for (let i = 0; i < delays.length; i++) {
    if ((delays[i] as number) > maxDelay) maxDelay = delays[i] as number;
    if ((late[i] as number) > worst) worst = late[i] as number;
  }
  const sorted = Float64Array.from(late).sort();
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
  return {
    overhead_ms: endMs - startMs - maxDelay,
    worst_late_ms: worst,
    p99_late_ms: p99,
  };
}
