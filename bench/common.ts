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
  | "explore";

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
  /** timers: the seed of the delays. */
  seed?: number;
}

/** The outcome of one run: named numbers (the workload says which one is primary). */
export type Metrics = Record<string, number>;

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
