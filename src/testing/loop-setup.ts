/**
 * How an explorer reaches the loop of the run it starts: `runTest` makes the loop inside
 * `run()`, so the explorer leaves a setup here for the next test loop `runTest` makes.
 */
import type { TestLoop } from "../testing.js";

let nextLoopSetup: ((loop: TestLoop) => void) | null = null;

/**
 * @internal Runs `fn` (which calls `runTest` once, synchronously) with `setup` applied to the
 * loop that `runTest` makes.
 */
export function _withTestLoop<R>(setup: (loop: TestLoop) => void, fn: () => R): R {
  nextLoopSetup = setup;
  try {
    return fn();
  } finally {
    nextLoopSetup = null;
  }
}

/** @internal The setup for the loop `runTest` is about to make, if any; it applies once. */
export function _takeLoopSetup(): ((loop: TestLoop) => void) | null {
  const setup = nextLoopSetup;
  nextLoopSetup = null;
  return setup;
}
