// Type tests of `asCompleted`'s two iterations, checked by `tsc --noEmit` (tsconfig.json
// includes test/); never run. See ./combinators.ts for `Equal` and `expectType`.
//
// `for await` yields the awaitables themselves (the tasks made for thunks), and TypeScript types
// the variable of `for await` as the awaited type of what is yielded, on some paths only
// (TypeScript 5.9 and 6.0 depend on which loop over the same type was checked first; 7 always
// awaits). `AsCompletedItem` hides `then` so that the variable is the task, whatever the order:
// each function below iterates a type in a different order, and each must see the same types.
import {
  type AsCompletedItem,
  type Coroutine,
  type Future,
  type Task,
  asCompleted,
  createTask,
  gather,
  getRunningLoop,
  sleep,
} from "../../src/index.js";
import { type Equal, expectType } from "./combinators.js";

/** Never called: the snippet of docs/tasks-and-cancellation.md, `for await` alone. */
export async function forAwaitOnly(): Promise<void> {
  const tasks = [createTask(() => sleep(0.2, "slow")), createTask(() => sleep(0.1, "quick"))];
  for await (const task of asCompleted(tasks)) {
    expectType<Equal<typeof task, AsCompletedItem<Task<string>>>>(task);
    const result: string = task.result();
    const asTask: Task<string> = task;
    void result;
    void asTask;
  }
}

/** Never called: `for…of` first, then `for await`, over the same type (AsCompleted<Task<number>>). */
export async function syncThenAsync(): Promise<void> {
  const tasks: Task<number>[] = [createTask(() => sleep(0.1, 1))];
  for (const next of asCompleted(tasks)) {
    expectType<Equal<typeof next, Coroutine<number>>>(next);
    expectType<Equal<Awaited<typeof next>, number>>(next);
  }
  for await (const task of asCompleted(tasks)) {
    expectType<Equal<typeof task, AsCompletedItem<Task<number>>>>(task);
    expectType<Equal<ReturnType<typeof task.result>, number>>(task);
  }
  const it = asCompleted(tasks);
  for (const next of it) expectType<Equal<typeof next, Coroutine<number>>>(next);
  for await (const task of it) expectType<Equal<typeof task, AsCompletedItem<Task<number>>>>(task);
  const spread = [...asCompleted(tasks)];
  expectType<Equal<typeof spread, Coroutine<number>[]>>(spread);
}

/** Never called: `for await` first, then `for…of`, over the same type (AsCompleted<Task<boolean>>). */
export async function asyncThenSync(): Promise<void> {
  const tasks: Task<boolean>[] = [createTask(async () => true)];
  for await (const task of asCompleted(tasks)) {
    expectType<Equal<typeof task, AsCompletedItem<Task<boolean>>>>(task);
  }
  for (const next of asCompleted(tasks)) expectType<Equal<typeof next, Coroutine<boolean>>>(next);
  for await (const task of asCompleted(tasks)) {
    expectType<Equal<typeof task, AsCompletedItem<Task<boolean>>>>(task);
  }
}

/** Never called: what each input comes back as, and what can be done with it. */
export async function itemTypes(): Promise<void> {
  const fut = getRunningLoop().createFuture<bigint>();
  const promise = Promise.resolve(null);
  const it = asCompleted([() => sleep(1, "x"), fut, promise]);
  for await (const item of it) {
    expectType<
      Equal<
        typeof item,
        AsCompletedItem<Task<string>> | AsCompletedItem<Future<bigint>> | AsCompletedItem<Promise<null>>
      >
    >(item);
    if (item instanceof Promise) continue;
    const value: string | bigint = item.result();
    void value;
    // The item is the object passed in, or a task: widened, it goes wherever that goes.
    const widened: Task<string> | Future<bigint> = item;
    const [again] = await gather(widened);
    expectType<Equal<typeof again, string | bigint>>(again);
    // @ts-expect-error `then` is hidden: the item is done, read it with `result()`
    void item.then(() => 1);
  }
  for (const next of it) {
    expectType<Equal<typeof next, Coroutine<string | bigint | null>>>(next);
    const value = await next;
    expectType<Equal<typeof value, string | bigint | null>>(value);
  }
}
