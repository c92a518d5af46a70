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
 * Beyond the clock: `runTest(main, { virtualTimers: true })` puts Node's own timers, `Date` and
 * `performance.now` on it (`testing/virtual-timers.ts`); `exploreCancellation` cancels a task
 * at each of its suspension points and `exploreSchedules` runs the ready callbacks of each
 * iteration in seeded orders (`testing/explore-*.ts`); `withTestLoop` and `runBriefly` fit it
 * into test runners (`testing/helpers.ts`).
 *
 * @module asyncio-ts/testing
 */
import { _asOwnWork, _blockedReport, _outsideWorkVisible, _realWorkPending, _watchOutsideWork } from "./debug/blocked.js";
import { _checkTrace } from "./debug/tracing.js";
import { RuntimeError } from "./errors.js";
import type { Clock, ClockHost } from "./events/clock.js";
import { EventLoop } from "./events/loop.js";
import { _getRunningLoop, getRunningLoop } from "./events/running.js";
import { Future } from "./futures.js";
import { checkDelay, checkOptions, describe } from "./internal/validate.js";
import { type RunOptions, run } from "./runners.js";
import type { Awaitable } from "./tasks.js";
import { _takeLoopSetup } from "./testing/loop-setup.js";
import { type VirtualTimers, installVirtualTimers } from "./testing/virtual-timers.js";

export { ExplorationError } from "./errors.js";
export {
  type CancellationPoint,
  type CancellationReport,
  type ExploreCancellationOptions,
  exploreCancellation,
} from "./testing/explore-cancellation.js";
export { type ExploreSchedulesOptions, type ScheduleReport, exploreSchedules } from "./testing/explore-schedules.js";
export { runBriefly, withTestLoop } from "./testing/helpers.js";

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

/** Real time, read once: `virtualTimers` replaces the globals while a test runs. */
const realNow = performance.now.bind(performance);
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
/** While real work is pending, the clock follows real time in steps of at most this many ms. */
const FOLLOW_MS = 10;

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
  #following: ReturnType<typeof setTimeout> | null = null;
  /** Inside a jump's iteration; and whether that iteration left the loop idle and armed. */
  #jumping = false;
  #rearmAfterJump = false;

  /**
   * @internal Set by `runTest({ virtualTimers: true })`: whether real work (a socket, a child
   * process) may still wake a task. While it may, autojump does not jump: the clock follows
   * real time towards the next deadline, so a library's timeout around real I/O does not fire
   * early, and still fires.
   */
  _realPending: (() => boolean) | null = null;

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
      // A jump whose timers woke nothing on the loop (a callback that resolves a promise)
      // leaves it idle: the next jump waits for a fresh turn, so that the code those timers
      // resumed runs first, and virtual time cannot run away from it.
      if (this.#jumping) this.#rearmAfterJump = true;
      else host._whenIdle(this.#jump, 1);
    }
  }

  disarm(): void {
    this.#armed = null;
    if (this.#following !== null) {
      realClearTimeout(this.#following);
      this.#following = null;
    }
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
    if (this._realPending?.() === true) {
      this.#follow(when);
      return;
    }
    if (when > this.#now) this.#now = when;
    this.#jumping = true;
    try {
      this.#host?._onTimer();
    } finally {
      this.#jumping = false;
    }
    if (this.#rearmAfterJump) {
      this.#rearmAfterJump = false;
      setImmediate(() => this.#host?._whenIdle(this.#jump, 1));
    }
  };

  /**
   * Real work is pending and every task is blocked: let real time pass, a step at a time, then
   * look again. The clock moves by the real time that passed, never past the deadline.
   */
  #follow(when: number): void {
    if (this.#following !== null) return;
    const since = realNow();
    const ms = Math.min(FOLLOW_MS, Math.max(1, (when - this.#now) * 1000));
    this.#following = realSetTimeout(() => {
      this.#following = null;
      const armed = this.#armed;
      if (armed === null) return;
      this.#now = Math.max(this.#now, Math.min(armed, this.#now + (realNow() - since) / 1000));
      if (armed <= this.#now) this.#host?._onTimer();
      else if (this.autojump && !this.#jumpPending) {
        this.#jumpPending = true;
        this.#host?._whenIdle(this.#jump, 1);
      }
    }, ms);
  }

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
  /**
   * Put Node's own timers on the virtual clock while the test runs: `setTimeout`,
   * `setInterval` (global and `node:timers`), `node:timers/promises`, `AbortSignal.timeout`,
   * `Date` and `performance.now`; default false. Autojump then waits while real work (a
   * socket, a child process) may still wake a task, letting real time pass instead. Timers
   * captured before the test started stay real; everything is put back when the test ends.
   */
  virtualTimers?: boolean;
}

const RUN_TEST_KEYS = ["debug", "autojump", "start", "signals", "virtualTimers", "trace"] as const satisfies readonly (keyof RunTestOptions)[];

/**
 * `run(main)` on a {@link TestLoop}: with `autojump` (the default), sleeps and timeouts take no
 * real time, and `loop.time()` still reads exactly as if they had. With `virtualTimers`, so do
 * the timers of Node that `main` (or a library it calls) uses, and `Date.now()` agrees with
 * `loop.time()`.
 *
 * One test loop runs at a time in a process: tests that call `runTest` cannot run
 * concurrently (node:test's `concurrency`, vitest's `test.concurrent`); such a call is
 * refused with a `RuntimeError` that says so.
 *
 * **Cancellation**: as {@link run}: Ctrl-C (SIGINT) and SIGTERM cancel `main`.
 */
export function runTest<T>(main: Awaitable<T>, options: RunTestOptions = {}): Promise<T> {
  checkOptions("runTest()", options, RUN_TEST_KEYS);
  _checkTrace("runTest()", options.trace);
  const { autojump = true, start = 0, debug = false, signals, virtualTimers = false, trace } = options;
  const setup = testLoopSetup(virtualTimers);
  let deadlock: string | null = null;
  const loopFactory = (): TestLoop =>
    setup.prepare(new TestLoop({ autojump, start, debug }), (loop, report) => {
      deadlock = report;
      // The run ends here: the runner then cancels the blocked tasks (their `finally` blocks
      // run) and closes the loop.
      loop.stop();
    });
  return setup.finish(run(main, { debug, signals, trace, loopFactory })).catch((error: unknown) => {
    if (deadlock === null) throw error;
    throw new RuntimeError(`runTest(): deadlock: ${deadlock}`, { cause: error });
  });
}

/**
 * What `runTest` does around its loop: refuses a second loop while one runs (with a message
 * for concurrent tests), applies an explorer's setup (see `_withTestLoop`), installs and
 * restores the virtual timers.
 */
function testLoopSetup(virtualTimers: unknown): {
  prepare(loop: TestLoop, onDeadlock: (loop: TestLoop, report: string) => void): TestLoop;
  finish<T>(result: Promise<T>): Promise<T>;
} {
  if (typeof virtualTimers !== "boolean") {
    throw new TypeError(`\`virtualTimers\` must be a boolean, got ${describe(virtualTimers)}`);
  }
  const explorer = _takeLoopSetup();
  const refused = _getRunningLoop() !== null;
  let timers: VirtualTimers | null = null;
  let stopWatching: (() => void) | null = null;
  return {
    prepare(loop, onDeadlock) {
      explorer?.(loop);
      // Before the virtual timers: it counts the real work the test's code starts.
      stopWatching = watchForDeadlock(loop, (report) => onDeadlock(loop, report));
      if (virtualTimers) {
        timers = installVirtualTimers(loop);
        loop.clock._realPending = () => _realWorkPending(loop);
      }
      return loop;
    },
    finish(result) {
      if (refused) {
        // `run()` refused too, with a message about nested loops; this one names both causes.
        void result.catch(() => {});
        return Promise.reject(
          new RuntimeError(
            "runTest() cannot run while an event loop runs: either it was called from inside a " +
              "running loop, or another test running a loop runs concurrently in this process " +
              "(node:test `concurrency`, vitest `test.concurrent`). Tests that call runTest() " +
              "must run one at a time",
          ),
        );
      }
      return result.finally(() => {
        stopWatching?.();
        timers?.restore();
      });
    },
  };
}

/** How often a stuck test loop looks again while outside work may still wake a task (ms). */
const RECHECK_MS = 20;

/**
 * Calls `onDeadlock(report)` once when `loop` has tasks and none can ever run again: no
 * callback ready, no timer, nobody waiting for idleness, and nothing outside the loop pending
 * that may wake a task (see `_realWorkPending`). While outside work is pending it looks again
 * every few milliseconds, and never reports while it may still wake a task.
 */
function watchForDeadlock(loop: TestLoop, onDeadlock: (report: string) => void): () => void {
  // Bun: what the test's code waits on outside the loop cannot be seen, so no deadlock is
  // reported (a deadlocked test waits for the test runner's timeout).
  if (!_outsideWorkVisible()) return () => {};
  const stop = _watchOutsideWork(loop);
  let checking = false;
  let reported = false;
  const check = (): void => {
    checking = false;
    if (reported || !loop.isRunning() || loop._taskCount === 0) return;
    const holding = loop._holding();
    // Something will run: the next stuck moment calls again.
    if (holding.ready > 0 || holding.timers > 0 || holding.idleWaiters > 0) return;
    if (_realWorkPending(loop)) {
      checking = true;
      // Look again from a fresh immediate, so this timer is not counted as pending work.
      _asOwnWork(() => setTimeout(() => _asOwnWork(() => setImmediate(check)), RECHECK_MS));
      return;
    }
    reported = true;
    onDeadlock(
      "every task is blocked and nothing can wake them (no callback ready, no timer, no I/O, " +
        "thread job or child process pending). What each task awaits:\n" +
        _blockedReport(loop),
    );
  };
  loop._onStuck = () => {
    if (checking || reported) return;
    checking = true;
    // After Node's I/O phase: an event already delivered may still wake a task.
    _asOwnWork(() => setImmediate(check));
  };
  return () => {
    reported = true;
    loop._onStuck = null;
    stop();
  };
}
