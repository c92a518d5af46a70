/**
 * Running a program: `run(main)` and `Runner`.
 *
 * HOW (CPython's `asyncio.Runner`): a runner makes a loop on first use and runs each main
 * coroutine as one task on it. After `main` returns, `close()` cancels the tasks still running
 * and waits for them, shuts the default executor down, and closes the loop.
 *
 * Ctrl-C: while `run()` runs in the main thread and nobody else listens for SIGINT, the first
 * SIGINT cancels the main task (its `finally` blocks run); `run()` then rejects with
 * {@link KeyboardInterrupt}. A second SIGINT restores Node's default and re-raises the signal,
 * which ends the process at once.
 */
import { isMainThread } from "node:worker_threads";
import { gather } from "./combinators/gather.js";
import { type Context, copyContext } from "./context.js";
import { type TraceOptions, type TraceTarget, _checkTrace } from "./debug/tracing.js";
import { KeyboardInterrupt, RuntimeError, isCancellation } from "./errors.js";
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
   * Trace the run (see {@link TraceOptions}): a base name (`"trace"` writes trace.json and
   * trace.html) or `{ file?, html?, maxEvents? }`; written when the runner closes, also after
   * `main` failed or Ctrl-C. Default: the `ASYNCIO_TS_TRACE` environment variable, else off;
   * `false`: off.
   */
  trace?: string | TraceOptions | false;
}

/** The keys of {@link RunOptions}. */
const RUN_KEYS = ["debug", "loopFactory", "trace"] as const satisfies readonly (keyof RunOptions)[];

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
  #interruptCount = 0;

  constructor(options: RunOptions = {}) {
    checkOptions("new Runner()", options, RUN_KEYS);
    if (options.loopFactory !== undefined && typeof options.loopFactory !== "function") {
      throw new TypeError(`\`loopFactory\` must be a function, got ${describe(options.loopFactory)}`);
    }
    this.#debug = options.debug;
    this.#loopFactory = options.loopFactory;
    this.#trace = _checkTrace("new Runner()", options.trace);
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
   * **Cancellation**: Ctrl-C cancels the task; the run then rejects with
   * {@link KeyboardInterrupt} (a `CancelledError` if the task caught the interrupt and was
   * cancelled again).
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
    const onSigint = this.#installSigint(task);
    try {
      return await loop.runUntilComplete(task);
    } catch (error) {
      if (this.#interruptCount > 0 && isCancellation(error) && task.uncancel() === 0) {
        throw new KeyboardInterrupt("", { cause: error });
      }
      throw error;
    } finally {
      if (onSigint !== null) process.removeListener("SIGINT", onSigint);
      this.#interruptCount = 0;
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

  /** Listens for SIGINT while `task` runs, unless someone else handles it already. */
  #installSigint(task: Task<unknown>): (() => void) | null {
    if (!isMainThread || process.listenerCount("SIGINT") > 0) return null;
    const onSigint = (): void => {
      this.#interruptCount++;
      if (this.#interruptCount === 1 && !task.done()) {
        task.cancel();
        return;
      }
      // A second Ctrl-C: give the signal back to Node, which ends the process (write the trace
      // first: no exit hook runs then).
      this.#loop?._tracer?._write();
      process.removeListener("SIGINT", onSigint);
      process.kill(process.pid, "SIGINT");
    };
    process.on("SIGINT", onSigint);
    return onSigint;
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
  await loop.runUntilComplete(gather(...toCancel, { returnExceptions: true }));
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
 * A second Ctrl-C ends the process at once. Unlike Python's loop, which blocks until Ctrl-C,
 * Node ends a process that has nothing left to wait for: a `main` that waits only on a future
 * nobody can complete (no timer, socket or child process pending) does not keep it alive, and
 * the SIGINT listener does not either.
 *
 * @throws {TypeError} synchronously when `main` is not an awaitable or a thunk.
 * @throws {RuntimeError} (as a rejection) when a loop is already running.
 *
 * @example
 * await run(async () => {
 *   await sleep(1);
 *   console.log("hello");
 * });
 *
 * asyncio: `asyncio.run(main, *, debug=None, loop_factory=None)`.
 */
export function run<T>(main: Awaitable<T>, options: RunOptions = {}): Promise<T> {
  checkAwaitable("`main`", main);
  checkOptions("run()", options, RUN_KEYS);
  _checkTrace("run()", options.trace);
  if (_getRunningLoop() !== null) {
    return Promise.reject(
      new RuntimeError("asyncio.run() cannot be called from a running event loop"),
    );
  }
  const runner = new Runner({ debug: options.debug ?? false, loopFactory: options.loopFactory, trace: options.trace });
  return runMain(runner, main);
}

async function runMain<T>(runner: Runner, main: Awaitable<T>): Promise<T> {
  try {
    return await runner.run(main);
  } finally {
    await runner.close();
  }
}
