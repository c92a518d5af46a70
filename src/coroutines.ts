/**
 * Lazy coroutines, as Python has them.
 *
 * In Python, calling a coroutine function runs nothing: it makes a coroutine object, which runs
 * when awaited (inline, in the awaiting task) or scheduled (in a new task). In JS, calling an
 * async function starts it at once, in the caller's task. `coroutine(fn)` gives back the
 * Python behaviour for the functions that want it:
 *
 *     const fetchUser = coroutine(async function fetchUser(id: number) { … });
 *     const c = fetchUser(7);          // nothing runs yet
 *     await c;                         // runs now, inside the current task
 *     createTask(fetchUser(8));        // runs in a new task
 *
 * A coroutine object runs once; awaiting it again is a `RuntimeError`, as in Python. One that is
 * never awaited nor scheduled is reported when it is garbage-collected (Python's
 * "coroutine … was never awaited" warning).
 */
import { RuntimeError } from "./errors.js";
import { inspectCustom } from "./internal/inspect.js";
import { checkFunction } from "./internal/validate.js";

/** @inline */
type CoroutineState = "created" | "running" | "closed";

const COROUTINE_BRAND = Symbol.for("asyncio-ts.coroutine");
const COROUTINE_FUNCTION = Symbol.for("asyncio-ts.coroutineFunction");

const neverAwaited = new FinalizationRegistry<string>((name) => {
  process.emitWarning(`coroutine '${name}' was never awaited`, { type: "RuntimeWarning" });
});

/**
 * A coroutine object: one pending call of a function wrapped with {@link coroutine}. Awaiting it
 * runs the call inline in the current task; `createTask`, `gather` and friends run it in a new
 * task.
 *
 * asyncio: a coroutine object (`types.CoroutineType`).
 */
export class Coroutine<T> implements PromiseLike<T> {
  readonly #fn: (...args: never[]) => PromiseLike<T>;
  readonly #thisArg: unknown;
  readonly #args: unknown[];
  #state: CoroutineState = "created";

  /** @internal Made by the function {@link coroutine} returns. */
  constructor(fn: (...args: never[]) => PromiseLike<T>, thisArg: unknown, args: unknown[]) {
    this.#fn = fn;
    this.#thisArg = thisArg;
    this.#args = args;
    neverAwaited.register(this, this.name, this);
  }

  /** The name of the wrapped function. */
  get name(): string {
    return this.#fn.name || "anonymous";
  }

  /** `"created"` until it runs, `"running"` once started, `"closed"` after `close()`. */
  get state(): CoroutineState {
    return this.#state;
  }

  /**
   * Runs the coroutine inline in the current task and waits for it.
   *
   * @throws {RuntimeError} (as a rejection) when it was already awaited, scheduled or closed.
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): PromiseLike<R1 | R2> {
    let started: PromiseLike<T>;
    try {
      started = this._start();
    } catch (error) {
      started = Promise.reject(error);
    }
    return started.then(onfulfilled, onrejected);
  }

  /** Marks the coroutine closed without running it (Python's `coro.close()` on a new one). */
  close(): void {
    if (this.#state === "created") neverAwaited.unregister(this);
    this.#state = "closed";
  }

  /** @internal Starts the call in the current frame; returns what the function returned. */
  _start(): PromiseLike<T> {
    if (this.#state !== "created") {
      throw new RuntimeError(`cannot reuse already awaited coroutine '${this.name}'`);
    }
    this.#state = "running";
    neverAwaited.unregister(this);
    return this.#fn.apply(this.#thisArg, this.#args as never[]);
  }

  toString(): string {
    return `<coroutine ${this.name} ${this.#state}>`;
  }

  [inspectCustom](): string {
    return this.toString();
  }

  static {
    Object.defineProperty(this.prototype, COROUTINE_BRAND, { value: true });
  }
}

/**
 * Wraps an async function so that calling it returns a lazy {@link Coroutine} instead of
 * starting it, as a Python coroutine function does.
 *
 * @example
 * const work = coroutine(async function work(n: number) { await sleep(n); return n; });
 * await gather(work(1), work(2));   // each runs in its own task
 *
 * asyncio: an `async def` function.
 */
export function coroutine<A extends unknown[], T>(
  fn: (...args: A) => PromiseLike<T>,
): (...args: A) => Coroutine<T> {
  checkFunction("fn", fn);
  const wrapped = function (this: unknown, ...args: A): Coroutine<T> {
    return new Coroutine<T>(fn as unknown as (...args: never[]) => PromiseLike<T>, this, args);
  };
  Object.defineProperty(wrapped, "name", { value: fn.name });
  Object.defineProperty(wrapped, COROUTINE_FUNCTION, { value: true });
  return wrapped;
}

/**
 * True when `value` is a {@link Coroutine} object (from any copy of this library).
 * asyncio: `asyncio.iscoroutine(obj)`.
 */
export function isCoroutine(value: unknown): value is Coroutine<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [COROUTINE_BRAND]?: boolean })[COROUTINE_BRAND] === true
  );
}

/**
 * True when `fn` was made by {@link coroutine}, or is a native `async function`.
 * asyncio: `inspect.iscoroutinefunction(func)`.
 */
export function isCoroutineFunction(fn: unknown): boolean {
  if (typeof fn !== "function") return false;
  if ((fn as { [COROUTINE_FUNCTION]?: boolean })[COROUTINE_FUNCTION] === true) return true;
  return fn.constructor?.name === "AsyncFunction";
}
