/**
 * What the synchronisation primitives share: the loop binding (asyncio's `_LoopBoundMixin`),
 * the settled results of their fast paths, and the two forms of `async with` (asyncio's
 * `_ContextManagerMixin`): `await using _ = await x.hold()` and `await x.withLock(fn)`.
 *
 * WHY `hold()` and not `await using _ = await x.acquire()`: `acquire()` resolves `true`, as in
 * asyncio (`if (await lock.acquire())` and ported code keep working), and `true` cannot be
 * disposed. Making it resolve to a truthy handle instead would break `=== true` and the pinned
 * signature; so the disposable form is a separate method whose result is the handle.
 *
 * WHY the fast paths return shared, already-resolved native promises: awaiting a native
 * promise is the cheapest await V8 has (no wrapper promise, one microtask), and a shared
 * settled promise allocates nothing per call. A custom thenable looks cheaper but is not: V8
 * wraps any non-promise awaited value in a fresh promise and adds a job to call its `then`
 * (measured: ~2x the cost of awaiting a settled native promise).
 *
 * @module
 */
import { RuntimeError } from "../errors.js";
import type { EventLoop } from "../events/loop.js";
import { _requireRunningLoop, getRunningLoop } from "../events/running.js";
import { Future, isFuture } from "../futures.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { settledValue, tagSettled } from "../internal/settled.js";
import { checkFunction } from "../internal/validate.js";

/**
 * @internal The result of every uncontended `acquire()` and `wait()`: shared, never rejected.
 * Not frozen: Node's async hooks tag each promise they see with a property.
 */
export const RESOLVED_TRUE: Promise<true> = tagSettled(Promise.resolve(true as const), true);

/** @internal The result of every uncontended `put()` and of `join()` with nothing to wait for. */
export const RESOLVED_VOID: Promise<void> = tagSettled(Promise.resolve(), undefined);

/**
 * @internal asyncio's `_LoopBoundMixin._get_loop`: a primitive binds to the running loop the
 * first time it has to wait (creating it outside a loop is fine), and refuses any other loop
 * later. Use as `this.#loop = bindLoop(this.#loop, this)`.
 *
 * @throws {RuntimeError} when no loop runs, or when `bound` is another loop.
 */
export function bindLoop(bound: EventLoop | null, owner: object): EventLoop {
  const loop = getRunningLoop();
  if (bound !== null && bound !== loop) {
    throw new RuntimeError(`${String(owner)} is bound to a different event loop`);
  }
  return loop;
}

/**
 * A primitive that is held between `acquire()` and `release()`: {@link Lock},
 * {@link Condition}, {@link Semaphore}, {@link BoundedSemaphore}. Gives each of them the two
 * scoped forms of asyncio's `async with x:`.
 *
 * asyncio: `asyncio.locks._ContextManagerMixin`.
 */
export abstract class Acquirable {
  /**
   * Waits until the primitive can be acquired, acquires it, and resolves `true`.
   *
   * **Cancellation**: cancelling the waiting task takes it out of the queue; a wake-up it was
   * already given passes on to the next waiter (each primitive's own `acquire()` says how).
   */
  abstract acquire(): PromiseLike<true>;

  /** Releases the primitive. */
  abstract release(): void;

  /** Whether `acquire()` would have to wait. */
  abstract locked(): boolean;

  /**
   * Acquires the primitive and resolves to a {@link Held} handle whose disposal releases it:
   * `await using _ = await lock.hold();` (or `using`: releasing is synchronous). The scope
   * releases on every exit, normal or not.
   *
   * Throws {@link RuntimeError} when no loop runs, as `acquire()` does.
   *
   * **Cancellation**: as `acquire()`. Cancelled while waiting, nothing is acquired and no
   * handle is made; once the handle is returned, no cancellation point remains before the
   * `using` declaration takes it. A hold that raises holds nothing, whichever way it was
   * handed over: `waitFor(lock.hold(), 1)` that times out as the lock is handed to it
   * releases it again.
   *
   * @example
   * {
   *   await using _ = await lock.hold();
   *   await writeBoth(a, b); // released when the block exits
   * }
   *
   * asyncio: `async with lock:`. An addition (asyncio has no handle object).
   */
  hold(): Promise<Held> {
    return _hold(this, this.acquire());
  }

  /** @internal The handle of a hold. */
  _heldHandle(): Held {
    return new Held(this);
  }

  /** @internal Undoes an acquisition a hold made but never handed over. */
  _undoAcquire(): void {
    this.release();
  }

  /**
   * Runs `fn()` while holding the primitive: acquires, awaits `fn()`, releases (also when
   * `fn` throws), and resolves to `fn`'s result.
   *
   * **Cancellation**: cancelled while waiting to acquire, `fn` never runs. Cancelled inside
   * `fn`, the primitive is released as the `CancelledError` propagates.
   *
   * @throws {TypeError} synchronously when `fn` is not a function.
   * @throws {RuntimeError} synchronously when no loop runs.
   *
   * @example
   * const total = await lock.withLock(async () => {
   *   balance += await fetchDeposit();
   *   return balance;
   * });
   *
   * asyncio: `async with lock: return await fn()`.
   */
  withLock<R>(fn: () => R | PromiseLike<R>): Promise<Awaited<R>> {
    checkFunction("fn", fn);
    _requireRunningLoop();
    return runHolding(this, fn);
  }
}

/** @internal What `hold()` needs of the primitive it holds (an {@link Acquirable}, a `RateLimiter`). */
export interface HoldSource {
  /** The handle a hold resolves to. */
  _heldHandle(): Held;
  /** Undoes `acquiring`, which completed but whose hold raised: a hold that raises holds nothing. */
  _undoAcquire(acquiring: Future<true>): void;
}

/**
 * @internal `hold()` on top of an acquisition: the handle at once when `acquiring` already
 * happened (a settled promise); else an operation that follows the acquisition's future.
 */
export function _hold(source: HoldSource, acquiring: PromiseLike<true>): Promise<Held> {
  if (isFuture(acquiring)) {
    return new HoldOperation(source, acquiring as Future<true>) as unknown as Promise<Held>;
  }
  return settledValue(source._heldHandle());
}

/**
 * @internal A `hold()` that had to wait: completes with the handle in the step where the
 * acquisition completes (so its awaiter resumes when an `await acquire()` would). Cancelled
 * before that, it cancels the acquisition; cancelled after the primitive was handed to it
 * but before its awaiter resumed, it undoes the acquisition: a hold that raises holds nothing.
 */
class HoldOperation extends Future<Held> {
  readonly #source: HoldSource;
  readonly #acquiring: Future<true>;

  constructor(source: HoldSource, acquiring: Future<true>) {
    super(acquiring._loop);
    this.#source = source;
    this.#acquiring = acquiring;
    acquiring._addInternalCallback(this.#onAcquired);
  }

  /** @internal The primitive it waits for. */
  override _describeWait(): string {
    return String(this.#source);
  }

  #onAcquired = (acquiring: Future<true>): void => {
    if (this._state !== "pending") return;
    if (acquiring.cancelled()) {
      super.cancel();
    } else if (acquiring._hasException) {
      this.setException(acquiring.exception());
    } else {
      this._setResultAndRunCallbacks(this.#source._heldHandle());
    }
  };

  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    const acquiring = this.#acquiring;
    if (!acquiring.done()) acquiring.cancel(msg);
    else if (!acquiring.cancelled() && !acquiring._hasException) this.#source._undoAcquire(acquiring);
    return true;
  }

  override _lostWakeup(): void {
    this.#source._undoAcquire(this.#acquiring);
  }

  override _isOperation(): boolean {
    return true;
  }
}

async function runHolding<R>(primitive: Acquirable, fn: () => R | PromiseLike<R>): Promise<Awaited<R>> {
  await primitive.acquire();
  try {
    return await fn();
  } finally {
    primitive.release();
  }
}

/**
 * What {@link Acquirable.hold} resolves to: disposing it (at the end of a `using` or
 * `await using` block) releases the primitive, once. `release()` releases early; the
 * disposal then does nothing. The handle of `RateLimiter.hold()` has nothing to give back (a
 * slot of the window, once used, stays used): releasing it only marks it released.
 */
export class Held implements Disposable, AsyncDisposable {
  #primitive: { release(): void } | null;
  readonly #description: string;

  /**
   * @internal Made by `hold()`; `description` names the primitive when printed (default: its
   * class).
   */
  constructor(primitive: { release(): void }, description: string = primitive.constructor.name) {
    this.#primitive = primitive;
    this.#description = description;
  }

  /** Whether the primitive has been released through this handle. */
  get released(): boolean {
    return this.#primitive === null;
  }

  /** Releases the primitive now; later calls (and the disposal) do nothing. */
  release(): void {
    const primitive = this.#primitive;
    if (primitive === null) return;
    this.#primitive = null;
    primitive.release();
  }

  /** Releases the primitive (`using`). */
  [Symbol.dispose](): void {
    this.release();
  }

  /** Releases the primitive (`await using`); resolves at once. */
  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return RESOLVED_VOID;
  }

  /** `<Held Lock holding>`, `<Held Semaphore released>`. */
  toString(): string {
    return formatRepr("Held", [this.#description, this.released ? "released" : "holding"]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
