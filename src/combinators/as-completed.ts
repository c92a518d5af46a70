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
import { Future, isFuture } from "../futures.js";
import { Deque } from "../internal/deque.js";
import { checkAwaitable, checkOptionalDelay, checkOptions, describe } from "../internal/validate.js";
import { type Parked, WaiterQueue } from "../internal/waiters.js";
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

/** What the FIFO of completions holds: a completed future, or the mark of the timeout. */
type Completion = Future<unknown> | typeof TIMED_OUT;

/**
 * One turn of the iteration, as the awaiting code receives it: `value` is what the async
 * iterator yields (the input, or the task made for it) or, for the plain iterator, the
 * completed future itself, whose outcome the coroutine then reads.
 */
type Turn = { done: false; value: unknown };

/**
 * A turn that found nothing completed yet: parked in the iterator's FIFO of getters, woken
 * with the completion it takes (handed over directly, so no other turn can take it first).
 *
 * WHY a future of its own instead of a plain waiter and a second look at the FIFO: the
 * awaiting code receives its turn in the wake-up itself, with no async function around the
 * wait; per turn that saves two async frames and their promises. A turn woken and then
 * cancelled before its task resumed gives its completion back (`_lostWakeup`), first in line.
 */
class Getter extends Future<Turn> implements Parked<Completion> {
  readonly #owner: AsCompletedIterator<unknown>;
  readonly #forAwait: boolean;
  /** The completion this turn was woken with, until its task took it. */
  #taken: Future<unknown> | null = null;

  constructor(owner: AsCompletedIterator<unknown>, forAwait: boolean) {
    super(owner._loop);
    this.#owner = owner;
    this.#forAwait = forAwait;
    owner._getters.push(this);
  }

  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this.#owner._getters._discard();
    return true;
  }

  /** @internal Woken by the iterator with the completion it takes. */
  _wake(item: Completion): void {
    if (item === TIMED_OUT) {
      this.setException(this.#owner._timeoutError());
      return;
    }
    this.#taken = item;
    this.setResult(this.#owner._turn(item, this.#forAwait));
  }

  /** @internal Never called: the iterator fails no getter but through a timeout. */
  _fail(error: unknown): void {
    this.setException(error);
  }

  override _lostWakeup(): void {
    const item = this.#taken;
    this.#taken = null;
    if (item !== null) this.#owner._giveBack(item);
  }

  override _orderKey(): object {
    return this.#owner._getters;
  }

  override _isOperation(): boolean {
    return true;
  }
}

class AsCompletedIterator<A> implements AsCompleted<A> {
  /** @internal */ readonly _loop: EventLoop;
  /** Future made for a promise → that promise, which the async iterator yields for it. */
  readonly #keys = new Map<Future<unknown>, unknown>();
  /** Not completed yet, in input order. */
  readonly #todo = new Set<Future<unknown>>();
  /** Completed and not taken yet; while it holds a future, no getter is parked. */
  readonly #done = new Deque<Completion>();
  /** @internal The turns waiting for a completion, first come first served. */
  readonly _getters: WaiterQueue<Getter, Completion> = new WaiterQueue();
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
    this._loop = loop;
    const take = (): Turn | Getter => this.#take(false);
    this.#waitForOne = coroutine(async function waitForOne() {
      const got = take();
      const turn = got instanceof Getter ? await got : got;
      return (turn.value as Future<unknown>).result();
    });
    // An awaitable given twice is waited for once: a future is its own key in `#todo`; other
    // inputs (thunks, coroutines, promises) are remembered in `seen` only when there are any.
    let seen: Set<unknown> | null = null;
    for (const aw of aws) {
      if (isFuture(aw)) {
        this.#todo.add(_ensureFutureOn(aw, loop));
        continue;
      }
      seen ??= new Set();
      if (seen.has(aw)) continue;
      seen.add(aw);
      const fut = _ensureFutureOn(aw as Awaitable<unknown>, loop);
      if (typeof aw !== "function" && !isCoroutine(aw)) this.#keys.set(fut, aw);
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
      // Not an async function: a completion already there resolves the promise at once, and a
      // parked turn is followed by it, so `for await` awaits the getter itself (a cancel of the
      // iterating task reaches it).
      next: (): Promise<IteratorResult<AsCompletedItem<A>>> => {
        if (this.#left === 0) return Promise.resolve({ done: true, value: undefined });
        this.#left--;
        let got: Turn | Getter;
        try {
          got = this.#take(true);
        } catch (error) {
          return Promise.reject(error);
        }
        return Promise.resolve(got) as Promise<IteratorResult<AsCompletedItem<A>>>;
      },
      return: async (): Promise<IteratorResult<AsCompletedItem<A>>> => {
        this.#detach();
        return { done: true, value: undefined };
      },
    };
  }

  /**
   * One turn: the oldest completion when there is one, else a getter parked for the next.
   * Throws the `TimeoutError` once the timeout passed.
   */
  #take(forAwait: boolean): Turn | Getter {
    this.#attach();
    const item = this.#done.peekFirst();
    if (item === undefined) return new Getter(this as AsCompletedIterator<unknown>, forAwait);
    if (item === TIMED_OUT) throw this._timeoutError(); // it stays: every later turn times out too
    this.#done.shift();
    return this._turn(item, forAwait);
  }

  /** @internal What a turn that takes `fut` resolves to. */
  _turn(fut: Future<unknown>, forAwait: boolean): Turn {
    const key = forAwait && this.#keys.size > 0 ? this.#keys.get(fut) : undefined;
    return { done: false, value: key ?? fut };
  }

  /** @internal The error of a turn after the timeout passed. */
  _timeoutError(): TimeoutError {
    const n = this.#notDone;
    return new TimeoutError(
      `asCompleted() timeout of ${this.#timeout} s expired with ${n} awaitable${n === 1 ? "" : "s"} not done`,
    );
  }

  /** @internal A turn woken with `fut` was cancelled before it took it: first in line again. */
  _giveBack(fut: Future<unknown>): void {
    this.#done.unshift(fut);
    this.#serve();
  }

  /** Hands the completions to the parked getters, oldest to first; the timeout to them all. */
  #serve(): void {
    const getters = this._getters;
    const done = this.#done;
    while (getters.size > 0 && done.length > 0) {
      const item = done.peekFirst() as Completion;
      if (item !== TIMED_OUT) done.shift();
      getters.wakeFirst(item);
    }
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
      if (deadline <= this._loop.time()) this.#onTimeout();
      else this.#timer = this._loop.callAt(deadline, this.#onTimeout);
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

  #complete(fut: Future<unknown>): void {
    if (!this.#todo.delete(fut)) return;
    this.#done.push(fut);
    this.#serve();
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
    this.#serve();
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
  if (aws === null || aws === undefined || typeof (aws as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function") {
    throw new TypeError(`\`aws\` must be an iterable of awaitables, got ${describe(aws)}`);
  }
  checkOptions("asCompleted()", options, AS_COMPLETED_KEYS);
  const timeout = checkOptionalDelay("timeout", options.timeout);
  const list = Array.from(aws);
  list.forEach((aw, i) => checkAwaitable(`asCompleted(): element ${i} of \`aws\``, aw));
  return new AsCompletedIterator<A>(list, timeout);
}
