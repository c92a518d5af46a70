/**
 * The FIFO queue every waiting primitive parks its tasks in (lock, semaphore, condition, event,
 * barrier, queue, stream reader, as-completed), and `Waiter`, the future most of them park. The
 * cancellation lessons live here, once, instead of in one copy per primitive as in CPython:
 *
 * - A waiter whose task is cancelled while parked leaves the queue in O(1): it is marked dead
 *   (its future is done) and no longer counted; the dead are skipped when the queue wakes
 *   someone and swept out in bulk (amortised O(1)), so the order of the others never changes.
 * - A waiter that was woken and then cancelled before its task resumed does not swallow the
 *   wake-up: the await record notices (`AwaitRecord._run`) and calls the waiter's `onLost`
 *   hook, which the primitive uses to hand the wake-up on (the lock to the next waiter, the
 *   permit back, the item left for the next getter).
 * - Waking never hands out anything twice: a waiter is woken once, by whoever pops it, and a
 *   woken waiter is no longer in the queue.
 *
 * WHY lazy removal: CPython removes a cancelled waiter from its deque in the waiter's own
 * `finally` (O(n), and only when the task runs again, so `release()` may meet a cancelled
 * head and must skip it). Marking is O(1) at cancel time and leaves nothing to skip later but
 * already-dead entries.
 *
 * Invariant: `#live` is the number of entries of `#items` that are not done; every entry that
 * is not done is parked (nobody has woken it). Entries leave `#items` only from the front
 * (wake, sweep of a dead head) or all at once (compaction, `failAll`).
 *
 * The queue knows nothing of futures; `Parked` is what it needs of a waiter.
 */
import type { ReadyItem } from "../events/handles.js";
import type { EventLoop } from "../events/loop.js";
import type { CallbackRecord } from "../futures.js";
import { Deque } from "./deque.js";
import { InlineAwaitFuture } from "./inline-await.js";

/**
 * What the queue needs of a waiter: whether it is done (cancelled waiters are), and how to
 * wake it or fail it. A plain waiter completes when woken; an operation (a queue get) instead
 * schedules its own step, which does the work and completes it.
 */
export interface Parked<T> {
  done(): boolean;
  _wake(value: T): void;
  _fail(error: unknown): void;
}

/** Compact when more than this many entries are held and over half of them are dead. */
const COMPACT_THRESHOLD = 32;

/** A FIFO of parked waiters (see the module comment). */
export class WaiterQueue<W extends Parked<T>, T> {
  #items = new Deque<W>();
  #live = 0;

  /** `owner`: the primitive whose waiters these are, named where a waiter is described. */
  constructor(readonly _owner: object | null = null) {}

  /** How many waiters are parked and not cancelled. */
  get size(): number {
    return this.#live;
  }

  /** Parks `waiter` at the back. */
  push(waiter: W): void {
    this.#items.push(waiter);
    this.#live++;
  }

  /** The first waiter still parked, without waking it. */
  first(): W | undefined {
    if (this.#live === 0) return undefined;
    this.#dropDeadHead();
    return this.#items.peekFirst();
  }

  /** Wakes the first parked waiter with `value`; false when none is parked. */
  wakeFirst(value: T): boolean {
    if (this.#live === 0) return false;
    this.#dropDeadHead();
    const waiter = this.#items.shift() as W;
    this.#live--;
    waiter._wake(value);
    return true;
  }

  /** Wakes up to `n` parked waiters with `value`, first to last; returns how many were woken. */
  wake(n: number, value: T): number {
    let woken = 0;
    while (woken < n && this.wakeFirst(value)) woken++;
    return woken;
  }

  /** Wakes every parked waiter with `value`; returns how many were woken. */
  wakeAll(value: T): number {
    return this.wake(Infinity, value);
  }

  /** Fails every parked waiter with `error` (a shutdown, a broken barrier). */
  failAll(error: unknown): void {
    const items = this.#items;
    this.#items = new Deque<W>();
    this.#live = 0;
    for (const w of items) if (!w.done()) w._fail(error);
  }

  /** Iterates the parked waiters, first to last. */
  *[Symbol.iterator](): IterableIterator<W> {
    for (const w of this.#items) if (!w.done()) yield w;
  }

  /** @internal A parked waiter was cancelled: it no longer counts, and is swept out later. */
  _discard(): void {
    this.#live--;
    const items = this.#items;
    if (items.length > COMPACT_THRESHOLD && items.length > 2 * this.#live) {
      const kept = new Deque<W>(this.#live);
      for (const w of items) if (!w.done()) kept.push(w);
      this.#items = kept;
    }
  }

  #dropDeadHead(): void {
    const items = this.#items;
    let head = items.peekFirst();
    while (head !== undefined && head.done()) {
      items.shift();
      head = items.peekFirst();
    }
  }
}

/**
 * @internal The future a waiting primitive parks a task on (one awaiter). Cancelling it while
 * parked takes it out of its {@link WaiterQueue}; if its task is cancelled after the primitive
 * woke it but before it resumed, `onLost(value)` gets the wake-up back to hand it on.
 *
 * Its task's plain `await` is kept in the future itself (see `InlineAwaitFuture`): woken, the
 * future is queued in place of the await record, and resumes the task when it runs. A waiter is
 * a ready item only as that wake-up.
 */
export class Waiter<T> extends InlineAwaitFuture<T> implements ReadyItem {
  readonly #queue: WaiterQueue<Waiter<T>, T> | null;
  readonly #onLost: ((value: T) => void) | null;

  constructor(
    loop: EventLoop,
    queue: WaiterQueue<Waiter<T>, T> | null,
    onLost: ((value: T) => void) | null,
  ) {
    super(loop);
    this.#queue = queue;
    this.#onLost = onLost;
    queue?.push(this);
  }

  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this.#queue?._discard();
    return true;
  }

  /** @internal The primitive it waits on (see `Future._describeWait`). */
  override _describeWait(): string {
    const owner = this.#queue?._owner;
    return owner === null || owner === undefined ? this.toString() : String(owner);
  }

  /** @internal Woken by its queue: completes with `value`. */
  _wake(value: T): void {
    this.setResult(value);
  }

  /** @internal Failed by its queue (a shutdown, a broken barrier). */
  _fail(error: unknown): void {
    this.setException(error);
  }

  /**
   * @internal Woken while its task awaits it inline: the future itself is queued where the
   * await record would have been (a cancel or a failure takes the record's path).
   */
  override _scheduleCallbacks(): void {
    if (this._inlineTask !== null && this._state === "finished" && !this._hasException) this._loop._enqueue(this);
    else super._scheduleCallbacks();
  }

  /** @internal Its wake-up, queued by `_scheduleCallbacks`: the inline await resumes. */
  _run(): void {
    this._resumeInline();
  }

  /** @internal Once woken, its first record is the one its wake-up runs (a view while inline). */
  override _firstRecord(): CallbackRecord | null {
    return this._state === "pending" ? super._firstRecord() : this._awaitRecord();
  }

  override _lostWakeup(): void {
    this.#onLost?.(this._result as T);
  }

  /** @internal The waiters of one primitive wake in FIFO order. */
  override _orderKey(): object {
    return this.#queue ?? this;
  }
}
