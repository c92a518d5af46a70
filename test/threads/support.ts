/**
 * Helpers for tests with real worker threads: shared memory cells both threads see, so a test
 * can tell when a job started and release it, with every real wait bounded.
 *
 * The job functions here are sent to workers as source text: each is self-contained.
 */
import assert from "node:assert/strict";

/** Cells of a job's shared memory: `[started, gate, finished, runs]`. */
export const STARTED = 0;
export const GATE = 1;
export const FINISHED = 2;
export const RUNS = 3;

/** Int32 cells in a `SharedArrayBuffer`: passed to a worker, they are shared, not copied. */
export function cells(count = 4): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * count));
}

/** Waits, without blocking the main thread, until `cell[index] >= value`; fails after `ms`. */
export async function until(cell: Int32Array, index: number, value: number, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (Atomics.load(cell, index) < value) {
    if (performance.now() > deadline) {
      assert.fail(`cell ${index} is ${Atomics.load(cell, index)} after ${ms} ms, expected ${value}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Opens `cell[index]` for the jobs blocked on it. */
export function open(cell: Int32Array, index = GATE): void {
  Atomics.store(cell, index, 1);
  Atomics.notify(cell, index);
}

/**
 * A job: counts itself started, blocks its thread until the gate opens (at most 5 s), counts
 * itself finished, and returns `result`.
 */
export function blockUntilOpen<T>(cell: Int32Array, result: T): T {
  Atomics.add(cell, 0, 1);
  Atomics.notify(cell, 0);
  Atomics.wait(cell, 1, 0, 5000);
  Atomics.add(cell, 2, 1);
  Atomics.notify(cell, 2);
  return result;
}

/** A job that only counts its runs in cell 3. */
export function countRun(cell: Int32Array): number {
  return Atomics.add(cell, 3, 1) + 1;
}

/** A job that blocks its thread for `ms` milliseconds, like Python's `time.sleep`. */
export function blockFor(ms: number): number {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return ms;
}

/** The rejection of `aw` (fails when it resolves). */
export async function rejection(aw: PromiseLike<unknown>): Promise<unknown> {
  try {
    await aw;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}
