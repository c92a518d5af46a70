/**
 * Runs a scenario on the inline await path and on the general one: the library keeps a task's
 * plain await on some futures in the future itself (src/internal/inline-await.ts), and debug
 * mode always takes the general path (an await record per await). Tests of the inline path run
 * each scenario both ways and require the same log.
 */
import assert from "node:assert/strict";
import { type Task, createTask, getRunningLoop } from "../../src/index.js";
import { runTest } from "../../src/testing.js";

/** Runs `scenario` in a test loop without and with debug mode; returns both logs. */
export async function bothWays(
  scenario: (log: unknown[]) => Promise<void>,
): Promise<{ inline: unknown[]; general: unknown[] }> {
  const inline: unknown[] = [];
  const general: unknown[] = [];
  await runTest(() => scenario(inline));
  await runTest(async () => {
    getRunningLoop().setDebug(true);
    await scenario(general);
  });
  return { inline, general };
}

/** Asserts both ways logged `expected`. */
export async function expectBothWays(expected: unknown[], scenario: (log: unknown[]) => Promise<void>): Promise<void> {
  const { inline, general } = await bothWays(scenario);
  assert.deepEqual(general, expected, "the general path (debug mode)");
  assert.deepEqual(inline, expected, "the inline path");
}

/**
 * A task that awaits what `wait()` returns and logs how the await ended: "not reached" past it,
 * `["caught", name, message]` for an error (raised on), and "finally".
 */
export function loggedAwait(log: unknown[], wait: () => PromiseLike<unknown>): Task<void> {
  return createTask(async () => {
    try {
      await wait();
      log.push("not reached");
    } catch (error) {
      log.push(["caught", (error as Error).name, (error as Error).message]);
      throw error;
    } finally {
      log.push("finally");
    }
  });
}
