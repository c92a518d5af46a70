/**
 * Handles: what `callSoon`, `callLater` and `callAt` return, so a scheduled callback can be
 * cancelled before it runs.
 */
import type { Context } from "../context.js";
import { formatRepr, inspectCustom, reprValue } from "../internal/inspect.js";
import type { HeapEntry } from "../internal/heap.js";
import { isThenable } from "../internal/validate.js";
import type { EventLoop } from "./loop.js";
import { frameStorage } from "./running.js";

/** @internal Who hears that a callback failed: the owner of the callback (a handle, a future's callback record). */
export interface CallbackReporter {
  /** `fn`, called with `args` (`null`: with one argument), threw `exception`, or its promise rejected with it. */
  _callbackFailed(exception: unknown, fn: Callback, args: readonly unknown[] | null): void;
}

/**
 * @internal Calls a user callback with `args`, or with the one argument `arg` when `args` is
 * `null` (no array to make per call), in `context` when one is given (as its frame, so an async
 * callback keeps it across its awaits). A throw, or a rejection of what an async callback
 * returned, goes to `reporter`: never to Node's unhandledRejection. Nothing is made per call
 * unless the callback fails or returns a promise.
 */
export function _invokeCallback(
  context: Context | null,
  fn: Callback,
  args: readonly unknown[] | null,
  arg: unknown,
  reporter: CallbackReporter,
): void {
  let result: unknown;
  try {
    if (args === null) result = context === null ? fn(arg as never) : frameStorage.run(context, fn, arg as never);
    else result = context === null ? fn(...(args as never[])) : frameStorage.run(context, fn, ...(args as never[]));
  } catch (exception) {
    reporter._callbackFailed(exception, fn, args);
    return;
  }
  if (isThenable(result)) {
    result.then(undefined, (exception: unknown) => reporter._callbackFailed(exception, fn, args));
  }
}

/** `name(arg, …)`, as a callback's repr shows it. */
function describeCall(fn: Callback, args: readonly unknown[]): string {
  return `${fn.name || "anonymous"}(${args.map((arg) => reprValue(arg, 30)).join(", ")})`;
}

/**
 * @internal Anything the loop's ready queue can run: a {@link Handle}, a task's first step, a
 * future's callback. `_run` never throws: each item reports its own errors.
 */
export interface ReadyItem {
  _run(): void;
}

/** @internal Anything the loop's timer heap can hold: a {@link TimerHandle}, a `sleep()`. */
export interface TimerEntry extends ReadyItem, HeapEntry {}

/** @internal A callback of any arguments. */
export type Callback = (...args: never[]) => unknown;

/**
 * A callback scheduled with `loop.callSoon()`; `cancel()` stops it from running.
 *
 * asyncio: `asyncio.Handle`.
 */
export class Handle implements ReadyItem {
  /** @internal */ _callback: Callback | null;
  /** @internal */ _args: unknown[];
  /** @internal */ readonly _loop: EventLoop;
  /** @internal */ readonly _context: Context | null;
  /** @internal */ _cancelled = false;

  /** @internal */
  constructor(callback: Callback, args: unknown[], loop: EventLoop, context: Context | null) {
    this._callback = callback;
    this._args = args;
    this._loop = loop;
    this._context = context;
  }

  /** Cancels the callback; a cancelled or finished callback is left as it is. */
  cancel(): void {
    if (this._cancelled) return;
    this._cancelled = true;
    this._callback = null;
    this._args = [];
  }

  /** Whether `cancel()` was called. */
  cancelled(): boolean {
    return this._cancelled;
  }

  /** The loop the callback is scheduled on. */
  getLoop(): EventLoop {
    return this._loop;
  }

  /** The context the callback runs in (a copy of the one current when it was scheduled). */
  getContext(): Context | null {
    return this._context;
  }

  /** @internal */
  _run(): void {
    const callback = this._callback;
    if (this._cancelled || callback === null) return;
    _invokeCallback(this._context, callback, this._args, undefined, this);
  }

  /**
   * @internal The callback failed: named as it was called (not as the handle is now: the
   * callback may have cancelled its own handle).
   */
  _callbackFailed(exception: unknown, fn: Callback, args: readonly unknown[] | null): void {
    this._loop.callExceptionHandler({
      message: `Exception in callback ${describeCall(fn, args ?? [])}`,
      exception,
      handle: this,
    });
  }

  /** @internal */
  _describeCallback(): string {
    const cb = this._callback;
    return cb === null ? "(cancelled)" : describeCall(cb, this._args);
  }

  /** @internal */
  _stateParts(): string[] {
    return this._cancelled ? ["cancelled"] : [this._describeCallback()];
  }

  toString(): string {
    return formatRepr(this.constructor.name, this._stateParts());
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

/**
 * A callback scheduled for a time with `loop.callLater()` or `loop.callAt()`.
 *
 * asyncio: `asyncio.TimerHandle`.
 */
export class TimerHandle extends Handle implements TimerEntry {
  /** @internal */ _when: number;
  /** @internal */ _seq = 0;
  /** @internal */ _heapIndex = -1;

  /** @internal */
  constructor(
    when: number,
    callback: Callback,
    args: unknown[],
    loop: EventLoop,
    context: Context | null,
  ) {
    super(callback, args, loop, context);
    this._when = when;
  }

  /** The time the callback is scheduled for, in seconds on the loop's clock (`loop.time()`). */
  when(): number {
    return this._when;
  }

  /** Cancels the callback and takes it off the loop's timers at once (O(log n)). */
  override cancel(): void {
    if (this._cancelled) return;
    this._loop._removeTimer(this);
    super.cancel();
  }

  /** @internal */
  override _stateParts(): string[] {
    return [`when=${this._when}`, ...super._stateParts()];
  }
}
