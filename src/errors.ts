/**
 * Every error asyncio-ts throws on purpose, named as in asyncio.
 *
 * Each class sets `name` to its asyncio name and carries a brand (a `Symbol.for` key), so
 * `instanceof` and the guards recognise an error made by another copy of this library.
 * Python's `ValueError` is a `RangeError` here and Python's `TypeError` a `TypeError`; asyncio's
 * misuse errors are the exported {@link RuntimeError}.
 *
 * @module
 */

import { constants as osConstants } from "node:os";
import { inspectCustom } from "./internal/inspect.js";

const BRAND = Symbol.for("asyncio-ts.error");

type Branded = { [BRAND]?: string };

function hasBrand(value: unknown, name: string): boolean {
  return typeof value === "object" && value !== null && (value as Branded)[BRAND] === name;
}

/**
 * Brands an error class: its prototype carries `name` and the brand (so making an error costs
 * nothing extra), and `x instanceof cls` is true for an error branded `name` by any copy of
 * the library (two versions installed side by side); subclasses keep the ordinary test.
 */
function brandClass(cls: abstract new (...args: never[]) => Error, name: string): void {
  Object.defineProperty(cls.prototype, BRAND, { value: name });
  Object.defineProperty(cls.prototype, "name", { value: name, configurable: true, writable: true });
  const ordinary = Function.prototype[Symbol.hasInstance];
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      return ordinary.call(this, value) || (this === cls && hasBrand(value, name));
    },
  });
}

/** The task the next `CancelledError` made is delivered to (see `_makeCancelledError`). */
let nextTask: string | number | undefined;
/** Reads a `CancelledError`'s private task (`undefined` for one from another copy). */
let taskOf: (error: CancelledError) => string | number | undefined;

/**
 * The operation was cancelled: thrown into a task's code at the `await` where
 * `task.cancel(msg)` reached it. `message` is the `msg` given to `cancel()` (`""` without one).
 *
 * What to do with it: let it propagate. Catch it only to clean up, then rethrow, or the task
 * that was asked to stop goes on running (asyncio calls that "swallowing" the cancellation, and
 * debug mode reports it). `catch (e)` in JS catches everything, so test with
 * {@link isCancellation} before handling an error as a failure.
 *
 * asyncio: `asyncio.CancelledError` (a `BaseException`, so `except Exception` skips it; JS has
 * no such split).
 */
export class CancelledError extends Error {
  /**
   * The task the loop delivered this cancellation to: its name, or its number for a default
   * `Task-N` name (so that a cancel makes no string); `undefined` for an error made by user
   * code or one that reached no task. Private: it shows in no printout or comparison.
   */
  readonly #task: string | number | undefined = nextTask;

  static {
    taskOf = (error) => (#task in error ? error.#task : undefined);
  }

  /**
   * What Node's `util.inspect` (`console.log(e)`) prints for it: `message` is only the `msg`
   * given to `cancel()`, usually empty, so this also says which task was cancelled and what to
   * do about it. Computed when printed: a cancel makes no string.
   */
  [inspectCustom](_depth: number, _options: unknown, inspect?: (value: unknown) => string): string {
    let text = `${this.name}: ${describeCancellation(this)}`;
    const stack = typeof this.stack === "string" ? this.stack : "";
    const frames = stack.indexOf("\n    at ");
    if (frames >= 0) text += stack.slice(frames);
    if (this.cause !== undefined) {
      const cause = inspect === undefined ? String(this.cause) : inspect(this.cause);
      text += ` {\n  [cause]: ${cause.split("\n").join("\n  ")}\n}`;
    }
    return text;
  }
}

/** A cancellation as a person should read it: who was cancelled, and what to do. */
function describeCancellation(error: CancelledError): string {
  const task = taskOf(error);
  const who =
    task === undefined ? "the operation" : `task '${typeof task === "number" ? `Task-${task}` : task}'`;
  const hint = `${who} was cancelled (by cancel(), a timeout, or Ctrl-C); catch it only to clean up and re-throw`;
  return error.message === "" ? hint : `${error.message} — ${hint}`;
}

/**
 * @internal A `CancelledError` made by the loop to deliver a cancellation (to `task`: its name,
 * or its number). It has no stack trace: one captured there would show only the loop's own
 * frames (V8 adds no async frames to an error made in a loop callback), and capturing it was
 * most of the cost of a cancel.
 */
export function _makeCancelledError(message: string, task?: string | number): CancelledError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  nextTask = task;
  try {
    return new CancelledError(message);
  } finally {
    Error.stackTraceLimit = limit;
    nextTask = undefined;
  }
}

/**
 * @internal A cancellation leaves the loop to the code that ran it (`runUntilComplete`, so
 * `run()`): write the description into its `stack`, which is what Node prints for an uncaught
 * error (it does not call `util.inspect.custom` there). Only for an error the loop made (no
 * frames) or delivered to a task; done once, when it leaves, never per cancel.
 */
export function _describeEscapingCancellation(error: CancelledError): void {
  const stack = typeof error.stack === "string" ? error.stack : "";
  const frames = stack.indexOf("\n    at ");
  if (frames >= 0 && taskOf(error) === undefined) return;
  const header = `${error.name}: ${describeCancellation(error)}`;
  if (stack.startsWith(header)) return;
  error.stack = frames >= 0 ? header + stack.slice(frames) : header;
}

/**
 * A deadline passed: raised by `timeout()`, `timeoutAt()`, `waitFor()` and `asCompleted()`.
 * When a timeout cancelled the work, `cause` is the `CancelledError` that did it.
 *
 * asyncio: `TimeoutError` (the builtin, which `asyncio.TimeoutError` aliases since 3.11).
 */
export class TimeoutError extends Error {}

/**
 * An operation was called on a future or task in the wrong state: `result()` before it is done,
 * `setResult()` on a finished future.
 *
 * asyncio: `asyncio.InvalidStateError`.
 */
export class InvalidStateError extends Error {}

/**
 * The API was misused in a way asyncio answers with Python's `RuntimeError`: no running event
 * loop, running a loop that already runs, releasing an unlocked lock, creating a task in a
 * finished task group.
 */
export class RuntimeError extends Error {}

/**
 * A `ProcessPoolExecutor` cannot start child processes (a child ended, or its initializer
 * failed, before it was ready): every job not finished fails with this, and `submit` throws it.
 * `cause` is what went wrong in the child, when known. A child that dies after it started is
 * replaced instead, and only its own job fails.
 *
 * Python: `concurrent.futures.process.BrokenProcessPool` (a `RuntimeError` too). Python also
 * breaks the pool when a running child dies; this pool replaces that child.
 */
export class BrokenProcessPool extends RuntimeError {}

/**
 * `ContextVar.get()` found no value and no default.
 *
 * Python: `LookupError`.
 */
export class LookupError extends Error {}

/**
 * The program was stopped by a signal while `run()` or `Runner.run()` was running it: the main
 * task was cancelled, and `run()` rejects with this once the task has finished. `signal` names
 * the signal (`"SIGTERM"`, or another one listed in `run(main, { signals })`); `exitCode` is
 * the status a shell reports for a process that signal ended (128 + its number: 143 for
 * SIGTERM), for a program that wants to exit that way. Ctrl-C (SIGINT) raises the subclass
 * {@link KeyboardInterrupt}.
 *
 * Not in asyncio: Python lets SIGTERM end the process at once, without cleanup.
 */
export class SignalInterrupt extends Error {
  /** The name of the signal: `"SIGTERM"`, `"SIGINT"`, `"SIGHUP"`, … */
  readonly signal: string;

  constructor(signal: string, options?: ErrorOptions) {
    super(signal, options);
    this.signal = signal;
  }

  /** 128 + the signal's number (143 for SIGTERM, 130 for SIGINT): the shell's status for it. */
  get exitCode(): number {
    return 128 + (osConstants.signals[this.signal as NodeJS.Signals] ?? 0);
  }
}

/**
 * The program was interrupted with Ctrl-C (SIGINT) while `run()` or `Runner.run()` was running
 * it: the main task was cancelled, and `run()` rejects with this once the task has finished.
 * A {@link SignalInterrupt} whose `signal` is `"SIGINT"` (`exitCode` 130).
 *
 * Python: `KeyboardInterrupt`.
 */
export class KeyboardInterrupt extends SignalInterrupt {
  constructor(message = "", options?: ErrorOptions) {
    super("SIGINT", options);
    this.message = message;
  }
}

/**
 * Every attempt of `retry()` failed with an error it retries: `errors` holds those errors,
 * first to last, `cause` is the last one, and `attempts` says how many there were.
 *
 * Not in asyncio: the error of p-retry's or tenacity's retries running out, as an
 * `AggregateError`.
 */
export class RetryError extends AggregateError {
  /** The error of each attempt, first to last. */
  declare readonly errors: unknown[];
  /** How many attempts were made. */
  readonly attempts: number;

  constructor(errors: readonly unknown[], options?: ErrorOptions) {
    const list = [...errors];
    const last = list.at(-1);
    const what = last instanceof Error ? `${last.name}: ${last.message}` : String(last);
    super(
      list,
      `${list.length === 1 ? "the only attempt" : `all ${list.length} attempts`} failed; the last with ${what}`,
      { cause: last, ...options },
    );
    Object.defineProperty(this, "errors", { value: list, enumerable: false, writable: false });
    this.attempts = list.length;
  }
}

/** `getNowait()` on an empty queue. asyncio: `asyncio.QueueEmpty`. */
export class QueueEmpty extends Error {}

/** `putNowait()` on a full queue. asyncio: `asyncio.QueueFull`. */
export class QueueFull extends Error {}

/** A put or get on a queue that was shut down. asyncio: `asyncio.QueueShutDown` (3.13). */
export class QueueShutDown extends Error {}

/** A barrier was reset or aborted while a task waited on it. asyncio: `asyncio.BrokenBarrierError`. */
export class BrokenBarrierError extends Error {}

/**
 * The stream ended before `readexactly(n)` or `readuntil(sep)` could be satisfied.
 * `partial` holds the bytes read before the end; `expected` is the number asked for (`null`
 * when reading up to a separator).
 *
 * asyncio: `asyncio.IncompleteReadError` (an `EOFError`).
 */
export class IncompleteReadError extends Error {
  /** The bytes read before the stream ended. */
  readonly partial: Buffer;
  /** How many bytes were asked for; `null` when reading up to a separator. */
  readonly expected: number | null;

  constructor(partial: Buffer, expected: number | null, options?: ErrorOptions) {
    const total = expected === null ? "undefined" : String(expected);
    super(`${partial.length} bytes read on a total of ${total} expected bytes`, options);
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * A line or a separator was not found within the reader's limit. `consumed` is how many bytes
 * to consume to get past the overrun.
 *
 * asyncio: `asyncio.LimitOverrunError`.
 */
export class LimitOverrunError extends Error {
  /** How many bytes to consume to get past the overrun. */
  readonly consumed: number;

  constructor(message: string, consumed: number, options?: ErrorOptions) {
    super(message, options);
    this.consumed = consumed;
  }
}

/**
 * An explorer of `asyncio-ts/testing` found a run of the test that fails. `exploreCancellation`
 * sets `point` (which suspension of `task` the cancel landed at) and `task`;
 * `exploreSchedules` sets `seed` (pass it back in `seeds` to replay that run). `cause` is what
 * failed: the test's own error, or `check()`'s.
 *
 * Not in asyncio: its explorers have no counterpart in asyncio or Trio.
 */
export class ExplorationError extends Error {
  /** The seed of the failing schedule (`exploreSchedules`); `null` otherwise. */
  readonly seed: number | null;
  /** The suspension the cancel landed at, from 1 (`exploreCancellation`); `null` otherwise. */
  readonly point: number | null;
  /** The name of the task that was cancelled (`exploreCancellation`); `null` otherwise. */
  readonly task: string | null;

  constructor(
    message: string,
    details: { seed?: number | null; point?: number | null; task?: string | null } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.seed = details.seed ?? null;
    this.point = details.point ?? null;
    this.task = details.task ?? null;
  }
}

/** A condition for {@link ExceptionGroup.split} and {@link ExceptionGroup.subgroup}. */
export type ErrorMatcher =
  | (abstract new (...args: never[]) => unknown)
  | ((error: unknown) => boolean);

/** Classes are matched with `instanceof`; any other function is a predicate. */
function matcherToPredicate(matcher: ErrorMatcher): (error: unknown) => boolean {
  if (typeof matcher !== "function") {
    throw new TypeError(
      `\`matcher\` must be an error class or a predicate function, got ${typeof matcher}`,
    );
  }
  const proto: unknown = matcher.prototype;
  const isClass =
    typeof proto === "object" &&
    proto !== null &&
    (proto === Error.prototype ||
      proto instanceof Error ||
      /^class\b/.test(Function.prototype.toString.call(matcher)));
  if (isClass) {
    const cls = matcher as abstract new (...args: never[]) => unknown;
    return (error) => error instanceof cls;
  }
  return matcher as (error: unknown) => boolean;
}

/**
 * Several errors raised together: what a task group throws when its tasks fail. It is an
 * `AggregateError`, so `errors` lists them; `exceptions` is the same list under Python's name.
 * `split()` and `subgroup()` stand in for Python's `except*`.
 *
 * asyncio: the builtin `ExceptionGroup` / `BaseExceptionGroup`.
 */
export class ExceptionGroup extends AggregateError {
  /** The errors in this group, in the order they happened. */
  declare readonly errors: unknown[];

  constructor(message: string, errors: Iterable<unknown>, options?: ErrorOptions) {
    if (typeof message !== "string") {
      throw new TypeError(`\`message\` must be a string, got ${typeof message}`);
    }
    const list = Array.from(errors);
    if (list.length === 0) {
      throw new RangeError("`errors` must be a non-empty list of errors");
    }
    const n = list.length;
    super(list, `${message} (${n} sub-exception${n === 1 ? "" : "s"})`, options);
    Object.defineProperty(this, "errors", { value: list, enumerable: false, writable: false });
    Object.defineProperty(this, "rawMessage", { value: message, enumerable: false });
  }

  /** The errors in this group (Python's name for `errors`). */
  get exceptions(): readonly unknown[] {
    return this.errors;
  }

  /** The message given to the constructor, without the count (Python's `eg.message`). */
  declare readonly rawMessage: string;

  /**
   * Splits the group in two, recursing into nested groups: the errors that match, and the rest.
   * Each side is `null` when empty. `matcher` is an error class or a predicate.
   */
  split(matcher: ErrorMatcher): [ExceptionGroup | null, ExceptionGroup | null] {
    const test = matcherToPredicate(matcher);
    if (test(this)) return [this, null];
    const match: unknown[] = [];
    const rest: unknown[] = [];
    for (const error of this.errors) {
      if (error instanceof ExceptionGroup) {
        const [m, r] = error.split(test);
        if (m !== null) match.push(m);
        if (r !== null) rest.push(r);
      } else if (test(error)) {
        match.push(error);
      } else {
        rest.push(error);
      }
    }
    return [
      match.length === 0 ? null : this.derive(match),
      rest.length === 0 ? null : this.derive(rest),
    ];
  }

  /** The errors that match `matcher`, as a group of the same shape, or `null` when none do. */
  subgroup(matcher: ErrorMatcher): ExceptionGroup | null {
    return this.split(matcher)[0];
  }

  /** A group with the same message holding `errors` (used by `split`; override to keep a subclass). */
  derive(errors: Iterable<unknown>): ExceptionGroup {
    return new ExceptionGroup(this.rawMessage, errors, { cause: this.cause });
  }
}

/** True when `e` is a {@link CancelledError} (from any copy of this library). */
export function isCancelledError(e: unknown): e is CancelledError {
  return hasBrand(e, "CancelledError");
}

/**
 * True when `e` means "this work was cancelled": a {@link CancelledError}, or an `AbortError`
 * thrown by a Node API (fetch, fs, timers) whose signal a task cancellation aborted (its `cause`
 * is the `CancelledError`). Use it in `catch` blocks to let cancellation through.
 *
 * @example
 * try { await work(); } catch (e) { if (isCancellation(e)) throw e; log(e); }
 */
export function isCancellation(e: unknown): boolean {
  return cancellationOf(e) !== null;
}

/** The `CancelledError` behind `e` when {@link isCancellation} is true, else `null`. */
export function cancellationOf(e: unknown): CancelledError | null {
  if (hasBrand(e, "CancelledError")) return e as CancelledError;
  if (typeof e === "object" && e !== null) {
    const cause = (e as { cause?: unknown }).cause;
    if ((e as { name?: unknown }).name === "AbortError" && hasBrand(cause, "CancelledError")) {
      return cause as CancelledError;
    }
  }
  return null;
}

/** True when `e` is a {@link TimeoutError}. */
export function isTimeoutError(e: unknown): e is TimeoutError {
  return hasBrand(e, "TimeoutError");
}


for (const [cls, name] of [
  [CancelledError, "CancelledError"],
  [TimeoutError, "TimeoutError"],
  [InvalidStateError, "InvalidStateError"],
  [RuntimeError, "RuntimeError"],
  [BrokenProcessPool, "BrokenProcessPool"],
  [LookupError, "LookupError"],
  [SignalInterrupt, "SignalInterrupt"],
  [KeyboardInterrupt, "KeyboardInterrupt"],
  [RetryError, "RetryError"],
  [QueueEmpty, "QueueEmpty"],
  [QueueFull, "QueueFull"],
  [QueueShutDown, "QueueShutDown"],
  [BrokenBarrierError, "BrokenBarrierError"],
  [IncompleteReadError, "IncompleteReadError"],
  [LimitOverrunError, "LimitOverrunError"],
  [ExceptionGroup, "ExceptionGroup"],
  [ExplorationError, "ExplorationError"],
] as const) {
  brandClass(cls, name);
}
