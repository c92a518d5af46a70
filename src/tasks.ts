/**
 * Tasks: coroutines scheduled to run concurrently, that can be cancelled.
 *
 * HOW a task runs a plain async function: its first step (a ready-queue item) calls the thunk
 * inside `frameStorage.run(frame, …)`, so every `await` in the code it reaches knows the task
 * (`events/running.ts`). From then on the task does not drive the coroutine, the engine does;
 * the task learns what the code waits on from `Future.then` (`futures.ts`), and learns that the
 * code finished from the promise the thunk returned.
 *
 * Invariant (asyncio's `_fut_waiter` block, adapted):
 * - `_waits` holds the await records of the pending library futures that code of this task
 *   awaits now: usually one; several under `Promise.all` or in concurrent branches of the task.
 *   A record leaves it when it runs. (A plain `await` on a future made for it alone, a
 *   `sleep(0)` or a lock's or queue's wait, its only await, is kept there as the future itself
 *   until anything but its completion needs the record: `InlineAwaitFuture`.)
 * - `cancel()` cancels every waiter. If none could be cancelled (the task runs foreign code, or
 *   its waiter completed and the wake-up is still queued), `_mustCancel` is set instead, and the
 *   cancel is delivered at the next library await (`Future.then` cancels what is awaited), at
 *   the queued wake-up (`AwaitRecord._run`), or, if the coroutine returns first, by ending the
 *   task cancelled.
 * - `_numCancelsRequested` counts `cancel()` calls minus `uncancel()` calls; `uncancel()` down
 *   to zero withdraws a cancel not yet delivered (3.13).
 */
import { Context, type ContextVars, currentContext } from "./context.js";
import { Coroutine, isCoroutine } from "./coroutines.js";
import { CancelledError, RuntimeError, _makeCancelledError, cancellationOf } from "./errors.js";
import type { ReadyItem, TimerEntry } from "./events/handles.js";
import type { EventLoop } from "./events/loop.js";
import { type Frame, _runInOwnFrame, frameStorage, getRunningLoop } from "./events/running.js";
import {
  AwaitRecord,
  Future,
  TaskFollowRecord,
  _lastAwaits,
  _isLoop,
  _wrapThenable,
  isFuture,
} from "./futures.js";
import { _userCallSite } from "./internal/callsite.js";
import { InlineAwaitFuture } from "./internal/inline-await.js";
import type { CancelScope } from "./internal/scope.js";
import { checkDelay, checkOptions, describe, isThenable } from "./internal/validate.js";

/** A function that starts the work and returns something to await. The normal way to hand work to a task. */
export type Thunk<T> = () => PromiseLike<T>;

/**
 * What `createTask`, `gather`, `wait`, `waitFor`, `shield` and friends accept: a thunk, a
 * {@link Coroutine}, a {@link Future} or {@link Task}, or any promise (a promise already runs:
 * it can only be waited for, not cancelled into).
 */
export type Awaitable<T> = Thunk<T> | PromiseLike<T>;

/** The result type of an {@link Awaitable}. */
export type AwaitableResult<A> = A extends () => PromiseLike<infer T>
  ? T
  : A extends PromiseLike<infer T>
    ? T
    : never;

/** Options of `createTask`. */
export interface TaskOptions {
  /** The task's name; default `Task-N`. */
  name?: string;
  /** The context the task runs in (exactly this one, not a copy); default: a copy of the current one. */
  context?: Context;
  /** Run the first step now, inside `createTask`, when the loop runs (3.12 eager tasks); default: false. */
  eagerStart?: boolean;
}

const TASK_KEYS = ["name", "context", "eagerStart"] as const satisfies readonly (keyof TaskOptions)[];
/** The `Task` constructor also takes `loop` (for task factories); `createTask` does not. */
const TASK_CONSTRUCTOR_KEYS = [...TASK_KEYS, "loop"] as const;

let taskCounter = 0;

/**
 * What the first step of a task made from a promise awaits: a future following that promise
 * (rare, and discouraged: kept beside the tasks, not in a field of every task).
 */
const wrappedPromises = new WeakMap<Task<unknown>, Future<unknown>>();

/** Bits of `Task._flags`. */
const STARTED = 1;
const MUST_CANCEL = 2;
const CANCEL_DELIVERED = 4;
const CANCEL_REQUESTED = 8;
/** Set once the task's `AbortController` exists (in `abortControllers`). */
const HAS_ABORT = 16;
const FLAG_BITS = 31;
const COUNT_SHIFT = 5;

/** The controllers behind `task.signal`: most tasks never ask for one. */
const abortControllers = new WeakMap<Task<unknown>, AbortController>();

/** The tasks whose repr is being made now (a repr shows what the task awaits, recursively). */
const inRepr: Task<unknown>[] = [];

/** The tasks whose `cancel()` is delivering to their awaits now, innermost last. */
const cancelsUnderway: Task<unknown>[] = [];

/** Debug mode: the tasks whose stuck cancel was reported already (reported once each). */
const stuckReported = new WeakSet<Task<unknown>>();

/**
 * @internal Debug mode: where each task was created (the first frame outside the library), for
 * reports about the task's code (a slow step). Kept beside the tasks: tasks stay small.
 */
export const _createdAt = new WeakMap<Task<unknown>, string>();

/** Debug mode: say where a promise that already runs was handed over as if it were lazy. */
function warnWrappedPromise(loop: EventLoop, op: string): void {
  if (!loop.getDebug()) return;
  const site = _userCallSite();
  process.emitWarning(
    `${op}() got a promise that is already running: cancelling the result stops the waiting, ` +
      `not the work. Pass a thunk (() => work()) so the work runs inside the task` +
      (site === "" ? "." : `. Called at ${site}`),
    { type: "RuntimeWarning" },
  );
}

/**
 * A coroutine scheduled to run concurrently: a {@link Future} that the coroutine's outcome
 * settles.
 *
 * **Cancellation**: `cancel(msg)` asks the task to stop. If the task's code is waiting on a
 * library awaitable (a future, a task, `sleep`, a queue or lock wait, a stream read), that
 * awaitable is cancelled and the code gets a `CancelledError` at its `await`; `finally` blocks
 * run, and the task ends cancelled if the error escapes. If the code is waiting on a promise the
 * library did not make, the cancel is delivered at its next library await, or the task ends
 * cancelled when its coroutine returns first; the task's {@link Task.signal} aborts at once so
 * `fetch`, `fs` and timers given that signal stop too. Cancelling a task that awaits another
 * task cancels that task too (use `shield` to prevent it).
 *
 * Create tasks with {@link createTask}, not with `new`.
 *
 * asyncio: `asyncio.Task`.
 */
export class Task<T = unknown> extends Future<T> implements ReadyItem, Frame {
  /** @internal */ readonly _coro: Awaitable<T>;
  /**
   * @internal The context the task runs in (the task is its own frame): at first only the
   * creator's variables, the {@link Context} itself is made when something asks for it.
   */
  _ctx: Context | ContextVars;
  /** @internal The name given, or `null` for the default `Task-<_id>` (made on demand). */
  _name: string | null;
  /** @internal */ readonly _id: number;
  /**
   * @internal The id of the task whose code created this one (0: none, made from a callback or
   * outside the loop). An id, not a reference: a task never keeps a finished creator alive.
   */
  readonly _parentId: number;
  /**
   * @internal Four flags and a count in one small integer (a field each cost 8 bytes per
   * task): see the accessors `_started`, `_mustCancel`, `_cancelDelivered`,
   * `_cancelRequested` (the low four bits) and `_numCancelsRequested` (the bits above).
   */
  _flags = 0;
  /**
   * @internal The await this task is suspended at (usually one record), an array of them when
   * its code awaits several at once (`Promise.all`, concurrent branches), or `null`. One field
   * for both: a field costs 8 bytes in every task. A plain `await` on a `sleep(0)`, a lock's or
   * a queue's wait is kept as the future itself, with no record (see `InlineAwaitFuture`):
   * read it through `_waitRecords()`, which makes the record when one is needed.
   */
  _waits: AwaitRecord | AwaitRecord[] | InlineAwaitFuture<unknown> | null = null;
  /** @internal Links of the loop's list of live tasks. */
  _prevTask: Task<unknown> | null = null;
  /** @internal */ _nextTask: Task<unknown> | null = null;

  /**
   * @internal Use `createTask` or `loop.createTask`. (`options.loop` is accepted for task
   * factories; the third argument is the fast path.)
   */
  constructor(coro: Awaitable<T>, options?: TaskOptions & { loop?: EventLoop }, eventLoop?: EventLoop) {
    if (options !== undefined) {
      // `loop.createTask` passes its loop as `eventLoop`: its options are createTask's, no `loop`.
      if (eventLoop === undefined) checkOptions("new Task()", options, TASK_CONSTRUCTOR_KEYS);
      else checkOptions("createTask()", options as TaskOptions, TASK_KEYS);
    }
    const loop = eventLoop ?? options?.loop ?? getRunningLoop();
    super(loop);
    this._coro = coro;
    if (typeof coro !== "function" && !isCoroutine(coro)) {
      if (isFuture(coro)) {
        // The first step follows the future itself.
      } else if (isThenable(coro)) {
        warnWrappedPromise(loop, "createTask");
        wrappedPromises.set(this as Task<unknown>, _wrapThenable(coro, loop));
      } else {
        throw new TypeError(
          `a coroutine was expected, got ${describe(coro)}: pass a thunk (() => work()), a ` +
            `coroutine, a Future or a promise`,
        );
      }
    }
    const name = options?.name;
    if (name !== undefined && typeof name !== "string") {
      throw new TypeError(`\`name\` must be a string, got ${describe(name)}`);
    }
    const context = options?.context;
    if (context !== undefined && !(context instanceof Context)) {
      throw new TypeError(`\`context\` must be a Context, got ${describe(context)}`);
    }
    const frame = frameStorage.getStore();
    this._ctx =
      context !== undefined
        ? context
        : frame === undefined
          ? currentContext()._snapshot()
          : frame instanceof Task
            ? frame._contextVars()
            : frame._context._snapshot();
    this._name = name ?? null;
    this._id = ++taskCounter;
    this._parentId = frame === undefined || frame._frameTask === null ? 0 : frame._frameTask._id;
    loop._linkTask(this as Task<unknown>);
    if (loop.getDebug()) _createdAt.set(this as Task<unknown>, _userCallSite());
    if (options?.eagerStart === true && loop.isRunning()) this._runEagerly();
    else loop._enqueue(this);
  }

  /** @internal The coroutine was started (or the task ended before it could be). */
  get _started(): boolean {
    return (this._flags & STARTED) !== 0;
  }
  /** @internal */
  set _started(on: boolean) {
    this._flags = on ? this._flags | STARTED : this._flags & ~STARTED;
  }

  /** @internal `cancel()` calls minus `uncancel()` calls (what `cancelling()` returns). */
  get _numCancelsRequested(): number {
    return this._flags >>> COUNT_SHIFT;
  }
  /** @internal */
  set _numCancelsRequested(count: number) {
    this._flags = (this._flags & FLAG_BITS) | (count << COUNT_SHIFT);
  }

  /** @internal The controller behind `task.signal`, made when the signal is first asked for. */
  get _abort(): AbortController | null {
    return this._flags & HAS_ABORT ? (abortControllers.get(this as Task<unknown>) ?? null) : null;
  }

  /** @internal A cancel waits to be delivered at the task's next library await. */
  get _mustCancel(): boolean {
    return (this._flags & MUST_CANCEL) !== 0;
  }
  /** @internal */
  set _mustCancel(on: boolean) {
    this._flags = on ? this._flags | MUST_CANCEL : this._flags & ~MUST_CANCEL;
  }

  /** @internal A `CancelledError` reached the task's code. */
  get _cancelDelivered(): boolean {
    return (this._flags & CANCEL_DELIVERED) !== 0;
  }
  /** @internal */
  set _cancelDelivered(on: boolean) {
    this._flags = on ? this._flags | CANCEL_DELIVERED : this._flags & ~CANCEL_DELIVERED;
  }

  /** @internal A `cancel()` from outside is in force (not withdrawn): the task's own signal aborts. */
  get _cancelRequested(): boolean {
    return (this._flags & CANCEL_REQUESTED) !== 0;
  }
  /** @internal */
  set _cancelRequested(on: boolean) {
    this._flags = on ? this._flags | CANCEL_REQUESTED : this._flags & ~CANCEL_REQUESTED;
  }

  /**
   * @internal The first (and only) step, run by the loop: start the coroutine inside the
   * task's frame (see `_runInOwnFrame`: one frame per task, from the loop's own frame).
   */
  _run(): void {
    if (this._begin()) {
      const loop = this._loop;
      loop._startScope = _runInOwnFrame(this as Task<unknown>, startTask, loop._startScope);
    }
  }

  /** @internal An eager start, inside `createTask`: from the creator's frame. */
  _runEagerly(): void {
    if (this._begin()) frameStorage.run(this as Task<unknown>, startTask, this as Task<unknown>);
  }

  /** @internal Whether the coroutine is to start now (else it never will: cancelled first). */
  _begin(): boolean {
    if (this._started || this._state !== "pending") return false;
    this._started = true;
    if (this._mustCancel) {
      // Cancelled before it started: the coroutine never runs.
      this._mustCancel = false;
      if (isCoroutine(this._coro)) this._coro.close();
      this._finishCancelled(null);
      return false;
    }
    this._loop._resumed = true;
    return true;
  }

  /** @internal The coroutine returned. */
  _onReturn(value: T): void {
    if (this._state !== "pending") return;
    if (this._loop.getDebug()) this._reportStaleAwaits();
    if (this._mustCancel) {
      // Cancelled while in foreign code, and the coroutine returned first: it ends cancelled.
      this._mustCancel = false;
      this._finishCancelled(null);
      return;
    }
    if (this._numCancelsRequested > 0 && this._cancelDelivered && this._loop.getDebug()) {
      this._loop.callExceptionHandler({
        message: `${this.toString()} swallowed its cancellation: it caught the CancelledError ` +
          "and returned normally. Rethrow it after cleaning up, or call uncancel().",
        task: this as Task<unknown>,
      });
    }
    this._detach();
    Future.prototype.setResult.call(this, value);
  }

  /** @internal The coroutine threw. */
  _onThrow(error: unknown): void {
    if (this._state !== "pending") return;
    if (this._loop.getDebug()) this._reportStaleAwaits();
    const cancelled = cancellationOf(error);
    if (cancelled !== null) {
      this._finishCancelled(cancelled);
    } else {
      this._detach();
      Future.prototype.setException.call(this, error);
    }
  }

  /** @internal Ends the task cancelled, with `error` when one escaped its coroutine. */
  _finishCancelled(error: CancelledError | null): void {
    this._detach();
    if (error !== null) {
      this._exception = error;
      this._cancelMessage = error.message;
    }
    this._state = "cancelled";
    this._scheduleCallbacks();
  }

  /** @internal The task is finishing: the loop lets go of it, and it of its waiters. */
  _detach(): void {
    this._loop._unlinkTask(this as Task<unknown>);
    this._waits = null;
  }

  /**
   * Tasks are settled by their coroutine.
   * @throws {RuntimeError} always.
   */
  override setResult(_result: T): never {
    throw new RuntimeError("Task does not support set_result operation");
  }

  /**
   * Tasks are settled by their coroutine.
   * @throws {RuntimeError} always.
   */
  override setException(_exception: unknown): never {
    throw new RuntimeError("Task does not support set_exception operation");
  }

  /**
   * Asks the task to stop (see the class's Cancellation paragraph). Returns `false` when the
   * task is already done, else `true`. Each call counts: see {@link Task.cancelling}.
   * `msg` becomes the `CancelledError`'s message.
   */
  override cancel(msg?: string): boolean {
    if (msg !== undefined && typeof msg !== "string") {
      throw new TypeError(`\`msg\` must be a string, got ${describe(msg)}`);
    }
    this._markRetrieved();
    if (this._state !== "pending") return false;
    // Tasks awaiting each other (a deadlock): the cancel came round the cycle back to a task
    // it is being delivered to. That is the same request, not a new one (asyncio recurses
    // until the stack overflows).
    if (cancelsUnderway.includes(this as Task<unknown>)) return true;
    this._numCancelsRequested++;
    this._cancelRequested = true;
    if (this._loop._tracer !== null) this._loop._tracer._cancelRequested(this as Task<unknown>, msg, false);
    const controller = this._abort;
    if (controller !== null && !controller.signal.aborted) {
      controller.abort(new CancelledError(msg ?? ""));
    }
    cancelsUnderway.push(this as Task<unknown>);
    let reached: boolean;
    try {
      reached = this._cancelAwaits(null, msg);
    } finally {
      cancelsUnderway.pop();
    }
    if (reached) {
      this._cancelDelivered = true;
      return true;
    }
    this._mustCancel = true;
    this._cancelMessage = msg;
    if (this._loop.getDebug()) this._watchUndelivered(() => this._mustCancel && this._numCancelsRequested > 0);
    return true;
  }

  /**
   * @internal Debug mode: a cancel (or a deadline) found no library await to deliver to, so
   * the task's code is in a foreign await. If it is still undelivered after
   * `slowCallbackDuration`, say so once through the exception handler: such a task cannot be
   * cancelled in time, and the fix is in its code (hand it `task.signal`).
   */
  _watchUndelivered(stillPending: () => boolean): void {
    const loop = this._loop;
    const since = loop.time();
    loop.callLater(loop.slowCallbackDuration, () => {
      if (this._state !== "pending" || stuckReported.has(this) || !stillPending()) return;
      stuckReported.add(this);
      const waited = (loop.time() - since).toFixed(3);
      loop.callExceptionHandler({
        message:
          `${this.toString()} was cancelled ${waited} seconds ago and has not reached a library ` +
          "await since: it is waiting on a promise the library did not make " +
          `(its last library await was ${_lastAwaits.get(this) ?? "none"}). Pass task.signal to that ` +
          "operation so it stops too, or await it through the library.",
        task: this as Task<unknown>,
      });
    });
  }

  /**
   * @internal Debug mode: the coroutine settled while the task is still registered as the
   * awaiter of pending futures: awaits it no longer makes (a `Promise.race` loser, the rest of
   * a `Promise.all` that rejected early). A cancel could not tell them from live awaits.
   */
  _reportStaleAwaits(): void {
    const stale: string[] = [];
    for (const record of this._awaitRecords()) {
      if (record._future._state === "pending" && record._isAwait()) {
        stale.push(record._future.toString());
      }
    }
    if (stale.length === 0) return;
    this._loop.callExceptionHandler({
      message:
        `${this.toString()} finished while still registered as the awaiter of ${stale.join(", ")}: ` +
        "awaits its code no longer makes, such as the losers of a Promise.race or the rest of a " +
        "Promise.all that rejected early. A cancel meeting such an await while the task ran would " +
        "have been spent on it. Race library awaitables with race() or any() (or wait()), which " +
        "let go of the losers.",
      task: this as Task<unknown>,
    });
  }

  /**
   * @internal Cancels the awaits this task's code is suspended at: all of them (`scope` null),
   * or those made under `scope`. An await whose future already completed, its wake-up still
   * queued, gets the cancel instead of the outcome when it runs. Callbacks that code of the
   * task attached with `fut.then(cb)` are not awaits and are left alone. Returns whether any
   * await was reached.
   */
  _cancelAwaits(scope: CancelScope | null, msg: string | undefined): boolean {
    const waits = this._waitRecords();
    if (waits === null) return false;
    if (!Array.isArray(waits)) return cancelAwait(waits, scope, msg);
    let reached = false;
    for (const record of waits.slice()) if (cancelAwait(record, scope, msg)) reached = true;
    return reached;
  }

  /**
   * How many cancellation requests are pending: `cancel()` calls minus `uncancel()` calls.
   * `timeout()` and `taskGroup()` use it to tell their own cancellations from outside ones.
   *
   * asyncio: `Task.cancelling()` (3.11).
   */
  cancelling(): number {
    return this._numCancelsRequested;
  }

  /**
   * Withdraws one cancellation request and returns how many remain. Reaching zero also
   * withdraws a cancel that was not yet delivered.
   *
   * asyncio: `Task.uncancel()` (3.11, with 3.13's reset of the pending cancel).
   */
  uncancel(): number {
    if (this._numCancelsRequested > 0) {
      this._numCancelsRequested--;
      if (this._numCancelsRequested === 0) {
        // Every request is withdrawn, also one marked on an await whose wake-up is queued.
        this._mustCancel = false;
        this._cancelRequested = false;
        for (const record of this._awaitRecords()) record._cancelOnRun = null;
      }
    }
    return this._numCancelsRequested;
  }

  /**
   * An `AbortSignal` that aborts when the task is cancelled, with the `CancelledError` as its
   * reason: hand it to `fetch`, `fs`, `timers/promises`, `child_process`, so they stop too.
   *
   * Read inside a `timeout()`, `timeoutAt()`, `waitFor()` or `taskGroup()` body of this task,
   * it is that scope's signal: it aborts when the scope's deadline passes (or the group aborts)
   * as well as when the task is cancelled, and a signal kept after the scope ended never makes
   * later work look cancelled. Read elsewhere, it aborts only when the task itself is
   * cancelled; after such a cancellation is withdrawn (`uncancel()` back to zero), this returns
   * a fresh, unaborted signal. An addition to asyncio.
   */
  get signal(): AbortSignal {
    const frame = frameStorage.getStore();
    if (frame !== undefined && frame._scope !== null && frame._frameTask === this) {
      return frame._scope._signal();
    }
    return this._rootSignal();
  }

  /** @internal The task's own signal: aborts when the task is cancelled from outside. */
  _rootSignal(): AbortSignal {
    let controller = this._abort;
    if (controller !== null && controller.signal.aborted && this._state === "pending" && !this._cancelRequested) {
      controller = null;
    }
    if (controller === null) {
      controller = new AbortController();
      abortControllers.set(this as Task<unknown>, controller);
      this._flags |= HAS_ABORT;
      if (this._state === "cancelled" || (this._state === "pending" && this._cancelRequested)) {
        controller.abort(new CancelledError(this._cancelMessage ?? ""));
      }
    }
    return controller.signal;
  }

  /** @internal As a frame, a task is its own task. */
  get _frameTask(): Task<unknown> {
    return this as Task<unknown>;
  }

  /** @internal As a frame, a task's own code is in no cancel scope. */
  get _scope(): null {
    return null;
  }

  /** The task's name (`Task-N` unless one was given). */
  getName(): string {
    return this._name ?? `Task-${this._id}`;
  }

  /** Renames the task. */
  setName(value: string): void {
    if (typeof value === "string") {
      this._name = value;
      return;
    }
    // As asyncio's str(value); a value with no string form is a TypeError that names it.
    let name: string;
    try {
      name = String(value);
    } catch {
      throw new TypeError(`\`value\` must be a string or have a string form, got ${describe(value)}`);
    }
    this._name = name;
  }

  /** What the task runs: the thunk, coroutine or awaitable given to `createTask`. */
  getCoro(): Awaitable<T> {
    return this._coro;
  }

  /** The context the task runs in. */
  getContext(): Context {
    return this._context;
  }

  /** @internal The context the task runs in, made on first use from the creator's variables. */
  get _context(): Context {
    const ctx = this._ctx;
    if (ctx instanceof Context) return ctx;
    const made = Context._of(ctx);
    this._ctx = made;
    return made;
  }

  /** @internal The task's variables now, for a task it creates (no context object made). */
  _contextVars(): ContextVars {
    const ctx = this._ctx;
    return ctx instanceof Context ? ctx._snapshot() : ctx;
  }

  /** @internal The future of the await this task is suspended at, if any. */
  get _futWaiter(): Future<unknown> | null {
    const waits = this._waits;
    if (waits === null) return null;
    if (waits instanceof InlineAwaitFuture) return waits;
    return Array.isArray(waits) ? (waits[0]?._future ?? null) : waits._future;
  }

  /**
   * @internal `_waits` as records: an inline await (see `InlineAwaitFuture`) is turned
   * into its record first.
   */
  _waitRecords(): AwaitRecord | AwaitRecord[] | null {
    const waits = this._waits;
    return waits instanceof InlineAwaitFuture ? waits._materialize() : waits;
  }

  /**
   * @internal The futures this task's code awaits now, in the order it began to, read as they
   * are: an inline await stays inline (introspection must not change what it reads).
   */
  _awaitedFutures(): Future<unknown>[] {
    const waits = this._waits;
    if (waits === null) return [];
    if (waits instanceof InlineAwaitFuture) return [waits];
    return Array.isArray(waits) ? waits.map((record) => record._future) : [waits._future];
  }

  /** @internal The awaits this task is suspended at, in the order it made them (a copy). */
  _awaitRecords(): AwaitRecord[] {
    const waits = this._waitRecords();
    return waits === null ? [] : Array.isArray(waits) ? waits.slice() : [waits];
  }

  /** @internal */
  _addWaitRecord(record: AwaitRecord): void {
    const waits = this._waits;
    if (waits === null) this._waits = record;
    else {
      const records = this._waitRecords() as AwaitRecord | AwaitRecord[];
      if (Array.isArray(records)) records.push(record);
      else this._waits = [records, record];
    }
  }

  /** @internal */
  _dropWaitRecord(record: AwaitRecord): void {
    const waits = this._waits;
    if (waits === record) {
      this._waits = null;
      return;
    }
    if (!Array.isArray(waits)) return;
    const i = waits.indexOf(record);
    if (i >= 0) waits.splice(i, 1);
    if (waits.length === 0) this._waits = null;
  }

  /**
   * @internal A pending task's cancel being delivered; a cancelled task's own error. Either
   * names this task (the argument, meant for an awaiter, is not needed).
   */
  override _makeCancelledError(_task?: string | number): CancelledError {
    if (this._state === "pending") {
      this._cancelDelivered = true;
      return _makeCancelledError(this._cancelMessage ?? "", this._name ?? this._id);
    }
    // Cancelled before it started, or before its code saw the cancel: the error names it too.
    this._exception ??= _makeCancelledError(this._cancelMessage ?? "", this._name ?? this._id);
    return this._exception as CancelledError;
  }

  /** @internal */
  override _kind(): string {
    return "Task";
  }

  /** @internal */
  override _reportContext(): Context {
    return this._context;
  }

  /** @internal A task awaited by another: its name and id (its repr nests what it awaits). */
  override _describeWait(): string {
    return `<Task ${this._state} name=${this._nameForRepr()} id=${this._id}>`;
  }

  /** @internal */
  _nameForRepr(): string {
    return `'${this.getName()}'`;
  }

  /** @internal */
  override _stateParts(): string[] {
    const parts = super._stateParts();
    let state = parts.shift() as string;
    // As CPython: a pending task with a cancel requested shows "cancelling" instead.
    if (this._state === "pending" && this._numCancelsRequested > 0) state = "cancelling";
    const extra: string[] = [`name=${this._nameForRepr()}`, `coro=${_describeCoro(this._coro)}`];
    const waitingFor = this._futWaiter;
    if (waitingFor !== null) {
      // Tasks awaiting each other would print each other forever: the second time round, `...`
      // (as Python's reprs of recursive structures).
      if (inRepr.includes(this as Task<unknown>)) extra.push("wait_for=...");
      else {
        inRepr.push(this as Task<unknown>);
        try {
          extra.push(`wait_for=${waitingFor.toString()}`);
        } finally {
          inRepr.pop();
        }
      }
    }
    return [state, ...extra, ...parts];
  }
}

/** Cancels one await of a task if it lies under `scope` (any, when `scope` is null). */
function cancelAwait(record: AwaitRecord, scope: CancelScope | null, msg: string | undefined): boolean {
  if (scope !== null && !scope._encloses(record._scope)) return false;
  if (!record._isAwait()) return false;
  const future = record._future;
  if (record._cancelOnRun !== null) return true; // it carries a cancel already
  if (cancelsUnderway.includes(future as Task<unknown>)) {
    // The task awaited here is the one whose cancel reached this task (tasks awaiting each
    // other): this await gets the cancel directly, and the cycle unwinds from here.
    future._removeRecord(record);
    record._cancelOnRun = msg ?? "";
    future._loop._enqueue(record);
    return true;
  }
  if (future.cancel(msg)) return true;
  if (future._state === "pending") return false;
  // Completed, its wake-up queued: the awaiter gets the cancel instead of the outcome.
  record._cancelOnRun = msg ?? "";
  return true;
}

/** @internal What a task runs, for its repr: the coroutine's or thunk's name. */
export function _describeCoro(coro: unknown): string {
  if (isCoroutine(coro)) return coro.name;
  if (typeof coro === "function") return coro.name || "anonymous";
  if (isFuture(coro)) return coro._kind();
  return "promise";
}

/**
 * Runs inside the task's frame: starts the work and follows its outcome. A library future is
 * followed with one record (no promise: that keeps a blocked `createTask(() => ev.wait())`
 * small); a promise through `then`.
 */
function startTask(task: Task<unknown>): void {
  let awaitable: unknown;
  try {
    const coro = task._coro;
    if (typeof coro === "function") awaitable = (coro as Thunk<unknown>)();
    else if (isCoroutine(coro)) awaitable = (coro as Coroutine<unknown>)._start();
    else awaitable = wrappedPromises.get(task) ?? coro;
    if (!isThenable(awaitable)) {
      throw new TypeError(
        `the thunk of ${task.toString()} returned ${describe(awaitable)}; a thunk must return ` +
          "an awaitable (a promise, a Future, a coroutine)",
      );
    }
  } catch (error) {
    task._onThrow(error);
    return;
  }
  if (awaitable instanceof Future) {
    awaitable._await(new TaskFollowRecord(awaitable as Future<unknown>, task));
    return;
  }
  try {
    // No closures: a promise reaction runs in the frame its `then` was called in, and this
    // runs in the task's own frame, so the shared handlers find their task there (checked on
    // Node 20 and 26, Bun and Deno). Two closures per task were ~150 bytes of a blocked task.
    awaitable.then(onCoroutineReturn, onCoroutineThrow);
  } catch (error) {
    // A thenable whose `then` throws: the task fails with that error, as `await` would.
    task._onThrow(error);
  }
}

function onCoroutineReturn(value: unknown): void {
  (frameStorage.getStore() as Task<unknown>)._onReturn(value);
}

function onCoroutineThrow(error: unknown): void {
  (frameStorage.getStore() as Task<unknown>)._onThrow(error);
}

/**
 * Wraps `coro` in a {@link Task}, schedules it on the running loop, and returns it. The task
 * starts in the next loop iteration (at once with an eager task factory).
 *
 * Pass a thunk (`() => work(1)`) or a {@link Coroutine}: the work then starts inside the new
 * task, so the task can cancel it. A promise that already runs can only be waited for.
 *
 * **Cancellation**: see {@link Task}: `task.cancel()` reaches the code at its library awaits;
 * awaiting the task from a task that is cancelled cancels it too (use `shield` to prevent it).
 *
 * @throws {TypeError} when `coro` is not an awaitable or a thunk.
 * @throws {RuntimeError} when no loop is running.
 *
 * @example
 * const task = createTask(() => fetchPage(url), { name: "fetch" });
 * ...
 * task.cancel();
 *
 * asyncio: `asyncio.create_task(coro, *, name=None, context=None)`.
 */
export function createTask<T>(coro: Awaitable<T>, options?: TaskOptions): Task<T> {
  return getRunningLoop().createTask(coro, options);
}

/**
 * @internal Runs a library method made of several waits (`Condition.wait()`, `Barrier.wait()`)
 * as a task of its own, started at once in the caller's context, and returns the task.
 *
 * WHY: the caller may hand the result over as it is (`waitFor(cond.wait(), 1)`, asyncio's
 * idiom). A plain async function would already run, in the caller's frame but outside the
 * timeout's scope, so the deadline could not reach its waits. A task is one future: the scope
 * cancels it, and it finishes its cleanup (a condition re-acquires its lock) before the caller
 * sees the `CancelledError`. Without a running loop it throws at once, as every operation that
 * may wait does.
 */
export function _asOwnTask<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const loop = getRunningLoop();
  return new InlineTask<T>(fn, { name, context: currentContext(), eagerStart: true }, loop) as unknown as Promise<T>;
}

/**
 * @internal The task of {@link _asOwnTask}: it resumes its awaiter as soon as it finishes, in
 * the same iteration, as awaiting the async function itself would (a plain task's awaiter
 * resumes one iteration later), so the method keeps asyncio's timing for a coroutine.
 */
class InlineTask<T> extends Task<T> {
  override _scheduleCallbacks(): void {
    this._runCallbacksNow();
  }
}

/**
 * The task whose code is running now, or `null` outside any task (a plain loop callback, code
 * before `run()`).
 *
 * asyncio: `asyncio.current_task(loop=None)`.
 */
export function currentTask(loop?: EventLoop): Task<unknown> | null {
  if (loop !== undefined) _checkLoop(loop);
  const frame = frameStorage.getStore();
  const task = frame === undefined ? null : frame._frameTask;
  if (task === null || task._state !== "pending") return null;
  if (loop !== undefined && task._loop !== loop) return null;
  return task as Task<unknown>;
}

/**
 * The tasks of the running loop (or of `loop`) that are not done yet.
 *
 * asyncio: `asyncio.all_tasks(loop=None)`.
 */
export function allTasks(loop?: EventLoop): Set<Task<unknown>> {
  if (loop !== undefined) _checkLoop(loop);
  return new Set((loop ?? getRunningLoop())._liveTasks());
}

/** @internal The `TypeError` for a `loop` argument that is not an event loop. */
export function _checkLoop(loop: unknown): void {
  if (typeof loop !== "object" || loop === null || !_isLoop(loop)) {
    throw new TypeError(`\`loop\` must be an EventLoop, got ${describe(loop)}`);
  }
}

const ENSURE_FUTURE_KEYS = ["loop"] as const;

/**
 * Returns a {@link Future} for `aw`: a future or task as it is; a thunk or coroutine scheduled
 * as a new task; a promise wrapped in a future that follows it (cancelling that future stops
 * the waiting, not the work).
 *
 * **Cancellation**: cancelling the returned future cancels the task made for a thunk or
 * coroutine; for a promise, it stops the waiting, not the work.
 *
 * @throws {TypeError} when `aw` is not an awaitable or a thunk.
 *
 * asyncio: `asyncio.ensure_future(obj)`.
 */
export function ensureFuture<T>(aw: Awaitable<T>, options?: { loop?: EventLoop }): Future<T> {
  if (options !== undefined) checkOptions("ensureFuture()", options, ENSURE_FUTURE_KEYS);
  const loop = options?.loop;
  if (isFuture(aw)) {
    if (loop === undefined) return aw as Future<T>;
  } else {
    checkEnsurable(aw);
  }
  return _ensureFutureOn(aw, loop ?? getRunningLoop());
}

/** The `TypeError` of `ensureFuture` for what is not a future, a thunk, a coroutine or a thenable. */
function checkEnsurable(aw: unknown): void {
  if (typeof aw !== "function" && !isThenable(aw)) {
    throw new TypeError(
      `An asyncio.Future, a coroutine or an awaitable is required, got ${describe(aw)}`,
    );
  }
}

/**
 * @internal `ensureFuture(aw, { loop })` for the library's combinators, without an options
 * object to make and check per child.
 */
export function _ensureFutureOn<T>(aw: Awaitable<T>, loop: EventLoop): Future<T> {
  if (isFuture(aw)) {
    if (aw._loop !== loop) {
      throw new RangeError(
        "The future belongs to a different loop than the one specified as the loop argument",
      );
    }
    return aw as Future<T>;
  }
  checkEnsurable(aw);
  if (typeof aw === "function" || isCoroutine(aw)) return loop.createTask(aw as Awaitable<T>);
  warnWrappedPromise(loop, "ensureFuture");
  return _wrapThenable(aw as PromiseLike<T>, loop);
}

/** @internal `sleep(delay)` with `delay > 0`: a future that is its own timer. */
class SleepFuture<T> extends Future<T> implements TimerEntry {
  _when: number;
  _seq = 0;
  _heapIndex = -1;
  readonly #value: T;

  constructor(loop: EventLoop, when: number, value: T) {
    super(loop);
    this._when = when;
    this.#value = value;
    loop._addTimer(this);
  }

  /** The timer fired. */
  _run(): void {
    if (this._state === "pending") Future.prototype.setResult.call(this, this.#value);
  }

  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this._loop._removeTimer(this);
    return true;
  }

  override _isOperation(): boolean {
    return true;
  }
}

/**
 * @internal `sleep(0)`: completes in the next pass through the ready queue and resumes its
 * awaiter in that same pass, as asyncio's bare `yield` does. Its task's plain `await` is kept
 * in the future itself, with no await record (see `InlineAwaitFuture`): the record would be an
 * object per `sleep(0)` that lives until the next iteration, and 100k tasks that spawn and
 * yield once cost measurably less without it (the design notes).
 */
class YieldFuture<T> extends InlineAwaitFuture<T> implements ReadyItem {
  constructor(loop: EventLoop, value: T) {
    super(loop);
    // The result it will have, kept in the result's own slot while pending (nothing reads a
    // pending future's result; a cancel overwrites it with its message): no field of its own,
    // 8 bytes less in every `sleep(0)`.
    this._result = value;
    loop._enqueue(this);
  }

  /** Its step: completes, and resumes its awaiter (inline or through the record) now. */
  _run(): void {
    if (this._state === "pending") this._setResultAndRunCallbacks(this._result as T);
  }
}

/**
 * Waits `delay` seconds, then resolves to `result`. `sleep(0)` yields exactly once: other
 * ready tasks and callbacks run, then the caller resumes. A negative delay is `0`.
 *
 * **Cancellation**: cancelling the awaiting task ends the sleep at once with `CancelledError`
 * and removes its timer.
 *
 * @throws {RuntimeError} when no loop is running.
 *
 * @example
 * const answer = await sleep(1.5, 42);   // 1.5 seconds later: 42
 *
 * asyncio: `asyncio.sleep(delay, result=None)` (a future here, not a coroutine).
 */
export function sleep(delay: number): Future<undefined>;
export function sleep<T>(delay: number, result: T): Future<T>;
export function sleep<T>(delay: number, result?: T): Future<T | undefined> {
  checkDelay("delay", delay);
  const loop = getRunningLoop();
  if (delay <= 0) return new YieldFuture(loop, result);
  return new SleepFuture(loop, loop.time() + delay, result);
}

/**
 * A task factory whose tasks run their first step at once, inside `createTask`, while the loop
 * runs: `loop.setTaskFactory(eagerTaskFactory)`. Code up to the first real suspension runs
 * before `createTask` returns.
 *
 * **Cancellation**: as any task; a task cancelled right after its eager first step ends
 * cancelled at its next library await.
 *
 * Differs from asyncio: a JS async function never finishes synchronously, so an eager task is
 * never done when `createTask` returns (asyncio's can be).
 *
 * asyncio: `asyncio.eager_task_factory` (3.12).
 */
export function eagerTaskFactory<T>(loop: EventLoop, coro: Awaitable<T>, options: TaskOptions = {}): Task<T> {
  _checkLoop(loop);
  checkOptions("eagerTaskFactory()", options, TASK_KEYS);
  return new Task<T>(coro, { ...options, eagerStart: options.eagerStart ?? true }, loop);
}

/**
 * A task factory like {@link eagerTaskFactory} that builds tasks with `TaskClass`.
 * asyncio: `asyncio.create_eager_task_factory(custom_task_constructor)` (3.12).
 */
export function createEagerTaskFactory(
  TaskClass: new <T>(coro: Awaitable<T>, options: TaskOptions & { loop: EventLoop }) => Task<T>,
): <T>(loop: EventLoop, coro: Awaitable<T>, options?: TaskOptions) => Task<T> {
  if (typeof TaskClass !== "function") {
    throw new TypeError(`\`TaskClass\` must be a Task subclass, got ${describe(TaskClass)}`);
  }
  return (loop, coro, options = {}) => {
    _checkLoop(loop);
    checkOptions("the eager task factory", options, TASK_KEYS);
    return new TaskClass(coro, { ...options, loop, eagerStart: options.eagerStart ?? true });
  };
}
