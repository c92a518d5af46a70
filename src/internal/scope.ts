/**
 * Cancel scopes: the part of a task's code that a `timeout()`, `timeoutAt()`, `waitFor()` or
 * `taskGroup()` body is, cancelled on its own.
 *
 * WHY: asyncio's timeout cancels the whole task (`task.cancel()`), which is right in Python,
 * where only the task's own code can be running in the task. In Node, callbacks of resources a
 * task created (an `http` server's request handler, a socket's events, a foreign timer) run in
 * that task's async context too: `currentTask()` there is the task that created the resource.
 * A deadline inside such a handler that cancelled "the task" would cancel main's own await,
 * somewhere else entirely. So a scope's body runs in a frame of its own (this object, carried
 * by AsyncLocalStorage like the task's), every await records the scope it was made in, and an
 * expiring scope cancels only the awaits made under it (its body, nested scopes included).
 *
 * What stays as asyncio has it: the scope still counts as a cancellation request on the task
 * (`cancelling()` goes up when it expires, and the scope's exit takes it back with
 * `uncancel()`), a cancel that finds no await under the scope (its body is in foreign code) is
 * delivered at the body's next library await, and `task.cancel()` from outside reaches every
 * await of the task, scoped or not.
 *
 * Each scope has its own `AbortSignal` (what `task.signal` returns to code inside the scope): it
 * aborts when the scope is cancelled or when an enclosing scope or the task is, and a signal
 * read outside the scope never aborts because of it.
 */
import type { Context } from "../context.js";
import { CancelledError } from "../errors.js";
import { type Frame, _runInFrame, frameStorage } from "../events/running.js";
import type { Task } from "../tasks.js";

/** @internal A region of one task's code that can be cancelled on its own (see the module comment). */
export class CancelScope implements Frame {
  readonly _frameTask: Task<unknown>;
  readonly _context: Context;
  /** The enclosing scope of the same task, or `null` when the task's own code encloses it. */
  readonly _parent: CancelScope | null;
  /** A cancel of this scope that found no await under it yet, with its message. */
  _pending = false;
  _pendingMessage: string | undefined = undefined;
  /** The scope was cancelled (its signal, made later, starts aborted). */
  _cancelled = false;
  /** The body still runs: a closed scope is never cancelled again. */
  _open = true;
  /**
   * The scope's deadline in loop time (`Infinity`: none), kept by the `Timeout` that owns it, so
   * that `currentEffectiveDeadline()` can read the deadlines that enclose the calling code.
   */
  _deadline = Infinity;
  /** What opened the scope (a `Timeout`), for code that runs in the scope's frame. */
  _owner: object | null = null;
  #controller: AbortController | null = null;
  #signal: AbortSignal | null = null;

  /** A scope of `task` inside the code running now (the current frame, or the task's own code). */
  constructor(task: Task<unknown>) {
    const outer = frameStorage.getStore() ?? task;
    this._frameTask = task;
    this._context = outer._context;
    this._parent = outer._frameTask === task ? outer._scope : null;
  }

  /** @internal As a frame, a scope is the innermost scope of the code it runs. */
  get _scope(): CancelScope {
    return this;
  }

  /**
   * Cancels the awaits made under this scope, as asyncio's `task.cancel()` would for a task that
   * only ran this body: counts one cancellation request on the task, and delivers it now or, if
   * the body is in foreign code, at its next library await. Returns `false` when the task is
   * already done or the scope closed.
   */
  _requestCancel(msg?: string): boolean {
    const task = this._frameTask;
    if (!this._open || task._state !== "pending") return false;
    task._numCancelsRequested++;
    if (task._loop._tracer !== null) task._loop._tracer._cancelRequested(task, msg, true);
    this._cancelled = true;
    this.#controller?.abort(new CancelledError(msg ?? ""));
    if (task._cancelAwaits(this, msg)) {
      task._cancelDelivered = true;
    } else if (!this._pending) {
      this._pending = true;
      this._pendingMessage = msg;
      if (task._loop.getDebug()) task._watchUndelivered(() => this._pending && this._open);
    }
    return true;
  }

  /** The body ended: a cancel still pending is dropped with it. Returns whether one was. */
  _close(): boolean {
    this._open = false;
    if (!this._pending) return false;
    this._pending = false;
    return true;
  }

  /** Whether `scope` (the scope an await was made in) is this scope or lies inside it. */
  _encloses(scope: CancelScope | null): boolean {
    for (let s = scope; s !== null; s = s._parent) if (s === this) return true;
    return false;
  }

  /** The signal of code inside this scope: aborts with this scope, an enclosing one, or the task. */
  _signal(): AbortSignal {
    if (this.#signal === null) {
      const controller = new AbortController();
      if (this._cancelled) controller.abort(new CancelledError(this._pendingMessage ?? ""));
      this.#controller = controller;
      const outer = this._parent === null ? this._frameTask._rootSignal() : this._parent._signal();
      this.#signal = AbortSignal.any([outer, controller.signal]);
    }
    return this.#signal;
  }
}

/**
 * @internal The nearest deadline of the open scopes from `scope` outwards (loop time), or
 * `Infinity` when none has one.
 */
export function nearestDeadline(scope: CancelScope | null): number {
  let deadline = Infinity;
  for (let s = scope; s !== null; s = s._parent) if (s._open && s._deadline < deadline) deadline = s._deadline;
  return deadline;
}

/**
 * @internal The first enclosing scope (from `scope` outwards) with a cancel still pending, or
 * `null`.
 */
export function pendingScope(scope: CancelScope | null): CancelScope | null {
  for (let s = scope; s !== null; s = s._parent) if (s._pending) return s;
  return null;
}

/**
 * @internal Enters `owner`'s scope (in the caller's frame, where the scope finds its task and
 * its parent scope), then runs `run(owner, body)` with the scope as its frame, so every await
 * of the body, and of the exit `run` makes, is made under it. A failure to enter is a rejection.
 */
export function runInScope<O extends { _enter(): CancelScope }, B, R>(
  owner: O,
  body: B,
  run: (owner: O, body: B) => Promise<R>,
): Promise<R> {
  let scope: CancelScope;
  try {
    scope = owner._enter();
  } catch (error) {
    return Promise.reject(error);
  }
  return _runInFrame(scope, run, owner, body);
}
