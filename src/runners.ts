/**
 * Running a program: `run(main)` and `Runner`.
 *
 * HOW (CPython's `asyncio.Runner`): a runner makes a loop on first use and runs each main
 * coroutine as one task on it. After `main` returns, `close()` cancels the tasks still running
 * and waits for them, shuts the default executor down, and closes the loop.
 *
 * Signals: while `run()` runs in the main thread, it listens for the signals of its `signals`
 * option (default SIGINT and SIGTERM) that nobody else listens for. The first such signal
 * cancels the main task (its `finally` blocks run); `run()` then rejects with
 * {@link KeyboardInterrupt} for SIGINT (Ctrl-C), {@link SignalInterrupt} for the others. A
 * second signal restores Node's default for it and re-raises it, which ends the process at
 * once. The library never ends the process itself nor sets its exit status: the program
 * decides (the error's `exitCode`, 128 + the signal's number, is what a shell reports for a
 * process the signal ended).
 *
 * WHY SIGTERM too: it is how process managers (systemd, Docker, Kubernetes) ask a program to
 * stop, and a program's cleanup (`finally` blocks, closing servers) should run then as it runs
 * on Ctrl-C. Python's `asyncio.run` handles SIGINT only; SIGTERM ends a Python process without
 * cleanup.
 */
import { constants as osConstants } from "node:os";
import { isMainThread } from "node:worker_threads";
import { gatherAll } from "./combinators/gather.js";
import { type Context, copyContext } from "./context.js";
import { type TraceOptions, type TraceTarget, _checkTrace } from "./debug/tracing.js";
import { KeyboardInterrupt, RuntimeError, SignalInterrupt, isCancellation } from "./errors.js";
import { EventLoop } from "./events/loop.js";
import { _getRunningLoop } from "./events/running.js";
import { formatRepr, inspectCustom } from "./internal/inspect.js";
import { checkAwaitable, checkOptions, describe } from "./internal/validate.js";
import { type Awaitable, type Task, allTasks } from "./tasks.js";

/** Options of {@link run} and {@link Runner}. */
export interface RunOptions {
  /** Run the loop in debug mode; default false. */
  debug?: boolean;
  /** Makes the loop; default `() => new EventLoop()`. `asyncio-ts/testing` passes a virtual-clock loop. */
  loopFactory?: () => EventLoop;
  /**
   * The signals that cancel the main task, as Ctrl-C does (each only while nobody else listens
   * for it); default `["SIGINT", "SIGTERM"]`. `[]` handles none: a program that drains on
   * SIGTERM by itself passes `["SIGINT"]`.
   */
  signals?: readonly NodeJS.Signals[];
  /**
   * Trace the run (see {@link TraceOptions}): a base name (`"trace"` writes trace.json and
   * trace.html) or `{ file?, html?, maxEvents? }`; written when the runner closes, also after
   * `main` failed or Ctrl-C. Default: the `ASYNCIO_TS_TRACE` environment variable, else off;
   * `false`: off.
   */
  trace?: string | TraceOptions | false;
}

const RUN_KEYS = ["debug", "loopFactory", "signals", "trace"] as const satisfies readonly (keyof RunOptions)[];

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

/** Signals no process can listen for. */
const UNCATCHABLE = new Set(["SIGKILL", "SIGSTOP"]);

/** Checks the `signals` option: an array of names of signals a process can listen for. */
function checkSignals(value: unknown): readonly NodeJS.Signals[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`\`signals\` must be an array of signal names, got ${describe(value)}`);
  }
  for (const name of value) {
    if (typeof name !== "string" || !(name in osConstants.signals)) {
      throw new TypeError(`\`signals\` must hold signal names ("SIGTERM", …), got ${describe(name)}`);
    }
    if (UNCATCHABLE.has(name)) throw new RangeError(`\`signals\`: ${name} cannot be handled`);
  }
  return [...new Set(value as NodeJS.Signals[])];
}

type RunnerState = "created" | "initialized" | "closed";

/**
 * Runs several main coroutines on one loop, then closes it.
 *
 * @example
 * await using runner = new Runner();
 * await runner.run(() => setUp());
 * await runner.run(() => serve());
 *
 * asyncio: `asyncio.Runner` (3.11).
 */
export class Runner {
  #state: RunnerState = "created";
  #loop: EventLoop | null = null;
  #context: Context | null = null;
  readonly #debug: boolean | undefined;
  readonly #loopFactory: (() => EventLoop) | undefined;
  readonly #trace: TraceTarget | false | undefined;
  readonly #signals: readonly NodeJS.Signals[];
  /** The signals received during the current run; the first one decides the error. */
  #interrupts: NodeJS.Signals[] = [];

  constructor(options: RunOptions = {}) {
    checkOptions("new Runner()", options, RUN_KEYS);
    if (options.loopFactory !== undefined && typeof options.loopFactory !== "function") {
      throw new TypeError(`\`loopFactory\` must be a function, got ${describe(options.loopFactory)}`);
    }
    this.#debug = options.debug;
    this.#loopFactory = options.loopFactory;
    this.#trace = _checkTrace("new Runner()", options.trace);
    this.#signals = options.signals === undefined ? DEFAULT_SIGNALS : checkSignals(options.signals);
  }

  /**
   * The runner's loop, made on first use.
   * @throws {RuntimeError} after `close()`.
   */
  getLoop(): EventLoop {
    this.#lazyInit();
    return this.#loop as EventLoop;
  }

  /**
   * Runs `coro` as a task on the runner's loop until it is done; resolves to its result.
   * Each run uses the runner's context (one copy, made on first use) unless `context` is given.
   *
   * **Cancellation**: Ctrl-C (and SIGTERM, and the runner's other `signals`) cancels the task;
   * the run then rejects with {@link KeyboardInterrupt} (for SIGINT) or {@link SignalInterrupt}
   * (a `CancelledError` if the task caught the interrupt and was cancelled again).
   *
   * @throws {TypeError} synchronously when `coro` is not an awaitable or a thunk.
   * @throws {RuntimeError} (as a rejection) from inside a running loop, or after `close()`.
   */
  run<T>(coro: Awaitable<T>, options: { context?: Context } = {}): Promise<T> {
    checkAwaitable("`coro`", coro);
    checkOptions("Runner.run()", options, ["context"]);
    return this.#run(coro, options);
  }

  async #run<T>(coro: Awaitable<T>, options: { context?: Context }): Promise<T> {
    if (_getRunningLoop() !== null) {
      throw new RuntimeError("Runner.run() cannot be called from a running event loop");
    }
    this.#lazyInit();
    const loop = this.#loop as EventLoop;
    const task = loop.createTask(coro, { context: options.context ?? (this.#context as Context) });
    const listeners = this.#installSignals(task);
    try {
      return await loop.runUntilComplete(task);
    } catch (error) {
      const signal = this.#interrupts[0];
      if (signal !== undefined && isCancellation(error) && task.uncancel() === 0) {
        throw signal === "SIGINT"
          ? new KeyboardInterrupt("", { cause: error })
          : new SignalInterrupt(signal, { cause: error });
      }
      throw error;
    } finally {
      for (const [signal, listener] of listeners) process.removeListener(signal, listener);
      this.#interrupts = [];
    }
  }

  /**
   * Cancels the tasks still running and waits for them, shuts the default executor down, and
   * closes the loop. Closing again does nothing.
   *
   * **Cancellation**: called outside any task (it runs the loop itself); it cancels the tasks
   * still running and waits for them.
   */
  async close(): Promise<void> {
    if (this.#state !== "initialized") {
      this.#state = "closed";
      return;
    }
    const loop = this.#loop as EventLoop;
    try {
      await cancelAllTasks(loop);
      // Named, so that a trace of the run says what these last two tasks do.
      await loop.runUntilComplete(function shutdownAsyncgens() {
        return loop.shutdownAsyncgens();
      });
      await loop.runUntilComplete(function shutdownDefaultExecutor() {
        return loop.shutdownDefaultExecutor(300);
      });
    } finally {
      loop.close();
      this.#loop = null;
      this.#state = "closed";
    }
  }

  /** `await using runner = new Runner()` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #lazyInit(): void {
    if (this.#state === "closed") throw new RuntimeError("Runner is closed");
    if (this.#state === "initialized") return;
    const loop = this.#loopFactory === undefined ? new EventLoop() : this.#loopFactory();
    if (!(loop instanceof EventLoop)) {
      throw new TypeError(`\`loopFactory\` must return an EventLoop, got ${describe(loop)}`);
    }
    if (this.#debug !== undefined) loop.setDebug(this.#debug);
    if (this.#trace !== undefined) loop._setTrace(this.#trace);
    this.#loop = loop;
    this.#context = copyContext();
    this.#state = "initialized";
  }

  /**
   * Listens for the runner's signals while `task` runs, each unless someone else handles it
   * already; returns the listeners to remove.
   */
  #installSignals(task: Task<unknown>): [NodeJS.Signals, () => void][] {
    const installed: [NodeJS.Signals, () => void][] = [];
    if (!isMainThread) return installed;
    for (const signal of this.#signals) {
      if (process.listenerCount(signal) > 0) continue;
      const listener = (): void => {
        this.#interrupts.push(signal);
        if (this.#interrupts.length === 1 && !task.done()) {
          task.cancel();
          return;
        }
        // A second signal: give it back to Node, whose default ends the process (write the
        // trace first: no exit hook runs then).
        this.#loop?._tracer?._write();
        process.removeListener(signal, listener);
        process.kill(process.pid, signal);
      };
      process.on(signal, listener);
      installed.push([signal, listener]);
    }
    return installed;
  }

  /** The state of the runner, as asyncio's repr shows it. */
  toString(): string {
    return formatRepr("Runner", [this.#state]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

/** Cancels every task of `loop` and runs the loop until they are done; reports their errors. */
async function cancelAllTasks(loop: EventLoop): Promise<void> {
  const toCancel = allTasks(loop);
  if (toCancel.size === 0) return;
  for (const task of toCancel) task.cancel();
  // The set itself, not spread arguments: a spread of a few hundred thousand overflows the stack.
  await loop.runUntilComplete(gatherAll(toCancel, { returnExceptions: true }));
  for (const task of toCancel) {
    if (task.cancelled() || !task._hasException) continue;
    loop.callExceptionHandler({
      message: "unhandled exception during asyncio.run() shutdown",
      exception: task.exception(),
      task,
    });
  }
}

/**
 * Runs `main` in a new event loop and resolves to its result; then cancels the tasks still
 * running, shuts the default executor down and closes the loop. `main` runs as one task.
 *
 * **Cancellation**: Ctrl-C cancels `main`; `run` then rejects with {@link KeyboardInterrupt}.
 * SIGTERM does the same by default, and `run` rejects with {@link SignalInterrupt}
 * (`signal: "SIGTERM"`); `options.signals` chooses the signals handled (`[]`: none). A second
 * signal ends the process at once. `run` never ends the process nor sets its exit status:
 * catch the error and set `process.exitCode = error.exitCode` (130 for Ctrl-C, 143 for
 * SIGTERM) to exit as a shell expects. Unlike Python's loop, which blocks until Ctrl-C,
 * Node ends a process that has nothing left to wait for: a `main` that waits only on a future
 * nobody can complete (no timer, socket or child process pending) does not keep it alive, and
 * the signal listeners do not either.
 *
 * @throws {TypeError} synchronously when `main` is not an awaitable or a thunk, or for a bad
 * option.
 * @throws {RuntimeError} (as a rejection) when a loop is already running.
 *
 * @example
 * await run(async () => {
 *   await sleep(1);
 *   console.log("hello");
 * });
 *
 * asyncio: `asyncio.run(main, *, debug=None, loop_factory=None)`; `signals` is an addition
 * (asyncio handles SIGINT only).
 */
export function run<T>(main: Awaitable<T>, options: RunOptions = {}): Promise<T> {
  checkAwaitable("`main`", main);
  checkOptions("run()", options, RUN_KEYS);
  const signals = options.signals === undefined ? undefined : checkSignals(options.signals);
  _checkTrace("run()", options.trace);
  if (_getRunningLoop() !== null) {
    return Promise.reject(
      new RuntimeError("asyncio.run() cannot be called from a running event loop"),
    );
  }
  const runner = new Runner({ debug: options.debug ?? false, loopFactory: options.loopFactory, signals, trace: options.trace });
  return runMain(runner, main);
}

async function runMain<T>(runner: Runner, main: Awaitable<T>): Promise<T> {
  try {
    return await runner.run(main);
  } finally {
    await runner.close();
  }
}
