/**
 * `Lock`: mutual exclusion between tasks.
 *
 * HOW (hand-off): `release()` with tasks waiting does not unlock; it hands the lock to the
 * first waiter by completing its {@link Waiter}. The lock stays locked, so no newcomer can
 * slip in between the release and the moment the woken task runs (CPython gets the same
 * fairness by keeping the woken waiter in its deque until it runs). If the woken task is
 * cancelled before it runs, the waiter's `onLost` hook releases again: the lock goes to the
 * next waiter, or is unlocked.
 *
 * Invariant: while unlocked, no waiter is parked (a task parks only while the lock is held,
 * and a release with parked waiters hands the lock on instead of unlocking).
 */
import { RuntimeError } from "../errors.js";
import type { EventLoop } from "../events/loop.js";
import { _requireRunningLoop } from "../events/running.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { Waiter, WaiterQueue } from "../internal/waiters.js";
import { Acquirable, RESOLVED_TRUE, bindLoop } from "./mixins.js";

/**
 * A mutual-exclusion lock for tasks. `acquire()` waits until the lock is free, takes it and
 * resolves `true`; `release()` frees it. Waiting tasks get the lock in the order they asked
 * for it (FIFO); a task that releases and asks again queues behind them.
 *
 * A lock has no owner: any task (or plain callback) may release it. Releasing an unlocked
 * lock is a {@link RuntimeError}.
 *
 * Differs from asyncio: `release()` hands the lock straight to the first waiter, so
 * `locked()` stays `true` from that moment (asyncio reports `false` until the woken task
 * runs, though no other task can take the lock meanwhile).
 *
 * @example
 * const lock = new Lock();
 * await lock.acquire();
 * try { await update(shared); } finally { lock.release(); }
 * // or: await lock.withLock(() => update(shared));
 * // or: { await using _ = await lock.hold(); await update(shared); }
 *
 * asyncio: `asyncio.Lock`.
 */
export class Lock extends Acquirable {
  #locked = false;
  #waiters: WaiterQueue<Waiter<true>, true> | null = null;
  #loop: EventLoop | null = null;
  #passOn: (() => void) | null = null;

  /** A new, unlocked lock. It binds to the running loop the first time a task waits on it. */
  constructor() {
    super();
    if (arguments.length > 0) throw new TypeError("Lock() takes no arguments");
  }

  /** Whether the lock is held (by anyone: locks have no owner). */
  locked(): boolean {
    return this.#locked;
  }

  /**
   * Acquires the lock: at once when it is free and nobody waits, else after the tasks that
   * asked before. Resolves `true`.
   *
   * **Cancellation**: cancelling the waiting task takes it out of the queue; the others keep
   * their order. If the lock was already handed to it but it had not resumed yet, the lock
   * goes on to the next waiter. An uncontended acquire does not suspend, so it is not a
   * cancellation point (as in asyncio).
   *
   * @throws {RuntimeError} when no loop runs (even when the lock is free), or when it must wait
   * and the lock is bound to another loop.
   *
   * asyncio: `Lock.acquire()`.
   */
  acquire(): PromiseLike<true> {
    _requireRunningLoop();
    if (!this.#locked) {
      this.#locked = true;
      return RESOLVED_TRUE;
    }
    this.#loop = bindLoop(this.#loop, this);
    this.#waiters ??= new WaiterQueue(this);
    this.#passOn ??= () => this.release();
    return new Waiter<true>(this.#loop, this.#waiters, this.#passOn);
  }

  /**
   * Releases the lock: hands it to the first waiting task, or unlocks it when none waits.
   *
   * @throws {RuntimeError} when the lock is not locked.
   *
   * asyncio: `Lock.release()`.
   */
  release(): void {
    if (!this.#locked) throw new RuntimeError("Lock is not acquired.");
    const waiters = this.#waiters;
    if (waiters === null || !waiters.wakeFirst(true)) this.#locked = false;
  }

  /** `<Lock [locked, waiters:2]>`, as asyncio's repr. */
  override toString(): string {
    const waiting = this.#waiters?.size ?? 0;
    const state = this.#locked ? "locked" : "unlocked";
    return formatRepr(this.constructor.name, [`[${waiting > 0 ? `${state}, waiters:${waiting}` : state}]`]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
