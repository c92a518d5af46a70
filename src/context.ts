/**
 * Context variables: values that follow the logical flow of a program, one copy per task.
 *
 * HOW: a {@link Context} maps {@link ContextVar}s to values. The current context is the one in
 * the current frame (see `events/running.ts`): a task's own context inside the task, the
 * context a loop callback was scheduled from inside the callback, and one process-wide context
 * for code outside any task. `createTask` copies the creator's context, so a task sees the
 * values set before it was created, and what it sets stays its own.
 *
 * Copies are O(1): two contexts share one map until one of them is written to (copy on write).
 */
import { LookupError, RuntimeError } from "./errors.js";
import { type Frame, frameStorage } from "./events/running.js";
import { formatRepr, inspectCustom, reprValue } from "./internal/inspect.js";
import { checkOptions, describe } from "./internal/validate.js";

const MISSING: unique symbol = Symbol("MISSING");

function checkVariable(variable: unknown): void {
  if (!(variable instanceof ContextVar)) {
    throw new TypeError(`\`variable\` must be a ContextVar, got ${describe(variable)}`);
  }
}

/** The map of every empty context: shared, so it is copied before the first write. */
const EMPTY = new Map<ContextVar<unknown>, unknown>();

/**
 * @internal The variables of a context, frozen: a task keeps only these until something asks
 * for its {@link Context} (most tasks never do), which saves a context object per task.
 */
export type ContextVars = ReadonlyMap<ContextVar<unknown>, unknown>;
type Missing = typeof MISSING;

/**
 * A mapping of context variables to values, and the scope those values live in.
 *
 * Iterating a context yields `[variable, value]` pairs.
 *
 * asyncio: `contextvars.Context`.
 */
export class Context implements Iterable<[ContextVar<unknown>, unknown]>, Frame {
  #vars: Map<ContextVar<unknown>, unknown>;
  #shared: boolean;
  #entered = false;

  /** An empty context. Use {@link copyContext} to copy the current one. */
  constructor() {
    this.#vars = EMPTY;
    this.#shared = true;
  }

  /**
   * Runs `fn(...args)` with this context as the current one, and returns what it returns.
   * An async `fn` keeps this context across its `await`s.
   *
   * @throws {RuntimeError} when this context is already entered (a synchronous re-entry).
   */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    if (typeof fn !== "function") {
      throw new TypeError(`\`fn\` must be a function, got ${describe(fn)}`);
    }
    if (this.#entered) {
      throw new RuntimeError(`cannot enter context: ${this.toString()} is already entered`);
    }
    const outer = frameStorage.getStore();
    const frame: Frame =
      outer === undefined
        ? { _frameTask: null, _context: this, _scope: null }
        : { _frameTask: outer._frameTask, _context: this, _scope: outer._scope };
    this.#entered = true;
    try {
      return frameStorage.run(frame, fn, ...args);
    } finally {
      this.#entered = false;
    }
  }

  /** A shallow copy: the same variables with the same values, written to independently. */
  copy(): Context {
    const copy = new Context();
    copy.#vars = this.#vars;
    this.#shared = true;
    return copy;
  }

  /**
   * @internal The variables as they are now, for a copy made later with {@link Context._of}:
   * this context copies its map before its next write, so the snapshot never changes.
   */
  _snapshot(): ContextVars {
    this.#shared = true;
    return this.#vars;
  }

  /** @internal A context holding a snapshot's variables (a copy, written to independently). */
  static _of(vars: ContextVars): Context {
    const context = new Context();
    context.#vars = vars as Map<ContextVar<unknown>, unknown>;
    return context;
  }

  /** The value of `variable` in this context, or `defaultValue` when it has none. */
  get<T>(variable: ContextVar<T>, defaultValue?: T): T | undefined {
    checkVariable(variable);
    const vars = this.#vars as Map<ContextVar<T>, T>;
    return vars.has(variable) ? vars.get(variable) : defaultValue;
  }

  /** Whether `variable` has a value in this context. */
  has(variable: ContextVar<unknown>): boolean {
    checkVariable(variable);
    return this.#vars.has(variable);
  }

  /** How many variables have a value in this context. */
  get size(): number {
    return this.#vars.size;
  }

  /** The variables that have a value in this context. */
  keys(): IterableIterator<ContextVar<unknown>> {
    return this.#vars.keys();
  }

  /** The values of the variables set in this context. */
  values(): IterableIterator<unknown> {
    return this.#vars.values();
  }

  /** `[variable, value]` pairs, as iterating the context gives them. */
  entries(): IterableIterator<[ContextVar<unknown>, unknown]> {
    return this.#vars.entries();
  }

  /** The same as {@link Context.entries}: `for (const [variable, value] of context)`. */
  [Symbol.iterator](): IterableIterator<[ContextVar<unknown>, unknown]> {
    return this.#vars.entries();
  }

  /** @internal As a frame (a loop callback runs in one), a context belongs to no task. */
  get _frameTask(): null {
    return null;
  }

  /** @internal As a frame, a context is its own context. */
  get _context(): Context {
    return this;
  }

  /** @internal As a frame, a context is in no cancel scope. */
  get _scope(): null {
    return null;
  }

  /** @internal */
  _lookup(variable: ContextVar<unknown>): unknown {
    const vars = this.#vars;
    return vars.has(variable) ? vars.get(variable) : MISSING;
  }

  /** @internal Sets or (with MISSING) deletes a value, copying the shared map first. */
  _write(variable: ContextVar<unknown>, value: unknown): void {
    if (this.#shared) {
      this.#vars = new Map(this.#vars);
      this.#shared = false;
    }
    if (value === MISSING) this.#vars.delete(variable);
    else this.#vars.set(variable, value);
  }

  /** The state, as asyncio's repr shows it. */
  toString(): string {
    return formatRepr("Context", [`vars=${this.#vars.size}`]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

/** The context of code outside any task and outside any loop callback. */
const outsideContext = new Context();

/** @internal The context that `ContextVar.get()` reads now. */
export function currentContext(): Context {
  const frame = frameStorage.getStore();
  return frame === undefined ? outsideContext : frame._context;
}

/**
 * Returns a copy of the current context. A task gets one of these when it is created.
 *
 * asyncio: `contextvars.copy_context()`.
 */
export function copyContext(): Context {
  return currentContext().copy();
}

/** Options of {@link ContextVar}. */
export interface ContextVarOptions<T> {
  /** The value `get()` returns when the variable has none in the current context. */
  default?: T;
}

const CONTEXT_VAR_KEYS = ["default"] as const satisfies readonly (keyof ContextVarOptions<unknown>)[];

/**
 * A variable whose value depends on the context: each task sees its own.
 *
 * @example
 * const requestId = new ContextVar<string>("requestId", { default: "-" });
 * requestId.set("r-42");          // in this task only
 * log(requestId.get());           // "r-42"
 *
 * asyncio: `contextvars.ContextVar`.
 */
export class ContextVar<T> {
  /** The name given to the constructor (for display only). */
  readonly name: string;
  readonly #default: T | Missing;

  constructor(name: string, options?: ContextVarOptions<T>) {
    if (typeof name !== "string") {
      throw new TypeError(`\`name\` must be a string, got ${describe(name)}`);
    }
    checkOptions("new ContextVar()", options, CONTEXT_VAR_KEYS);
    this.name = name;
    this.#default =
      options !== undefined && "default" in options
        ? (options.default as T)
        : MISSING;
  }

  /**
   * The variable's value in the current context; else `defaultValue` when given; else the
   * variable's default.
   *
   * @throws {LookupError} when there is no value and no default.
   */
  get(defaultValue?: T): T {
    const value = currentContext()._lookup(this as ContextVar<unknown>);
    if (value !== MISSING) return value as T;
    if (arguments.length > 0) return defaultValue as T;
    if (this.#default !== MISSING) return this.#default;
    throw new LookupError(`ContextVar '${this.name}' has no value and no default`);
  }

  /** Sets the value in the current context; the token restores the previous value. */
  set(value: T): Token<T> {
    const context = currentContext();
    const previous = context._lookup(this as ContextVar<unknown>);
    context._write(this as ContextVar<unknown>, value);
    return new Token(context, this, previous);
  }

  /**
   * Restores the value the variable had before the `set()` that made `token`.
   *
   * @throws {RuntimeError} when the token was used already.
   * @throws {RangeError} when the token belongs to another variable or another context.
   */
  reset(token: Token<T>): void {
    if (!(token instanceof Token)) {
      throw new TypeError(`\`token\` must be a Token, got ${describe(token)}`);
    }
    if (token._used) throw new RuntimeError(`${token.toString()} has already been used once`);
    if (token.var !== this) {
      throw new RangeError(`${token.toString()} was created by a different ContextVar`);
    }
    const context = currentContext();
    if (token._context !== context) {
      throw new RangeError(`${token.toString()} was created in a different Context`);
    }
    context._write(this as ContextVar<unknown>, token._previous);
    token._used = true;
  }

  /** The state, as asyncio's repr shows it. */
  toString(): string {
    const def = this.#default === MISSING ? [] : [`default=${reprValue(this.#default)}`];
    return formatRepr("ContextVar", [`name='${this.name}'`, ...def]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

/**
 * What `ContextVar.set()` returns: a way back to the previous value with `reset(token)`.
 *
 * asyncio: `contextvars.Token`.
 */
export class Token<T> {
  /** Marks "the variable had no value" in {@link Token.oldValue}. */
  static readonly MISSING: symbol = MISSING;

  /** The variable that was set. */
  readonly var: ContextVar<T>;
  /** @internal */ readonly _context: Context;
  /** @internal */ readonly _previous: unknown;
  /** @internal */ _used = false;

  /** @internal */
  constructor(context: Context, variable: ContextVar<T>, previous: unknown) {
    this._context = context;
    this.var = variable;
    this._previous = previous;
  }

  /** The value before the `set()`, or {@link Token.MISSING} when there was none. */
  get oldValue(): T | symbol {
    return this._previous as T | symbol;
  }

  /** The state, as asyncio's repr shows it. */
  toString(): string {
    return formatRepr("Token", [this._used ? "used" : "unused", `var=${this.var.toString()}`]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
