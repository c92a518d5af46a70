/**
 * `CapacityLimiter`: Trio's (and AnyIO's) sack of tokens, which knows who borrowed each one.
 *
 * HOW: a semaphore whose permits have owners. An explicit borrower (any value, compared by
 * identity: a task, a connection, a string) holds at most one token; `acquire()` and `hold()`
 * borrow on behalf of a fresh, anonymous borrower each time, so that two `Promise.all`
 * branches of one task can each hold a token and `release()` gives back any one of the
 * anonymous tokens. Waiters park in the shared FIFO waiter queue. A token is handed over when
 * the waiter is woken (its borrower holds it from then on), and `locked()` stays true while
 * anyone waits, so a newcomer never takes a token ahead of the queue. A waiter woken and then
 * cancelled before it ran gives its token back, to the next waiter (the queue's `onLost`).
 * Raising `totalTokens` wakes as many waiters as there are new tokens; lowering it takes no
 * token back: the borrowers keep theirs, and nobody is let in until enough are returned.
 *
 * Invariant: `#borrowed` is `#anonymous` plus the explicit borrowers holding a token
 * (`#borrowers` entries that are `HOLDING`); a parked waiter holds nothing; no waiter stays
 * parked while a token is free (whatever frees one wakes the queue).
 */
import type { EventLoop } from "../events/loop.js";
import { _requireRunningLoop } from "../events/running.js";
import type { Future } from "../futures.js";
import { RuntimeError } from "../errors.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { describe } from "../internal/validate.js";
import { Waiter, WaiterQueue } from "../internal/waiters.js";
import { Acquirable, RESOLVED_TRUE, bindLoop } from "./mixins.js";

/** What `#borrowers` maps an explicit borrower holding a token to. */
const HOLDING = "holding";

/** A parked acquisition: whom the token is for (`ANONYMOUS` for `acquire()`). */
class TokenWaiter extends Waiter<true> {
  readonly borrower: unknown;

  constructor(loop: EventLoop, queue: WaiterQueue<TokenWaiter, true>, borrower: unknown, onLost: () => void) {
    super(loop, queue as unknown as WaiterQueue<Waiter<true>, true>, onLost);
    this.borrower = borrower;
  }
}

/** The borrower of `acquire()`/`release()`: one per acquisition, all interchangeable. */
const ANONYMOUS: unique symbol = Symbol("anonymous borrower");

/** A number of tokens: an integer ≥ 0, or `Infinity`. */
function checkTokens(name: string, value: unknown): number {
  if (typeof value !== "number" || (!Number.isInteger(value) && value !== Infinity)) {
    throw new TypeError(`\`${name}\` must be an integer or Infinity, got ${describe(value)}`);
  }
  if (value < 0) throw new RangeError(`\`${name}\` must be >= 0, got ${value}`);
  return value;
}

/**
 * A limit on how many tasks (or anything else) may use a resource at once, which knows who
 * holds each of its tokens: `new CapacityLimiter(10)` lets at most ten borrowers in.
 *
 * `acquire()`/`release()`/`hold()`/`withLock()` borrow and return a token on behalf of the
 * acquisition itself (one borrower per `acquire()`, so `Promise.all` branches of one task can
 * each hold a token). `acquireOnBehalfOf(borrower)`/`releaseOnBehalfOf(borrower)` name the
 * borrower (a task, a connection, any value, compared by identity); a borrower holds at most
 * one token, and asking for a second is a {@link RuntimeError}, as in Trio. `totalTokens` can
 * be changed at any time: raising it lets waiting tasks in at once; lowering it takes no token
 * back. Fair: tokens go to waiting tasks in FIFO order, and nobody jumps the queue.
 *
 * @throws {TypeError} / {@link RangeError} from the constructor when `totalTokens` is not an
 * integer ≥ 0 or `Infinity`.
 *
 * @example
 * const limiter = new CapacityLimiter(4);
 * await gather(...files.map((f) => () => limiter.withLock(() => convert(f))));
 *
 * Not in asyncio: Trio's `trio.CapacityLimiter` (AnyIO's `anyio.CapacityLimiter`).
 */
export class CapacityLimiter extends Acquirable {
  #total: number;
  /** Tokens held, by anyone. */
  #borrowed = 0;
  /** Tokens held by `acquire()`s. */
  #anonymous = 0;
  /** Explicit borrowers: `HOLDING`, or the waiter that waits for their token. */
  readonly #borrowers = new Map<unknown, TokenWaiter | typeof HOLDING>();
  #waiters: WaiterQueue<TokenWaiter, true> | null = null;
  #loop: EventLoop | null = null;

  /** A limiter with `totalTokens` tokens (an integer ≥ 0, or `Infinity`). */
  constructor(totalTokens: number) {
    super();
    this.#total = checkTokens("totalTokens", totalTokens);
  }

  /**
   * How many tokens there are. Setting it raises or lowers the limit at once: raising it wakes
   * as many waiting tasks as there are new free tokens; lowering it takes no token back.
   *
   * @throws {TypeError} / {@link RangeError} when set to anything but an integer ≥ 0 or `Infinity`.
   */
  get totalTokens(): number {
    return this.#total;
  }

  /** Sets the number of tokens: raising it lets waiting tasks in at once; lowering it takes none back. */
  set totalTokens(value: number) {
    this.#total = checkTokens("totalTokens", value);
    this.#wakeWaiters();
  }

  /** How many tokens are held now (it may exceed `totalTokens` just after it was lowered). */
  get borrowedTokens(): number {
    return this.#borrowed;
  }

  /** How many tokens are free now: `totalTokens - borrowedTokens`, never below 0. */
  get availableTokens(): number {
    return Math.max(0, this.#total - this.#borrowed);
  }

  /** Whether an acquisition would have to wait: no token is free, or tasks are waiting (FIFO). */
  locked(): boolean {
    return (this.#waiters?.size ?? 0) > 0 || this.availableTokens === 0;
  }

  /**
   * Borrows a token on behalf of this acquisition, waiting while none is free (or others wait
   * first), and resolves `true`. Give it back with `release()`.
   *
   * **Cancellation**: cancelling the waiting task takes it out of the queue; the others keep
   * their order. If a token had already been handed to it but it had not resumed yet, the
   * token goes to the next waiter (or back to the limiter). An acquisition that does not have
   * to wait does not suspend, so it is not a cancellation point (as `Semaphore.acquire()`).
   *
   * @throws {RuntimeError} when no loop runs, or when it must wait and the limiter is bound to
   * another loop.
   *
   * Trio: `CapacityLimiter.acquire()` (whose default borrower is the task).
   */
  acquire(): PromiseLike<true> {
    return this.#acquire(ANONYMOUS);
  }

  /**
   * Borrows a token on behalf of `borrower` (any value but `undefined`, compared by identity),
   * waiting while none is free, and resolves `true`. Give it back with
   * `releaseOnBehalfOf(borrower)`.
   *
   * **Cancellation**: as {@link CapacityLimiter.acquire}: a cancelled waiter leaves the queue
   * and `borrower` holds nothing; a token handed to it before it resumed goes to the next one.
   *
   * @throws {RuntimeError} when `borrower` already holds a token of this limiter or waits for
   * one; when no loop runs.
   * @throws {TypeError} when `borrower` is `undefined`.
   *
   * Trio: `CapacityLimiter.acquire_on_behalf_of(borrower)`.
   */
  acquireOnBehalfOf(borrower: unknown): PromiseLike<true> {
    if (borrower === undefined) throw new TypeError("`borrower` must be a value, got undefined");
    const state = this.#borrowers.get(borrower);
    if (state === HOLDING || (state !== undefined && !state.done())) {
      throw new RuntimeError(
        `${describe(borrower)} is already ${state === HOLDING ? "holding" : "waiting for"} one of the tokens of ${this.toString()}`,
      );
    }
    return this.#acquire(borrower);
  }

  /**
   * Gives back a token taken by `acquire()` (or `hold()`), handing it to the first waiting
   * task if there is one.
   *
   * @throws {RuntimeError} when no token taken by `acquire()` is held.
   *
   * Trio: `CapacityLimiter.release()`.
   */
  release(): void {
    if (this.#anonymous === 0) {
      throw new RuntimeError(`release() of ${this.toString()}: no token taken by acquire() is held`);
    }
    this.#anonymous--;
    this.#borrowed--;
    this.#wakeWaiters();
  }

  /**
   * Gives back the token `borrower` holds, handing it to the first waiting task if there is one.
   *
   * @throws {RuntimeError} when `borrower` holds no token of this limiter.
   *
   * Trio: `CapacityLimiter.release_on_behalf_of(borrower)`.
   */
  releaseOnBehalfOf(borrower: unknown): void {
    if (this.#borrowers.get(borrower) !== HOLDING) {
      throw new RuntimeError(`${describe(borrower)} holds none of the tokens of ${this.toString()}`);
    }
    this.#borrowers.delete(borrower);
    this.#borrowed--;
    this.#wakeWaiters();
  }

  #acquire(borrower: unknown): PromiseLike<true> {
    _requireRunningLoop();
    if (!this.locked()) {
      this.#take(borrower);
      return RESOLVED_TRUE;
    }
    this.#loop = bindLoop(this.#loop, this);
    const waiters = (this.#waiters ??= new WaiterQueue(this));
    // Woken, then cancelled before it resumed: the token goes back, to the next waiter.
    const onLost = (): void => this.#giveBack(borrower);
    const waiter = new TokenWaiter(this.#loop, waiters, borrower, onLost);
    if (borrower !== ANONYMOUS) {
      this.#borrowers.set(borrower, waiter);
      waiter._addInternalCallback(this.#forgetCancelled);
    }
    return waiter;
  }

  /** A cancelled explicit waiter no longer waits: its borrower may ask again. */
  #forgetCancelled = (waiter: Future<true>): void => {
    const borrower = (waiter as TokenWaiter).borrower;
    if (waiter.cancelled() && this.#borrowers.get(borrower) === waiter) this.#borrowers.delete(borrower);
  };

  #take(borrower: unknown): void {
    this.#borrowed++;
    if (borrower === ANONYMOUS) this.#anonymous++;
    else this.#borrowers.set(borrower, HOLDING);
  }

  #giveBack(borrower: unknown): void {
    this.#borrowed--;
    if (borrower === ANONYMOUS) this.#anonymous--;
    else this.#borrowers.delete(borrower);
    this.#wakeWaiters();
  }

  /** Hands free tokens to the first parked waiters, in order. */
  #wakeWaiters(): void {
    const waiters = this.#waiters;
    if (waiters === null) return;
    while (waiters.size > 0 && this.#borrowed < this.#total) {
      this.#take((waiters.first() as TokenWaiter).borrower);
      waiters.wakeFirst(true);
    }
  }

  /** `<CapacityLimiter [borrowed:2/10]>`, `<CapacityLimiter [borrowed:10/10, waiters:3]>`. */
  override toString(): string {
    const waiting = this.#waiters?.size ?? 0;
    let state = `borrowed:${this.#borrowed}/${this.#total}`;
    if (waiting > 0) state += `, waiters:${waiting}`;
    return formatRepr("CapacityLimiter", [`[${state}]`]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
