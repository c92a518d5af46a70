/**
 * `Condition`: wait, with a lock held, until another task says something changed.
 *
 * HOW `wait()` keeps its promise to return with the lock held (CPython 3.13): it releases the
 * lock, parks until notified, then re-acquires the lock, even when cancelled meanwhile (a
 * cancel during the re-acquire is remembered and raised once the lock is held again).
 *
 * WHY a failing `wait()` may notify another waiter: a task notified and then cancelled (before
 * it resumed, or while re-acquiring the lock) will not act on its notification, so it passes it
 * on, or the notify would be lost (CPython 3.13, gh-112202). Unlike CPython, which notifies
 * another waiter on any error, a task cancelled before it was notified passes nothing on: it
 * leaves no trace, and causes no spurious wake-up.
 */
import { RuntimeError, isCancelledError } from "../errors.js";
import type { EventLoop } from "../events/loop.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { checkFunction, checkInteger, describe } from "../internal/validate.js";
import { Waiter, WaiterQueue } from "../internal/waiters.js";
import { _asOwnTask } from "../tasks.js";
import { Lock } from "./lock.js";
import { Acquirable, bindLoop } from "./mixins.js";

/**
 * A condition variable: tasks holding its lock `wait()` until another task holding the lock
 * calls `notify()` or `notifyAll()`. Usually through `waitFor(predicate)`, which waits until
 * the predicate holds.
 *
 * `acquire()`, `release()`, `locked()`, `hold()` and `withLock()` act on the underlying lock
 * (a new {@link Lock}, or the one given, which may be shared with other conditions).
 *
 * @throws {TypeError} from the constructor when `lock` is given and is not a {@link Lock}.
 *
 * @example
 * const cond = new Condition();
 * // consumer
 * await cond.withLock(async () => {
 *   await cond.waitFor(() => items.length > 0);
 *   use(items.shift());
 * });
 * // producer
 * await cond.withLock(() => { items.push(x); cond.notify(); });
 *
 * asyncio: `asyncio.Condition(lock=None)`.
 */
export class Condition extends Acquirable {
  readonly #lock: Lock;
  #waiters: WaiterQueue<Waiter<void>, void> | null = null;
  #loop: EventLoop | null = null;

  /** A condition on `lock`, or on a new {@link Lock}. */
  constructor(lock?: Lock) {
    super();
    if (lock !== undefined && !(lock instanceof Lock)) {
      throw new TypeError(`\`lock\` must be a Lock, got ${describe(lock)}`);
    }
    this.#lock = lock ?? new Lock();
  }

  /** Whether the underlying lock is held. */
  locked(): boolean {
    return this.#lock.locked();
  }

  /**
   * Acquires the underlying lock (see {@link Lock.acquire}); resolves `true`.
   *
   * **Cancellation**: as {@link Lock.acquire}.
   *
   * @throws {RuntimeError} when no loop runs.
   */
  acquire(): PromiseLike<true> {
    return this.#lock.acquire();
  }

  /**
   * Releases the underlying lock.
   *
   * @throws {RuntimeError} when it is not locked.
   */
  release(): void {
    this.#lock.release();
  }

  /**
   * Releases the lock, waits until notified, re-acquires the lock, and resolves `true`. The
   * caller must hold the lock. Wake-ups may be spurious: re-check what you wait for (or use
   * {@link Condition.waitFor}).
   *
   * **Cancellation**: the lock is re-acquired before the `CancelledError` propagates, so the
   * caller's `finally` still holds it. A task cancelled after it was notified passes the
   * notification on to another waiter, so no notify is lost (3.13); one cancelled before
   * leaves no trace (asyncio also wakes another waiter then, spuriously).
   *
   * @throws {RuntimeError} (as a rejection) when the lock is not held; synchronously when no
   * loop runs.
   *
   * asyncio: `Condition.wait()`.
   */
  wait(): Promise<true> {
    return _asOwnTask("Condition.wait", () => this.#wait());
  }

  async #wait(): Promise<true> {
    if (!this.locked()) throw new RuntimeError("cannot wait on un-acquired lock");
    this.#loop = bindLoop(this.#loop, this);
    const waiter = new Waiter<void>(this.#loop, (this.#waiters ??= new WaiterQueue(this)), null);
    this.#lock.release();
    let failed = false;
    let failure: unknown;
    try {
      await waiter;
    } catch (error) {
      failed = true;
      failure = error;
    }
    // Notified (even if cancelled before it could resume): from here on, failing would lose
    // that notification unless it is passed on.
    const notified = waiter.done() && !waiter.cancelled();
    // The lock must be held again on every way out, even when cancelled meanwhile.
    for (;;) {
      try {
        await this.#lock.acquire();
        break;
      } catch (error) {
        failed = true;
        failure = error;
        if (!isCancelledError(error)) break; // not a cancel: spinning would not help
      }
    }
    if (failed) {
      // Notified but not returning normally: the caller will not act on the notification, so
      // another waiter gets it.
      if (notified) this.#waiters?.wake(1, undefined);
      throw failure;
    }
    return true;
  }

  /**
   * Waits until `predicate()` is truthy, calling `wait()` as often as needed, and resolves to
   * the predicate's last value. The caller must hold the lock unless the predicate is already
   * true.
   *
   * **Cancellation**: as {@link Condition.wait}: the lock is held again when the
   * `CancelledError` propagates.
   *
   * @throws {TypeError} synchronously when `predicate` is not a function.
   * @throws {RuntimeError} (as a rejection) when it must wait and the lock is not held;
   * synchronously when no loop runs (even when the predicate is true).
   *
   * asyncio: `Condition.wait_for(predicate)`.
   */
  waitFor<T>(predicate: () => T): Promise<T> {
    checkFunction("predicate", predicate);
    return _asOwnTask("Condition.waitFor", () => this.#waitFor(predicate));
  }

  async #waitFor<T>(predicate: () => T): Promise<T> {
    let result = predicate();
    while (!result) {
      await this.#wait();
      result = predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` (default 1) waiting tasks, in the order they started waiting. Each
   * returns from `wait()` only once it has the lock again, so release the lock after
   * notifying.
   *
   * @throws {RuntimeError} when the lock is not held.
   * @throws {TypeError} / {@link RangeError} when `n` is not an integer ≥ 0.
   *
   * asyncio: `Condition.notify(n=1)`.
   */
  notify(n = 1): void {
    checkInteger("n", n, 0);
    if (!this.locked()) throw new RuntimeError("cannot notify on un-acquired lock");
    this.#waiters?.wake(n, undefined);
  }

  /**
   * Wakes every waiting task (see {@link Condition.notify}).
   *
   * @throws {RuntimeError} when the lock is not held.
   *
   * asyncio: `Condition.notify_all()`.
   */
  notifyAll(): void {
    if (!this.locked()) throw new RuntimeError("cannot notify on un-acquired lock");
    this.#waiters?.wakeAll(undefined);
  }

  /** `<Condition [locked, waiters:2]>`, as asyncio's repr. */
  override toString(): string {
    const waiting = this.#waiters?.size ?? 0;
    const state = this.locked() ? "locked" : "unlocked";
    return formatRepr(this.constructor.name, [`[${waiting > 0 ? `${state}, waiters:${waiting}` : state}]`]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
