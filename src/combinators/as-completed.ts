/**
 * `asCompleted`: take results in the order they complete.
 */
import { isCoroutine } from "../coroutines.js";
import { TimeoutError } from "../errors.js";
import type { TimerHandle } from "../events/handles.js";
import type { EventLoop } from "../events/loop.js";
import { getRunningLoop } from "../events/running.js";
import { type Future, Waiter, isFuture } from "../futures.js";
import { Deque } from "../internal/deque.js";
import { checkAwaitable, checkOptionalDelay, checkOptions, describe } from "../internal/validate.js";
import { WaiterQueue } from "../internal/waiters.js";
import { type Awaitable, type AwaitableResult, ensureFuture } from "../tasks.js";
import type { WaitItem } from "./wait.js";

/** Options of {@link asCompleted}. */
export interface AsCompletedOptions {
  /** Seconds until the remaining awaits reject with `TimeoutError`; default: no limit. */
  timeout?: number | null;
}

/**
 * What `asCompleted` returns. Iterate it synchronously for awaitables of the results in
 * completion order, or with `for await` for the awaitables themselves as they complete.
 */
export interface AsCompleted<A> extends Iterable<Promise<AwaitableResult<A>>>, AsyncIterable<WaitItem<A>> {}

const TIMED_OUT = Symbol("timed out");

class AsCompletedIterator<A> implements AsCompleted<A> {
  readonly #loop: EventLoop;
  readonly #keys = new Map<Future<unknown>, unknown>();
  readonly #todo = new Set<Future<unknown>>();
  readonly #done = new Deque<Future<unknown> | typeof TIMED_OUT>();
  readonly #getters: WaiterQueue<Waiter<void>, void> = new WaiterQueue();
  #left: number;
  #timer: TimerHandle | null = null;

  constructor(aws: unknown[], timeout: number | null) {
    const loop = getRunningLoop();
    this.#loop = loop;
    for (const aw of aws) {
      const fut = ensureFuture(aw as Awaitable<unknown>, { loop });
      this.#keys.set(fut, typeof aw === "function" || isCoroutine(aw) ? fut : aw);
      this.#todo.add(fut);
    }
    for (const fut of this.#todo) fut._addInternalCallback(this.#onCompletion);
    if (this.#todo.size > 0 && timeout !== null) {
      this.#timer = loop.callLater(timeout, this.#onTimeout);
    }
    this.#left = this.#todo.size;
  }

  [Symbol.iterator](): Iterator<Promise<AwaitableResult<A>>> {
    return {
      next: (): IteratorResult<Promise<AwaitableResult<A>>> => {
        if (this.#left === 0) return { done: true, value: undefined };
        this.#left--;
        return { done: false, value: this.#next(true) as Promise<AwaitableResult<A>> };
      },
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<WaitItem<A>> {
    return {
      next: async (): Promise<IteratorResult<WaitItem<A>>> => {
        if (this.#left === 0) return { done: true, value: undefined };
        this.#left--;
        return { done: false, value: (await this.#next(false)) as WaitItem<A> };
      },
    };
  }

  /** The next completed awaitable (its result when `resolve`); rejects on timeout. */
  async #next(resolve: boolean): Promise<unknown> {
    while (this.#done.length === 0) {
      await new Waiter<void>(this.#loop, this.#getters, this.#passOn);
    }
    const fut = this.#done.shift() as Future<unknown> | typeof TIMED_OUT;
    if (fut === TIMED_OUT) {
      this.#done.unshift(TIMED_OUT); // every later await times out too
      throw new TimeoutError();
    }
    return resolve ? fut.result() : this.#keys.get(fut);
  }

  /** A woken getter was cancelled before it took its item: wake the next one. */
  #passOn = (): void => {
    if (this.#done.length > 0) this.#getters.wakeFirst(undefined);
  };

  #onCompletion = (fut: Future<unknown>): void => {
    if (!this.#todo.delete(fut)) return;
    this.#done.push(fut);
    this.#getters.wakeFirst(undefined);
    if (this.#todo.size === 0) {
      this.#timer?.cancel();
      this.#timer = null;
    }
  };

  #onTimeout = (): void => {
    this.#timer = null;
    for (const fut of this.#todo) fut.removeDoneCallback(this.#onCompletion);
    this.#todo.clear();
    this.#done.push(TIMED_OUT);
    this.#getters.wakeAll(undefined);
  };
}

/**
 * Runs `aws` concurrently and gives their outcomes in the order they complete.
 *
 * - `for (const next of asCompleted(aws)) { const result = await next; }` — each `next`
 *   resolves to the earliest result not yet taken (or rejects with its error).
 * - `for await (const fut of asCompleted(aws)) { fut.result(); }` — yields the awaitables
 *   themselves as they complete: the futures and promises passed in, and the tasks made for
 *   thunks and coroutines (3.13).
 *
 * When `timeout` seconds pass first, every remaining await rejects with `TimeoutError`; the
 * awaitables are not cancelled. Once it is done or timed out, the iterator holds no listener
 * on what it waited for.
 *
 * **Cancellation**: cancelling a task awaiting the next result stops that wait only; the
 * result stays for the next await.
 *
 * @throws {TypeError} synchronously when `aws` is a single future or not an iterable of
 * awaitables.
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
  checkOptions("options", options);
  const timeout = checkOptionalDelay("timeout", options.timeout);
  const list = Array.from(new Set(aws));
  list.forEach((aw, i) => checkAwaitable(`asCompleted(): element ${i} of \`aws\``, aw));
  return new AsCompletedIterator<A>(list, timeout);
}
