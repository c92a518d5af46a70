/**
 * `gather`: run awaitables concurrently and collect their results in order.
 */
import type { EventLoop } from "../events/loop.js";
import { getRunningLoop } from "../events/running.js";
import { Future, isFuture } from "../futures.js";
import { checkAwaitable, checkOptions, describe, isThenable } from "../internal/validate.js";
import { type Awaitable, type AwaitableResult, _ensureFutureOn } from "../tasks.js";

/** Options of {@link gather}. */
export interface GatherOptions {
  /** Put errors (and `CancelledError`s) in the result list instead of failing; default false. */
  returnExceptions?: boolean;
}

const GATHER_KEYS = ["returnExceptions"] as const satisfies readonly (keyof GatherOptions)[];

/** The result tuple of `gather(...aws)`. */
export type GatherResults<A extends readonly unknown[]> = {
  -readonly [K in keyof A]: AwaitableResult<A[K]>;
};

/** The result tuple of `gather(...aws, { returnExceptions: true })`: each entry a result or an error. */
export type GatherSettled<A extends readonly unknown[]> = {
  -readonly [K in keyof A]: AwaitableResult<A[K]> | Error;
};

/**
 * The future `gather` returns: cancelling it cancels every child not yet done.
 * asyncio: `_GatheringFuture`.
 */
export class GatheringFuture<T> extends Future<T> {
  readonly #children: Future<unknown>[];
  /** @internal */ _cancelRequested = false;

  /** @internal */
  constructor(children: Future<unknown>[], loop: EventLoop) {
    super({ loop });
    this.#children = children;
  }

  /**
   * Cancels every child that is not done. Returns whether any was cancelled; the gather then
   * fails with `CancelledError` once its children have finished.
   */
  override cancel(msg?: string): boolean {
    if (msg !== undefined && typeof msg !== "string") {
      throw new TypeError(`\`msg\` must be a string, got ${describe(msg)}`);
    }
    if (this.done()) return false;
    let cancelled = false;
    for (const child of this.#children) if (child.cancel(msg)) cancelled = true;
    if (cancelled) this._cancelRequested = true;
    return cancelled;
  }
}

/**
 * An object literal (its prototype `Object.prototype` or `null`) that is not a thenable: what
 * options look like. Futures, tasks, promises and coroutines are never plain.
 */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && !isThenable(value);
}

/** A plain object that is not gather's options (not last, or with a key gather does not know). */
function misplacedObject(value: Record<string, unknown>, index: number): TypeError {
  const keys = Object.keys(value).map((key) => `\`${key}\``);
  return new TypeError(
    `gather(): argument ${index} is a plain object (${keys.length === 0 ? "no keys" : `keys ${keys.join(", ")}`}), ` +
      "not an awaitable or a thunk; gather's options ({ returnExceptions }) go last",
  );
}

/**
 * Runs `aws` concurrently and resolves to the list of their results, in the order given.
 * Thunks and coroutines become tasks; the same awaitable given twice runs once.
 *
 * If one fails, the gather fails at once with that error; the others go on running (they are
 * not cancelled). With `{ returnExceptions: true }` as the last argument, errors are results.
 * A child that is cancelled counts as failing with `CancelledError` (the gather itself is not
 * cancelled).
 *
 * The last argument is the options when it is a plain object (an object literal, not a
 * thenable) whose keys are all gather's (`{}` too); a plain object anywhere else, or a last one
 * with another key (`{ returnException: true }`), is a `TypeError`, never silently ignored.
 *
 * **Cancellation**: cancelling the returned future (or the task awaiting it) cancels every
 * child not yet done; the gather then rejects with `CancelledError`.
 *
 * @throws {TypeError} synchronously when an argument is not an awaitable or a thunk, or is a
 * plain object that is not gather's options (the message names its keys and position).
 *
 * @example
 * const [user, posts] = await gather(() => getUser(id), () => getPosts(id));
 *
 * asyncio: `asyncio.gather(*aws, return_exceptions=False)`.
 */
export function gather<const A extends readonly Awaitable<unknown>[]>(
  ...aws: A
): GatheringFuture<GatherResults<A>>;
export function gather<const A extends readonly Awaitable<unknown>[]>(
  ...args: [...A, GatherOptions & { returnExceptions: true }]
): GatheringFuture<GatherSettled<A>>;
export function gather<const A extends readonly Awaitable<unknown>[]>(
  ...args: [...A, GatherOptions & { returnExceptions?: false }]
): GatheringFuture<GatherResults<A>>;
export function gather<const A extends readonly Awaitable<unknown>[]>(
  ...args: [...A, GatherOptions]
): GatheringFuture<GatherResults<A> | GatherSettled<A>>;
export function gather(...args: unknown[]): GatheringFuture<unknown[]> {
  let returnExceptions = false;
  const last = args.length - 1;
  if (last >= 0 && isPlainObject(args[last])) {
    const options: GatherOptions = args[last];
    checkOptions(`gather(): argument ${last} (the options)`, options, GATHER_KEYS);
    returnExceptions = Boolean(options.returnExceptions);
    args.pop();
  }
  for (let i = 0; i < args.length; i++) {
    const aw = args[i];
    if (typeof aw === "function" || isThenable(aw)) continue;
    if (isPlainObject(aw)) throw misplacedObject(aw, i);
    checkAwaitable(`gather(): argument ${i}`, aw);
  }
  return gatherList(args, returnExceptions);
}

/**
 * `gather` for a collection of any size (an array, a `Set`, a generator…): resolves to the
 * array of results, in the order given. Spread arguments (`gather(...list)`) overflow the stack
 * at a few hundred thousand; this takes the collection itself. Same rules as {@link gather}:
 * thunks and coroutines become tasks, the first error fails it unless `returnExceptions`.
 *
 * **Cancellation**: cancelling the returned future (or the task awaiting it) cancels every
 * child not yet done, as `gather` does.
 *
 * @throws {TypeError} synchronously when `aws` is not iterable or an entry is not an awaitable
 * or a thunk, or for an unknown option.
 *
 * @example
 * const pages = await gatherAll(urls.map((url) => () => fetchPage(url)));
 *
 * asyncio: `asyncio.gather(*aws)` over a list.
 */
export function gatherAll<T>(
  aws: Iterable<Awaitable<T>>,
  options: GatherOptions & { returnExceptions: true },
): GatheringFuture<(T | Error)[]>;
export function gatherAll<T>(
  aws: Iterable<Awaitable<T>>,
  options?: GatherOptions & { returnExceptions?: false },
): GatheringFuture<T[]>;
export function gatherAll<T>(aws: Iterable<Awaitable<T>>, options?: GatherOptions): GatheringFuture<T[] | (T | Error)[]>;
export function gatherAll(aws: Iterable<unknown>, options?: GatherOptions): GatheringFuture<unknown[]> {
  checkOptions("gatherAll()", options, GATHER_KEYS);
  if (aws === null || aws === undefined || typeof (aws as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function" || typeof aws === "string") {
    throw new TypeError(`gatherAll(): \`aws\` must be an iterable of awaitables or thunks, got ${describe(aws)}`);
  }
  const list = Array.isArray(aws) ? aws.slice() : Array.from(aws);
  for (let i = 0; i < list.length; i++) {
    const aw = list[i];
    if (typeof aw === "function" || isThenable(aw)) continue;
    checkAwaitable(`gatherAll(): entry ${i}`, aw);
  }
  return gatherList(list, options?.returnExceptions === true);
}

/** The work of `gather` and `gatherAll`: `args` are checked awaitables and thunks. */
function gatherList(args: unknown[], returnExceptions: boolean): GatheringFuture<unknown[]> {
  if (args.length === 0) {
    const outer = new GatheringFuture<unknown[]>([], getRunningLoop());
    outer.setResult([]);
    return outer;
  }

  const children: Future<unknown>[] = new Array<Future<unknown>>(args.length);
  /** The tasks made for thunks and coroutines: one given twice runs once. */
  const made = new Map<unknown, Future<unknown>>();
  const alreadyDone: Future<unknown>[] = [];
  let loop: EventLoop | undefined;
  let outer: GatheringFuture<unknown[]> | null = null;
  // A future given twice is simply followed twice (asyncio dedupes it, with the same
  // results): no map of every argument, which cost most of gather's time for 100k tasks.
  let registered = 0;
  let finished = 0;
  /** For the call graph: the children are awaited by whoever awaits the gather. */
  const graphWaiter = (): Future<unknown> | null => outer;

  /**
   * Lets go of the futures passed in from outside (the tasks made here are the gather's own):
   * read from `args`, not from a list kept for the purpose (for 100k children that list cost
   * its growth, copying every entry into ever larger arrays).
   */
  const release = (): void => {
    for (const arg of args) if (isFuture(arg) && !arg.done()) arg.removeDoneCallback(onChildDone);
  };

  const onChildDone = (child: Future<unknown>): void => {
    finished++;
    if (outer === null || outer.done()) {
      if (!child.cancelled()) child.exception(); // mark the error retrieved
      return;
    }
    if (!returnExceptions) {
      if (child.cancelled()) {
        outer.setException(child._makeCancelledError());
        release();
        return;
      }
      if (child._hasException) {
        outer.setException(child.exception());
        release();
        return;
      }
    }
    if (finished === registered) {
      const results = children.map((fut) => {
        // The child's own CancelledError (asyncio makes a new one with the same message).
        if (fut.cancelled()) return fut._makeCancelledError();
        return fut._hasException ? fut.exception() : fut.result();
      });
      if (outer._cancelRequested) outer.setException(child._makeCancelledError());
      else outer.setResult(results);
    }
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    let fut: Future<unknown>;
    if (isFuture(arg)) {
      fut = arg;
      if (loop !== undefined && fut._loop !== loop) {
        throw new RangeError(`gather(): argument ${i} belongs to a different event loop`);
      }
    } else {
      const known = made.get(arg);
      if (known !== undefined) {
        children[i] = known;
        continue;
      }
      loop ??= getRunningLoop();
      fut = _ensureFutureOn(arg as Awaitable<unknown>, loop);
      made.set(arg, fut);
    }
    loop ??= fut._loop;
    registered++;
    if (fut.done()) alreadyDone.push(fut);
    else fut._addInternalCallback(onChildDone, graphWaiter);
    children[i] = fut;
  }
  outer = new GatheringFuture<unknown[]>(children, loop as EventLoop);
  for (const fut of alreadyDone) onChildDone(fut);
  return outer;
}
