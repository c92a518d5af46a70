/**
 * Timeouts: cancel a body of code that runs past a deadline, and turn that cancellation into a
 * `TimeoutError`.
 *
 * HOW (CPython 3.13's `asyncio.Timeout`): on entry the scope records the task and how many
 * cancellation requests it already has. When the deadline comes, the scope cancels its body.
 * On exit, if the scope did expire, it withdraws its own request (`uncancel()`); if no other
 * request remains and the body ended with a `CancelledError`, that error becomes a
 * `TimeoutError` (with the `CancelledError` as `cause`). A cancel that came from outside is
 * never turned into a timeout: it stays a `CancelledError`.
 *
 * The body runs inline, in the calling task (no new task is made), but in a cancel scope of its
 * own (`internal/scope.ts`): the deadline cancels the awaits made in the body, not the whole
 * task. asyncio cancels the task; in Node that would also cancel awaits that merely share the
 * task's async context (the request handler of a server the task created), so we don't. The
 * task's `cancelling()` count still goes up and down as asyncio's does.
 *
 * `moveOnAfter()`/`moveOnAt()` (Trio's `move_on_after`/`move_on_at`) are the same scope with
 * another ending: where `timeout()` would raise its `TimeoutError`, they resolve `undefined`.
 * Nesting needs no rule of its own: a scope converts a cancellation only when its own request
 * is the last one standing (`uncancel()` back to the count it saw on entry), so when an inner
 * and an outer scope both expire, the inner one lets the cancellation through and the outer
 * one catches it, as Trio's scopes do. Each scope keeps its deadline on its `CancelScope`,
 * where `currentEffectiveDeadline()` reads the deadlines enclosing the calling code.
 */
import { CancelledError, RuntimeError, TimeoutError, cancellationOf } from "./errors.js";
import type { Handle } from "./events/handles.js";
import type { EventLoop } from "./events/loop.js";
import { frameStorage, getRunningLoop } from "./events/running.js";
import { inspectCustom } from "./internal/inspect.js";
import { CancelScope, nearestDeadline, runInScope } from "./internal/scope.js";
import { checkDelay, checkFunction, checkOptionalDelay } from "./internal/validate.js";
import { type Task, currentTask } from "./tasks.js";

/** created → active → finished, or active → expiring → expired (the names CPython prints). */
type TimeoutState = "created" | "active" | "expiring" | "expired" | "finished";

/**
 * The scope of a `timeout()` or `timeoutAt()` body: read or move its deadline.
 *
 * asyncio: `asyncio.Timeout` (3.11).
 */
export class Timeout {
  #state: TimeoutState = "created";
  #when: number | null;
  #handle: Handle | null = null;
  #task: Task<unknown> | null = null;
  #loop: EventLoop | null = null;
  #cancelling = 0;
  /** The delay given to `timeout()` or `waitFor()`, until a reschedule; for the error's message. */
  #delay: number | null;
  /** Who made the scope, for the error's message: `"timeout"`, `"waitFor() timeout"`, `"timeoutAt()"`, `"moveOnAfter()"`. */
  readonly #label: string;
  /** @internal The scope the body runs in; made on entry. */
  _scope: CancelScope | null = null;

  /**
   * @internal Made by `timeout()` (`delay`: the seconds it was given), `timeoutAt()` and
   * `waitFor()`; `label` names the maker in the `TimeoutError`'s message.
   */
  constructor(when: number | null, delay: number | null = null, label = "timeout") {
    this.#when = when;
    this.#delay = delay;
    this.#label = label;
  }

  /** The deadline, in seconds on the loop's clock (`loop.time()`), or `null` for none. */
  when(): number | null {
    return this.#when;
  }

  /**
   * Moves the deadline to `when` (loop time in seconds); `null` removes it. A deadline already
   * past expires the scope in the next iteration.
   *
   * @throws {RuntimeError} when the scope has not started or has already ended or expired.
   */
  reschedule(when: number | null): void {
    if (this.#state !== "active") {
      if (this.#state === "created") throw new RuntimeError("Timeout has not been entered");
      throw new RuntimeError(`Cannot change state of ${this.#state} Timeout`);
    }
    if (when !== null) checkDelay("when", when);
    if (when !== this.#when) this.#delay = null;
    this.#when = when;
    this.#handle?.cancel();
    this.#handle = null;
    (this._scope as CancelScope)._deadline = when ?? Infinity;
    if (when === null) return;
    const loop = this.#loop as EventLoop;
    this.#handle =
      when <= loop.time() ? loop.callSoon(this.#onTimeout) : loop.callAt(when, this.#onTimeout);
  }

  /** Whether the deadline passed and the scope cancelled its body. */
  expired(): boolean {
    return this.#state === "expiring" || this.#state === "expired";
  }

  /** @internal */
  _enter(): CancelScope {
    if (this.#state !== "created") throw new RuntimeError("Timeout has already been entered");
    const task = currentTask();
    if (task === null) throw new RuntimeError("Timeout should be used inside a task");
    const scope = new CancelScope(task);
    scope._owner = this;
    this._scope = scope;
    this.#state = "active";
    this.#task = task;
    this.#loop = task._loop;
    this.#cancelling = task.cancelling();
    this.reschedule(this.#when);
    return scope;
  }

  /**
   * @internal The body ended (`threw` tells how). Returns the `TimeoutError` to raise instead
   * of what the body did, or `null` to let that stand.
   */
  _exit(threw: boolean, error: unknown): TimeoutError | null {
    this.#handle?.cancel();
    this.#handle = null;
    // A cancel the body never saw (it was in foreign code) is still ours to take back.
    const undelivered = (this._scope as CancelScope)._close();
    if (this.#state === "active") {
      this.#state = "finished";
      return null;
    }
    if (this.#state !== "expiring") return null;
    this.#state = "expired";
    const task = this.#task as Task<unknown>;
    if (task.uncancel() > this.#cancelling) return null; // Someone else cancels too.
    if (threw) {
      const cancelled = cancellationOf(error);
      return cancelled === null ? null : new TimeoutError(this.#expiredMessage(), { cause: cancelled });
    }
    // The body returned after the deadline without reaching a library await: still a timeout.
    return undelivered ? new TimeoutError(this.#expiredMessage(), { cause: new CancelledError() }) : null;
  }

  /** Which deadline passed: "timeout of 0.2 s expired", "timeoutAt() deadline 12.5 (loop time) expired". */
  #expiredMessage(): string {
    if (this.#delay !== null) return `${this.#label} of ${this.#delay} s expired`;
    const label = this.#label === "timeoutAt()" ? this.#label : `rescheduled ${this.#label}`;
    return `${label} deadline ${formatWhen(this.#when)} (loop time) expired`;
  }

  #onTimeout = (): void => {
    if (this.#state !== "active") return;
    this.#handle = null;
    this.#state = "expiring";
    (this._scope as CancelScope)._requestCancel();
  };

  /** CPython's repr: `<Timeout [active] when=12.5>`, `<Timeout [expired]>`. */
  toString(): string {
    if (this.#state !== "active") return `<Timeout [${this.#state}]>`;
    return `<Timeout [active] when=${formatWhen(this.#when)}>`;
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

/** A deadline as Python prints `round(when, 3)`: `None`, `12.0`, `12.346`. */
function formatWhen(when: number | null): string {
  if (when === null) return "None";
  if (!Number.isFinite(when)) return when > 0 ? "inf" : "-inf";
  const rounded = Math.round(when * 1000) / 1000;
  return Number.isInteger(rounded) ? rounded.toFixed(1) : String(rounded);
}

/** Runs `body`; converts the scope's own expiry into a `TimeoutError`. */
function runBodyByReaction<T>(scope: Timeout, body: (scope: Timeout) => PromiseLike<T> | T): Promise<T> {
  let outcome: PromiseLike<T> | T;
  try {
    outcome = body(scope);
  } catch (error) {
    return Promise.reject(scope._exit(true, error) ?? error);
  }
  // Not an async function: one promise fewer per scope (each costs promise hooks on Node 22).
  // The handlers run in the scope's frame (where `then` was called), which names the scope.
  return Promise.resolve(outcome).then(bodyReturned, bodyThrew) as Promise<T>;
}

/** The `Timeout` whose body's outcome is being handled: its scope is the current frame. */
function currentTimeout(): Timeout {
  return (frameStorage.getStore() as CancelScope)._owner as Timeout;
}

function bodyReturned(result: unknown): unknown {
  const replacement = currentTimeout()._exit(false, undefined);
  if (replacement !== null) throw replacement;
  return result;
}

function bodyThrew(error: unknown): never {
  throw currentTimeout()._exit(true, error) ?? error;
}

/**
 * The same as an async function: JavaScriptCore (Bun) walks an async stack through `await`s
 * only, so there a reaction would hide the code around a `timeout()` from the call graph's
 * stacks (V8 walks through both).
 */
async function runBodyAwaiting<T>(scope: Timeout, body: (scope: Timeout) => PromiseLike<T> | T): Promise<T> {
  let result: T;
  try {
    result = await body(scope);
  } catch (error) {
    throw scope._exit(true, error) ?? error;
  }
  const replacement = scope._exit(false, undefined);
  if (replacement !== null) throw replacement;
  return result;
}

/** Runs a `timeout()` body in its scope and turns the scope's expiry into `TimeoutError`. */
const runBody = process.versions.bun === undefined ? runBodyByReaction : runBodyAwaiting;

/**
 * Runs `body(scope)` in the current task and cancels it if it runs longer than `delay` seconds;
 * then rejects with `TimeoutError` (its `cause` is the `CancelledError`). `delay` `null` means
 * no limit (the scope can still be given one with `scope.reschedule()`). Resolves to what
 * `body` resolves to.
 *
 * **Cancellation**: a cancel from outside passes through as `CancelledError`, never as a
 * timeout, also when it coincides with the deadline. The body should let the `CancelledError`
 * propagate; one that swallows it returns normally and no `TimeoutError` is raised (as in
 * asyncio). A body busy in foreign code (a promise the library did not make) is cancelled at its
 * next library await; if it returns first, the scope still raises `TimeoutError`.
 *
 * @throws {TypeError} / {@link RangeError} synchronously for a bad `delay` or `body`.
 * @throws {RuntimeError} synchronously when no loop runs; (as a rejection) in a running loop
 * but outside a task.
 *
 * @example
 * const page = await timeout(10, () => fetchPage(url));
 * await timeout(5, async (scope) => { scope.reschedule(getRunningLoop().time() + 1); … });
 *
 * asyncio: `async with asyncio.timeout(delay):` (3.11).
 */
export function timeout<T>(
  delay: number | null,
  body: (scope: Timeout) => PromiseLike<T> | T,
): Promise<T> {
  const seconds = checkOptionalDelay("delay", delay);
  checkFunction("body", body);
  return _timeout(seconds, body, "timeout");
}

/**
 * @internal {@link timeout} with `delay` checked, naming its maker (`label`) in the
 * `TimeoutError`'s message: `waitFor()` is one.
 */
export function _timeout<T>(
  seconds: number | null,
  body: (scope: Timeout) => PromiseLike<T> | T,
  label: string,
): Promise<T> {
  const loop = getRunningLoop();
  return runInScope(new Timeout(seconds === null ? null : loop.time() + seconds, seconds, label), body, runBody);
}

/**
 * Like {@link timeout}, with an absolute deadline `when` in seconds on the loop's clock
 * (`getRunningLoop().time() + 10`), or `null` for none.
 *
 * **Cancellation**: as {@link timeout}: a cancel from outside passes through as
 * `CancelledError`, never as a timeout.
 *
 * asyncio: `async with asyncio.timeout_at(when):` (3.11).
 */
export function timeoutAt<T>(
  when: number | null,
  body: (scope: Timeout) => PromiseLike<T> | T,
): Promise<T> {
  const deadline = checkOptionalDelay("when", when);
  checkFunction("body", body);
  getRunningLoop();
  return runInScope(new Timeout(deadline, null, "timeoutAt()"), body, runBody);
}

/** Runs `body`; ends it silently (resolving `undefined`) when the scope's own deadline cancelled it. */
async function runMoveOn<T>(
  scope: Timeout,
  body: (scope: Timeout) => PromiseLike<T> | T,
): Promise<T | undefined> {
  let result: T;
  try {
    result = await body(scope);
  } catch (error) {
    if (scope._exit(true, error) !== null) return undefined;
    throw error;
  }
  // A deadline the body never saw (it returned from foreign code first): it finished, so its
  // value stands.
  scope._exit(false, undefined);
  return result;
}

/**
 * Runs `body(scope)` in the current task and cancels it if it runs longer than `delay` seconds,
 * then resolves `undefined` instead of raising: the deadline ends the body silently. Otherwise
 * resolves to what `body` resolved to. `delay` `null` means no limit (`scope.reschedule()` can
 * set one); `scope.expired()` tells afterwards whether the deadline passed.
 *
 * Nested with `timeout()` or another `moveOnAfter()`, each scope catches only the cancellation
 * its own deadline caused: when an inner and an outer scope expire together, the outer one
 * handles it (Trio's rule). A body that returns before it reaches an `await` the deadline can
 * cancel (it was in foreign code) keeps its value.
 *
 * **Cancellation**: a cancel from outside is never swallowed: it passes through as
 * `CancelledError`, also when it coincides with the deadline. The body should let the
 * `CancelledError` propagate; one that swallows it returns normally, with its value.
 *
 * @throws {TypeError} / {@link RangeError} synchronously for a bad `delay` or `body`.
 * @throws {RuntimeError} synchronously when no loop runs; (as a rejection) in a running loop
 * but outside a task.
 *
 * @example
 * const reply = await moveOnAfter(0.5, () => askCache(key)); // undefined after half a second
 * const fresh = reply ?? (await askDatabase(key));
 *
 * Not in asyncio: Trio's `trio.move_on_after` (AnyIO's `move_on_after`).
 */
export function moveOnAfter<T>(
  delay: number | null,
  body: (scope: Timeout) => PromiseLike<T> | T,
): Promise<T | undefined> {
  const seconds = checkOptionalDelay("delay", delay);
  checkFunction("body", body);
  const loop = getRunningLoop();
  return runInScope(
    new Timeout(seconds === null ? null : loop.time() + seconds, seconds, "moveOnAfter()"),
    body,
    runMoveOn,
  );
}

/**
 * Like {@link moveOnAfter}, with an absolute deadline `when` in seconds on the loop's clock
 * (`getRunningLoop().time() + 10`), or `null` for none: resolves to the body's value, or
 * `undefined` when the deadline cancelled it.
 *
 * **Cancellation**: as {@link moveOnAfter}: a cancel from outside passes through as
 * `CancelledError`, never swallowed.
 *
 * Not in asyncio: Trio's `trio.move_on_at`.
 */
export function moveOnAt<T>(
  when: number | null,
  body: (scope: Timeout) => PromiseLike<T> | T,
): Promise<T | undefined> {
  const deadline = checkOptionalDelay("when", when);
  checkFunction("body", body);
  getRunningLoop();
  return runInScope(new Timeout(deadline, null, "moveOnAt()"), body, runMoveOn);
}

/**
 * The nearest deadline of the `timeout()`, `timeoutAt()`, `moveOnAfter()`, `moveOnAt()` and
 * `waitFor()` scopes that enclose the calling code, in seconds on the loop's clock
 * (`loop.time()`), or `Infinity` when none has a deadline. It follows `scope.reschedule()`.
 *
 * Scopes enclose code, not tasks: two `Promise.all` branches of one task, each inside its own
 * `timeout()`, each see their own deadline; a task created inside a scope does not see it (as
 * in asyncio, a deadline does not reach the tasks a body creates; a task group's tasks are
 * cancelled through the group). A deadline that has passed is still reported (a time not after
 * `loop.time()`). Unlike Trio, a cancellation in progress does not make it `-Infinity`:
 * asyncio's cancellation is delivered once, and code cleaning up after it may still wait.
 *
 * Use it to pass the time left on to something that takes a deadline or a timeout of its own
 * (an RPC, `AbortSignal.timeout`), or to skip work that cannot finish in time.
 *
 * @throws {RuntimeError} synchronously when no loop runs.
 *
 * @example
 * const left = currentEffectiveDeadline() - getRunningLoop().time();
 * if (left < 0.5) return cachedAnswer;
 *
 * Not in asyncio: Trio's `trio.current_effective_deadline()` (AnyIO's
 * `current_effective_deadline()`).
 */
export function currentEffectiveDeadline(): number {
  getRunningLoop();
  const frame = frameStorage.getStore();
  if (frame === undefined || frame._frameTask === null) return Infinity;
  return nearestDeadline(frame._scope);
}
