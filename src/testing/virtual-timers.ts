/**
 * Node's own timers on a test loop's virtual clock: what `runTest(main, { virtualTimers: true })`
 * installs for the length of the test.
 *
 * HOW: the global `setTimeout`, `setInterval` and their `clear…` functions (also as properties
 * of `node:timers`), `node:timers/promises`' `setTimeout`, `setInterval` and `scheduler.wait`,
 * `AbortSignal.timeout`, `Date` (`new Date()`, `Date()`, `Date.now()`) and `performance.now()`
 * are replaced by functions that, while the test's loop runs, put each timer on the loop
 * (`loop.callLater`) and read the time from its clock; ESM named imports of the builtins follow
 * through `syncBuiltinESMExports()`. A timer's callback runs in the async context it was made
 * in (every `AsyncLocalStorage`, as Node's timers do), and what it throws is an uncaught
 * exception, as with Node's timers. The wall clock starts at the real time when the test
 * starts and then moves with the loop's clock, so `Date.now()` and `performance.now()` agree
 * with `loop.time()` to the millisecond.
 *
 * WHY only while the loop runs: code outside the test (a test runner's own bookkeeping between
 * two tests) must not get timers that a closed loop never fires. Functions that someone captured
 * before the test (`const { setTimeout } = require("timers")` at load, Node's own sockets and
 * HTTP agents, which use Node's internal timers) stay real: that is the limit of replacing
 * globals, the same as for every fake-timer library.
 *
 * Everything is put back when the test ends, whatever its outcome. One test at a time: a second
 * install while one is active is refused (tests that use virtual timers cannot run concurrently
 * in one process).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { RuntimeError } from "../errors.js";
import type { TimerHandle } from "../events/handles.js";
import type { EventLoop } from "../events/loop.js";
import { _getRunningLoop } from "../events/running.js";
import { describe } from "../internal/validate.js";

const require = createRequire(import.meta.url);
/** The CommonJS objects behind `node:timers` and `node:timers/promises` (mutable, unlike ESM namespaces). */
const timersModule = require("node:timers") as Record<string, unknown>;
const promisesModule = require("node:timers/promises") as Record<string, unknown> & { scheduler?: object };

/** Node's longest timer (2^31 - 1 ms); a longer or invalid delay is 1 ms, as in Node. */
const TIMEOUT_MAX = 2 ** 31 - 1;

type Callback = (...args: unknown[]) => unknown;

/** The test whose virtual timers are installed, if any. */
let active: VirtualTimers | null = null;

/** Node's `AbortError`, as its timers reject with it. */
function abortError(signal: AbortSignal): Error {
  const error = new Error("The operation was aborted", { cause: signal.reason });
  Object.assign(error, { code: "ABORT_ERR" });
  error.name = "AbortError";
  return error;
}

function invalidArg(name: string, expected: string, value: unknown): TypeError {
  const error = new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(value)}`);
  Object.assign(error, { code: "ERR_INVALID_ARG_TYPE" });
  return error;
}

/** Node's rule for a timer's delay in milliseconds. */
function normalizeDelay(delay: unknown): number {
  const after = Number(delay);
  return after >= 1 && after <= TIMEOUT_MAX ? after : 1;
}

/** `timers/promises` options: `{ signal?, ref? }`. */
function checkPromiseOptions(options: unknown): { signal: AbortSignal | undefined; ref: boolean } {
  if (options === null || typeof options !== "object") throw invalidArg("options", "of type object", options);
  const { signal, ref = true } = options as { signal?: unknown; ref?: unknown };
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArg("options.signal", "an instance of AbortSignal", signal);
  }
  if (typeof ref !== "boolean") throw invalidArg("options.ref", "of type boolean", ref);
  return { signal, ref };
}

/**
 * A timer on the virtual clock, shaped as Node's `Timeout`: `ref`/`unref`/`hasRef` (recorded:
 * virtual time does not keep a process alive either way), `refresh`, `close`, a numeric
 * primitive for `clearTimeout(+timer)`, and `Symbol.dispose`.
 */
class VirtualTimeout {
  readonly #owner: VirtualTimers;
  #callback: Callback | null;
  readonly #args: unknown[];
  /** Milliseconds. */
  readonly #delay: number;
  readonly #repeat: boolean;
  readonly #inContext = AsyncLocalStorage.snapshot();
  #handle: TimerHandle | null = null;
  #ref = true;
  #id = 0;

  constructor(owner: VirtualTimers, callback: Callback, delay: unknown, args: unknown[], repeat: boolean) {
    this.#owner = owner;
    this.#callback = callback;
    this.#args = args;
    this.#delay = normalizeDelay(delay);
    this.#repeat = repeat;
    this.#schedule();
  }

  #schedule(): void {
    this.#handle = this.#owner.loop.callLater(this.#delay / 1000, this.#fire);
  }

  #fire = (): void => {
    this.#handle = null;
    const callback = this.#callback;
    if (callback === null) return;
    if (!this.#repeat) this.#forget();
    try {
      this.#inContext(() => callback.apply(this, this.#args));
    } catch (error) {
      // As Node's timers: an error a timer callback throws is an uncaught exception.
      process.nextTick(() => {
        throw error;
      });
    }
    if (this.#repeat && this.#callback !== null && this.#handle === null && !this.#owner.restored) this.#schedule();
  };

  #forget(): void {
    this.#callback = null;
    if (this.#id !== 0) this.#owner.byId.delete(this.#id);
  }

  /** Stops the timer (what `clearTimeout` and `clearInterval` do). */
  close(): this {
    this.#handle?.cancel();
    this.#handle = null;
    this.#forget();
    return this;
  }

  /** Starts the timer's delay again from now, if it has not fired. */
  refresh(): this {
    if (this.#callback !== null && !this.#owner.restored) {
      this.#handle?.cancel();
      this.#schedule();
    }
    return this;
  }

  ref(): this {
    this.#ref = true;
    return this;
  }

  unref(): this {
    this.#ref = false;
    return this;
  }

  hasRef(): boolean {
    return this.#ref;
  }

  [Symbol.toPrimitive](): number {
    if (this.#id === 0) {
      this.#id = this.#owner.nextId++;
      if (this.#callback !== null) this.#owner.byId.set(this.#id, this);
    }
    return this.#id;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** One saved property, put back as it was (deleted if it was not an own property). */
interface Saved {
  target: object;
  key: PropertyKey;
  descriptor: PropertyDescriptor | undefined;
}

/** @internal The virtual timers of one test: {@link installVirtualTimers}. */
export class VirtualTimers {
  readonly loop: EventLoop;
  readonly byId = new Map<number, VirtualTimeout>();
  /** Far from Node's own timer ids (async ids), so `clearTimeout(n)` never clears the wrong one. */
  nextId = 2 ** 40;
  restored = false;
  readonly #saved: Saved[] = [];
  /** The loop's time when the test started, and the wall clocks' readings then (ms). */
  readonly #origin: number;
  readonly #dateOrigin: number;
  readonly #perfOrigin: number;

  constructor(loop: EventLoop) {
    this.loop = loop;
    this.#origin = loop.time();
    this.#dateOrigin = Date.now();
    this.#perfOrigin = performance.now();
  }

  /** Whether the calling code runs while the test's loop does (else everything stays real). */
  virtual(): boolean {
    return !this.restored && _getRunningLoop() === this.loop;
  }

  /** Milliseconds the loop's clock moved since the test started. */
  elapsedMs(): number {
    return (this.loop.time() - this.#origin) * 1000;
  }

  dateNow(): number {
    // Date.now() is whole milliseconds; the epsilon keeps 4.35 s from reading as 4349 ms.
    return Math.floor(this.#dateOrigin + this.elapsedMs() + 1e-6);
  }

  perfNow(): number {
    return this.#perfOrigin + this.elapsedMs();
  }

  timeout(callback: unknown, delay: unknown, args: unknown[], repeat: boolean): VirtualTimeout {
    if (typeof callback !== "function") throw invalidArg("callback", "of type function", callback);
    return new VirtualTimeout(this, callback as Callback, delay, args, repeat);
  }

  /** `clearTimeout(x)`: ours (an object or its number), else whatever the real one clears. */
  clear(timer: unknown, real: (timer: never) => void): void {
    if (timer instanceof VirtualTimeout) timer.close();
    else if ((typeof timer === "number" || typeof timer === "string") && this.byId.has(Number(timer))) {
      this.byId.get(Number(timer))?.close();
    } else real(timer as never);
  }

  patch(target: object, key: PropertyKey, value: unknown): void {
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    this.#saved.push({ target, key, descriptor });
    Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: descriptor?.enumerable ?? false });
  }

  restore(): void {
    if (this.restored) return;
    this.restored = true;
    for (const { target, key, descriptor } of this.#saved.reverse()) {
      if (descriptor === undefined) Reflect.deleteProperty(target, key);
      else Object.defineProperty(target, key, descriptor);
    }
    this.#saved.length = 0;
    this.byId.clear();
    if (active === this) active = null;
    syncBuiltinESMExports();
  }
}

/**
 * @internal Puts Node's timers, `Date` and `performance.now` on `loop`'s clock (see the module
 * comment); `restore()` puts everything back.
 *
 * @throws {RuntimeError} when another test's virtual timers are installed, or when another
 * fake-timer library (vitest's, Jest's, sinon's) has replaced the timers.
 */
export function installVirtualTimers(loop: EventLoop): VirtualTimers {
  if (active !== null) {
    throw new RuntimeError(
      "runTest({ virtualTimers: true }): another test's virtual timers are installed. Tests that " +
        "put Node's timers on a virtual clock cannot run concurrently in one process: run them one " +
        "at a time (node:test: no `concurrency` for them; vitest: not `test.concurrent`)",
    );
  }
  if ((globalThis.setTimeout as { clock?: unknown }).clock !== undefined) {
    throw new RuntimeError(
      "runTest({ virtualTimers: true }): another fake-timer library (vitest's vi.useFakeTimers, " +
        "Jest's, sinon's) has replaced the timers. Use one or the other: call vi.useRealTimers() " +
        "(or clock.uninstall()) first",
    );
  }
  const timers = new VirtualTimers(loop);
  const g = globalThis as unknown as Record<string, unknown>;
  const real = {
    setTimeout: g.setTimeout as Callback,
    clearTimeout: g.clearTimeout as (t: never) => void,
    setInterval: g.setInterval as Callback,
    clearInterval: g.clearInterval as (t: never) => void,
    moduleSetTimeout: timersModule.setTimeout as Callback,
    moduleClearTimeout: timersModule.clearTimeout as (t: never) => void,
    moduleSetInterval: timersModule.setInterval as Callback,
    moduleClearInterval: timersModule.clearInterval as (t: never) => void,
    sleep: promisesModule.setTimeout as Callback,
    every: promisesModule.setInterval as Callback,
    wait: (promisesModule.scheduler as { wait?: Callback } | undefined)?.wait,
    abortTimeout: AbortSignal.timeout.bind(AbortSignal),
    Date: globalThis.Date,
    perfNow: performance.now.bind(performance),
  };

  const fakes = makeFakes(timers, real);
  timers.patch(globalThis, "setTimeout", fakes.setTimeout(real.setTimeout));
  timers.patch(globalThis, "setInterval", fakes.setInterval(real.setInterval));
  timers.patch(globalThis, "clearTimeout", fakes.clear(real.clearTimeout));
  timers.patch(globalThis, "clearInterval", fakes.clear(real.clearInterval));
  timers.patch(timersModule, "setTimeout", fakes.setTimeout(real.moduleSetTimeout));
  timers.patch(timersModule, "setInterval", fakes.setInterval(real.moduleSetInterval));
  timers.patch(timersModule, "clearTimeout", fakes.clear(real.moduleClearTimeout));
  timers.patch(timersModule, "clearInterval", fakes.clear(real.moduleClearInterval));
  timers.patch(promisesModule, "setTimeout", fakes.sleep);
  timers.patch(promisesModule, "setInterval", fakes.every);
  if (promisesModule.scheduler !== undefined && real.wait !== undefined) {
    timers.patch(promisesModule.scheduler, "wait", fakes.wait);
  }
  timers.patch(AbortSignal, "timeout", fakes.abortTimeout);
  timers.patch(globalThis, "Date", fakes.Date);
  timers.patch(performance, "now", fakes.perfNow);
  active = timers;
  syncBuiltinESMExports();
  return timers;
}

type Real = {
  sleep: Callback;
  every: Callback;
  wait: Callback | undefined;
  abortTimeout: (delay: number) => AbortSignal;
  Date: DateConstructor;
  perfNow: () => number;
};

/** The replacements; each defers to the real function while the test's loop is not running. */
function makeFakes(timers: VirtualTimers, real: Real) {
  const setTimeoutLike = (repeat: boolean) => (realFn: Callback) =>
    function setTimeout(callback: unknown, delay?: unknown, ...args: unknown[]): unknown {
      if (!timers.virtual()) return realFn(callback, delay, ...args);
      return timers.timeout(callback, delay, args, repeat);
    };

  function sleep(delay?: unknown, value?: unknown, options: unknown = {}): Promise<unknown> {
    if (!timers.virtual()) return real.sleep(delay, value, options) as Promise<unknown>;
    let signal: AbortSignal | undefined;
    try {
      ({ signal } = checkPromiseOptions(options));
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const timer = timers.timeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      }, delay, [], false);
      function onAbort(): void {
        timer.close();
        reject(abortError(signal as AbortSignal));
      }
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  async function* every(delay?: unknown, value?: unknown, options: unknown = {}): AsyncGenerator<unknown, void> {
    if (!timers.virtual()) {
      yield* real.every(delay, value, options) as AsyncGenerator<unknown, void>;
      return;
    }
    const { signal } = checkPromiseOptions(options);
    if (signal?.aborted) throw abortError(signal);
    let notYielded = 0;
    let wake: (() => void) | null = null;
    let failed: ((error: unknown) => void) | null = null;
    const interval = timers.timeout(() => {
      notYielded++;
      wake?.();
      wake = null;
    }, delay, [], true);
    const onAbort = (): void => {
      interval.close();
      failed?.(abortError(signal as AbortSignal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      while (signal?.aborted !== true) {
        if (notYielded === 0) {
          await new Promise<void>((resolve, reject) => {
            wake = resolve;
            failed = reject;
          });
        }
        for (; notYielded > 0; notYielded--) yield value;
      }
      throw abortError(signal);
    } finally {
      interval.close();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  function wait(delay?: unknown, options?: unknown): Promise<unknown> {
    if (!timers.virtual()) return (real.wait as Callback).call(promisesModule.scheduler, delay, options) as Promise<unknown>;
    return sleep(delay, undefined, options ?? {});
  }

  function timeout(delay: number): AbortSignal {
    if (!timers.virtual()) return real.abortTimeout(delay);
    if (!Number.isInteger(delay) || delay < 0 || delay > 2 ** 32 - 1) {
      const error = new RangeError(`The value of "delay" is out of range. It must be >= 0 && <= 4294967295. Received ${describe(delay)}`);
      Object.assign(error, { code: "ERR_OUT_OF_RANGE" });
      throw error;
    }
    const controller = new AbortController();
    timers.timeout(() => {
      controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
    }, delay, [], false).unref();
    return controller.signal;
  }

  const RealDate = real.Date;
  const FakeDate: DateConstructor = new Proxy(RealDate, {
    construct(target, args, newTarget): object {
      const made = args.length === 0 && timers.virtual() ? [timers.dateNow()] : args;
      return Reflect.construct(target, made, newTarget === FakeDate ? target : newTarget) as object;
    },
    apply(target) {
      // `Date()` called as a function: the current time as a string, arguments ignored.
      return timers.virtual() ? new target(timers.dateNow()).toString() : target();
    },
    get(target, key, receiver) {
      if (key === "now") return now;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  function now(): number {
    return timers.virtual() ? timers.dateNow() : RealDate.now();
  }

  return {
    setTimeout: setTimeoutLike(false),
    setInterval: setTimeoutLike(true),
    clear: (realFn: (t: never) => void) =>
      function clearTimeout(timer: unknown): void {
        timers.clear(timer, realFn);
      },
    sleep,
    every,
    wait,
    abortTimeout: timeout,
    Date: FakeDate,
    perfNow: function now(): number {
      return timers.virtual() ? timers.perfNow() : real.perfNow();
    },
  };
}
