/**
 * The event loop.
 *
 * HOW one iteration works (CPython's `_run_once`, on top of Node's loop):
 *
 *   1. Timers whose deadline has come move from the heap to the ready queue, in deadline order.
 *   2. The callbacks that are in the ready queue now run, in FIFO order. Callbacks they schedule
 *      wait for the next iteration, so a task that keeps yielding cannot starve the others.
 *   3. When a callback resumes awaiting code (a task's first step, a future waking its awaiter),
 *      that code runs in the microtasks that follow. Before the next callback runs, the loop lets
 *      the microtask queue drain (a microtask that queues a `process.nextTick`, which Node runs
 *      only once the microtasks are done). So a woken task runs to its next real suspension
 *      before the next ready callback, as a task step does in asyncio.
 *   4. If callbacks are ready, the next iteration follows: at once, once the microtasks have
 *      drained, while this turn of Node's loop has budget left (64 iterations or 1 ms), else
 *      with `setImmediate`, after Node's I/O. If none are ready, the clock is armed for the
 *      earliest timer; if there are no timers either, nothing is armed and an idle loop costs
 *      nothing (and lets the process exit).
 *
 * WHY the budget: asyncio polls for I/O once per iteration; a full turn of Node's loop costs
 * far more than one of our iterations, and code that hands work back and forth (a lock passed
 * around, `sleep(0)`) needs an iteration per hand-off. Chaining iterations within one turn
 * makes those hand-offs cheap, and the budget still gives I/O its turn at least every
 * millisecond, so a task that keeps yielding cannot starve it.
 *
 * WHY on top of Node: Node already owns the process's only thread and its I/O. Sitting on it
 * keeps every Node API (sockets, fs, child processes) working inside tasks unchanged.
 *
 * Invariant: `#iterationScheduled` is true exactly while a `setImmediate` for `#onImmediate` is
 * pending; `#inIteration` is true from the start of step 2 until the iteration ends, including
 * the pauses for microtask drains. While either is true, the end of that iteration schedules
 * what comes next, so `_enqueue` and `_addTimer` need not.
 */
import type { AsyncResource } from "node:async_hooks";
import { type Context, currentContext } from "../context.js";
import { isCoroutine, isCoroutineFunction } from "../coroutines.js";
import { type TraceOptions, type TraceTarget, type Tracer, _checkTrace, _tracerFor } from "../debug/tracing.js";
import { RuntimeError, _describeEscapingCancellation } from "../errors.js";
import { AwaitRecord, Future, type Unretrieved, _reportUnretrieved } from "../futures.js";
import { Fifo } from "../internal/fifo.js";
import { Heap } from "../internal/heap.js";
import { formatRepr, inspectCustom, reprValue } from "../internal/inspect.js";
import { checkDelay, checkFunction, checkOptions, describe, isThenable } from "../internal/validate.js";
import { type Awaitable, type TaskOptions, Task, _createdAt, _describeCoro, ensureFuture } from "../tasks.js";
import { type Clock, type ClockHost, RealClock } from "./clock.js";
import { type ReadyItem, type TimerEntry, Handle, TimerHandle } from "./handles.js";
import { _getRunningLoop, _registerLoop, _runOutsideFrame, _setRunningLoop, frameStorage } from "./running.js";

let loopCounter = 0;

/**
 * Microtasks of the loop's own are reactions to this promise: Node's `queueMicrotask` makes an
 * async resource and a bound function for each (about 500 bytes on Node 26), a reaction a few
 * small records. Both run in the microtask queue in order; the loop's callbacks never throw.
 */
const RESOLVED = Promise.resolve();

/** What each blocked task of a loop awaits (set by the introspection module when it loads). */
let describeBlocked: ((loop: EventLoop) => string) | null = null;

/** @internal */
export function _setBlockedReporter(fn: (loop: EventLoop) => string): void {
  describeBlocked = fn;
}

/** What an exception handler is told: a message and, as they apply, the objects involved. */
export interface ExceptionContext {
  /** What happened, in a sentence: "Exception in event loop callback". */
  message: string;
  /** The error, when there is one. */
  exception?: unknown;
  /** The future involved; a description string in a "never retrieved" report. */
  future?: Future<unknown> | string;
  /** The task involved. */
  task?: Task<unknown>;
  /** The callback's handle, for an error thrown by a loop callback. */
  handle?: Handle;
  [key: string]: unknown;
}

/** Receives errors no code was there to catch. asyncio: `loop.set_exception_handler(handler)`. */
export type ExceptionHandler = (loop: EventLoop, context: ExceptionContext) => void;

/**
 * Makes the tasks of a loop (`loop.setTaskFactory`). It receives what `createTask` received and
 * must return a {@link Task}: `createTask` throws a `TypeError` for anything else (asyncio takes
 * what it returns and fails later, inside the loop).
 * asyncio: the task factory `factory(loop, coro, **kwargs)`.
 */
export type TaskFactory = <T>(
  loop: EventLoop,
  coro: Awaitable<T>,
  options: TaskOptions,
) => Task<T>;

/** The executor interface `runInExecutor` uses (see `asyncio-ts` threads). */
export interface Executor {
  /** Runs `fn(...args)` elsewhere; settles with its result. */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): PromiseLike<Awaited<R>>;
  /** Stops taking work; with `wait`, resolves once running work finished. */
  shutdown(wait?: boolean): Promise<void>;
}

/**
 * Node's own clock and timer, read once: `runTest({ virtualTimers: true })` replaces the global
 * ones while a test runs, and the loop's budget, its debug timing and its executor deadline
 * must keep measuring real time.
 */
const realNow = performance.now.bind(performance);
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** Iterations one turn of Node's loop may run back to back before I/O gets its turn. */
const CHAIN_ITERATIONS = 64;
/** Milliseconds one turn of Node's loop may spend on chained iterations. */
const CHAIN_MS = 1;

/** Options of {@link EventLoop}. */
export interface EventLoopOptions {
  /** Where time comes from; default: a real monotonic clock. `asyncio-ts/testing` has a virtual one. */
  clock?: Clock;
  /** Debug mode (see {@link EventLoop.setDebug}); default: `false`. */
  debug?: boolean;
  /**
   * Record what the loop's tasks do and write it when the loop closes (see {@link TraceOptions}):
   * a base name (`"trace"` writes trace.json and trace.html), or `{ file?, html?, maxEvents? }`.
   * Default: the `ASYNCIO_TS_TRACE` environment variable (a base name) if set, else off;
   * `false`: off whatever the environment says.
   */
  trace?: string | TraceOptions | false;
}

/** The keys of {@link EventLoopOptions}. */
const EVENT_LOOP_KEYS = ["clock", "debug", "trace"] as const satisfies readonly (keyof EventLoopOptions)[];

type LoopState = "idle" | "running" | "closed";

/**
 * @internal What `asyncio-ts/testing`'s explorers watch or steer on a test loop. A loop without
 * hooks (every loop but an explorer's) pays one field read where a hook would be called.
 */
export interface LoopTestHooks {
  /** A future of this loop was made (`exploreCancellation` notes where, to name an await). */
  created?(future: Future<unknown>): void;
  /** `task`'s code suspended on a pending future of this loop (`record` is its await). */
  suspended?(task: Task<unknown>, record: AwaitRecord): void;
  /** Puts the ready items of one iteration in the order they run, in place (`exploreSchedules`). */
  reorder?(items: ReadyItem[]): void;
}

/**
 * @internal Something made through a loop's own API that holds an OS handle (a socket, a
 * listening server, a datagram endpoint, a child process). It is tracked from creation until
 * it is fully closed, so that `loop.close()` can close what the user left open: Node would
 * otherwise keep the process alive for it, and its events would call into a closed loop.
 */
export interface LoopResource {
  /**
   * Closes it at once, without calling back into the loop (no protocol callback runs: the loop
   * is closed). Returns whether the user had left it open (neither closed nor closing), which
   * debug mode reports as asyncio's `ResourceWarning` does.
   */
  _closeForLoop(): boolean;
  toString(): string;
}

let defaultExecutorFactory: (() => Executor) | null = null;

/** @internal Set by the threads module so the loop does not import worker code it may not need. */
export function _setDefaultExecutorFactory(factory: () => Executor): void {
  defaultExecutorFactory = factory;
}

/**
 * An event loop: runs callbacks, timers and tasks.
 *
 * Most programs never touch it: `run(main)` makes one, runs `main` in it and closes it. Use it
 * for low-level scheduling (`callSoon`, `callLater`), the exception handler, debug mode, and the
 * transports and servers of the networking API.
 *
 * asyncio: `asyncio.AbstractEventLoop` / `BaseEventLoop`.
 */
export class EventLoop implements ClockHost {
  #ready = new Fifo<ReadyItem>();
  #timers = new Heap<TimerEntry>();
  #timerSeq = 0;
  #clock: Clock;
  #state: LoopState = "idle";
  #stopping = false;
  /**
   * The last callback of the iteration resumed code that runs after the iteration ended (no
   * drain there, to save a tick per iteration). That code still belongs to the iteration: a
   * `stop()` it calls must end the run before the next iteration.
   */
  #tailRunning = false;
  #stopInTail = false;
  #iterationScheduled = false;
  #inIteration = false;
  #todo = 0;
  /** Chained iterations left in this turn of Node's loop, and when the turn began. */
  #chainLeft = 0;
  #turnStart = 0;
  #onStopped: (() => void) | null = null;
  #debug: boolean;
  #exceptionHandler: ExceptionHandler | null = null;
  #taskFactory: TaskFactory | null = null;
  #defaultExecutor: Executor | null = null;
  #executorShutdownCalled = false;
  #idleWaiters: { fn: () => void; priority: number }[] = [];
  #idleCheckScheduled = false;
  #slowStart = 0;
  #slowItem: ReadyItem | null = null;
  /** The task whose code the timed item runs (its first step, or a wake-up of its await). */
  #slowTask: Task<unknown> | null = null;
  /** What this loop's networking and subprocess API made and is not closed yet. */
  #resources = new Set<LoopResource>();

  /**
   * @internal The errors of this loop's failed futures that nobody retrieved yet and that were
   * not reported yet (records, not the futures: those stay collectable). `close()` reports them.
   */
  _unretrieved = new Set<Unretrieved>();

  /** @internal See {@link LoopTestHooks}; `null` outside the explorers of `asyncio-ts/testing`. */
  _testHooks: LoopTestHooks | null = null;

  /** @internal Set by a ready item that resumed awaiting code: drain microtasks before the next. */
  _resumed = false;
  /**
   * @internal The resource tasks start their frames from in this iteration (made by the first
   * task that starts in it, see `_runInOwnFrame`), or `null`.
   */
  _startScope: AsyncResource | null = null;
  /** @internal Records the loop's tasks when tracing is on (`debug/tracing.ts`); else `null`. */
  _tracer: Tracer | null = null;
  /**
   * @internal Tasks not yet done, as an intrusive doubly-linked list through the tasks' own
   * `_prevTask`/`_nextTask` fields (cheaper than a Set on the task hot path). The loop holds
   * them strongly: a running task never vanishes.
   */
  _firstTask: Task<unknown> | null = null;
  /** @internal */ _taskCount = 0;

  /** @internal */
  _linkTask(task: Task<unknown>): void {
    const first = this._firstTask;
    task._nextTask = first;
    if (first !== null) first._prevTask = task;
    this._firstTask = task;
    this._taskCount++;
    if (this._tracer !== null) this._tracer._taskCreated(this, task);
  }

  /** @internal */
  _unlinkTask(task: Task<unknown>): void {
    const prev = task._prevTask;
    const next = task._nextTask;
    if (prev !== null) prev._nextTask = next;
    else if (this._firstTask === task) this._firstTask = next;
    else return; // not linked
    if (next !== null) next._prevTask = prev;
    task._prevTask = null;
    task._nextTask = null;
    this._taskCount--;
    if (this._tracer !== null) this._tracer._taskFinished(this, task);
  }

  /** @internal The tasks not yet done, oldest first. */
  _liveTasks(): Task<unknown>[] {
    const tasks: Task<unknown>[] = [];
    for (let t = this._firstTask; t !== null; t = t._nextTask) tasks.push(t);
    return tasks.reverse();
  }

  /**
   * Callbacks that run longer than this many seconds are logged in debug mode (default 0.1).
   * asyncio: `loop.slow_callback_duration`.
   */
  slowCallbackDuration = 0.1;

  constructor(options: EventLoopOptions = {}) {
    checkOptions("new EventLoop()", options, EVENT_LOOP_KEYS);
    this.#clock = options.clock ?? new RealClock();
    this.#debug = options.debug ?? false;
    this._tracer = _tracerFor(this, _checkTrace("new EventLoop()", options.trace));
    _registerLoop(this);
  }

  /** @internal A number naming the loop in introspection. */
  readonly _id = ++loopCounter;

  /**
   * @internal What the loop holds now, for introspection and the deadlock report: callbacks
   * ready, timers armed, and the resources its API made that are still open.
   */
  _holding(): { ready: number; timers: number; idleWaiters: number; resources: LoopResource[] } {
    return {
      ready: this.#ready.length,
      timers: this.#timers.size,
      idleWaiters: this.#idleWaiters.length,
      resources: Array.from(this.#resources),
    };
  }

  /**
   * @internal Traces this loop to `target` from now on (`false`: not at all), in place of what
   * its options or the environment said. For `Runner`, whose loop factory makes the loop.
   */
  _setTrace(target: TraceTarget | false): void {
    this._tracer?._detach(this);
    this._tracer = _tracerFor(this, target);
  }

  // ---------------------------------------------------------------- running and stopping

  /**
   * Runs the loop until `stop()` is called; resolves then.
   *
   * If `stop()` was called before, runs one iteration and resolves.
   *
   * **Cancellation**: not a task's await; `stop()` ends it (the promise then resolves).
   *
   * @throws {RuntimeError} (as a rejection) when the loop is closed or running, or another loop
   * runs.
   */
  runForever(): Promise<void> {
    try {
      this.#checkCanRun();
    } catch (error) {
      return Promise.reject(error);
    }
    this.#state = "running";
    _setRunningLoop(this);
    return new Promise<void>((resolve) => {
      this.#onStopped = resolve;
      this.#scheduleIteration();
    });
  }

  /**
   * Runs the loop until `aw` is done, and resolves to its result (rejects with its error).
   * A thunk or coroutine is made a task of this loop first.
   *
   * **Cancellation**: cancelling `aw` (when it is a future or task) makes this reject with
   * `CancelledError`; `stop()` makes it reject with `RuntimeError`.
   *
   * @throws {RuntimeError} (as a rejection) when the loop is closed or already running, or when
   * `stop()` ends the loop before `aw` is done.
   *
   * asyncio: `loop.run_until_complete(future)`.
   */
  async runUntilComplete<T>(aw: Awaitable<T>): Promise<T> {
    this.#checkCanRun();
    const future = ensureFuture(aw, { loop: this });
    const stop = (): void => this.stop();
    future._addInternalCallback(stop);
    try {
      await this.runForever();
    } finally {
      future.removeDoneCallback(stop);
    }
    if (!future.done()) throw new RuntimeError("Event loop stopped before Future completed.");
    if (future.cancelled()) {
      // Leaving the loop: from here the error is printed by Node, not by the loop.
      const error = future._makeCancelledError();
      _describeEscapingCancellation(error);
      throw error;
    }
    return future.result();
  }

  /**
   * Stops the loop after the current iteration: `runForever()` then resolves.
   * asyncio: `loop.stop()`.
   */
  stop(): void {
    this.#stopping = true;
    if (this.#tailRunning) this.#stopInTail = true;
    if (this.#state === "running" && !this.#iterationScheduled && !this.#inIteration) {
      this.#scheduleIteration();
    }
  }

  /** Whether the loop is running now. */
  isRunning(): boolean {
    return this.#state === "running";
  }

  /** Whether `close()` was called. */
  isClosed(): boolean {
    return this.#state === "closed";
  }

  /**
   * Closes the loop: drops pending callbacks and timers, shuts the default executor down
   * without waiting, and closes what the loop's own API made and the user left open —
   * servers stop listening, connections and datagram endpoints are aborted, child processes
   * still running are killed (as a subprocess transport's `close()` does) — so nothing keeps
   * the process alive or calls into the closed loop. Their protocols hear nothing more. In
   * debug mode each of them is reported with a `ResourceWarning` (asyncio warns about unclosed
   * transports when they are collected; its closed selector stops them). Executors the user
   * made stay open. Then every error of this loop's futures and tasks that nobody retrieved
   * and that was not reported yet goes to the exception handler, as "Task exception was never
   * retrieved" (the collector reports such errors earlier, when it gets to them; each error is
   * reported once). Closing twice does nothing.
   *
   * @throws {RuntimeError} when the loop is running.
   */
  close(): void {
    if (this.#state === "running") throw new RuntimeError("Cannot close a running event loop");
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#ready.clear();
    this.#timers.clear();
    this.#clock.disarm();
    const executor = this.#defaultExecutor;
    this.#defaultExecutor = null;
    if (executor !== null) void executor.shutdown(false);
    const resources = this.#resources;
    this.#resources = new Set();
    for (const resource of resources) this.#closeLeftover(resource);
    // The collector may never get to these before the process exits: report them now.
    for (const held of Array.from(this._unretrieved)) _reportUnretrieved(held);
    const tracer = this._tracer;
    this._tracer = null;
    tracer?._detach(this);
  }

  #closeLeftover(resource: LoopResource): void {
    const repr = this.#debug ? resource.toString() : "";
    let leftOpen: boolean;
    try {
      leftOpen = resource._closeForLoop();
    } catch (exception) {
      this.callExceptionHandler({ message: `Error closing ${resource.toString()} when the event loop closed`, exception });
      return;
    }
    if (leftOpen && this.#debug) {
      process.emitWarning(`unclosed ${repr}: closed by the event loop's close()`, { type: "ResourceWarning" });
    }
  }

  /**
   * @internal Tracks a resource made through this loop's API until it is fully closed (see
   * {@link LoopResource}). On a closed loop it is closed at once.
   */
  _track(resource: LoopResource): void {
    if (this.#state === "closed") this.#closeLeftover(resource);
    else this.#resources.add(resource);
  }

  /** @internal The resource is fully closed. */
  _untrack(resource: LoopResource): void {
    this.#resources.delete(resource);
  }

  // ---------------------------------------------------------------- scheduling callbacks

  /**
   * Schedules `callback(...args)` for the next iteration, after the callbacks already
   * scheduled (FIFO). It runs in a copy of the context that is current now (so what it sets
   * with `ContextVar.set()` stays its own).
   *
   * @throws {RuntimeError} when the loop is closed.
   *
   * asyncio: `loop.call_soon(callback, *args)`.
   */
  callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle {
    this.#checkClosed();
    this.#checkCallback("callSoon", callback);
    const handle = new Handle(callback as never, args, this, currentContext().copy());
    this._enqueue(handle);
    return handle;
  }

  /**
   * Schedules `callback(...args)` to run after `delay` seconds (a negative delay means now).
   * Callbacks due at the same time run in the order they were scheduled.
   *
   * asyncio: `loop.call_later(delay, callback, *args)`.
   */
  callLater<A extends unknown[]>(
    delay: number,
    callback: (...args: A) => unknown,
    ...args: A
  ): TimerHandle {
    checkDelay("delay", delay);
    return this.#callAt("callLater", this.#clock.time() + delay, callback, args);
  }

  /**
   * Schedules `callback(...args)` to run at `when`, in seconds on the loop's clock
   * (compare `loop.time()`).
   *
   * asyncio: `loop.call_at(when, callback, *args)`.
   */
  callAt<A extends unknown[]>(
    when: number,
    callback: (...args: A) => unknown,
    ...args: A
  ): TimerHandle {
    checkDelay("when", when);
    return this.#callAt("callAt", when, callback, args);
  }

  #callAt(op: string, when: number, callback: unknown, args: unknown[]): TimerHandle {
    this.#checkClosed();
    this.#checkCallback(op, callback);
    const handle = new TimerHandle(when, callback as never, args, this, currentContext().copy());
    this._addTimer(handle);
    return handle;
  }

  /**
   * The loop's time: monotonic seconds, a float. Deadlines for `callAt` and `timeoutAt` are on
   * this clock. asyncio: `loop.time()`.
   */
  time(): number {
    return this.#clock.time();
  }

  // ---------------------------------------------------------------- futures and tasks

  /**
   * A new pending {@link Future} bound to this loop. asyncio: `loop.create_future()`.
   *
   * **Cancellation**: a task awaiting the future gets `CancelledError` if it is cancelled, and
   * cancelling that task cancels the future.
   */
  createFuture<T = unknown>(): Future<T> {
    return new Future<T>(this);
  }

  /**
   * Wraps `coro` in a {@link Task} of this loop and schedules it. Works on a loop that is not
   * running: the task starts when the loop runs. Uses the task factory when one is set.
   *
   * **Cancellation**: see {@link Task}: `task.cancel()` reaches the code at its library awaits;
   * awaiting the task from another task that is cancelled cancels it too (use `shield`).
   *
   * asyncio: `loop.create_task(coro, *, name=None, context=None)`.
   */
  createTask<T>(coro: Awaitable<T>, options?: TaskOptions): Task<T> {
    if (this.#state === "closed") {
      if (isCoroutine(coro)) coro.close();
      throw new RuntimeError("Event loop is closed");
    }
    const factory = this.#taskFactory;
    if (factory === null) return new Task<T>(coro, options, this);
    const task: unknown = factory(this, coro, options ?? {});
    // What the loop's own code does with it next (await it, add callbacks, cancel it at
    // shutdown) needs a task: say so here, not later inside the loop.
    if (!(task instanceof Task)) {
      throw new TypeError(`the task factory returned ${describe(task)}; a task factory must return a Task`);
    }
    return task as Task<T>;
  }

  /**
   * Sets the factory `createTask` uses; `null` restores the default.
   * `eagerTaskFactory` is one. asyncio: `loop.set_task_factory(factory)`.
   */
  setTaskFactory(factory: TaskFactory | null): void {
    if (factory !== null && typeof factory !== "function") {
      throw new TypeError(`\`factory\` must be a function or null, got ${describe(factory)}`);
    }
    this.#taskFactory = factory;
  }

  /** The task factory, or `null` for the default. asyncio: `loop.get_task_factory()`. */
  getTaskFactory(): TaskFactory | null {
    return this.#taskFactory;
  }

  // ---------------------------------------------------------------- errors

  /**
   * Sets the handler of errors no code caught (a callback that threw, a task whose error was
   * never retrieved); `null` restores the default.
   *
   * @throws {TypeError} when `handler` is neither a function nor `null`.
   */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null && typeof handler !== "function") {
      throw new TypeError(
        `\`handler\` must be a function or null, got ${describe(handler)}`,
      );
    }
    this.#exceptionHandler = handler;
  }

  /** The handler set with `setExceptionHandler`, or `null` when the default is used. */
  getExceptionHandler(): ExceptionHandler | null {
    return this.#exceptionHandler;
  }

  /**
   * Reports an error to the exception handler (or the default one). An error thrown by the
   * handler itself is reported by the default handler; it never stops the loop.
   */
  callExceptionHandler(context: ExceptionContext): void {
    checkExceptionContext("callExceptionHandler()", context);
    this._callExceptionHandlerIn(contextOf(context), context);
  }

  /**
   * @internal Runs the handler in `runIn` (the failing code's context, as CPython 3.12 does),
   * and never lets it throw.
   */
  _callExceptionHandlerIn(runIn: Context | null, context: ExceptionContext): void {
    const handler = this.#exceptionHandler;
    try {
      if (handler === null) this.#inContext(runIn, () => this.defaultExceptionHandler(context));
      else this.#inContext(runIn, () => handler(this, context));
    } catch (exception) {
      try {
        if (handler === null) {
          console.error("Exception in default exception handler", exception, context);
        } else {
          this.defaultExceptionHandler({
            message: "Unhandled error in exception handler",
            exception,
            context,
          });
        }
      } catch {
        // Never let error reporting take the loop down.
      }
    }
  }

  #inContext(context: Context | null, fn: () => void): void {
    if (context === null) fn();
    else frameStorage.run(context, fn);
  }

  /**
   * The default exception handler: logs the message, the error with its stack, and the task,
   * future or handle involved, to `console.error`.
   */
  defaultExceptionHandler(context: ExceptionContext): void {
    checkExceptionContext("defaultExceptionHandler()", context);
    const lines = [context.message || "Unhandled exception in event loop"];
    for (const key of Object.keys(context).sort()) {
      if (key === "message" || key === "exception") continue;
      const value = context[key];
      lines.push(`${key}: ${typeof value === "string" ? value : reprValue(value, 200)}`);
    }
    if ("exception" in context) {
      const exception = context.exception;
      lines.push(
        exception instanceof Error && exception.stack ? exception.stack : reprValue(exception, 200),
      );
    }
    console.error(lines.join("\n"));
  }

  // ---------------------------------------------------------------- debug mode

  /**
   * Turns debug mode on or off. In debug mode the loop logs callbacks and task steps slower
   * than `slowCallbackDuration` (a task's step names the task, its coroutine and where the task
   * was created: debug mode records that for each task), tasks that swallowed their
   * cancellation, and promises wrapped where a lazy coroutine was expected (naming the call
   * site). Coroutine objects never awaited are reported in any mode, as Python does.
   */
  setDebug(enabled: boolean): void {
    this.#debug = Boolean(enabled);
  }

  /** Whether debug mode is on. */
  getDebug(): boolean {
    return this.#debug;
  }

  // ---------------------------------------------------------------- executors

  /**
   * Runs `fn(...args)` in `executor` (the default worker-thread pool when `null` or `undefined`)
   * and resolves to its result. See `toThread` for what a function can do in a worker.
   *
   * **Cancellation**: cancelling the awaiting task (or the returned future) stops the waiting;
   * a call the executor has not started yet is dropped; work already running in a thread
   * finishes on its own.
   *
   * asyncio: `loop.run_in_executor(executor, func, *args)`.
   */
  runInExecutor<A extends unknown[], R>(
    executor: Executor | null | undefined,
    fn: (...args: A) => R,
    ...args: A
  ): Future<Awaited<R>> {
    this.#checkClosed();
    checkFunction("fn", fn);
    // `undefined` as asyncio's None, as `null`: the default executor.
    let target = executor ?? null;
    if (target !== null) checkExecutor("executor", target, "or null (the default executor)");
    else {
      if (this.#executorShutdownCalled) {
        throw new RuntimeError("Executor shutdown has been called");
      }
      if (this.#defaultExecutor === null) {
        if (defaultExecutorFactory === null) {
          throw new RuntimeError("no default executor: import asyncio-ts's threads support");
        }
        this.#defaultExecutor = defaultExecutorFactory();
      }
      target = this.#defaultExecutor;
    }
    const future = new Future<Awaited<R>>(this);
    const promise = target.submit(fn, ...args);
    if (!isThenable(promise)) {
      throw new TypeError(`the executor's submit() returned ${describe(promise)}; it must return a promise`);
    }
    // Forward a cancel to the executor, as asyncio's wrap_future does: a call not yet started
    // is dropped (an executor's result may have a `cancel()`, like ConcurrentFuture's).
    const cancel = (promise as { cancel?: unknown }).cancel;
    if (typeof cancel === "function") {
      future._addInternalCallback((f) => {
        if (f.cancelled()) cancel.call(promise);
      });
    }
    promise.then(
      (value) => {
        if (!future.done()) future.setResult(value);
      },
      (error: unknown) => {
        if (!future.done()) future.setException(error);
      },
    );
    return future;
  }

  /**
   * Sets the executor `runInExecutor(null, …)` uses. asyncio: `loop.set_default_executor()`.
   */
  setDefaultExecutor(executor: Executor): void {
    checkExecutor("executor", executor, "");
    this.#defaultExecutor = executor;
  }

  /**
   * Shuts the default executor down and waits for its running work, up to `timeout` seconds
   * (no limit by default). asyncio: `loop.shutdown_default_executor(timeout=None)`.
   *
   * **Cancellation**: cancelling the awaiting task stops the waiting; the executor goes on
   * shutting down.
   */
  async shutdownDefaultExecutor(timeout: number | null = null): Promise<void> {
    this.#executorShutdownCalled = true;
    const executor = this.#defaultExecutor;
    if (executor === null) return;
    this.#defaultExecutor = null;
    const done = executor.shutdown(true);
    if (timeout === null) {
      await done;
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = realSetTimeout(() => resolve("timeout"), Math.max(0, timeout * 1000));
    });
    const outcome = await Promise.race([done.then(() => "done" as const), timedOut]);
    realClearTimeout(timer);
    if (outcome === "timeout") {
      console.warn(
        `The executor did not finish joining its threads within ${timeout} seconds.`,
      );
      void executor.shutdown(false);
    }
  }

  /**
   * asyncio closes the async generators a loop started here. JavaScript has no hook that tells
   * a library when an async generator is created, so there is nothing to close: this resolves
   * at once. Close generators with `return()` (or `for await` + `break`) as usual.
   *
   * **Cancellation**: resolves at once; there is nothing to cancel.
   */
  async shutdownAsyncgens(): Promise<void> {
    this.#checkClosed();
  }

  // ---------------------------------------------------------------- internals

  /** @internal Puts an item on the ready queue, waking the loop if it sleeps. */
  _enqueue(item: ReadyItem): void {
    if (this.#state === "closed") return;
    this.#ready.push(item);
    if (!this.#iterationScheduled && !this.#inIteration && this.#state === "running") {
      this.#scheduleIteration();
    }
  }

  /** @internal Adds a timer entry to the heap. */
  _addTimer(entry: TimerEntry): void {
    entry._seq = this.#timerSeq++;
    this.#timers.push(entry);
    if (
      this.#state === "running" &&
      !this.#iterationScheduled &&
      !this.#inIteration &&
      this.#timers.peek() === entry
    ) {
      this.#clock.arm(entry._when, this);
    }
  }

  /**
   * @internal Removes a cancelled timer entry (O(log n)). The clock stays armed for a moment
   * when no timer is left: the iteration's end disarms it (or re-arms it for a timer added
   * meanwhile), or, outside an iteration, a check once the microtasks have run. So a timeout
   * scope opened and closed over and over within one step does not make and clear a Node timer
   * each time; an idle loop still holds no timer (the process can exit).
   */
  _removeTimer(entry: TimerEntry): void {
    this.#timers.remove(entry);
    if (this.#timers.size === 0 && !this.#inIteration && !this.#iterationScheduled && !this.#disarmQueued) {
      // Outside an iteration (a task's step after the iteration's last item, a Node callback):
      // disarm once the microtasks of this moment have run, if no timer came back meanwhile.
      this.#disarmQueued = true;
      void RESOLVED.then(this.#queueDisarm);
    }
  }

  #disarmQueued = false;

  #queueDisarm = (): void => {
    process.nextTick(this.#disarmIfNoTimers);
  };

  #disarmIfNoTimers = (): void => {
    this.#disarmQueued = false;
    if (this.#timers.size === 0 && !this.#inIteration && !this.#iterationScheduled) this.#clock.disarm();
  };

  /** @internal The clock's wake-up: run an iteration unless one is already on its way. */
  _onTimer(): void {
    if (this.#state !== "running" || this.#iterationScheduled || this.#inIteration) return;
    this.#startTurn();
    this.#runOnce();
  }

  /** @internal Whether the loop has nothing to run now (used by virtual clocks). */
  _isIdle(): boolean {
    return (
      this.#state === "running" &&
      this.#ready.length === 0 &&
      !this.#iterationScheduled &&
      !this.#inIteration
    );
  }

  /** @internal The earliest timer deadline, or `null` when there are no timers. */
  _nextDeadline(): number | null {
    const top = this.#timers.peek();
    return top === undefined ? null : top._when;
  }

  /** @internal How many callbacks and timers are scheduled (for repr and tests). */
  _pendingCounts(): { ready: number; timers: number } {
    return { ready: this.#ready.length, timers: this.#timers.size };
  }

  /**
   * @internal Calls `fn` once the loop is idle: nothing ready, after Node had a turn (one
   * `setImmediate`) to deliver I/O. Used by `waitAllTasksBlocked` (priority 0) and the virtual
   * clock's autojump (priority 1). Waiters run in priority order, and only while the loop stays
   * idle: one that wakes a task defers the rest to the next idle moment.
   */
  _whenIdle(fn: () => void, priority = 0): void {
    const waiters = this.#idleWaiters;
    let i = waiters.length;
    while (i > 0 && (waiters[i - 1] as { priority: number }).priority > priority) i--;
    waiters.splice(i, 0, { fn, priority });
    // Checked when the loop becomes idle: at the end of the iteration that empties the ready
    // queue, or now if it already is idle.
    if (this._isIdle()) this.#scheduleIdleCheck();
  }

  #scheduleIdleCheck(): void {
    if (this.#idleCheckScheduled || this.#idleWaiters.length === 0) return;
    this.#idleCheckScheduled = true;
    _runOutsideFrame(() => setImmediate(this.#idleCheck));
  }

  #idleCheck = (): void => {
    this.#idleCheckScheduled = false;
    const waiters = this.#idleWaiters;
    while (waiters.length > 0 && this._isIdle()) (waiters.shift() as { fn: () => void }).fn();
    // What is left runs at a later idle moment: the end of the next iteration checks again.
  };

  /** A function; in debug mode not an async one (asyncio: "coroutines cannot be used with …"). */
  #checkCallback(op: string, callback: unknown): void {
    if (typeof callback !== "function") {
      throw new TypeError(`${op}: \`callback\` must be a function, got ${describe(callback)}`);
    }
    if (this.#debug && isCoroutineFunction(callback)) {
      throw new TypeError(
        `coroutines cannot be used with ${op}(): schedule a task with createTask() instead`,
      );
    }
  }

  #checkClosed(): void {
    if (this.#state === "closed") throw new RuntimeError("Event loop is closed");
  }

  #checkCanRun(): void {
    this.#checkClosed();
    if (this.#state === "running") throw new RuntimeError("This event loop is already running");
    if (_getRunningLoop() !== null) {
      throw new RuntimeError("Cannot run the event loop while another loop is running");
    }
  }

  /**
   * Queues the next iteration: chained (once the microtasks have drained) while this turn of
   * Node's loop has budget left, else after Node's I/O with `setImmediate`.
   */
  #scheduleIteration(): void {
    this.#iterationScheduled = true;
    if (this.#chainLeft > 0 && realNow() - this.#turnStart < CHAIN_MS) {
      this.#chainLeft--;
      void RESOLVED.then(this.#afterChainDrain);
    } else {
      setImmediate(this.#onImmediate);
    }
  }

  #onImmediate = (): void => {
    this.#iterationScheduled = false;
    if (this.#state !== "running") return;
    this.#startTurn();
    this.#runOnce();
  };

  /** A chained iteration: the microtasks of the previous one have drained. */
  #onChained = (): void => {
    this.#iterationScheduled = false;
    if (this.#state !== "running") return;
    this.#runOnce();
  };

  #afterChainDrain = (): void => {
    process.nextTick(this.#onChained);
  };

  /** A new turn of Node's loop: a fresh budget of chained iterations. */
  #startTurn(): void {
    this.#chainLeft = CHAIN_ITERATIONS;
    this.#turnStart = realNow();
  }

  /** Steps 1 and 2 of the iteration: collect due timers, then run what is ready. */
  #runOnce(): void {
    this.#tailRunning = false;
    this.#iterations++;
    if (this.#stopInTail) {
      // The previous iteration's resumed code called stop(): that iteration was the last.
      this.#stopInTail = false;
      this.#finishRun();
      return;
    }
    const timers = this.#timers;
    if (timers.size > 0) {
      const end = this.#clock.time() + this.#clock.resolution;
      let top = timers.peek();
      while (top !== undefined && top._when <= end) {
        timers.pop();
        this.#ready.push(top);
        top = timers.peek();
      }
    }
    const hooks = this._testHooks;
    if (hooks !== null && hooks.reorder !== undefined && this.#ready.length > 1) {
      const items: ReadyItem[] = [];
      for (let item = this.#ready.shift(); item !== undefined; item = this.#ready.shift()) items.push(item);
      hooks.reorder(items);
      for (const item of items) this.#ready.push(item);
    }
    this.#todo = this.#ready.length;
    this.#inIteration = true;
    // Callbacks run outside any task's frame, whatever frame scheduled the iteration.
    this._startScope = null;
    _runOutsideFrame(this.#runCallbacks);
  }

  /** Step 2 and 3: runs ready callbacks, pausing for a microtask drain after a wake-up. */
  #runCallbacks = (): void => {
    const ready = this.#ready;
    const debug = this.#debug;
    const tracer = this._tracer;
    // Debug mode and tracing both time each item, its microtasks drained (a task's step).
    const timed = debug || tracer !== null;
    if (this.#slowItem !== null) this.#checkSlow();
    if (tracer !== null) tracer._afterItem(this, true);
    while (this.#todo > 0) {
      this.#todo--;
      const item = ready.shift() as ReadyItem;
      if (timed) {
        // Read now: running the item lets go of its task.
        const task = taskOfItem(item);
        if (debug) {
          this.#slowStart = realNow();
          this.#slowItem = item;
          this.#slowTask = task;
        }
        if (tracer !== null) tracer._beforeItem(this, item, task);
      }
      try {
        item._run();
      } catch (exception) {
        this.callExceptionHandler({ message: "Exception in event loop callback", exception });
      }
      if (this._resumed) {
        this._resumed = false;
        // After the last one, drain only if the run ends now (the resumed code still needs a
        // running loop) or to time it in debug mode or for the trace; else the next
        // iteration's setImmediate comes after the microtasks anyway.
        if (this.#todo > 0 || timed || this.#stopping) {
          void RESOLVED.then(this.#afterMicrotasks);
          return;
        }
        this.#tailRunning = true;
      } else if (timed) {
        if (debug) this.#checkSlow();
        if (tracer !== null) tracer._afterItem(this, false);
      }
    }
    this.#inIteration = false;
    this.#endIteration();
  };

  /** Queued as a microtask: by the time this tick runs, the microtask queue is empty. */
  #afterMicrotasks = (): void => {
    process.nextTick(this.#runCallbacks);
  };

  #checkSlow(): void {
    const item = this.#slowItem;
    const task = this.#slowTask;
    this.#slowItem = null;
    this.#slowTask = null;
    const seconds = (realNow() - this.#slowStart) / 1000;
    if (item !== null && seconds >= this.slowCallbackDuration) {
      console.warn(`Executing ${String(item)}${describeTaskCode(item, task)} took ${seconds.toFixed(3)} seconds`);
    }
  }

  /** Step 4: stop, or queue the next iteration, or arm the clock, or go idle. */
  #endIteration(): void {
    if (this.#stopping) {
      this.#finishRun();
      return;
    }
    if (this.#ready.length > 0) {
      this.#scheduleIteration();
      return;
    }
    const top = this.#timers.peek();
    if (top !== undefined) this.#clock.arm(top._when, this);
    else this.#clock.disarm();
    if (this.#idleWaiters.length > 0) this.#scheduleIdleCheck();
    else if (top === undefined && this._taskCount > 0) {
      // Tasks wait and nothing in the loop will wake them: something outside must, or they
      // are stuck. A test loop reports a deadlock; debug mode watches for a stall.
      if (this._onStuck !== null) this._onStuck();
      else if (this.#debug) this.#watchStall();
    }
  }

  /**
   * @internal Called when an iteration ends with tasks waiting, nothing ready, no timer and
   * nobody waiting for idleness (`runTest` sets it to look for a deadlock).
   */
  _onStuck: (() => void) | null = null;

  /**
   * Debug mode: when the loop has tasks waiting, no callback ready and no timer armed, and it
   * stays so this many seconds, what each task awaits is reported once through the exception
   * handler (a program stuck on a lock or an event nobody will set). `null`: never. Default 10.
   *
   * Not in asyncio (whose debug mode reports slow callbacks only).
   */
  get stallReportDelay(): number | null {
    return this.#stallReportDelay;
  }

  /** Sets the delay; a RangeError unless `seconds` is a number >= 0 or `null`. */
  set stallReportDelay(seconds: number | null) {
    if (seconds !== null && (typeof seconds !== "number" || !(seconds >= 0))) {
      throw new RangeError(`\`stallReportDelay\` must be a number of seconds >= 0 or null, got ${describe(seconds)}`);
    }
    this.#stallReportDelay = seconds;
  }

  #stallReportDelay: number | null = 10;

  /** Iterations run so far: how the stall watch sees progress. */
  #iterations = 0;
  #stallTimer: ReturnType<typeof setTimeout> | null = null;
  #stallReported = false;

  /** Debug mode: report once if the loop stays stuck for `stallReportDelay` seconds. */
  #watchStall(): void {
    const delay = this.stallReportDelay;
    if (this.#stallTimer !== null || this.#stallReported || delay === null) return;
    const iterationsAtStart = this.#iterations;
    const timer = setTimeout(() => {
      this.#stallTimer = null;
      if (this.#state !== "running" || this._taskCount === 0) return;
      if (this.#iterations !== iterationsAtStart) {
        // It moved since; if it is stuck again now, watch from here.
        if (this.#ready.length === 0 && this.#timers.size === 0) this.#watchStall();
        return;
      }
      this.#stallReported = true;
      this.callExceptionHandler({
        message:
          `the event loop made no progress for ${delay} s: every task waits, and no ` +
          "callback or timer is pending. What they await:\n" +
          (describeBlocked?.(this) ?? "(the report needs the package's main entry point)"),
      });
    }, delay * 1000);
    // The watch never keeps the process alive.
    timer.unref();
    this.#stallTimer = timer;
  }

  #finishRun(): void {
    this.#stopping = false;
    this.#tailRunning = false;
    this.#stopInTail = false;
    this.#state = "idle";
    this.#clock.disarm();
    _setRunningLoop(null);
    const resolve = this.#onStopped;
    this.#onStopped = null;
    resolve?.();
  }

  toString(): string {
    const parts: string[] = [this.#state];
    if (this.#debug) parts.push("debug");
    parts.push(`ready=${this.#ready.length}`, `timers=${this.#timers.size}`, `tasks=${this._taskCount}`);
    return formatRepr("EventLoop", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

/** The `TypeError` for an `executor` argument without the {@link Executor} methods. */
function checkExecutor(name: string, executor: unknown, orElse: string): void {
  const candidate = executor as { submit?: unknown; shutdown?: unknown } | null;
  if (
    typeof candidate !== "object" ||
    candidate === null ||
    typeof candidate.submit !== "function" ||
    typeof candidate.shutdown !== "function"
  ) {
    throw new TypeError(
      `\`${name}\` must be an executor (an object with submit() and shutdown())${orElse === "" ? "" : ` ${orElse}`}, got ${describe(executor)}`,
    );
  }
}

/** The `TypeError` for a `context` of an exception handler call that is not an object. */
function checkExceptionContext(fn: string, context: unknown): void {
  if (typeof context !== "object" || context === null || Array.isArray(context)) {
    throw new TypeError(`${fn}: \`context\` must be an object ({ message, exception?, … }), got ${describe(context)}`);
  }
}

/** The task whose code a ready item runs: a task's first step, or a wake-up of its await. */
function taskOfItem(item: ReadyItem): Task<unknown> | null {
  if (item instanceof Task) return item;
  if (item instanceof AwaitRecord) return item._task;
  // A future that runs its awaiter's wake-up itself (`sleep(0)`).
  if (item instanceof Future) {
    const first = item._firstRecord();
    return first instanceof AwaitRecord ? first._task : null;
  }
  return null;
}

/**
 * For a slow step: which task's code ran, and where that code is — ` in task 'worker' (coro
 * fetchAll, created at main (/app/job.ts:12:5))`. The creation site is known in debug mode.
 */
function describeTaskCode(item: ReadyItem, task: Task<unknown> | null): string {
  if (task === null) return "";
  // A task's first step prints the task itself, its coroutine included.
  const where = item === task ? [] : [`coro ${_describeCoro(task._coro)}`];
  const site = _createdAt.get(task);
  if (site !== undefined && site !== "") where.push(`created at ${site}`);
  const who = item === task ? "" : ` in task ${task._nameForRepr()}`;
  return where.length === 0 ? who : `${who} (${where.join(", ")})`;
}

/** The context an exception handler runs in: that of the task or handle involved. */
function contextOf(context: ExceptionContext): Context | null {
  const task = context.task;
  if (task instanceof Task) return task.getContext();
  const handle = context.handle;
  if (handle instanceof Handle) return handle.getContext();
  return null;
}

/** A new event loop, not running. asyncio: `asyncio.new_event_loop()`. */
export function newEventLoop(options?: EventLoopOptions): EventLoop {
  return new EventLoop(options);
}
