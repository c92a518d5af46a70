/**
 * `Semaphore` and `BoundedSemaphore`: a counter of permits.
 *
 * HOW (CPython 3.12's fair semaphore): `release()` hands a permit to the first waiter at
 * once (the count goes down when the waiter is woken, not when it runs). Until every woken
 * waiter has run, `locked()` stays true, so a newcomer queues instead of taking a permit ahead
 * of a task that was first in line. When a woken waiter runs, it first wakes the next waiters
 * for the permits that are free by then (they were released while it was on its way, and the
 * newcomers that queued meanwhile must not be left waiting).
 *
 * "When it runs" is a done callback that each waiter gets before anyone can await it: done
 * callbacks and the awaiting task's wake-up run in the order they were added, so the callback
 * runs just before the task resumes, where CPython's `acquire()` runs its `finally`.
 *
 * Invariant: `_value` counts the free permits; `#woken` counts waiters woken with a permit
 * whose done callback has not run yet; `locked()` is true while `_value` is 0 or anyone is
 * parked or woken.
 */
import type { EventLoop } from "../events/loop.js";
import { _requireRunningLoop } from "../events/running.js";
import type { Future } from "../futures.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { checkInteger } from "../internal/validate.js";
import { Waiter, WaiterQueue } from "../internal/waiters.js";
import { Acquirable, RESOLVED_TRUE, bindLoop } from "./mixins.js";

/** The state a semaphore needs only once tasks have had to wait on it. */
interface Contention {
  readonly waiters: WaiterQueue<Waiter<true>, true>;
  readonly afterWait: (waiter: Future<true>) => void;
  readonly onLost: () => void;
}

/**
 * A counter of permits: `acquire()` takes one (waiting while none is free), `release()` gives
 * one back. `new Semaphore(10)` lets at most ten tasks hold it at once.
 *
 * Fair as in CPython 3.12: waiters get permits in FIFO order, `locked()` stays true while any
 * task waits, so newcomers cannot jump the queue, and a task that releases and re-acquires
 * goes to the back.
 *
 * @throws {TypeError} / {@link RangeError} from the constructor when `value` is not an
 * integer ≥ 0.
 *
 * @example
 * const sem = new Semaphore(3);
 * await gather(...urls.map((url) => () => sem.withLock(() => fetchPage(url))));
 *
 * asyncio: `asyncio.Semaphore(value=1)`.
 */
export class Semaphore extends Acquirable {
  /** @internal The free permits. */
  _value: number;
  #woken = 0;
  #contention: Contention | null = null;
  #loop: EventLoop | null = null;

  /** A semaphore with `value` permits (default 1). */
  constructor(value = 1) {
    super();
    this._value = checkInteger("value", value, 0);
  }

  /**
   * Whether `acquire()` would have to wait: no permit is free, or tasks are waiting (FIFO:
   * they go first).
   */
  locked(): boolean {
    return this._value === 0 || this.#woken > 0 || (this.#contention?.waiters.size ?? 0) > 0;
  }

  /**
   * Takes a permit: at once when one is free and nobody waits, else after the tasks that
   * asked before. Resolves `true`.
   *
   * **Cancellation**: cancelling the waiting task takes it out of the queue; the others keep
   * their order. If a permit had already been handed to it but it had not resumed yet, the
   * permit goes to the next waiter (or back to the count). An uncontended acquire does not
   * suspend, so it is not a cancellation point (as in asyncio).
   *
   * @throws {RuntimeError} when no loop runs (even when a permit is free), or when it must wait
   * and the semaphore is bound to another loop.
   *
   * asyncio: `Semaphore.acquire()`.
   */
  acquire(): PromiseLike<true> {
    _requireRunningLoop();
    if (!this.locked()) {
      this._value--;
      return RESOLVED_TRUE;
    }
    this.#loop = bindLoop(this.#loop, this);
    const contention = (this.#contention ??= this.#makeContention());
    const waiter = new Waiter<true>(this.#loop, contention.waiters, contention.onLost);
    waiter._addInternalCallback(contention.afterWait);
    return waiter;
  }

  /**
   * Gives a permit back, handing it to the first waiting task if there is one.
   *
   * asyncio: `Semaphore.release()`.
   */
  release(): void {
    this._value++;
    this.#wakeNext();
  }

  #makeContention(): Contention {
    return {
      waiters: new WaiterQueue(this),
      // Just before the woken (or cancelled) task resumes: wake the next ones for the permits
      // that are free now.
      afterWait: (waiter) => {
        if (!waiter.cancelled()) this.#woken--;
        while (this._value > 0 && this.#wakeNext());
      },
      // Woken, then cancelled before it resumed: the permit goes back, to the next waiter.
      onLost: () => {
        this._value++;
        while (this._value > 0 && this.#wakeNext());
      },
    };
  }

  /** Hands a free permit to the first parked waiter; false when none is parked. */
  #wakeNext(): boolean {
    const contention = this.#contention;
    if (contention === null || !contention.waiters.wakeFirst(true)) return false;
    this._value--;
    this.#woken++;
    return true;
  }

  /** `<Semaphore [unlocked, value:2]>`, `<Semaphore [locked, waiters:1]>`, as asyncio's repr. */
  override toString(): string {
    const waiting = this.#contention?.waiters.size ?? 0;
    let state = this.locked() ? "locked" : `unlocked, value:${this._value}`;
    if (waiting > 0) state += `, waiters:${waiting}`;
    return formatRepr(this.constructor.name, [`[${state}]`]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

/**
 * A {@link Semaphore} that refuses to be released more times than it was acquired: releasing
 * when all `value` permits are free is a `RangeError`. Use it for a resource pool, where an
 * extra release is a bug.
 *
 * asyncio: `asyncio.BoundedSemaphore(value=1)` (raises `ValueError`).
 */
export class BoundedSemaphore extends Semaphore {
  readonly #bound: number;

  /** A bounded semaphore with `value` permits (default 1), never more. */
  constructor(value = 1) {
    super(value);
    this.#bound = value;
  }

  /**
   * Gives a permit back.
   *
   * @throws {RangeError} when every permit is already free.
   */
  override release(): void {
    if (this._value >= this.#bound) {
      throw new RangeError(
        `BoundedSemaphore(${this.#bound}) released too many times: every permit is already free`,
      );
    }
    super.release();
  }
}
