/**
 * Futures: a result that will be set later, by someone else.
 *
 * HOW suspension works (the one place it lives): a future is a thenable. `await fut` makes the
 * engine call `fut.then(resolve, reject)`. `then` reads the current task from the frame storage
 * and records the future as one of that task's waiters (asyncio's `_fut_waiter`), then keeps the
 * two functions in an {@link AwaitRecord}. When the future completes, each record goes to the
 * loop's ready queue (asyncio's `call_soon` of the callbacks), and running it settles the
 * awaiting code with the outcome: the task resumes in the microtasks that follow.
 *
 * WHY the task must know its waiters: `task.cancel()` cancels what the task waits on, so the
 * `CancelledError` arrives at the `await` in the task's own code, however deep in plain async
 * functions that `await` sits.
 *
 * A record also checks, when it runs, whether its task was cancelled after the future
 * completed but before the task resumed; then the task gets the `CancelledError` instead of
 * the result, as asyncio's task step does (`_must_cancel`).
 */
import { type Context, currentContext } from "./context.js";
import { type CancelledError, InvalidStateError, RuntimeError, _makeCancelledError } from "./errors.js";
import { type ReadyItem, _invokeCallback } from "./events/handles.js";
import type { EventLoop } from "./events/loop.js";
import { _runOutsideFrame, frameStorage, getRunningLoop } from "./events/running.js";
import { formatRepr, inspectCustom, reprValue } from "./internal/inspect.js";
import { type CancelScope, pendingScope } from "./internal/scope.js";
import { settledOutcome } from "./internal/settled.js";
import { checkFunction, checkOptions, describe } from "./internal/validate.js";
import type { Task } from "./tasks.js";

/** The three states of a future. */
export type FutureState = "pending" | "finished" | "cancelled";

/** What `then` returns: a thenable with `catch` and `finally`, as a promise has. */
export interface Chained<T> extends PromiseLike<T> {
  /** As `Promise.prototype.catch`: `onrejected` runs on a rejection. */
  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R>;
  /** As `Promise.prototype.finally`: `onfinally` runs either way. */
  finally(onfinally?: (() => void) | null): Promise<T>;
}

const FUTURE_BRAND = Symbol.for("asyncio-ts.future");

/**
 * @internal An error a failed future has not yet handed to anyone. It is reported once, as
 * "… exception was never retrieved": when the future is garbage-collected unread (the
 * FinalizationRegistry below), or, for a future still alive then, when its loop closes (the
 * loop keeps these records, never the futures, so that a future can still be collected).
 */
export interface Unretrieved {
  readonly loop: EventLoop;
  /** The failing task's context: the handler runs in it. */
  readonly context: Context | null;
  readonly exception: unknown;
  readonly description: string;
  readonly kind: string;
  /** Reported already (by the collector or by the loop's close): never again. */
  reported: boolean;
}

/**
 * @internal Reports `held` through its loop's exception handler, unless it was reported
 * already; the loop forgets it. The collector's callback, and `EventLoop.close()` for what is
 * left.
 */
export function _reportUnretrieved(held: Unretrieved): void {
  if (held.reported) return;
  held.reported = true;
  held.loop._unretrieved.delete(held);
  held.loop._callExceptionHandlerIn(held.context, {
    message: `${held.kind} exception was never retrieved`,
    exception: held.exception,
    future: held.description,
  });
}

const unretrieved = new FinalizationRegistry<Unretrieved>(_reportUnretrieved);

const functionSource = Function.prototype.toString;

/**
 * @internal Whether `fn` is one of a promise's own resolving functions, which V8 passes to
 * `then()` when code awaits a thenable (`await fut`, and also a `Promise.all` branch or a
 * `Promise.race` contender), as opposed to a callback user code passed to `fut.then(cb)`.
 * Resolving functions are anonymous built-ins; no user function prints as native code. Costs
 * ~40 ns, so it is asked only where it decides something: when a cancel is delivered, and when
 * a finished future can settle its awaiter at once.
 */
export function _isResolvingFunction(fn: unknown): boolean {
  return typeof fn === "function" && fn.name === "" && functionSource.call(fn).includes("[native code]");
}

/**
 * @internal Debug mode only: what each task awaited last (a repr), for the report of a cancel
 * stuck in foreign code. Kept beside the tasks, not in them: tasks stay small when debug is off.
 */
export const _lastAwaits = new WeakMap<Task<unknown>, string>();

/**
 * @internal Debug mode only: where each task last suspended, as the stack of the call that
 * made the future it awaits, when its own code made it (`await sleep(1)`, `await q.get()`).
 * The engine gives no stack at the `await` itself (it calls `then` from a job of its own), so
 * this is the nearest point the library can see. Read (`.stack`) by the call graph.
 *
 * WHY unformatted: formatting a stack costs tens of microseconds (hundreds with source maps);
 * capturing one costs about one. V8 formats it when `.stack` is first read. The captured
 * frames may hold their receivers, but only as long as the future or task they are kept for
 * (these maps hold their values weakly through their keys).
 */
export const _suspendedAt = new WeakMap<Task<unknown>, { stack?: string }>();

/** Debug mode: the stack where a future was made, and the task whose code made it. */
const creations = new WeakMap<Future<unknown>, { stack: { stack?: string }; task: Task<unknown> }>();

/** Debug mode: remembers where `future` is being made. */
function recordCreation(future: Future<unknown>): void {
  const frame = frameStorage.getStore();
  const task = frame === undefined ? null : frame._frameTask;
  if (task === null) return;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const stack: { stack?: string } = {};
  Error.captureStackTrace(stack, recordCreation);
  Error.stackTraceLimit = limit;
  creations.set(future, { stack, task });
}

/** The settled outcome kept for a `then()` chain that comes later. */
const FULFILLED = 1;
const REJECTED = 2;

/** The promise side of an {@link AwaitRecord}, made only when someone chains on it. */
interface ChainState {
  promise: Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/**
 * @internal One `then(onOk, onErr)` on a future: a ready-queue item when the future completes,
 * and the thenable `then` returns. The promise behind that thenable is made only if someone
 * chains on it, so a plain `await` allocates nothing but this record.
 *
 * Once settled, `_onOk` holds the outcome and `_onErr` says which kind it is (the handlers are
 * not needed any more), so a late `then()` on the record still sees the outcome.
 */
export class AwaitRecord implements ReadyItem, Chained<unknown> {
  _future: Future<unknown>;
  _task: Task<unknown> | null;
  _onOk: unknown;
  _onErr: unknown;
  _chain: ChainState | null = null;
  /** The innermost cancel scope of the task the await was made in (`null`: none). */
  _scope: CancelScope | null;
  /**
   * The message of a cancel that reached this await after its future completed, before the
   * record ran: the awaiter gets that cancel instead of the outcome. `null`: none.
   */
  _cancelOnRun: string | null = null;

  constructor(
    future: Future<unknown>,
    task: Task<unknown> | null,
    onOk: unknown,
    onErr: unknown,
    scope: CancelScope | null = null,
  ) {
    this._future = future;
    this._task = task;
    this._onOk = onOk;
    this._onErr = onErr;
    this._scope = scope;
  }

  /**
   * Whether this is the task awaiting the future (its code suspends here), and not user code
   * that called `fut.then(callback)` while running in the task: only awaits receive cancels.
   * Meaningful until the record settles.
   */
  _isAwait(): boolean {
    return _isResolvingFunction(this._onOk);
  }

  /** The future completed (or was cancelled) and the loop runs its callbacks. */
  _run(): void {
    const future = this._future;
    const task = this._task;
    future._loop._resumed = true;
    if (task === null) {
      this._deliver();
      return;
    }
    // From here on the record must not keep the task alive (it may outlive it in a chain).
    this._task = null;
    task._dropWaitRecord(this);
    const marked = this._cancelOnRun;
    if (task._state === "pending" && (marked !== null || (task._mustCancel && this._isAwait()))) {
      // Cancelled after the future completed, before the task resumed: deliver the cancel,
      // and let a waiting primitive hand the wake-up it gave on to someone else (or undo what
      // the operation did), so a wait that raises has had no effect.
      let error: CancelledError;
      if (marked !== null) {
        this._cancelOnRun = null;
        task._cancelDelivered = true;
        error = _makeCancelledError(marked, task._name ?? task._id);
      } else {
        task._mustCancel = false;
        error = task._makeCancelledError();
      }
      if (future._state === "finished" && !future._hasException) future._lostWakeup();
      this._settle(false, error);
      return;
    }
    this._deliver(task);
  }

  /**
   * Settles the awaiting code with the future's outcome. `task`, when known, is the task the
   * await was made in: a cancellation delivered to it because it is being cancelled names it.
   */
  _deliver(task: Task<unknown> | null = null): void {
    const future = this._future;
    if (future._state === "cancelled") {
      // A task being cancelled is named in the error (its code gets it: this is its cancel).
      this._settle(
        false,
        future._makeCancelledError(
          task !== null && task._numCancelsRequested > 0 ? (task._name ?? task._id) : undefined,
        ),
      );
    } else if (future._hasException) {
      future._markRetrieved();
      this._settle(false, future._exception);
    } else {
      this._settle(true, future._result);
    }
  }

  _settle(ok: boolean, value: unknown): void {
    const handler = ok ? this._onOk : this._onErr;
    let outcomeOk = ok;
    let outcome = value;
    if (typeof handler === "function") {
      try {
        outcome = (handler as (v: unknown) => unknown)(value);
        outcomeOk = true;
      } catch (error) {
        outcome = error;
        outcomeOk = false;
      }
    }
    this._onOk = outcome;
    this._onErr = outcomeOk ? FULFILLED : REJECTED;
    const chain = this._chain;
    if (chain !== null) {
      if (outcomeOk) chain.resolve(outcome);
      else chain.reject(outcome);
    } else if (!outcomeOk) {
      // Nobody chained on `fut.then(cb)` yet: give the failure a real promise now, so that an
      // error thrown by `cb` (or passed through it) reaches Node's unhandled-rejection
      // tracking exactly as a native promise's would, instead of vanishing with this record.
      // A `.then()`/`await` attached later marks it handled, as for a native promise.
      this._chained();
    }
  }

  /**
   * @internal The promise that follows this record's outcome, made on first use. (A method, not
   * a `#private` one: V8 gives every instance of a class with private methods a slot for the
   * class's brand, 8 bytes in each of the records every await makes.)
   */
  _chained(): Promise<unknown> {
    if (this._chain === null) {
      const chain = { resolve: null, reject: null, promise: null } as unknown as ChainState;
      chain.promise = new Promise<unknown>((resolve, reject) => {
        chain.resolve = resolve;
        chain.reject = reject;
      });
      this._chain = chain;
      if (this._onErr === FULFILLED) chain.resolve(this._onOk);
      else if (this._onErr === REJECTED) chain.reject(this._onOk);
    }
    return this._chain.promise;
  }

  then<R1 = unknown, R2 = never>(
    onfulfilled?: ((value: unknown) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this._chained().then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<unknown> {
    return this._chained().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<unknown> {
    return this._chained().finally(onfinally);
  }

  toString(): string {
    return `<await ${this._future.toString()}>`;
  }
}

/**
 * @internal A task whose coroutine is a library future (a thunk returned `sleep(1)`,
 * `event.wait()`, another task): the task follows the future with this one record, no promise.
 */
export class TaskFollowRecord extends AwaitRecord {
  /** The task this record settles (`_task` is cleared when the record runs). */
  _owner: Task<unknown> | null;

  constructor(future: Future<unknown>, task: Task<unknown>) {
    super(future, task, null, null);
    this._owner = task;
  }

  /** The task's own coroutine is this future: always a real await. */
  override _isAwait(): boolean {
    return true;
  }

  override _settle(ok: boolean, value: unknown): void {
    const task = this._owner;
    if (task === null) return;
    this._owner = null;
    if (ok) task._onReturn(value);
    else task._onThrow(value);
  }
}

/** @internal A callback added with `addDoneCallback`. */
export class DoneCallback implements ReadyItem {
  readonly _future: Future<unknown>;
  readonly _fn: (future: never) => unknown;
  readonly _context: Context | null;
  /**
   * For the call graph: who waits on the future through this callback (the future `gather`,
   * `shield` or `wait` returns, or the task group whose task this is), or `null`. Edges of the
   * awaited-by graph are read from here and from await records; nothing else is kept.
   */
  readonly _waiter: object | null;

  constructor(
    future: Future<unknown>,
    fn: (future: never) => unknown,
    context: Context | null,
    waiter: object | null = null,
  ) {
    this._future = future;
    this._fn = fn;
    this._context = context;
    this._waiter = waiter;
  }

  _run(): void {
    // One argument and this record as the reporter: no array or closure per run (this runs
    // once per task that anything, a gather or a group, follows).
    _invokeCallback(this._context, this._fn, null, this._future, this);
  }

  /** @internal The callback threw (or its promise rejected): the loop's exception handler hears it. */
  _callbackFailed(exception: unknown): void {
    const future = this._future;
    future._loop.callExceptionHandler({
      message: `Exception in callback ${this._fn.name || "anonymous"}(${future.toString()})`,
      exception,
      future,
    });
  }

  toString(): string {
    return `${this._fn.name || "anonymous"}()`;
  }
}

/** @internal */
export type CallbackRecord = AwaitRecord | DoneCallback;

/** Options of {@link Future}. */
export interface FutureOptions {
  /** The loop the future belongs to; default: the running loop. */
  loop?: EventLoop;
}

/** The keys of {@link FutureOptions}. */
const FUTURE_KEYS = ["loop"] as const satisfies readonly (keyof FutureOptions)[];
/** The keys of `addDoneCallback`'s options. */
const DONE_CALLBACK_KEYS = ["context"] as const;

/** @internal Whether `value` is an event loop (told by its ready queue, not `instanceof`: no import cycle). */
export function _isLoop(value: unknown): value is EventLoop {
  return typeof (value as { _enqueue?: unknown })._enqueue === "function";
}

/**
 * A result that is not there yet: something sets it later with `setResult` or `setException`,
 * or cancels it. Awaiting a future waits for that.
 *
 * Futures are not promises: a failed future that nobody awaits does not raise Node's
 * `unhandledRejection` (its error goes to the loop's exception handler when the future is
 * garbage-collected unread, at the latest when the loop closes), `result()` reads the outcome
 * synchronously, and `cancel()` exists. They are thenables, so `await`, `Promise.all` and
 * `Promise.resolve(fut)` accept them.
 *
 * **Cancellation**: a task awaiting a future that is cancelled gets a `CancelledError` at its
 * `await`; cancelling a task that awaits a future cancels the future.
 *
 * @throws {RuntimeError} from the constructor when no loop is given and none is running.
 *
 * asyncio: `asyncio.Future`.
 */
export class Future<T = unknown> implements PromiseLike<T> {
  /** @internal */ _state: FutureState = "pending";
  /**
   * @internal The result; of a failed future, the report of its error while nobody has
   * retrieved it (see {@link Unretrieved}); of a cancelled future or a task with a cancel
   * pending, the cancel's message (see `_cancelMessage`). Such a future has no result, so one
   * field serves. A pending `sleep(0)` keeps here the result it will have (a cancel replaces it).
   */
  _result: T | undefined = undefined;
  /**
   * @internal The error of a failed future; of a cancelled one, the `CancelledError` awaiting
   * it raises, once made (one field for both: a future is never both).
   */
  _exception: unknown = undefined;
  /** @internal */ _hasException = false;
  /** @internal */ _loop: EventLoop;
  /**
   * @internal The callbacks, in order: `null`, the one record (most futures have one), or an
   * array of them (one field for all three: a field costs 8 bytes in every future).
   */
  _cbs: CallbackRecord | CallbackRecord[] | null = null;

  /**
   * @internal The message of a cancel: a cancelled future's, or that of a task's cancel not
   * delivered yet. Kept in the result's slot: a future that has one has no result (yet).
   */
  get _cancelMessage(): string | undefined {
    return this._state === "finished" ? undefined : (this._result as string | undefined);
  }
  /** @internal */
  set _cancelMessage(msg: string | undefined) {
    (this as Future<unknown>)._result = msg;
  }

  /** A pending future of `options.loop` (or of the loop given directly), default the running loop. */
  constructor(options?: FutureOptions | EventLoop) {
    if (options === undefined) this._loop = getRunningLoop();
    else if (options === null || typeof options !== "object") {
      throw new TypeError(`\`options\` must be an options object, got ${describe(options)}`);
    }
    else if (_isLoop(options)) this._loop = options;
    else {
      checkOptions("new Future()", options, FUTURE_KEYS);
      this._loop = options.loop ?? getRunningLoop();
    }
    if (this._loop.getDebug()) recordCreation(this as Future<unknown>);
    const hooks = this._loop._testHooks;
    if (hooks) hooks.created?.(this as Future<unknown>);
  }

  /** Whether the future has a result, an error, or was cancelled. */
  done(): boolean {
    return this._state !== "pending";
  }

  /** Whether the future was cancelled. */
  cancelled(): boolean {
    return this._state === "cancelled";
  }

  /**
   * The result.
   *
   * @throws the future's error when it failed; {@link CancelledError} when it was cancelled;
   * {@link InvalidStateError} when it is not done.
   */
  result(): T {
    if (this._state === "cancelled") throw this._makeCancelledError();
    if (this._state === "pending") throw new InvalidStateError("Result is not set.");
    if (this._hasException) {
      this._markRetrieved();
      throw this._exception;
    }
    return this._result as T;
  }

  /**
   * The error the future failed with, or `null` when it succeeded.
   *
   * @throws {CancelledError} when it was cancelled; {@link InvalidStateError} when not done.
   */
  exception(): unknown {
    if (this._state === "cancelled") throw this._makeCancelledError();
    if (this._state === "pending") throw new InvalidStateError("Exception is not set.");
    this._markRetrieved();
    return this._hasException ? this._exception : null;
  }

  /**
   * Marks the future done with `result` and schedules its callbacks.
   *
   * @throws {InvalidStateError} when it is already done.
   */
  setResult(result: T): void {
    if (this._state !== "pending") {
      throw new InvalidStateError(`invalid state: ${this.toString()}`);
    }
    this._state = "finished";
    this._result = result;
    this._scheduleCallbacks();
  }

  /**
   * Marks the future failed with `exception` and schedules its callbacks.
   *
   * @throws {InvalidStateError} when it is already done.
   */
  setException(exception: unknown): void {
    if (this._state !== "pending") {
      throw new InvalidStateError(`invalid state: ${this.toString()}`);
    }
    this._failState(exception);
    this._scheduleCallbacks();
  }

  /** @internal Marks the future failed (no callbacks yet). */
  _failState(exception: unknown): void {
    this._state = "finished";
    this._exception = exception;
    this._hasException = true;
    // V8 keeps an error's raw stack frames, receivers included, until `.stack` is read: read it
    // now, or an error thrown in a task's first step would keep that task alive forever.
    if (exception instanceof Error) void exception.stack;
    const held: Unretrieved = {
      loop: this._loop,
      context: this._reportContext(),
      exception,
      description: this.toString(),
      kind: this._kind(),
      reported: false,
    };
    (this as Future<unknown>)._result = held;
    unretrieved.register(this, held, this);
    this._loop._unretrieved.add(held);
  }

  /**
   * Cancels the future and schedules its callbacks; returns `false` when it was already done.
   * `msg` becomes the `CancelledError`'s message.
   */
  cancel(msg?: string): boolean {
    if (msg !== undefined && typeof msg !== "string") {
      throw new TypeError(`\`msg\` must be a string, got ${describe(msg)}`);
    }
    this._markRetrieved();
    if (this._state !== "pending") return false;
    this._state = "cancelled";
    this._cancelMessage = msg;
    this._scheduleCallbacks();
    return true;
  }

  /**
   * Adds `fn(future)` to run (scheduled with `callSoon`) once the future is done, in the order
   * callbacks were added; at once (next iteration) when it is done already. It runs in a copy
   * of the context current now, or in `options.context`.
   */
  addDoneCallback(fn: (future: this) => unknown, options?: { context?: Context }): void {
    checkFunction("fn", fn);
    if (options !== undefined) checkOptions("addDoneCallback()", options, DONE_CALLBACK_KEYS);
    const record = new DoneCallback(
      this as Future<unknown>,
      fn as (future: never) => unknown,
      options?.context ?? currentContext().copy(),
    );
    if (this._state !== "pending") this._loop._enqueue(record);
    else this._addRecord(record);
  }

  /**
   * @internal A done callback that needs no context (library internals). `waiter`: what waits
   * on this future through the callback, for the call graph (see `DoneCallback._waiter`).
   */
  _addInternalCallback(fn: (future: this) => unknown, waiter: object | null = null): void {
    const record = new DoneCallback(this as Future<unknown>, fn as (future: never) => unknown, null, waiter);
    if (this._state !== "pending") this._loop._enqueue(record);
    else this._addRecord(record);
  }

  /** @internal Takes one callback record off the future (it will not run when it completes). */
  _removeRecord(record: CallbackRecord): void {
    const rest = this._cbs;
    if (rest === record) {
      this._cbs = null;
      return;
    }
    if (!Array.isArray(rest)) return;
    const i = rest.indexOf(record);
    if (i >= 0) rest.splice(i, 1);
    if (rest.length === 0) this._cbs = null;
  }

  /** Removes every registration of `fn`; returns how many there were. */
  removeDoneCallback(fn: (future: this) => unknown): number {
    let removed = 0;
    const rest = this._cbs;
    if (rest instanceof DoneCallback && rest._fn === fn) {
      this._cbs = null;
      removed++;
    } else if (Array.isArray(rest)) {
      const kept = rest.filter((r) => !(r instanceof DoneCallback && r._fn === fn));
      removed += rest.length - kept.length;
      this._cbs = kept.length === 0 ? null : kept;
    }
    return removed;
  }

  /** `"Future"` or `"Task"`: what `Object.prototype.toString` prints. */
  get [Symbol.toStringTag](): string {
    return this._kind();
  }

  /** The loop the future belongs to. */
  getLoop(): EventLoop {
    return this._loop;
  }

  /**
   * Waits for the future: `await fut`. Records the future as a waiter of the current task, so
   * that cancelling the task cancels the future.
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Chained<R1 | R2> {
    if (this._state !== "pending") {
      // Awaiting a finished future costs microtasks only, never a loop iteration; an awaiter
      // (a promise's resolving function) is settled at once, a callback in a microtask.
      const record = new AwaitRecord(this as Future<unknown>, null, onfulfilled, onrejected);
      if (_isResolvingFunction(onfulfilled)) record._deliver();
      else queueMicrotask(() => record._deliver());
      return record as Chained<R1 | R2>;
    }
    const frame = frameStorage.getStore();
    let task: Task<unknown> | null = null;
    let scope: CancelScope | null = null;
    if (frame !== undefined) {
      task = frame._frameTask;
      if (task !== null && task._state !== "pending") task = null;
      else scope = frame._scope;
    }
    const record = new AwaitRecord(this as Future<unknown>, task, onfulfilled, onrejected, scope);
    this._await(record);
    return record as Chained<R1 | R2>;
  }

  /**
   * Calls `onrejected` with the error if the future fails (or the `CancelledError` if it is
   * cancelled), as `Promise.prototype.catch`. A callback, not an await: the calling task does
   * not become a waiter of the future, so cancelling that task does not cancel the future.
   */
  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return callbackRecord(this as Future<unknown>).catch(onrejected) as Promise<T | R>;
  }

  /**
   * Calls `onfinally` once the future is done, whatever the outcome, as
   * `Promise.prototype.finally`. A callback, not an await (see `catch`).
   */
  finally(onfinally?: (() => void) | null): Promise<T> {
    return callbackRecord(this as Future<unknown>).finally(onfinally) as Promise<T>;
  }

  /**
   * @internal Suspends `record._task` (if any) on this future: records the future as the
   * task's waiter, and delivers a cancel that arrived while the task ran foreign code.
   */
  _await(record: AwaitRecord): void {
    const task = record._task;
    if (this._state !== "pending") {
      // Awaiting a finished future costs microtasks only, never a loop iteration.
      record._task = null;
      queueMicrotask(() => record._deliver());
    } else if (task === null) {
      this._addRecord(record);
    } else if (task === (this as Future<unknown>) || task._loop !== this._loop) {
      record._task = null;
      const error =
        task === (this as Future<unknown>)
          ? new RuntimeError(`Task cannot await on itself: ${this.toString()}`)
          : new RuntimeError(`Task ${task.toString()} got Future ${this.toString()} attached to a different loop`);
      queueMicrotask(() => record._settle(false, error));
    } else {
      this._addRecord(record);
      task._addWaitRecord(record);
      if (this._loop.getDebug()) {
        _lastAwaits.set(task, this.toString());
        const created = creations.get(this as Future<unknown>);
        if (created !== undefined && created.task === task) _suspendedAt.set(task, created.stack);
        else _suspendedAt.delete(task);
      }
      // A cancel that arrived while the task ran foreign code is delivered at this await (a
      // scope's cancel only at an await made under that scope).
      if (task._mustCancel) {
        if (record._isAwait() && this.cancel(task._cancelMessage)) {
          task._mustCancel = false;
          task._cancelDelivered = true;
        }
      } else if (record._scope !== null) {
        const scope = pendingScope(record._scope);
        if (scope !== null && record._isAwait() && this.cancel(scope._pendingMessage)) {
          scope._pending = false;
          task._cancelDelivered = true;
        }
      }
      const hooks = this._loop._testHooks;
      if (hooks) hooks.suspended?.(task, record);
    }
  }

  /** @internal */
  _addRecord(record: CallbackRecord): void {
    const rest = this._cbs;
    if (rest === null) this._cbs = record;
    else if (Array.isArray(rest)) rest.push(record);
    else this._cbs = [rest, record];
  }

  /** @internal Hands every callback to the loop, in order. */
  _scheduleCallbacks(): void {
    const rest = this._cbs;
    if (rest === null) return;
    this._cbs = null;
    const loop = this._loop;
    if (!Array.isArray(rest)) loop._enqueue(rest);
    else for (const record of rest) loop._enqueue(record);
  }

  /**
   * @internal Completes the future and runs its callbacks now rather than next iteration:
   * for `sleep(0)`, which must cost exactly one pass through the ready queue.
   */
  _setResultAndRunCallbacks(result: T): void {
    this._state = "finished";
    this._result = result;
    this._runCallbacksNow();
  }

  /** @internal As `_setResultAndRunCallbacks`, failing: an operation's step that fails. */
  _setExceptionAndRunCallbacks(exception: unknown): void {
    this._failState(exception);
    this._runCallbacksNow();
  }

  /** @internal Runs every callback now, in order (the future has just completed). */
  _runCallbacksNow(): void {
    const rest = this._cbs;
    if (rest === null) return;
    this._cbs = null;
    if (!Array.isArray(rest)) rest._run();
    else for (const record of rest) record._run();
  }

  /** @internal Its awaiter was cancelled after it completed, before resuming (see `Waiter`). */
  _lostWakeup(): void {}

  /**
   * @internal What orders this future's wake-ups among others (`exploreSchedules` keeps the
   * wake-ups of one key in FIFO order): the future itself, or the primitive whose waiters it
   * queues with.
   */
  _orderKey(): object {
    return this;
  }

  /**
   * @internal Whether this future is one library operation made for its awaiter alone (a queue
   * get or put, a lock acquisition, a sleep, a stream read), so that a combinator that lets go
   * of it (a lost `race()`) cancels it. Plain futures and tasks may be shared: false.
   */
  _isOperation(): boolean {
    return false;
  }

  /**
   * @internal The error awaiting this future raises when it is cancelled; made on first use,
   * naming `task` (a name, or a number for `Task-N`) when that is the task being cancelled.
   */
  _makeCancelledError(task?: string | number): CancelledError {
    this._exception ??= _makeCancelledError(this._cancelMessage ?? "", task);
    return this._exception as CancelledError;
  }

  /** @internal The error was handed to someone: do not report it (at collection or close). */
  _markRetrieved(): void {
    if (!this._hasException) return;
    const held = this._result as Unretrieved | undefined;
    if (held !== undefined) {
      this._result = undefined;
      held.reported = true;
      held.loop._unretrieved.delete(held);
      unretrieved.unregister(this);
    }
  }

  /** @internal The context reports about this future run in (a task's own; none for a future). */
  _reportContext(): Context | null {
    return null;
  }

  /**
   * @internal What a task awaiting this future waits for, in a report: the primitive a waiter
   * belongs to (`<Lock [locked, waiters:2]>`), else the future itself.
   */
  _describeWait(): string {
    return this.toString();
  }

  /** @internal "Future" or "Task", for messages. */
  _kind(): string {
    return "Future";
  }

  /** @internal The state words of the repr. */
  _stateParts(): string[] {
    const parts: string[] = [this._state];
    if (this._state === "finished") {
      parts.push(
        this._hasException
          ? `exception=${reprValue(this._exception)}`
          : `result=${reprValue(this._result)}`,
      );
    }
    const callbacks = this._callbackNames();
    if (callbacks.length > 0) parts.push(`cb=[${callbacks.join(", ")}]`);
    return parts;
  }

  /** @internal The callback records of a pending future, in order (a copy). */
  _callbackRecords(): CallbackRecord[] {
    const rest = this._cbs;
    return rest === null ? [] : Array.isArray(rest) ? rest.slice() : [rest];
  }

  /** @internal The first callback record, or `null`. */
  _firstRecord(): CallbackRecord | null {
    const rest = this._cbs;
    return Array.isArray(rest) ? (rest[0] ?? null) : rest;
  }

  /** @internal */
  _callbackNames(): string[] {
    const records = this._callbackRecords();
    // As CPython: the first, a count, and the last when there are more than two.
    if (records.length > 2) {
      return [
        describeRecord(records[0] as CallbackRecord),
        `<${records.length - 2} more>`,
        describeRecord(records[records.length - 1] as CallbackRecord),
      ];
    }
    return records.map((r) => describeRecord(r));
  }

  toString(): string {
    return formatRepr(this._kind(), this._stateParts());
  }

  [inspectCustom](): string {
    return this.toString();
  }

  static {
    Object.defineProperty(this.prototype, FUTURE_BRAND, { value: true });
  }
}

/**
 * True when `value` is a {@link Future} (a `Task` is one), from any copy of this library.
 * asyncio: `asyncio.isfuture(obj)`.
 */
export function isFuture(value: unknown): value is Future<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [FUTURE_BRAND]?: boolean })[FUTURE_BRAND] === true
  );
}

/**
 * @internal A future that follows a promise the library did not make. Cancelling it stops the
 * waiting, not the work behind the promise (as `asyncio.wrap_future`).
 */
export function _wrapThenable<T>(thenable: PromiseLike<T>, loop: EventLoop): Future<T> {
  const future = new Future<T>(loop);
  // A library fast path that already did its work (a free lock taken, an item got): the
  // future is done now, so nothing can cancel it after the fact and lose what it holds.
  const settled = settledOutcome(thenable);
  if (settled !== null) {
    if (settled.ok) future.setResult(settled.value as T);
    else {
      (thenable as Promise<T>).then(undefined, ignore);
      future.setException(settled.error);
    }
    return future;
  }
  // Outside the caller's frame: Node keeps the frame on the derived promise until it settles,
  // which would keep the calling task alive as long as the promise pends.
  _runOutsideFrame(() => {
    try {
      thenable.then(
        (value) => {
          if (future._state === "pending") future.setResult(value);
        },
        (error: unknown) => {
          if (future._state === "pending") future.setException(error);
        },
      );
    } catch (error) {
      // A thenable whose `then` throws fails as `await` would make it fail.
      if (future._state === "pending") future.setException(error);
    }
  });
  return future;
}

function ignore(): void {}

/**
 * A record that belongs to no task, as a callback's (`catch`, `finally`): its promise follows
 * the future. (Module functions, not `#private` methods: V8 gives every instance of a class with
 * private methods a slot for the class's brand, 8 bytes in every future and task.)
 */
function callbackRecord(future: Future<unknown>): AwaitRecord {
  const record = new AwaitRecord(future, null, null, null);
  if (future._state !== "pending") queueMicrotask(() => record._deliver());
  else future._addRecord(record);
  return record;
}

/** One callback record in a future's repr. */
function describeRecord(record: CallbackRecord): string {
  if (record instanceof DoneCallback) return record.toString();
  return record._task === null ? "await" : `await in ${record._task._nameForRepr()}`;
}
