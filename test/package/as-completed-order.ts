// `for…of` over an `asCompleted(…)` first, then `for await` over one of the same type: the
// `for await` variable must still be the task. scripts/check-package.mjs type-checks this file
// on TypeScript 6 and 7 only: TypeScript 5.9 reuses the `for…of` types it cached for the type
// and gives the result type here (string), a bug of 5.9 that 6.0 fixed; docs/tasks-and-cancellation.md
// says so. Not run.
import { type AsCompletedItem, type Coroutine, type Task, asCompleted, createTask, sleep } from "asyncio-ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(..._values: unknown[]): T | void {}

export async function syncThenAsync(): Promise<void> {
  const tasks = [createTask(() => sleep(0.01, "a"))];
  for (const next of asCompleted(tasks)) expectType<Equal<typeof next, Coroutine<string>>>(next);
  for await (const task of asCompleted(tasks)) {
    expectType<Equal<typeof task, AsCompletedItem<Task<string>>>>(task);
    task.result();
  }
}
