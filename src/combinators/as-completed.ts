/**
 * `asCompleted`: take results in the order they complete.
 *
 * HOW (CPython 3.13's `_AsCompletedIterator`): each awaitable gets a done callback that moves
 * it to a FIFO of completed ones; each turn of the iteration takes the oldest. The plain
 * iterator hands out lazy coroutines (asyncio's `_wait_for_one()`), so whichever is awaited
 * first gets the first completion; the async iterator yields the completed awaitables.
 *
 * WHY the detach: a finished iterator must not stay on what it waited for (the `Promise.race`
 * leak). It takes its callbacks and timer off when everything came out, when the timeout
 * passed, and when an iteration ends early (`break` calls the iterator's `return()`). An
 * iteration that is resumed after a `break` attaches again, so resuming works as in asyncio;
 * what completed while detached comes out first, in the order given.
 */
import { type Coroutine, coroutine, isCoroutine } from "../coroutines.js";
import { TimeoutError } from "../errors.js";
import type { TimerHandle } from "../events/handles.js";
import type { EventLoop } from "../events/loop.js";
import { getRunningLoop } from "../events/running.js";
import { type Future, Waiter, isFuture } from "../futures.js";
import { Deque } from "../internal/deque.js";
import { checkAwaitable, checkOptionalDelay, checkOptions, describe } from "../internal/validate.js";
import { WaiterQueue } from "../internal/waiters.js";
import { type Awaitable, type AwaitableResult, _ensureFutureOn } from "../tasks.js";
import type { WaitItem } from "./wait.js";

/** Options of {@link asCompleted}. */
export interface AsCompletedOptions {
  /** Seconds until the remaining awaits reject with `TimeoutError`; default: no limit. */
  timeout?: number | null;
}

const AS_COMPLETED_KEYS = ["timeout"] as const satisfies readonly (keyof AsCompletedOptions)[];

/**
 * What `for await` over {@link asCompleted} gives: the completed awaitable itself, as passed in
 * (a future, task or promise) or the task made for a thunk or coroutine, typed with its `then`
 * hidden (`then: never`). It is done: read a future or task with `result()`. To await it (a
 * promise passed in) or hand it on, widen it first: `const task: Task<T> = item`.
 *
 * WHY `then` is hidden: TypeScript types the variable of `for await` as the *awaited* type of
 * what the async iterator yields (`Task<string>` would come out as `string`), though the loop
 * never awaits the values at run time; TypeScript 5.9 and 6.0 even do it only sometimes,
 * depending on which loop over the same type was checked first. Only a value whose type is not
 * thenable comes out of `for await` as itself. The object keeps its `then` at run time.
 */
export type AsCompletedItem<A> = WaitItem<A> & {
  /** Hidden from the type (see above); still there at run time. */
  readonly then: never;
};

/**
 * What `asCompleted` returns. Iterate it synchronously for lazy coroutines that resolve to
 * the results in completion order, or with `for await` for the awaitables themselves as they
 * complete ({@link AsCompletedItem}). Iterating it again after a `break` resumes where it
 * stopped.
 */
export interface AsCompleted<A>
  extends Iterable<Coroutine<AwaitableResult<A>>>,
    AsyncIterable<AsCompletedItem<A>> {}

const TIMED_OUT = Symbol("timed out");

class AsCompletedIterator<A> implements AsCompleted<A> {
  readonly #loop: EventLoop;
  /** Future → what the async iterator yields for it (the input, or the task made for it). */
  readonly #keys = new Map<Future<unknown>, unknown>();
  /** Not completed yet, in input order. */
  readonly #todo = new Set<Future<unknown>>();
  readonly #done = new Deque<Future<unknown> | typeof TIMED_OUT>();
  readonly #getters: WaiterQueue<Waiter<void>, void> = new WaiterQueue();
  readonly #deadline: number | null;
  /** The `timeout` given, for the error's message. */
  readonly #timeout: number | null;
  /** How many awaitables were not done when the timeout passed. */
  #notDone = 0;
  /** asyncio's `_wait_for_one(resolve=True)`: what the plain iterator hands out. */
  readonly #waitForOne: () => Coroutine<unknown>;
  #left: number;
  #attached = false;
  #timer: TimerHandle | null = null;

  constructor(aws: unknown[], timeout: number | null) {
    const loop = getRunningLoop();
    this.#loop = loop;
    const next = (): Promise<{ future: Future<unknown> }> => this.#next();
    this.#waitForOne = coroutine(async function waitForOne() {
      return (await next()).future.result();
    });
    for (const aw of aws) {
      const fut = _ensureFutureOn(aw as Awaitable<unknown>, loop);
      this.#keys.set(fut, typeof aw === "function" || isCoroutine(aw) ? fut : aw);
      this.#todo.add(fut);
    }
    this.#left = this.#todo.size;
    this.#timeout = timeout;
    this.#deadline = this.#todo.size > 0 && timeout !== null ? loop.time() + timeout : null;
    this.#attach();
  }

  [Symbol.iterator](): Iterator<Coroutine<AwaitableResult<A>>> {
    return {
      next: (): IteratorResult<Coroutine<AwaitableResult<A>>> => {
        if (this.#left === 0) return { done: true, value: undefined };
        this.#left--;
        return { done: false, value: this.#waitForOne() as Coroutine<AwaitableResult<A>> };
      },
      return: (): IteratorResult<Coroutine<AwaitableResult<A>>> => {
        this.#detach();
        return { done: true, value: undefined };
      },
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<AsCompletedItem<A>> {
    return {
      next: async (): Promise<IteratorResult<AsCompletedItem<A>>> => {
        if (this.#left === 0) return { done: true, value: undefined };
        this.#left--;
        const { future } = await this.#next();
        return { done: false, value: this.#keys.get(future) as AsCompletedItem<A> };
      },
      return: async (): Promise<IteratorResult<AsCompletedItem<A>>> => {
        this.#detach();
        return { done: true, value: undefined };
      },
    };
  }

  /**
   * The next completed future, boxed: an async function that returned the future itself would
   * resolve to its result (a returned thenable is adopted). Rejects on timeout.
   */
  async #next(): Promise<{ future: Future<unknown> }> {
    this.#attach();
    while (this.#done.length === 0) {
      await new Waiter<void>(this.#loop, this.#getters, this.#passOn);
    }
    const fut = this.#done.shift() as Future<unknown> | typeof TIMED_OUT;
    if (fut === TIMED_OUT) {
      this.#done.unshift(TIMED_OUT); // every later await times out too
      const n = this.#notDone;
      throw new TimeoutError(
        `asCompleted() timeout of ${this.#timeout} s expired with ${n} awaitable${n === 1 ? "" : "s"} not done`,
      );
    }
    return { future: fut };
  }

  /** Puts the callbacks and the timer on what is not done yet (again, after a detach). */
  #attach(): void {
    if (this.#attached || this.#todo.size === 0) return;
    this.#attached = true;
    for (const fut of Array.from(this.#todo)) {
      if (fut.done()) this.#complete(fut);
      else fut._addInternalCallback(this.#onCompletion);
    }
    const deadline = this.#deadline;
    if (deadline !== null && this.#todo.size > 0) {
      if (deadline <= this.#loop.time()) this.#onTimeout();
      else this.#timer = this.#loop.callAt(deadline, this.#onTimeout);
    }
  }

  /** Takes every callback and the timer off: the iterator holds on to nothing. */
  #detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    for (const fut of this.#todo) fut.removeDoneCallback(this.#onCompletion);
    this.#timer?.cancel();
    this.#timer = null;
  }

  /** A woken getter was cancelled before it took its item: wake the next one. */
  #passOn = (): void => {
    if (this.#done.length > 0) this.#getters.wakeFirst(undefined);
  };

  #complete(fut: Future<unknown>): void {
    if (!this.#todo.delete(fut)) return;
    this.#done.push(fut);
    this.#getters.wakeFirst(undefined);
    if (this.#todo.size === 0) {
      this.#attached = false;
      this.#timer?.cancel();
      this.#timer = null;
    }
  }

  #onCompletion = (fut: Future<unknown>): void => {
    if (this.#attached) this.#complete(fut);
  };

  #onTimeout = (): void => {
    this.#timer = null;
    this.#detach();
    this.#notDone = this.#todo.size;
    this.#todo.clear();
    this.#done.push(TIMED_OUT);
    this.#getters.wakeAll(undefined);
  };
}

/**
 * Runs `aws` concurrently and gives their outcomes in the order they complete.
 *
 * - `for (const next of asCompleted(aws)) { const result = await next; }` — each `next` is a
 *   lazy coroutine: the first one awaited resolves to the earliest result not yet taken (or
 *   rejects with its error), whichever position it had.
 * - `for await (const fut of asCompleted(aws)) { fut.result(); }` — yields the awaitables
 *   themselves as they complete: the futures and promises passed in, and the tasks made for
 *   thunks and coroutines (3.13).
 *
 * An awaitable given twice is waited for once. When `timeout` seconds pass first, every
 * remaining await rejects with `TimeoutError`; the awaitables are not cancelled. Once
 * everything came out, the timeout passed, or the iteration ended early (`break`), the
 * iterator holds no listener on what it waited for; iterating it again resumes.
 *
 * **Cancellation**: cancelling a task awaiting the next result stops that wait only (it uses
 * up that turn, as in asyncio); the result stays for the next await.
 *
 * @throws {TypeError} synchronously when `aws` is a single future or not an iterable of
 * awaitables; {@link RangeError} for a NaN timeout.
 * @throws {RuntimeError} synchronously when no loop is running.
 *
 * @example
 * for await (const task of asCompleted([() => fetchA(), () => fetchB()], { timeout: 5 })) {
 *   console.log(task.result());
 * }
 *
 * asyncio: `asyncio.as_completed(aws, *, timeout=None)` (3.13).
 */
export function asCompleted<A extends Awaitable<unknown>>(
  aws: Iterable<A>,
  options: AsCompletedOptions = {},
): AsCompleted<A> {
  if (isFuture(aws) || isCoroutine(aws)) {
    throw new TypeError("expect an iterable of futures, not a single awaitable");
  }
  if (aws === null || typeof (aws as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function") {
    throw new TypeError(`\`aws\` must be an iterable of awaitables, got ${describe(aws)}`);
  }
  checkOptions("asCompleted()", options, AS_COMPLETED_KEYS);
  const timeout = checkOptionalDelay("timeout", options.timeout);
  const list = Array.from(new Set(aws));
  list.forEach((aw, i) => checkAwaitable(`asCompleted(): element ${i} of \`aws\``, aw));
  return new AsCompletedIterator<A>(list, timeout);
}
