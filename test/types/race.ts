// Type tests of `race` and `any`, checked by `tsc --noEmit` (tsconfig.json includes test/);
// never run. See ./combinators.ts for `Equal` and `expectType`.
import { type Future, type Task, any, coroutine, createTask, getRunningLoop, race, sleep } from "../../src/index.js";
import { type Equal, expectType } from "./combinators.js";

/** Never called: only type-checked. */
export async function raceTypes(): Promise<void> {
  const a = async (): Promise<number> => 1;
  const raced = race(() => a(), sleep(1, "late"));
  expectType<Equal<typeof raced, Future<number | string>>>(raced);
  const value = await race(() => a(), sleep(1, "late"));
  expectType<Equal<typeof value, number | string>>(value);

  const task: Task<boolean> = createTask(async () => true);
  const coro = coroutine(async (s: string) => s.length)("abc");
  const fut = getRunningLoop().createFuture<bigint>();
  const mixed = await race(task, coro, fut, Promise.resolve(null));
  expectType<Equal<typeof mixed, boolean | number | bigint | null>>(mixed);

  const many: Future<number>[] = [];
  const spread = await race(...many);
  expectType<Equal<typeof spread, number>>(spread);

  const first = await any(() => a(), sleep(1, "late"));
  expectType<Equal<typeof first, number | string>>(first);

  // @ts-expect-error a number is not an awaitable
  race(42);
  // @ts-expect-error there are no options
  any(sleep(1), { timeout: 1 });
}
