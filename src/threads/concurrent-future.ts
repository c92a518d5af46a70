/**
 * `ConcurrentFuture`: the result of work that runs outside the event loop's own code, as Python's
 * `concurrent.futures.Future` is. `ThreadPoolExecutor.submit` and `runCoroutineThreadsafe`
 * return one.
 *
 * WHY not a {@link Future}: a `Future` belongs to a loop and wakes its awaiters through that
 * loop's ready queue, so it needs a loop that runs. A thread pool works with or without one, and
 * `runCoroutineThreadsafe` is called from code outside the loop. This future settles on its own,
 * and is awaited as a promise is.
 */
import { CancelledError, InvalidStateError } from "../errors.js";
import { formatRepr, inspectCustom, reprValue } from "../internal/inspect.js";

/**
 * The states of a {@link ConcurrentFuture}: `"pending"` (not started, or, for
 * `runCoroutineThreadsafe`, not yet done), `"running"` (a worker thread runs it), `"cancelled"`,
 * `"finished"` (with a result or an error).
 */
export type ConcurrentFutureState = "pending" | "running" | "cancelled" | "finished";

interface Settle {
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/**
 * The result of work done outside the loop's own code: a job of a {@link ThreadPoolExecutor}, or
 * a coroutine handed to a loop with {@link runCoroutineThreadsafe}. Await it, or read it
 * synchronously with `result()` once `done()`.
 *
 * Unlike a {@link Future}, it belongs to no loop (it works with none running), and it is
 * settled without a loop iteration. A failure that nobody awaits is not reported: no
 * `unhandledRejection` (the promise behind `then` is made only when someone calls `then`).
 *
 * **Cancellation**: `cancel()` succeeds while the work has not started (a job still queued in
 * the pool; a coroutine's task that is not done yet, which `cancel()` then cancels): the future
 * becomes cancelled at once and awaiting it throws {@link CancelledError}. A job already running
 * in a worker thread cannot be cancelled (`cancel()` returns `false`), as in Python. A task that
 * awaits this future awaits a foreign promise: cancelling the task is delivered at its next
 * library await and does not cancel the job; use `loop.runInExecutor(executor, fn)` or
 * `toThread(fn)` for an await that cancellation stops at once.
 *
 * asyncio: `concurrent.futures.Future` (what `run_coroutine_threadsafe` returns). `result()`
 * does not block here: it throws {@link InvalidStateError} while the future is not done.
 */
export class ConcurrentFuture<T = unknown> implements PromiseLike<T> {
  #state: ConcurrentFutureState = "pending";
  #failed = false;
  #value: unknown = undefined;
  #promise: Promise<T> | null = null;
  #settle: Settle | null = null;
  #onCancel: (() => void) | null;
  /** Set for work that can be stopped while it runs (a process pool's job). */
  #onCancelRunning: (() => void) | null;

  /**
   * @internal `onCancel` runs when `cancel()` succeeds before the work started (it drops the
   * work); `onCancelRunning`, when given, makes running work cancellable too, and runs when
   * `cancel()` cancels it (it stops the work).
   */
  constructor(onCancel: (() => void) | null = null, onCancelRunning: (() => void) | null = null) {
    this.#onCancel = onCancel;
    this.#onCancelRunning = onCancelRunning;
  }

  /**
   * Cancels the work if it has not started (or, for a job of a `ProcessPoolExecutor`, while it
   * runs): returns `true` when the future is (now) cancelled, `false` when the work runs already
   * and cannot be stopped, or is done.
   */
  cancel(): boolean {
    if (this.#state === "cancelled") return true;
    if (this.#state === "running" && this.#onCancelRunning !== null) {
      const stop = this.#onCancelRunning;
      this._setCancelled(new CancelledError());
      stop();
      return true;
    }
    if (this.#state !== "pending") return false;
    this.#state = "cancelled";
    this.#failed = true;
    this.#value = new CancelledError();
    const onCancel = this.#onCancel;
    this.#onCancel = null;
    this.#deliver();
    onCancel?.();
    return true;
  }

  /** Whether the future was cancelled. */
  cancelled(): boolean {
    return this.#state === "cancelled";
  }

  /** Whether a worker thread runs the work now. */
  running(): boolean {
    return this.#state === "running";
  }

  /** Whether the future has a result or an error, or was cancelled. */
  done(): boolean {
    return this.#state === "cancelled" || this.#state === "finished";
  }

  /**
   * The result.
   *
   * @throws the work's error when it failed; {@link CancelledError} when it was cancelled;
   * {@link InvalidStateError} when it is not done (Python's `result()` would block).
   */
  result(): T {
    if (!this.done()) throw new InvalidStateError("Result is not set.");
    if (this.#failed) throw this.#value;
    return this.#value as T;
  }

  /**
   * The error the work failed with, or `null` when it succeeded.
   *
   * @throws {CancelledError} when it was cancelled; {@link InvalidStateError} when not done.
   */
  exception(): unknown {
    if (!this.done()) throw new InvalidStateError("Exception is not set.");
    if (this.#state === "cancelled") throw this.#value;
    return this.#failed ? this.#value : null;
  }

  /** Waits for the outcome, as a promise's `then`. */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#getPromise().then(onfulfilled, onrejected);
  }

  /** As a promise's `catch`. */
  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.#getPromise().catch(onrejected);
  }

  /** As a promise's `finally`. */
  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.#getPromise().finally(onfinally);
  }

  /**
   * @internal The pool hands the job to a worker: `false` (and nothing runs) when it was
   * cancelled first. Python: `set_running_or_notify_cancel()`.
   */
  _setRunning(): boolean {
    if (this.#state === "cancelled") return false;
    if (this.#state !== "pending") throw new InvalidStateError(`invalid state: ${this.toString()}`);
    this.#state = "running";
    this.#onCancel = null;
    return true;
  }

  /** @internal Ignored when the future was cancelled meanwhile. */
  _setResult(value: T): void {
    this.#finish(false, value);
  }

  /** @internal Ignored when the future was cancelled meanwhile. */
  _setException(error: unknown): void {
    this.#finish(true, error);
  }

  /** @internal The work was cancelled at its source (the task ended cancelled with `error`). */
  _setCancelled(error: unknown): void {
    if (this.done()) return;
    this.#state = "cancelled";
    this.#failed = true;
    this.#value = error;
    this.#onCancel = null;
    this.#onCancelRunning = null;
    this.#deliver();
  }

  #finish(failed: boolean, value: unknown): void {
    if (this.done()) return;
    this.#state = "finished";
    this.#failed = failed;
    this.#value = value;
    this.#onCancel = null;
    this.#onCancelRunning = null;
    this.#deliver();
  }

  #deliver(): void {
    const settle = this.#settle;
    if (settle === null) return;
    this.#settle = null;
    if (this.#failed) settle.reject(this.#value);
    else settle.resolve(this.#value);
  }

  #getPromise(): Promise<T> {
    if (this.#promise === null) {
      if (this.done()) {
        this.#promise = this.#failed
          ? Promise.reject(this.#value)
          : Promise.resolve(this.#value as T);
      } else {
        this.#promise = new Promise<T>((resolve, reject) => {
          this.#settle = { resolve: resolve as (value: unknown) => void, reject };
        });
      }
    }
    return this.#promise;
  }

  toString(): string {
    const parts: string[] = [this.#state];
    if (this.#state === "finished") {
      parts.push(this.#failed ? `exception=${reprValue(this.#value)}` : `result=${reprValue(this.#value)}`);
    }
    return formatRepr("ConcurrentFuture", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
