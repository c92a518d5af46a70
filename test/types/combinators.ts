// Type tests, checked by `tsc --noEmit` (tsconfig.json includes test/); never run. Each
// `expectType<Equal<A, B>>()` fails to compile unless A and B are the same type, and each
// `@ts-expect-error` line must not compile.
import {
  type AsCompleted,
  type AsCompletedItem,
  type Coroutine,
  type Future,
  type GatheringFuture,
  Runner,
  type Task,
  type TaskGroup,
  type Timeout,
  type WaitResult,
  asCompleted,
  coroutine,
  createTask,
  gather,
  gatherAll,
  getRunningLoop,
  run,
  shield,
  sleep,
  taskGroup,
  timeout,
  timeoutAt,
  wait,
  waitFor,
} from "../../src/index.js";

/** True when A and B are exactly the same type. */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `T` is `true`; takes the values it speaks of, so they count as used. */
export function expectType<T extends true>(..._values: unknown[]): T | void {}

/** Never called: only type-checked. */
export async function gatherTypes(): Promise<void> {
  const n = gather(() => Promise.resolve(1), sleep(1, "x"));
  expectType<Equal<typeof n, GatheringFuture<[number, string]>>>(n);
  const asFuture: Future<[number, string]> = n;
  expectType<Equal<Awaited<typeof n>, [number, string]>>(n);
  expectType<Equal<ReturnType<typeof n.result>, [number, string]>>(n);

  const settled = gather(() => Promise.resolve(1), sleep(1, "x"), { returnExceptions: true });
  expectType<Equal<typeof settled, GatheringFuture<[number | Error, string | Error]>>>(settled);
  expectType<Equal<Awaited<typeof settled>, [number | Error, string | Error]>>(settled);

  const plain = gather(() => Promise.resolve(1), { returnExceptions: false });
  expectType<Equal<Awaited<typeof plain>, [number]>>(plain);
  const flag: boolean = Math.random() > 0.5;
  const either = gather(() => Promise.resolve(1), { returnExceptions: flag });
  expectType<Equal<Awaited<typeof either>, [number] | [number | Error]>>(either);

  const none = gather();
  expectType<Equal<Awaited<typeof none>, []>>(none);

  const task: Task<boolean> = createTask(async () => true);
  const coro = coroutine(async (s: string) => s.length)("abc");
  const fut: Future<bigint> = getRunningLoop().createFuture<bigint>();
  const mixed = gather(task, coro, fut, Promise.resolve(null), async () => [1, 2]);
  expectType<Equal<Awaited<typeof mixed>, [boolean, number, bigint, null, number[]]>>(mixed);

  const many: Future<number>[] = [];
  const spread = gather(...many);
  expectType<Equal<Awaited<typeof spread>, number[]>>(spread);

  const [a, b] = await gather(sleep(1, 1), sleep(1, "b"));
  expectType<Equal<typeof a, number>>(a);
  expectType<Equal<typeof b, string>>(b);

  // @ts-expect-error a number is not an awaitable
  gather(42);
  // @ts-expect-error a thunk must return an awaitable
  gather(() => 42);
  // @ts-expect-error with returnExceptions, entries may be errors
  const strict: [number, string] = await gather(sleep(0, 1), sleep(0, "x"), { returnExceptions: true });
  void asFuture;
  void strict;
}

export async function createTaskTypes(): Promise<void> {
  const t1 = createTask(() => sleep(1, 5));
  expectType<Equal<typeof t1, Task<number>>>(t1);
  const t2 = createTask(async () => "s", { name: "named" });
  expectType<Equal<typeof t2, Task<string>>>(t2);
  const t3 = createTask(coroutine(async (n: number) => n * 2)(21));
  expectType<Equal<typeof t3, Task<number>>>(t3);
  const t4 = createTask(Promise.resolve(true));
  expectType<Equal<typeof t4, Task<boolean>>>(t4);
  const t5 = createTask(async () => {});
  expectType<Equal<typeof t5, Task<void>>>(t5);
  expectType<Equal<Awaited<typeof t1>, number>>(t1);
  expectType<Equal<ReturnType<typeof t2.result>, string>>(t2);

  // @ts-expect-error not an awaitable
  createTask(5);
  // @ts-expect-error a thunk must return an awaitable
  createTask(() => 5);
  // @ts-expect-error the name is a string
  createTask(async () => 1, { name: 1 });
}

export async function taskGroupTypes(): Promise<void> {
  const r1 = taskGroup(async (tg) => {
    expectType<Equal<typeof tg, TaskGroup>>(tg);
    const t = tg.createTask(() => sleep(1, 1n));
    expectType<Equal<typeof t, Task<bigint>>>(t);
    const c = tg.createTask(coroutine(async () => "c")(), { name: "c" });
    expectType<Equal<typeof c, Task<string>>>(c);
    return [t, c] as const;
  });
  expectType<Equal<typeof r1, Promise<readonly [Task<bigint>, Task<string>]>>>(r1);
  const r2 = taskGroup(() => 42);
  expectType<Equal<typeof r2, Promise<number>>>(r2);
  const r3 = taskGroup(async () => {});
  expectType<Equal<typeof r3, Promise<void>>>(r3);

  await taskGroup((tg) => {
    // @ts-expect-error not an awaitable
    tg.createTask(42);
    tg.cancel();
  });
  // @ts-expect-error the body is a function
  taskGroup(42);
}

export async function waitTypes(): Promise<void> {
  const task: Task<number> = createTask(() => sleep(1, 1));
  const fut: Future<string> = getRunningLoop().createFuture<string>();
  const promise: Promise<boolean> = Promise.resolve(true);

  const r1 = await wait([task, task]);
  expectType<Equal<typeof r1, WaitResult<Task<number>>>>(r1);
  expectType<Equal<typeof r1.done, Set<Task<number>>>>(r1);

  // A thunk is represented by the task made for it; futures and promises by themselves.
  const r2 = await wait([fut, promise, () => sleep(1, 1n)], { timeout: 1, returnWhen: "FIRST_COMPLETED" });
  expectType<Equal<typeof r2.pending, Set<Future<string> | Promise<boolean> | Task<bigint>>>>(r2);

  const r3 = await wait([coroutine(async () => 1)()]);
  expectType<Equal<typeof r3.done, Set<Task<number>>>>(r3);

  // @ts-expect-error a single future is not an iterable of awaitables
  wait(fut);
  // @ts-expect-error an unknown returnWhen
  wait([fut], { returnWhen: "FIRST_FAILURE" });
}

export async function waitForShieldTypes(): Promise<void> {
  const r1 = waitFor(() => sleep(1, 1), 1);
  expectType<Equal<typeof r1, Promise<number>>>(r1);
  const r2 = waitFor(getRunningLoop().createFuture<string>(), null);
  expectType<Equal<typeof r2, Promise<string>>>(r2);
  // @ts-expect-error the timeout is required (null for none), as in asyncio
  waitFor(sleep(1));
  // @ts-expect-error the timeout is a number of seconds
  waitFor(sleep(1), "1");

  const s1 = shield(createTask(async () => 1));
  expectType<Equal<typeof s1, Future<number>>>(s1);
  const s2 = shield(() => sleep(1, "x"));
  expectType<Equal<typeof s2, Future<string>>>(s2);
}

export async function asCompletedTypes(): Promise<void> {
  const task: Task<number> = createTask(() => sleep(1, 1));
  const it = asCompleted([task, () => sleep(1, "x")]);
  expectType<Equal<typeof it, AsCompleted<Task<number> | (() => Future<string>)>>>(it);
  for (const next of it) {
    expectType<Equal<typeof next, Coroutine<number | string>>>(next);
    const value = await next;
    expectType<Equal<typeof value, number | string>>(value);
  }
  for await (const done of it) {
    expectType<Equal<typeof done, AsCompletedItem<Task<number>> | AsCompletedItem<Task<string>>>>(done);
    const widened: Task<number> | Task<string> = done; // the task itself (see ./as-completed.ts)
    void widened;
  }
  // @ts-expect-error the timeout is a number of seconds
  asCompleted([task], { timeout: "1" });
}

export async function timeoutTypes(): Promise<void> {
  const r1 = timeout(1, async (scope) => {
    expectType<Equal<typeof scope, Timeout>>(scope);
    expectType<Equal<ReturnType<typeof scope.when>, number | null>>(scope);
    scope.reschedule(null);
    scope.reschedule(getRunningLoop().time() + 1);
    return 1;
  });
  expectType<Equal<typeof r1, Promise<number>>>(r1);
  const r2 = timeoutAt(null, () => "sync");
  expectType<Equal<typeof r2, Promise<string>>>(r2);
  // @ts-expect-error the delay is a number of seconds or null
  timeout("1", async () => 1);
  await timeout(1, (scope) => {
    // @ts-expect-error a deadline is a number or null
    scope.reschedule("later");
  });
}

export async function runTypes(): Promise<void> {
  const r1 = run(() => sleep(0, 1));
  expectType<Equal<typeof r1, Promise<number>>>(r1);
  const r2 = run(async () => "x", { debug: true });
  expectType<Equal<typeof r2, Promise<string>>>(r2);
  await using runner = new Runner({ debug: false });
  const r3 = runner.run(coroutine(async () => true)());
  expectType<Equal<typeof r3, Promise<boolean>>>(r3);
  // @ts-expect-error not an awaitable
  run(42);
  // @ts-expect-error debug is a boolean
  run(async () => 1, { debug: "yes" });
}

/** Never called: only type-checked. */
export async function gatherAllTypes(urls: string[]): Promise<void> {
  const all = gatherAll(urls.map((url) => async () => url.length));
  expectType<Equal<typeof all, GatheringFuture<number[]>>>(all);
  const settled = gatherAll([sleep(1, "x")], { returnExceptions: true });
  expectType<Equal<typeof settled, GatheringFuture<(string | Error)[]>>>(settled);
  const values: number[] = await all;
  expectType<Equal<typeof values, number[]>>(values);
  // @ts-expect-error: not an iterable of awaitables
  gatherAll(42);
}
