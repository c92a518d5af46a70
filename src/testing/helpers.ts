/**
 * Helpers that fit `runTest` into the test runners people use, and asyncio's own test helpers
 * where they still help.
 */
import type { EventLoop } from "../events/loop.js";
import { checkFunction } from "../internal/validate.js";
import { type RunTestOptions, runTest, waitAllTasksBlocked } from "../testing.js";

/**
 * Makes a test body run under {@link runTest}: `it("…", withTestLoop(async (t) => { … }))`
 * in node:test, `test("…", withTestLoop(async () => { … }))` in vitest. The function it
 * returns passes what the runner gives it (node:test's `t`, vitest's context) to `body`, and
 * takes no `done` callback (its `length` is 0), so both runners wait for the promise.
 *
 * **Cancellation**: as {@link runTest}.
 *
 * @throws {TypeError} synchronously when `body` is not a function; the returned function
 * throws what `runTest` throws for bad options.
 *
 * @example
 * import { it } from "node:test";
 * it("times out", withTestLoop(async () => {
 *   await assert.rejects(waitFor(sleep(10), 1), TimeoutError);
 * }, { virtualTimers: true }));
 *
 * Not in asyncio: pytest-asyncio's `@pytest.mark.asyncio` plays this part for Python.
 */
export function withTestLoop<A extends unknown[]>(
  body: (...args: A) => PromiseLike<unknown>,
  options?: RunTestOptions,
): (...args: A) => Promise<void> {
  checkFunction("body", body);
  return async (...args: A): Promise<void> => {
    await runTest(() => body(...args), options);
  };
}

/**
 * Runs `loop` (one you made, not running) until every task of it is blocked, then stops it:
 * the callbacks and task steps scheduled so far, and what they schedule in turn, have run.
 * On a {@link TestLoop} with autojump it stops before the clock jumps.
 *
 * **Cancellation**: not a task's await.
 *
 * @throws {RuntimeError} (as a rejection) when the loop is closed or running, or another loop
 * runs.
 *
 * @example
 * const loop = new TestLoop();
 * const task = loop.createTask(() => queue.get());
 * await runBriefly(loop);              // the task started and now waits on the queue
 *
 * asyncio: `test_utils.run_briefly(loop)` in asyncio's own tests (which runs one step; this
 * runs until nothing is ready, which is what its callers wait for).
 */
export function runBriefly(loop: EventLoop): Promise<void> {
  return loop.runUntilComplete(() => waitAllTasksBlocked());
}
