/**
 * `RateLimiter`: at most `rate` acquisitions in any `per` seconds (a sliding window).
 *
 * HOW: the limiter keeps the loop times of the acquisitions still inside the window, oldest
 * first (at most `rate` of them). An acquisition at time `t` leaves the window at `t + per`.
 * `acquire()` takes a slot at once when the window has room and nobody waits; otherwise it
 * parks in the shared FIFO waiter queue, and one timer, set for when the oldest slot leaves
 * the window, wakes as many waiters as there are free slots then, each taking a slot at that
 * time. A waiter cancelled while parked takes no slot; one woken and then cancelled before it
 * resumed gives its slot back (the waiter queue's lost wake-up), and the next waiter gets it.
 *
 * WHY a window of times and not a token bucket: "never more than `rate` in any `per`
 * seconds" is what the APIs people call promise (a bucket lets a burst of `rate` through at
 * the end of one window and another at the start of the next). The cost is one number per
 * slot.
 *
 * Invariant: `#times` is sorted and holds at most `rate` times, none older than `per` seconds
 * once `#expire()` has run; waiters are parked only while the window is full, and then a timer
 * is set (or about to be).
 */
import { RuntimeError } from "../errors.js";
import type { Handle } from "../events/handles.js";
import type { EventLoop } from "../events/loop.js";
import { _getRunningLoop, getRunningLoop } from "../events/running.js";
import type { Future } from "../futures.js";
import { Deque } from "../internal/deque.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { checkInteger, checkOptions, describe } from "../internal/validate.js";
import { Waiter, WaiterQueue } from "../internal/waiters.js";
import { Held, type HoldSource, RESOLVED_TRUE, _hold } from "./mixins.js";

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** How many acquisitions the window admits: an integer ≥ 1. Required. */
  rate: number;
  /** The length of the window in seconds: a finite number > 0. Required. */
  per: number;
}

const RATE_LIMITER_KEYS = ["rate", "per"] as const satisfies readonly (keyof RateLimiterOptions)[];

/** A parked acquisition; `slot` is the time of the slot it was given when woken. */
class SlotWaiter extends Waiter<true> {
  slot = 0;
}

/** What releasing a rate limiter's handle does: nothing (a used slot stays used). */
const NOTHING_TO_RELEASE = { release(): void {} };

/**
 * Lets at most `rate` acquisitions through in any `per` seconds: `new RateLimiter({ rate: 10,
 * per: 1 })` admits ten calls a second, however they bunch up. `acquire()` waits until the
 * sliding window has room; nothing is released (a slot frees itself `per` seconds after it
 * was taken). Fair: waiting tasks get slots in FIFO order, and a newcomer never jumps the
 * queue. Time is the loop's clock, so tests on the virtual clock take no real time.
 *
 * @throws {TypeError} / {@link RangeError} from the constructor for a missing or bad `rate`
 * (an integer ≥ 1) or `per` (a finite number of seconds > 0), or an unknown option.
 *
 * @example
 * const limiter = new RateLimiter({ rate: 5, per: 1 }); // the API allows 5 requests a second
 * for (const id of ids) {
 *   await limiter.acquire();
 *   tg.createTask(() => fetchItem(id));
 * }
 *
 * Not in asyncio: like p-throttle's `limit`/`interval` and aiolimiter's `AsyncLimiter`, as a
 * sliding window.
 */
export class RateLimiter implements HoldSource {
  readonly #rate: number;
  readonly #per: number;
  /** The times of the acquisitions in the window, oldest first. */
  #times = new Deque<number>();
  #waiters: WaiterQueue<SlotWaiter, true> | null = null;
  #timer: Handle | null = null;
  #loop: EventLoop | null = null;

  constructor(options: RateLimiterOptions) {
    checkOptions("new RateLimiter()", options, RATE_LIMITER_KEYS);
    if (options === undefined) throw new TypeError("`options` of new RateLimiter() must be given: { rate, per }");
    this.#rate = checkInteger("rate", options.rate, 1);
    const per = options.per;
    if (typeof per !== "number") throw new TypeError(`\`per\` must be a number of seconds, got ${describe(per)}`);
    if (!(per > 0) || !Number.isFinite(per)) {
      throw new RangeError(`\`per\` must be a finite number of seconds > 0, got ${per}`);
    }
    this.#per = per;
  }

  /** How many acquisitions the window admits. */
  get rate(): number {
    return this.#rate;
  }

  /** The length of the window, in seconds. */
  get per(): number {
    return this.#per;
  }

  /** Whether `acquire()` would have to wait now: the window is full, or tasks are waiting. */
  locked(): boolean {
    if ((this.#waiters?.size ?? 0) > 0) return true;
    const loop = this.#loop;
    const running = _getRunningLoop();
    // Another loop's clock: acquire() would start a fresh window there.
    if (loop === null || (running !== null && running !== loop)) return false;
    this.#expire(loop.time());
    return this.#times.length >= this.#rate;
  }

  /**
   * Takes a slot of the window, waiting until one is free (and until the tasks that asked
   * before have theirs); resolves `true`. A slot taken at time `t` (the loop's clock) counts
   * until `t + per`.
   *
   * **Cancellation**: cancelling the waiting task takes it out of the queue and uses no slot;
   * the others keep their order. If a slot had already been given to it but it had not resumed
   * yet, the slot goes to the next waiter (or back to the window). An acquisition that does not
   * have to wait does not suspend, so it is not a cancellation point.
   *
   * @throws {RuntimeError} when no loop runs, or when tasks of another loop wait on it.
   */
  acquire(): PromiseLike<true> {
    const loop = getRunningLoop();
    if (loop !== this.#loop) this.#bind(loop);
    const now = loop.time();
    this.#expire(now);
    const waiters = this.#waiters;
    if ((waiters === null || waiters.size === 0) && this.#times.length < this.#rate) {
      this.#times.push(now);
      return RESOLVED_TRUE;
    }
    const queue = (this.#waiters ??= new WaiterQueue(this));
    // Woken, then cancelled before it resumed: its slot goes back, to the next waiter.
    const waiter: SlotWaiter = new SlotWaiter(
      loop,
      queue as unknown as WaiterQueue<Waiter<true>, true>,
      () => this.#giveBack(waiter.slot),
    );
    this.#schedule();
    return waiter;
  }

  /**
   * Takes a slot as `acquire()` does and resolves to a {@link Held} handle, for code written as
   * `await using _ = await limiter.hold();` (or to swap a `Semaphore` or `CapacityLimiter` for
   * a rate limit). Releasing the handle does nothing: the slot stays used for `per` seconds.
   *
   * **Cancellation**: as `acquire()`; a hold that raises took no slot, also when the slot was
   * being handed to it as it was cancelled.
   *
   * @throws {RuntimeError} as `acquire()`.
   */
  hold(): Promise<Held> {
    return _hold(this, this.acquire());
  }

  /** @internal The handle of a hold: nothing to release. */
  _heldHandle(): Held {
    return new Held(NOTHING_TO_RELEASE, "RateLimiter");
  }

  /** @internal A hold that raises took no slot. */
  _undoAcquire(acquiring: Future<true>): void {
    this.#giveBack((acquiring as SlotWaiter).slot);
  }

  /** Binds to `loop`: the times of another loop's clock mean nothing on this one. */
  #bind(loop: EventLoop): void {
    if ((this.#waiters?.size ?? 0) > 0) {
      throw new RuntimeError(`${this.toString()} is bound to a different event loop`);
    }
    this.#loop = loop;
    this.#times.clear();
    this.#timer?.cancel();
    this.#timer = null;
  }

  /** Drops the times that have left the window at `now`. */
  #expire(now: number): void {
    const times = this.#times;
    const per = this.#per;
    let oldest = times.peekFirst();
    while (oldest !== undefined && oldest + per <= now) {
      times.shift();
      oldest = times.peekFirst();
    }
  }

  /** Sets the timer for when the oldest slot leaves the window, if waiters need it. */
  #schedule(): void {
    if (this.#timer !== null || (this.#waiters?.size ?? 0) === 0) return;
    const oldest = this.#times.peekFirst();
    const loop = this.#loop as EventLoop;
    this.#timer =
      oldest === undefined ? loop.callSoon(this.#onTimer, loop.time()) : loop.callAt(oldest + this.#per, this.#onTimer, oldest + this.#per);
  }

  /** A slot left the window (the timer may fire up to the clock's resolution early). */
  #onTimer = (when: number): void => {
    this.#timer = null;
    const loop = this.#loop as EventLoop;
    this.#admit(Math.max(loop.time(), when));
  };

  /** Wakes waiters, first to last, for the slots free at `now`; sets the timer for the rest. */
  #admit(now: number): void {
    this.#expire(now);
    const waiters = this.#waiters;
    if (waiters === null) return;
    while (waiters.size > 0 && this.#times.length < this.#rate) {
      (waiters.first() as SlotWaiter).slot = now;
      this.#times.push(now);
      waiters.wakeFirst(true);
    }
    this.#schedule();
  }

  /** A slot taken at `slot` was not used after all: it leaves the window now. */
  #giveBack(slot: number): void {
    this.#times.remove(slot);
    const loop = this.#loop as EventLoop;
    if ((this.#waiters?.size ?? 0) > 0) this.#admit(loop.time());
  }

  /** `<RateLimiter rate=10 per=1 [used:10, waiters:2]>`. */
  toString(): string {
    const waiting = this.#waiters?.size ?? 0;
    let state = `used:${this.#times.length}`;
    if (waiting > 0) state += `, waiters:${waiting}`;
    return formatRepr("RateLimiter", [`rate=${this.#rate}`, `per=${this.#per}`, `[${state}]`]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
