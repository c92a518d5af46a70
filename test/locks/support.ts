// Helpers shared by the synchronisation and queue tests.
import assert from "node:assert/strict";
import { sleep } from "../../src/index.js";

/** `n` passes through the ready queue: asyncio's `await asyncio.sleep(0)`, `n` times. */
export async function ticks(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await sleep(0);
}

/** Awaits `aw` and returns the error it rejects with (fails when it resolves). */
export async function errorOf(aw: PromiseLike<unknown>): Promise<unknown> {
  try {
    await aw;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

/** Whether `aw` is still pending after the microtasks queued now have run (no loop iteration). */
export async function settlesWithoutALoopIteration(aw: PromiseLike<unknown>): Promise<boolean> {
  let settled = false;
  aw.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return settled;
}
