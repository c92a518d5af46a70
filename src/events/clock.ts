/**
 * Clocks: where the loop reads the time and how it waits for its next timer.
 *
 * The loop keeps its timers in its own heap and asks the clock for one wake-up at the earliest
 * deadline. The real clock arms one Node timer for it; the virtual clock of `asyncio-ts/testing`
 * arms nothing and moves only when told to (or jumps when the loop is idle), which makes tests
 * of timeouts instant and exact.
 */

/** @internal What a clock wakes: the loop. */
export interface ClockHost {
  /** The armed deadline arrived: run an iteration. */
  _onTimer(): void;
  /** True while the loop has nothing ready to run and no iteration is pending. */
  _isIdle(): boolean;
  /** Calls `fn` once the loop is idle; lower `priority` first (see `EventLoop._whenIdle`). */
  _whenIdle(fn: () => void, priority?: number): void;
}

/**
 * The time source and timer of an event loop. Times are in seconds.
 */
export interface Clock {
  /** Monotonic time in seconds. */
  time(): number;
  /** Timers due within this many seconds of `time()` run in the current iteration. */
  readonly resolution: number;
  /**
   * Arranges one call of `host._onTimer()` at `when` (or a little before: the loop checks and
   * re-arms). A later arm for an earlier time replaces it.
   */
  arm(when: number, host: ClockHost): void;
  /** Cancels the armed wake-up: the loop has no timers left. */
  disarm(): void;
}

/** Node's longest timer: 2^31 - 1 ms (about 24.8 days). */
const MAX_TIMER_MS = 2147483647;

/**
 * The default clock: `performance.now()` in seconds, one Node timer for the next deadline.
 * A pending deadline keeps the process alive, as a pending Node timer does.
 */
export class RealClock implements Clock {
  readonly resolution = 1e-6;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #armedWhen = Infinity;
  #host: ClockHost | null = null;

  time(): number {
    return performance.now() / 1000;
  }

  arm(when: number, host: ClockHost): void {
    this.#host = host;
    // A timer already armed for an earlier moment will wake the loop, which re-arms.
    if (this.#timer !== null && this.#armedWhen <= when) return;
    if (when === Infinity) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    const ms = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil((when - this.time()) * 1000)));
    this.#armedWhen = when;
    this.#timer = setTimeout(this.#fire, ms);
  }

  disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedWhen = Infinity;
  }

  #fire = (): void => {
    this.#timer = null;
    this.#armedWhen = Infinity;
    this.#host?._onTimer();
  };
}
