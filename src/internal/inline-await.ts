/**
 * An await kept in the future it waits on, with no await record: the fast path of a task's
 * plain `await` on a future made for that awaiter alone (`sleep(0)`; the wait of a lock, an
 * event, a semaphore, a condition, a queue or a stream read).
 *
 * HOW: when code of a task calls `then` on such a future (an `await`: the engine calls `then`
 * with a promise's resolving functions) and nothing else waits on it, the future keeps that
 * `then` in three fields of its own and is itself the task's `_waits` entry, where the general
 * path makes an {@link AwaitRecord} that the future's callbacks and the task's waits both hold.
 * Completing the future with a result then settles the await as the record would have: at once
 * when the future completes in its own step (`sleep(0)`, a queue operation), or from the ready
 * queue, where the record would have been queued, when something else completes it (a lock's
 * release wakes a waiter: the future itself is queued, see `Waiter`). Anything else
 * that acts on the await (a cancel, also one that arrives after the wake-up was queued; a
 * failure; a second awaiter or callback) first turns it into that record (`_materialize`), so
 * from there every path, the cancel-on-run and lost-wake-up handling of `AwaitRecord._run`
 * included, is the general one. What only reads it (a repr, the call graph, a snapshot, a
 * trace) gets a view of the record made for it (`_inlineView`) and leaves the await inline: a
 * traced or inspected program runs the path it runs unobserved, and `exploreCancellation`,
 * whose hook gets such a view at each await, cancels the path programs run. Only a plain `then`
 * takes this path: not in debug mode, not inside a cancel scope, not while the task has a cancel
 * pending or other awaits.
 *
 * WHY: the record is an object per await that lives as long as the task waits: 80 bytes per
 * blocked task, and one allocation more per `sleep(0)`, lock hand-off or queue wake-up. The
 * design notes say what leaving it out measured.
 */
import type { CallbackRecord, Chained } from "../futures.js";
import { AwaitRecord, Future } from "../futures.js";
import { frameStorage } from "../events/running.js";
import type { Task } from "../tasks.js";

/**
 * What an inline await became, kept in `_inlineErr` once it is over: a record, kept in
 * `_inlineOk` (made for a cancel or the like, or settled after the fact for a handler that
 * threw or a chain asked for), or settled with its outcome kept in `_inlineOk`.
 */
const MADE_RECORD: unique symbol = Symbol("made a record");
const SETTLED: unique symbol = Symbol("settled");

/**
 * @internal A future whose one task awaiter may be kept inline (see the module comment).
 * Subclasses complete it either in a step of their own (`_setResultAndRunCallbacks`, which
 * settles the inline await at once) or, woken by something else, by queueing the future itself
 * (`Waiter`, in internal/waiters.ts).
 */
export abstract class InlineAwaitFuture<T> extends Future<T> {
  /** @internal The task of the inline await while it is pending, else `null`. */
  _inlineTask: Task<unknown> | null = null;
  /**
   * @internal The inline await's `onfulfilled`; once over, the record it became or its
   * outcome, as `_inlineErr` says.
   */
  _inlineOk: unknown = null;
  /** @internal The inline await's `onrejected`; once over, one of the marks above. */
  _inlineErr: unknown = null;

  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Chained<R1 | R2> {
    if (this._inlineTask === null && this._inlineErr === null && this._cbs === null && this._state === "pending") {
      const task = this._inlineAwaiter();
      if (task !== null) {
        this._inlineTask = task;
        this._inlineOk = onfulfilled ?? null;
        this._inlineErr = onrejected ?? null;
        task._waits = this as InlineAwaitFuture<unknown>;
        const hooks = this._loop._testHooks;
        // `exploreCancellation` sees the await as its record would show it, and its cancel
        // reaches the await as any cancel does: so it explores the path programs run.
        if (hooks !== null && hooks.suspended !== undefined) hooks.suspended(task, this._inlineView());
        return new InlineChain(this as InlineAwaitFuture<unknown>) as Chained<R1 | R2>;
      }
    }
    return super.then(onfulfilled, onrejected);
  }

  /**
   * @internal The task whose `then` may stay inline, or `null`: the task whose frame this is,
   * running, on this loop, with no other await and no cancel pending, outside any cancel scope,
   * and not in debug mode. (The explorers of `asyncio-ts/testing` check the inline path too.)
   */
  _inlineAwaiter(): Task<unknown> | null {
    const frame = frameStorage.getStore();
    if (frame === undefined || frame._scope !== null) return null;
    const task = frame._frameTask;
    const loop = this._loop;
    if (task === null || task._state !== "pending" || task._waits !== null || task._mustCancel) return null;
    if (task._loop !== loop || loop.getDebug()) return null;
    return task;
  }

  /**
   * @internal Turns the pending inline await into the record the general path makes, in the
   * task's waits and, while the future is pending, its callbacks, and returns it. (A future
   * that completed has handed its callbacks on already: its record runs from where the inline
   * await's wake-up was going to run, `_resumeInline`.)
   */
  _materialize(): AwaitRecord {
    const task = this._inlineTask as Task<unknown>;
    const record = new AwaitRecord(this as Future<unknown>, task, this._inlineOk, this._inlineErr);
    this._inlineTask = null;
    this._inlineOk = record;
    this._inlineErr = MADE_RECORD;
    // An inline await is only made while the future has no callbacks, and any added since
    // made the record first: the record is the only one.
    if (this._state === "pending") this._cbs = record;
    if (task._waits === (this as InlineAwaitFuture<unknown>)) task._waits = record;
    return record;
  }

  /**
   * @internal The future completed and its awaiter resumes now: what the record's run would
   * do. A cancel for the task, a failure or a cancelled future take the record's own path, as
   * does an await made into a record since its wake-up was queued.
   */
  _resumeInline(): void {
    const task = this._inlineTask;
    if (task === null) {
      if (this._inlineErr === MADE_RECORD) (this._inlineOk as AwaitRecord)._run();
      return;
    }
    if (task._mustCancel || this._state !== "finished" || this._hasException) {
      this._materialize()._run();
      return;
    }
    // What the record would do: the task stops waiting here, and the handler gets the result.
    const handler = this._inlineOk;
    this._inlineTask = null;
    if (task._waits === (this as InlineAwaitFuture<unknown>)) task._waits = null;
    this._loop._resumed = true;
    let outcome: unknown = this._result;
    if (typeof handler === "function") {
      try {
        outcome = (handler as (value: unknown) => unknown)(outcome);
      } catch (error) {
        // A callback that threw: a record settled with the failure, which gives it a promise
        // at once, so it reaches Node's unhandled-rejection tracking unless chained on.
        this._settledRecord(false, error);
        return;
      }
    }
    this._inlineOk = outcome;
    this._inlineErr = SETTLED;
  }

  /**
   * @internal The promise of what the inline `then` gives (the record's chain, once there is
   * one), made on first use.
   */
  _inlineChained(): Promise<unknown> {
    if (this._inlineTask !== null) return this._materialize()._chained();
    const record =
      this._inlineErr === SETTLED ? this._settledRecord(true, this._inlineOk) : (this._inlineOk as AwaitRecord);
    return record._chained();
  }

  /**
   * @internal The record of an inline await that is over, settled with its outcome (`ok`) or
   * failure: the record's own settling, with no handler left to run, does what a record does
   * with it (a failure gets its promise at once).
   */
  _settledRecord(ok: boolean, outcome: unknown): AwaitRecord {
    const record = new AwaitRecord(this as Future<unknown>, null, null, null);
    record._settle(ok, outcome);
    this._inlineOk = record;
    this._inlineErr = MADE_RECORD;
    return record;
  }

  override _addRecord(record: CallbackRecord): void {
    if (this._inlineTask !== null) this._materialize();
    super._addRecord(record);
  }

  override _scheduleCallbacks(): void {
    // Completed other than by a wake-up the subclass queues itself (cancelled, failed): the
    // record is queued where it would have been.
    if (this._inlineTask !== null) this._loop._enqueue(this._materialize());
    else super._scheduleCallbacks();
  }

  override _runCallbacksNow(): void {
    if (this._inlineTask !== null) this._resumeInline();
    else super._runCallbacksNow();
  }

  /**
   * @internal The pending inline await as its record would show it, for introspection only (a
   * repr, the call graph, the loop's and the tracer's reading of a wake-up): a record made for
   * the reader and installed nowhere, so that reading the await leaves it inline. Nothing may
   * run it or mark it; what acts on the await (a cancel) calls `_materialize`.
   */
  _inlineView(): AwaitRecord {
    return new AwaitRecord(this as Future<unknown>, this._inlineTask, this._inlineOk, this._inlineErr);
  }

  override _callbackRecords(): CallbackRecord[] {
    if (this._inlineTask !== null && this._state === "pending") return [this._inlineView()];
    return super._callbackRecords();
  }

  override _firstRecord(): CallbackRecord | null {
    if (this._inlineTask !== null && this._state === "pending") return this._inlineView();
    return super._firstRecord();
  }

  /**
   * @internal For introspection: the record the inline await became (for a completed future
   * whose wake-up is queued: the record that wake-up runs), or a view of it while the await is
   * still inline (see `_inlineView`); `null` when there was none. (`Waiter` names the task its
   * queued wake-up resumes with it.)
   */
  _awaitRecord(): AwaitRecord | null {
    if (this._inlineTask !== null) return this._inlineView();
    return this._inlineErr === MADE_RECORD ? (this._inlineOk as AwaitRecord) : null;
  }

  override _isOperation(): boolean {
    return true;
  }
}

/**
 * @internal What `then` returns for an inline await. An `await` ignores it, so for the usual
 * case it is a short-lived object and nothing more; code that chains on it gets what the
 * record's chain gives (see `InlineAwaitFuture._inlineChained`).
 */
class InlineChain implements Chained<unknown> {
  readonly _future: InlineAwaitFuture<unknown>;

  constructor(future: InlineAwaitFuture<unknown>) {
    this._future = future;
  }

  then<R1 = unknown, R2 = never>(
    onfulfilled?: ((value: unknown) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this._future._inlineChained().then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<unknown> {
    return this._future._inlineChained().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<unknown> {
    return this._future._inlineChained().finally(onfinally);
  }
}
