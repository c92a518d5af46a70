/**
 * Queues: hand items from producer tasks to consumer tasks.
 *
 * HOW (CPython 3.13's `asyncio.Queue`): items stay in the queue until a getter runs and takes
 * one. `put` of an item wakes the first parked getter; that getter, once it runs, takes
 * whatever is first then (another consumer may have been quicker: it then waits again).
 * Likewise `get` frees a slot and wakes the first parked putter, which re-checks and puts.
 * So nothing is handed out twice and nothing is lost:
 *
 * - a getter cancelled while parked just leaves; one cancelled after it was woken but before
 *   it ran passes the wake-up to the next getter (the item is still in the queue);
 * - a putter cancelled after it was woken never puts its item, and passes the free slot on.
 *
 * A get or put that must wait is one library future, an operation (`GetOperation`,
 * `PutOperation`), not an async function: parked among the getters (putters), woken by a put
 * (get), it then runs its own step in the loop — asyncio's resumed `get()` — which takes the
 * item (puts it) and completes, resuming its awaiter in that same step. So the work happens
 * exactly when the operation completes, and whoever holds the operation (the awaiting task,
 * `waitFor(q.get(), 1)`, `timeout`, `race`) can cancel it up to that moment with no effect:
 * cancelled while parked it just leaves; cancelled while woken it passes the wake-up on. If
 * its awaiter is cancelled after it completed but before it resumed, the item goes back to
 * the front of the queue (a put is taken back out), so a wait that raises had no effect.
 *
 * Fast paths: a `get` from a non-empty queue and a `put` into a non-full one do not suspend
 * and do not create a waiter: `put` resolves to a shared settled promise, `get` to one settled
 * promise holding the item; both tagged as settled (`internal/settled.ts`), so `waitFor(q.get(),
 * 0)` sees the item was already got and returns it.
 */
import { QueueEmpty, QueueFull, QueueShutDown } from "./errors.js";
import type { ReadyItem } from "./events/handles.js";
import type { EventLoop } from "./events/loop.js";
import { _requireRunningLoop } from "./events/running.js";
import { Future } from "./futures.js";
import { Deque } from "./internal/deque.js";
import { formatRepr, inspectCustom } from "./internal/inspect.js";
import { settledError, settledValue } from "./internal/settled.js";
import { checkOptions, describe } from "./internal/validate.js";
import { InlineAwaitFuture } from "./internal/inline-await.js";
import { type Parked, Waiter, WaiterQueue } from "./internal/waiters.js";
import { RESOLVED_VOID, bindLoop } from "./locks/mixins.js";

/** @internal Where a queue keeps its items; the order of `take()` makes the queue's kind. */
export interface Store<T> {
  readonly size: number;
  push(item: T): void;
  /** Removes and returns the next item; only called when `size > 0`. */
  take(): T;
  /** Drops every item; returns how many there were. */
  clear(): number;
  /** Gives back `item`, just taken, as the next one to take. */
  restore(item: T): void;
  /** Takes `item`, just pushed, back out. */
  remove(item: T): void;
}

class FifoStore<T> implements Store<T> {
  readonly #items = new Deque<T>();
  get size(): number {
    return this.#items.length;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  take(): T {
    return this.#items.shift() as T;
  }
  clear(): number {
    const n = this.#items.length;
    this.#items.clear();
    return n;
  }
  restore(item: T): void {
    this.#items.unshift(item);
  }
  remove(item: T): void {
    if (this.#items.peekLast() === item) this.#items.pop();
    else this.#items.remove(item);
  }
}

class LifoStore<T> implements Store<T> {
  #items: T[] = [];
  get size(): number {
    return this.#items.length;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  take(): T {
    return this.#items.pop() as T;
  }
  clear(): number {
    const n = this.#items.length;
    this.#items = [];
    return n;
  }
  restore(item: T): void {
    this.#items.push(item);
  }
  remove(item: T): void {
    const i = this.#items.lastIndexOf(item);
    if (i >= 0) this.#items.splice(i, 1);
  }
}

/**
 * A binary min-heap. Each operation finds where items go by reading only, then moves them:
 * when `compare` throws (items Python could not order either), the heap is left unchanged.
 */
class HeapStore<T> implements Store<T> {
  #items: T[] = [];
  compare: (a: T, b: T) => number;

  constructor(compare: (a: T, b: T) => number) {
    this.compare = compare;
  }

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    const items = this.#items;
    let pos = items.length;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (this.compare(item, items[parent] as T) >= 0) break;
      pos = parent;
    }
    // Move the chain of parents down one level each, then drop the item in.
    let hole = items.length;
    items.push(item);
    while (hole > pos) {
      const parent = (hole - 1) >> 1;
      items[hole] = items[parent] as T;
      hole = parent;
    }
    items[pos] = item;
  }

  take(): T {
    const items = this.#items;
    const top = items[0] as T;
    const last = items[items.length - 1] as T;
    const n = items.length - 1; // the heap's size once `top` is gone
    // Find the path the last item sinks along, from the root, without moving anything.
    const path: number[] = [];
    let pos = 0;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.compare(items[right] as T, items[child] as T) < 0) child = right;
      if (this.compare(items[child] as T, last) >= 0) break;
      path.push(child);
      pos = child;
    }
    items.pop();
    if (n > 0) {
      let hole = 0;
      for (const child of path) {
        items[hole] = items[child] as T;
        hole = child;
      }
      items[hole] = last;
    }
    return top;
  }

  clear(): number {
    const n = this.#items.length;
    this.#items = [];
    return n;
  }

  restore(item: T): void {
    this.push(item);
  }

  /** Rare (an undone put): rebuilds the heap without `item`. */
  remove(item: T): void {
    const items = this.#items;
    const i = items.indexOf(item);
    if (i < 0) return;
    items.splice(i, 1);
    this.#items = [];
    for (const rest of items) this.push(rest);
  }
}

/** The rank of a value's kind in Python's ordering: only values of the same rank compare. */
function orderKind(value: unknown): "number" | "string" | "array" | null {
  switch (typeof value) {
    case "number":
    case "bigint":
    case "boolean":
      return "number";
    case "string":
      return "string";
    case "object":
      return Array.isArray(value) ? "array" : null;
    default:
      return null;
  }
}

/** Strings by code point, as Python compares them (JS's `<` compares UTF-16 code units). */
function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      // A surrogate stands for a code point above U+FFFF, above any other UTF-16 unit.
      if (xs !== ys) return xs ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Python's `<` for what a priority queue usually holds: numbers (with bigints and booleans) by
 * value, strings by code point, arrays element by element (the first differing element
 * decides; a prefix comes first), as tuples compare.
 *
 * @throws {TypeError} for values Python would not order either (a number against a string,
 * objects, `null`).
 */
/** @internal */
export function pythonOrder(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  const kind = orderKind(a);
  if (kind === null || kind !== orderKind(b)) {
    throw new TypeError(
      `PriorityQueue cannot order ${describe(a)} against ${describe(b)}: items must be ` +
        "numbers, strings or arrays of them (compared as Python does); pass a `compare` " +
        "option for anything else",
    );
  }
  if (kind === "string") return compareStrings(a as string, b as string);
  if (kind === "number") {
    const x = a as number | bigint | boolean;
    const y = b as number | bigint | boolean;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const xs = a as unknown[];
  const ys = b as unknown[];
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    if (xs[i] === ys[i]) continue;
    const order = pythonOrder(xs[i], ys[i]);
    if (order !== 0) return order;
  }
  return xs.length === ys.length ? 0 : xs.length < ys.length ? -1 : 1;
}

/** The state a queue needs only once tasks have had to wait on it. */
interface Waiting {
  readonly getters: WaiterQueue<Parked<void>, void>;
  readonly putters: WaiterQueue<Parked<void>, void>;
  readonly joiners: WaiterQueue<Waiter<void>, void>;
}

/**
 * A first-in, first-out queue for passing items between tasks. With `maxsize > 0`, `put()`
 * waits while `maxsize` items are queued (backpressure); with `maxsize <= 0` (the default)
 * the queue is unbounded. `get()` waits while it is empty.
 *
 * `join()` and `taskDone()` track work: every item put counts as unfinished until a consumer
 * calls `taskDone()` for it; `join()` waits until nothing is unfinished. `shutdown()` stops
 * the queue: puts fail at once, gets fail once it is empty (at once with `immediate`).
 *
 * Iterate with `for await (const item of queue)`: the loop ends when the queue is shut down
 * and empty. (An addition to asyncio; it does not call `taskDone()` for you.)
 *
 * @throws {TypeError} / {@link RangeError} from the constructor when `maxsize` is not a number
 * (NaN included).
 *
 * @example
 * const queue = new Queue<number>(10);
 * createTask(async () => { for (const n of data) await queue.put(n); queue.shutdown(); });
 * for await (const n of queue) console.log(n);
 *
 * asyncio: `asyncio.Queue(maxsize=0)` (3.13, with `shutdown`).
 */
export class Queue<T = unknown> implements AsyncIterable<T> {
  readonly #maxsize: number;
  /** @internal The items. */
  _store: Store<T>;
  #waiting: Waiting | null = null;
  #unfinished = 0;
  #shutdown = false;
  #loop: EventLoop | null = null;

  /** A queue holding at most `maxsize` items (any number; `<= 0`, the default, means no limit). */
  constructor(maxsize = 0) {
    if (typeof maxsize !== "number") {
      throw new TypeError(`\`maxsize\` must be a number, got ${describe(maxsize)}`);
    }
    if (Number.isNaN(maxsize)) throw new RangeError("`maxsize` must be a number, got NaN");
    this.#maxsize = maxsize;
    this._store = this._makeStore();
  }

  /** @internal The store that gives the queue its order; subclasses override it. */
  _makeStore(): Store<T> {
    return new FifoStore<T>();
  }

  /** How many items the queue holds at most (`<= 0`: no limit). asyncio: `Queue.maxsize`. */
  get maxsize(): number {
    return this.#maxsize;
  }

  /** How many items are in the queue. */
  qsize(): number {
    return this._store.size;
  }

  /** Whether the queue holds no item. */
  empty(): boolean {
    return this._store.size === 0;
  }

  /** Whether the queue holds `maxsize` items (never, for an unbounded queue). */
  full(): boolean {
    return this.#maxsize > 0 && this._store.size >= this.#maxsize;
  }

  /**
   * Puts `item` into the queue, waiting while it is full. A woken putter that finds the
   * queue full again (another producer was quicker) waits again.
   *
   * **Cancellation**: a putter cancelled while waiting never puts its item; if a free slot had
   * just been signalled to it, the next waiting putter gets it. A put into a queue with room
   * does not suspend, so it is not a cancellation point (as in asyncio).
   *
   * @throws {QueueShutDown} (as a rejection) when the queue is shut down, before or while
   * waiting.
   * @throws {RuntimeError} when no loop runs (even when the queue has room): use `putNowait()`
   * outside the loop.
   *
   * asyncio: `Queue.put(item)`.
   */
  put(item: T): Promise<void> {
    _requireRunningLoop();
    if (this.#shutdown) return settledError(new QueueShutDown(`put() on a shut-down ${this.toString()}`));
    if (!this.full()) {
      try {
        this._enqueueItem(item);
      } catch (error) {
        return settledError(error);
      }
      return RESOLVED_VOID;
    }
    const waiting = this.#wait();
    return new PutOperation(this.#loop as EventLoop, this, waiting.putters, item) as unknown as Promise<void>;
  }

  /**
   * Puts `item` into the queue now.
   *
   * @throws {QueueShutDown} when the queue is shut down.
   * @throws {QueueFull} when it is full.
   *
   * asyncio: `Queue.put_nowait(item)`.
   */
  putNowait(item: T): void {
    if (this.#shutdown) throw new QueueShutDown(`putNowait() on a shut-down ${this.toString()}`);
    if (this.full()) throw new QueueFull(`putNowait() on a full ${this.toString()}`);
    this._enqueueItem(item);
  }

  /** @internal Whether the queue is shut down. */
  _isShutDown(): boolean {
    return this.#shutdown;
  }

  /** @internal A get's item was not delivered (its awaiter was cancelled): first in line again. */
  _restoreItem(item: T): void {
    this._store.restore(item);
    this._getterLost();
  }

  /** @internal A put's effect is undone (its awaiter was cancelled before it resumed). */
  _removeItem(item: T): void {
    this._store.remove(item);
    if (this.#unfinished > 0) this.#unfinished--;
    if (this.#unfinished === 0) this.#waiting?.joiners.wakeAll(undefined);
    this._putterLost();
  }

  /** @internal A woken getter was cancelled before its step: the next getter gets the wake-up. */
  _getterLost(): void {
    if (this._store.size > 0) this.#waiting?.getters.wakeFirst(undefined);
  }

  /** @internal A woken putter was cancelled before its step: the next putter gets the free slot. */
  _putterLost(): void {
    if (!this.full()) this.#waiting?.putters.wakeFirst(undefined);
  }

  /** @internal Adds `item` (there is room) and wakes a getter for it. */
  _enqueueItem(item: T): void {
    this._store.push(item);
    this.#unfinished++;
    const waiting = this.#waiting;
    if (waiting !== null) waiting.getters.wakeFirst(undefined);
  }

  /**
   * Removes and resolves the first item (by the queue's order), waiting while the queue is
   * empty. A woken getter that finds the queue empty again (another consumer was quicker)
   * waits again.
   *
   * **Cancellation**: a getter cancelled while waiting takes nothing: no item is lost. If an
   * item had just been signalled to it, the next waiting getter is woken for it. A get from a
   * non-empty queue does not suspend, so it is not a cancellation point (as in asyncio).
   *
   * @throws {QueueShutDown} (as a rejection) when the queue is shut down and empty (or shut
   * down with `immediate`), before or while waiting.
   * @throws {RuntimeError} when no loop runs (even when an item is there): use `getNowait()`
   * outside the loop.
   *
   * asyncio: `Queue.get()`.
   */
  get(): Promise<T> {
    _requireRunningLoop();
    if (this._store.size > 0) {
      try {
        return settledValue(this._dequeue());
      } catch (error) {
        return settledError(error);
      }
    }
    if (this.#shutdown) return settledError(new QueueShutDown(`get() on a shut-down, empty ${this.toString()}`));
    const waiting = this.#wait();
    return new GetOperation<T, T>(this.#loop as EventLoop, this, waiting.getters, false) as unknown as Promise<T>;
  }

  /**
   * Removes and returns the first item now.
   *
   * @throws {QueueShutDown} when the queue is empty and shut down.
   * @throws {QueueEmpty} when it is empty.
   *
   * asyncio: `Queue.get_nowait()`.
   */
  getNowait(): T {
    if (this._store.size === 0) {
      if (this.#shutdown) {
        throw new QueueShutDown(`getNowait() on a shut-down, empty ${this.toString()}`);
      }
      throw new QueueEmpty(`getNowait() on an empty ${this.toString()}`);
    }
    return this._dequeue();
  }

  /** @internal Takes the next item (there is one) and wakes a putter for the free slot. */
  _dequeue(): T {
    const item = this._store.take();
    const waiting = this.#waiting;
    if (waiting !== null) waiting.putters.wakeFirst(undefined);
    return item;
  }

  /**
   * Marks one item as processed: consumers call it once per item they got, when they are done
   * with it. When every item put has been marked, `join()` callers resume.
   *
   * @throws {RangeError} when called more times than items were put.
   *
   * asyncio: `Queue.task_done()` (raises `ValueError`).
   */
  taskDone(): void {
    if (this.#unfinished <= 0) {
      throw new RangeError("taskDone() called too many times: no item is unfinished");
    }
    this.#unfinished--;
    if (this.#unfinished === 0) this.#waiting?.joiners.wakeAll(undefined);
  }

  /**
   * Waits until every item put so far has been marked done with `taskDone()`. Resolves at
   * once (no suspension) when nothing is unfinished.
   *
   * **Cancellation**: cancelling the waiting task stops the waiting; the count of unfinished
   * items is not touched.
   *
   * @throws {RuntimeError} when no loop runs (even with nothing to wait for).
   *
   * asyncio: `Queue.join()`.
   */
  join(): PromiseLike<void> {
    _requireRunningLoop();
    if (this.#unfinished === 0) return RESOLVED_VOID;
    const waiting = this.#wait();
    return new Waiter<void>(this.#loop as EventLoop, waiting.joiners, null);
  }

  /**
   * Shuts the queue down: from now on `put()` and `putNowait()` throw {@link QueueShutDown},
   * and so do `get()` and `getNowait()` once the queue is empty. Blocked putters fail at once;
   * blocked getters fail (the queue is empty, or they would not be blocked).
   *
   * With `immediate`, the items still queued are dropped and each counts as done for `join()`,
   * so gets fail at once and `join()` callers may resume.
   *
   * @throws {TypeError} when `immediate` is not a boolean.
   *
   * asyncio: `Queue.shutdown(immediate=False)` (3.13).
   */
  shutdown(immediate = false): void {
    if (typeof immediate !== "boolean") {
      throw new TypeError(`\`immediate\` must be a boolean, got ${describe(immediate)}`);
    }
    this.#shutdown = true;
    const waiting = this.#waiting;
    if (immediate) {
      const dropped = this._store.clear();
      this.#unfinished -= Math.min(dropped, this.#unfinished);
      if (this.#unfinished === 0) waiting?.joiners.wakeAll(undefined);
    }
    // Every blocked getter and putter re-checks, and raises QueueShutDown.
    waiting?.getters.wakeAll(undefined);
    waiting?.putters.wakeAll(undefined);
  }

  /**
   * Iterates the items as they come, with `get()`; ends (without an error) when the queue is
   * shut down and empty. It does not call `taskDone()`.
   *
   * **Cancellation**: as `get()`: a task cancelled while waiting for the next item takes
   * nothing, and the loop ends with the `CancelledError`.
   *
   * Each `next()` throws {@link RuntimeError} when no loop runs, as `get()` does.
   *
   * @example
   * for await (const job of jobs) await handle(job);
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return new QueueIterator(this);
  }

  /** @internal A get for `for await`: resolves `{ done, value }`, and `done` at shutdown. */
  _iterate(): Future<IteratorResult<T, undefined>> {
    const waiting = this.#wait();
    return new GetOperation<T, IteratorResult<T, undefined>>(this.#loop as EventLoop, this, waiting.getters, true);
  }

  /** The waiter queues, made on first use; binds the queue to the running loop. */
  #wait(): Waiting {
    this.#loop = bindLoop(this.#loop, this);
    return (this.#waiting ??= {
      getters: new WaiterQueue(this),
      putters: new WaiterQueue(this),
      joiners: new WaiterQueue(this),
    });
  }

  /** `<Queue maxsize=10 size=3 getters[1] putters[2] tasks=5 shutdown>`, as asyncio's `_format`. */
  toString(): string {
    const parts = [`maxsize=${this.#maxsize}`];
    const size = this._store.size;
    if (size > 0) parts.push(`size=${size}`);
    const waiting = this.#waiting;
    if (waiting !== null) {
      if (waiting.getters.size > 0) parts.push(`getters[${waiting.getters.size}]`);
      if (waiting.putters.size > 0) parts.push(`putters[${waiting.putters.size}]`);
    }
    if (this.#unfinished > 0) parts.push(`tasks=${this.#unfinished}`);
    if (this.#shutdown) parts.push("shutdown");
    return formatRepr(this.constructor.name, parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

const ITERATION_DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * @internal What a get and a put that had to wait share: parked among the getters (putters)
 * until a put (get) wakes it, then its own step — the next iteration, as asyncio's resumed
 * `get()` — does the work and completes it, or parks it again at the back when another task
 * was quicker. Cancelled while parked, it leaves; cancelled while woken, it passes the wake-up
 * on. Each kind says how to try its work, and how to pass on and undo it. Its task's plain
 * `await` is kept in the operation itself (see `InlineAwaitFuture`): the step that completes it
 * resumes the task at once, with no await record.
 */
abstract class QueueOperation<T, R> extends InlineAwaitFuture<R> implements Parked<void>, ReadyItem {
  protected readonly _queue: Queue<T>;
  readonly #waiters: WaiterQueue<Parked<void>, void>;
  /** Woken: its step is queued, it is no longer among the waiters. */
  #woken = false;

  constructor(loop: EventLoop, queue: Queue<T>, waiters: WaiterQueue<Parked<void>, void>) {
    super(loop);
    this._queue = queue;
    this.#waiters = waiters;
    waiters.push(this);
  }

  /**
   * The work, when the step runs: completes the operation (`_setResultAndRunCallbacks`) and
   * returns true, returns false to wait again, or throws to fail it.
   */
  protected abstract _attempt(): boolean;

  /** A woken operation was cancelled before its step: the next waiter gets the wake-up. */
  protected abstract _passOn(): void;

  /** @internal The queue it waits on. */
  override _describeWait(): string {
    return this._queue.toString();
  }

  /** @internal Woken: its step runs next iteration. */
  _wake(): void {
    this.#woken = true;
    this._loop._enqueue(this);
  }

  /** @internal */
  _fail(error: unknown): void {
    if (this._state === "pending") this.setException(error);
  }

  /** @internal The step: do the work and resume the awaiter now, or wait again at the back. */
  _run(): void {
    if (this._state !== "pending") return;
    this.#woken = false;
    let done: boolean;
    try {
      done = this._attempt();
    } catch (error) {
      this._setExceptionAndRunCallbacks(error);
      return;
    }
    if (!done) this.#waiters.push(this);
  }

  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    if (this.#woken) {
      this.#woken = false;
      this._passOn();
    } else {
      this.#waiters._discard();
    }
    return true;
  }

  override _isOperation(): boolean {
    return true;
  }

  /** @internal The getters and putters of one queue wake in FIFO order. */
  override _orderKey(): object {
    return this._queue;
  }
}

/** @internal A get that had to wait. With `iterate`, it resolves iterator results, and `done` at shutdown. */
class GetOperation<T, R> extends QueueOperation<T, R> {
  readonly #iterate: boolean;

  constructor(loop: EventLoop, queue: Queue<T>, getters: WaiterQueue<Parked<void>, void>, iterate: boolean) {
    super(loop, queue, getters);
    this.#iterate = iterate;
  }

  protected override _attempt(): boolean {
    const queue = this._queue;
    if (queue._store.size > 0) {
      const item = queue._dequeue();
      this._setResultAndRunCallbacks((this.#iterate ? { done: false, value: item } : item) as R);
      return true;
    }
    if (!queue._isShutDown()) return false;
    if (!this.#iterate) throw new QueueShutDown(`get() on a shut-down, empty ${queue.toString()}`);
    this._setResultAndRunCallbacks(ITERATION_DONE as R);
    return true;
  }

  protected override _passOn(): void {
    this._queue._getterLost();
  }

  /** Its awaiter was cancelled before it resumed: the item goes back, first in line. */
  override _lostWakeup(): void {
    const result = this._result as R;
    if (!this.#iterate) this._queue._restoreItem(result as unknown as T);
    else if (!(result as IteratorResult<T>).done) this._queue._restoreItem((result as IteratorResult<T>).value);
  }
}

/** @internal A put that had to wait for a free slot. */
class PutOperation<T> extends QueueOperation<T, void> {
  readonly #item: T;

  constructor(loop: EventLoop, queue: Queue<T>, putters: WaiterQueue<Parked<void>, void>, item: T) {
    super(loop, queue, putters);
    this.#item = item;
  }

  protected override _attempt(): boolean {
    const queue = this._queue;
    if (queue._isShutDown()) throw new QueueShutDown(`put() on a shut-down ${queue.toString()}`);
    if (queue.full()) return false;
    queue._enqueueItem(this.#item);
    this._setResultAndRunCallbacks(undefined);
    return true;
  }

  protected override _passOn(): void {
    this._queue._putterLost();
  }

  /** Its awaiter was cancelled before it resumed: the item is taken back out. */
  override _lostWakeup(): void {
    this._queue._removeItem(this.#item);
  }
}


/** `for await (const item of queue)`: `get()` until the queue is shut down and empty. */
class QueueIterator<T> implements AsyncIterableIterator<T> {
  readonly #queue: Queue<T>;

  constructor(queue: Queue<T>) {
    this.#queue = queue;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    _requireRunningLoop();
    const queue = this.#queue;
    if (queue._store.size > 0) {
      // An item is there: one settled promise, as get()'s fast path.
      try {
        return Promise.resolve({ done: false, value: queue.getNowait() });
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (queue._isShutDown()) return Promise.resolve(ITERATION_DONE);
    // A get operation that resolves the iterator result itself: `for await` awaits it, so the
    // task is its awaiter and a cancel reaches it (a `.then()` chain would hide it).
    return queue._iterate() as unknown as Promise<IteratorResult<T, undefined>>;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/**
 * A queue that gives back the most recently added item first (a stack).
 *
 * asyncio: `asyncio.LifoQueue(maxsize=0)`.
 */
export class LifoQueue<T = unknown> extends Queue<T> {
  /** @internal */
  override _makeStore(): Store<T> {
    return new LifoStore<T>();
  }
}

/** Options of {@link PriorityQueue}. */
export interface PriorityQueueOptions<T> {
  /**
   * Orders two items: negative when `a` comes first, positive when `b` does, 0 when either
   * may (as `Array.prototype.sort`'s). Default: Python's order (numbers and strings by value,
   * arrays element by element), which throws `TypeError` for anything else.
   */
  compare?: (a: T, b: T) => number;
}

const PRIORITY_QUEUE_KEYS = ["compare"] as const satisfies readonly (keyof PriorityQueueOptions<unknown>)[];

/**
 * A queue that gives back the lowest item first, ordered as Python orders them: numbers and
 * strings by value, arrays element by element, so `[priority, data]` pairs work as in asyncio
 * (`[1, "urgent"]` before `[5, "later"]`; equal priorities compare the next element). Pass
 * `compare` for other items.
 *
 * An item that cannot be ordered against the others makes `put()` (or `get()`) fail with a
 * `TypeError` and leaves the queue as it was.
 *
 * @throws {TypeError} from the constructor when `options.compare` is given and is not a
 * function.
 *
 * @example
 * const jobs = new PriorityQueue<[number, string]>();
 * await jobs.put([5, "later"]);
 * await jobs.put([1, "urgent"]);
 * await jobs.get(); // [1, "urgent"]
 *
 * asyncio: `asyncio.PriorityQueue(maxsize=0)` (a heap, as `heapq`).
 */
export class PriorityQueue<T = unknown> extends Queue<T> {
  /** A priority queue of at most `maxsize` items (`<= 0`: no limit), ordered by `options.compare`. */
  constructor(maxsize = 0, options: PriorityQueueOptions<T> = {}) {
    super(maxsize);
    checkOptions("new PriorityQueue()", options, PRIORITY_QUEUE_KEYS);
    const compare = options.compare;
    if (compare !== undefined) {
      if (typeof compare !== "function") {
        throw new TypeError(`\`compare\` must be a function, got ${describe(compare)}`);
      }
      (this._store as HeapStore<T>).compare = compare;
    }
  }

  /** @internal */
  override _makeStore(): Store<T> {
    return new HeapStore<T>(pythonOrder);
  }
}
