/**
 * Test helpers: a loop on a virtual clock, so tests of timeouts run in microseconds and never
 * flake. Import from `asyncio-ts/testing`.
 *
 * @example
 * import { runTest, advance } from "asyncio-ts/testing";
 * await runTest(async () => {
 *   const started = getRunningLoop().time();
 *   await sleep(3600);                       // autojump: returns at once
 *   assert.equal(getRunningLoop().time() - started, 3600);
 * });
 *
 * Trio's `trio.testing` (`MockClock`, `autojump_threshold`, `wait_all_tasks_blocked`) is the
 * model; asyncio's own tests use a similar `TestLoop`.
 *
 * @module
 */
import { RuntimeError } from "./errors.js";
import type { Clock, ClockHost } from "./events/clock.js";
import { _checkTrace } from "./debug/tracing.js";
import { EventLoop } from "./events/loop.js";
import { getRunningLoop } from "./events/running.js";
import { Future } from "./futures.js";
import { checkDelay, checkOptions } from "./internal/validate.js";
import { type RunOptions, run } from "./runners.js";
import type { Awaitable } from "./tasks.js";

/** Options of {@link VirtualClock} and {@link TestLoop}. */
export interface VirtualClockOptions {
  /** The clock's first reading, in seconds; default 0. */
  start?: number;
  /**
   * Jump to the next timer whenever every task is blocked (and `waitAllTasksBlocked` callers
   * have been woken); default false.
   */
  autojump?: boolean;
}

const VIRTUAL_CLOCK_KEYS = ["start", "autojump"] as const satisfies readonly (keyof VirtualClockOptions)[];

/**
 * A clock that moves only when told to: `advance(seconds)`, or by itself to the next timer
 * when `autojump` is on and the loop is idle.
 */
export class VirtualClock implements Clock {
  readonly resolution = 0;
  /** Whether the clock jumps to the next deadline when the loop is idle. */
  autojump: boolean;
  #now: number;
  #armed: number | null = null;
  #host: ClockHost | null = null;
  #jumpPending = false;
  #wakePending = false;

  constructor(options: VirtualClockOptions = {}) {
    checkOptions("new VirtualClock()", options, VIRTUAL_CLOCK_KEYS);
    this.#now = options.start === undefined ? 0 : checkDelay("start", options.start);
    this.autojump = options.autojump ?? false;
  }

  time(): number {
    return this.#now;
  }

  arm(when: number, host: ClockHost): void {
    this.#host = host;
    this.#armed = when;
    if (when <= this.#now) this.#wakeSoon();
    else if (this.autojump && !this.#jumpPending && Number.isFinite(when)) {
      // Never to Infinity (`sleep(Infinity)`): as Trio's MockClock, jump to finite deadlines only.
      this.#jumpPending = true;
      host._whenIdle(this.#jump, 1);
    }
  }

  disarm(): void {
    this.#armed = null;
  }

  /** Moves the clock forward by `seconds`; timers that come due run in the next iteration. */
  advance(seconds: number): void {
    checkDelay("seconds", seconds);
    if (seconds < 0) throw new RangeError(`\`seconds\` must be >= 0, got ${seconds}`);
    this.#now += seconds;
    if (this.#armed !== null && this.#armed <= this.#now) this.#wakeSoon();
  }

  #jump = (): void => {
    this.#jumpPending = false;
    const when = this.#armed;
    if (when === null || !Number.isFinite(when)) return;
    if (when > this.#now) this.#now = when;
    this.#host?._onTimer();
  };

  /** Wake the loop from a fresh Node callback, never from inside the caller's code. */
  #wakeSoon(): void {
    if (this.#wakePending) return;
    this.#wakePending = true;
    setImmediate(() => {
      this.#wakePending = false;
      this.#host?._onTimer();
    });
  }
}

/** Options of {@link TestLoop}. */
export interface TestLoopOptions extends VirtualClockOptions {
  /** Debug mode; default false. */
  debug?: boolean;
}

const TEST_LOOP_KEYS = [...VIRTUAL_CLOCK_KEYS, "debug"] as const satisfies readonly (keyof TestLoopOptions)[];

/** An event loop on a {@link VirtualClock}. */
export class TestLoop extends EventLoop {
  /** The loop's clock. */
  readonly clock: VirtualClock;

  constructor(options: TestLoopOptions = {}) {
    checkOptions("new TestLoop()", options, TEST_LOOP_KEYS);
    const clock = new VirtualClock({ start: options.start, autojump: options.autojump });
    super({ clock, debug: options.debug ?? false });
    this.clock = clock;
  }

  /** Moves the clock forward by `seconds` (see {@link VirtualClock.advance}). */
  advance(seconds: number): void {
    this.clock.advance(seconds);
  }
}

/**
 * Resolves once every other task is blocked: nothing is ready to run, and Node had a turn to
 * deliver I/O. Call it from a task.
 *
 * Trio: `trio.testing.wait_all_tasks_blocked()`.
 *
 * **Cancellation**: cancelling the awaiting task ends the wait with `CancelledError`.
 */
export function waitAllTasksBlocked(): Future<void> {
  const loop = getRunningLoop();
  const future = new Future<void>({ loop });
  loop._whenIdle(() => {
    if (!future.done()) future.setResult(undefined);
  });
  return future;
}

/**
 * Moves the running {@link TestLoop}'s clock forward by `seconds`, then waits until every
 * other task is blocked, so what the timers woke has run.
 *
 * **Cancellation**: cancelling the awaiting task ends the wait; the clock has moved already.
 *
 * @throws {RuntimeError} synchronously when no loop runs; (as a rejection) when the running
 * loop is not a `TestLoop`.
 */
export function advance(seconds: number): Promise<void> {
  return advanceOn(getRunningLoop(), seconds);
}

async function advanceOn(loop: EventLoop, seconds: number): Promise<void> {
  if (!(loop instanceof TestLoop)) {
    throw new RuntimeError("advance() needs a TestLoop: run the test with runTest()");
  }
  loop.advance(seconds);
  await waitAllTasksBlocked();
}

/** Options of {@link runTest}. */
export interface RunTestOptions extends Omit<RunOptions, "loopFactory"> {
  /** Jump the clock when every task is blocked; default true. */
  autojump?: boolean;
  /** The clock's first reading; default 0. */
  start?: number;
}

const RUN_TEST_KEYS = ["debug", "autojump", "start", "trace"] as const satisfies readonly (keyof RunTestOptions)[];

/**
 * `run(main)` on a {@link TestLoop}: with `autojump` (the default), sleeps and timeouts take no
 * real time, and `loop.time()` still reads exactly as if they had.
 *
 * **Cancellation**: as {@link run}: Ctrl-C cancels `main`.
 */
export function runTest<T>(main: Awaitable<T>, options: RunTestOptions = {}): Promise<T> {
  checkOptions("runTest()", options, RUN_TEST_KEYS);
  _checkTrace("runTest()", options.trace);
  const { autojump = true, start = 0, debug = false, trace } = options;
  return run(main, { debug, trace, loopFactory: () => new TestLoop({ autojump, start, debug }) });
}
