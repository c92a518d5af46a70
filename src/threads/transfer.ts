/**
 * What crosses the thread boundary: functions (as source text or module references) going in,
 * errors coming back.
 *
 * A worker thread has its own heap: a JS function cannot be sent there, only its source text,
 * which the worker compiles again. That works for a self-contained function (it uses only its
 * parameters, globals and what it imports itself) and is checked here, in the main thread, for
 * what can be checked cheaply: native and bound functions have no usable source, a class cannot
 * be called, a method's source (`name() {…}`) is not an expression, a generator's result cannot
 * be sent back. Variables captured from an enclosing scope cannot be detected without a parser:
 * the worker explains the `ReferenceError` they cause instead.
 */
import { _moduleRefOf } from "./module-function.js";
import type { FunctionRef, SerializedThrown } from "./worker.js";

type AnyFunction = (...args: never[]) => unknown;

const refs = new WeakMap<AnyFunction, FunctionRef>();
const sourceKeys = new Map<string, number>();

function shortSource(source: string): string {
  const line = source.replace(/\s+/g, " ").trim();
  return line.length > 40 ? `${line.slice(0, 40)}…` : line;
}

/** @throws {TypeError} saying why `fn` cannot be rebuilt in a worker and what to do instead. */
function checkSendable(fn: AnyFunction, source: string): void {
  const name = fn.name || "anonymous";
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    if (name.startsWith("bound ")) {
      throw new TypeError(
        `\`fn\` is a bound function (${name}): its target, \`this\` and bound arguments cannot ` +
          "be sent to a worker thread. Pass the function itself and all its arguments: " +
          "toThread(f, a, b) rather than toThread(f.bind(null, a), b)",
      );
    }
    throw new TypeError(
      `\`fn\` is a native function (${name}): it has no source text to send to a worker thread. ` +
        "Wrap it in a function that calls it, e.g. toThread((a, b) => Math.max(a, b), 1, 2)",
    );
  }
  if (/^class\b/.test(source)) {
    throw new TypeError(`\`fn\` is a class (${name}): a class cannot be called. Pass a function`);
  }
  const kind = Object.prototype.toString.call(fn);
  if (kind === "[object GeneratorFunction]" || kind === "[object AsyncGeneratorFunction]") {
    throw new TypeError(
      `\`fn\` is a generator function (${name}): the generator it returns cannot be sent back ` +
        "from a worker thread. Return an array instead",
    );
  }
  try {
    // Compiles without running: the worker will compile exactly this.
    new Function(`"use strict"; return (${source}\n);`);
  } catch (error) {
    let isMethod = false;
    try {
      new Function(`"use strict"; return ({${source}\n});`);
      isMethod = true;
    } catch {
      // Not a method either.
    }
    if (isMethod) {
      throw new TypeError(
        `\`fn\` is a method (${name}): its source \`${shortSource(source)}\` is not a ` +
          "standalone function, so a worker thread cannot rebuild it (and it would have no " +
          "`this`). Pass a function or arrow function that takes what it needs as arguments, " +
          "or export the code from a module and use moduleFunction()",
        { cause: error },
      );
    }
    throw new TypeError(
      `the source of \`fn\` (${name}) does not compile as a standalone function, so a worker ` +
        `thread cannot rebuild it: ${(error as Error).message}. Use moduleFunction() for code ` +
        "that lives in a module",
      { cause: error },
    );
  }
}

/**
 * @internal How the worker finds `fn`: a module reference for a `moduleFunction()`, else its
 * source text with a key shared by every function of the same source. Checked once per function.
 *
 * @throws {TypeError} when `fn` cannot run in a worker thread.
 */
export function _functionRef(fn: AnyFunction): FunctionRef {
  let ref = refs.get(fn);
  if (ref !== undefined) return ref;
  const moduleRef = _moduleRefOf(fn);
  if (moduleRef !== null) {
    ref = moduleRef;
  } else {
    const source = Function.prototype.toString.call(fn);
    checkSendable(fn, source);
    let key = sourceKeys.get(source);
    if (key === undefined) {
      key = sourceKeys.size + 1;
      sourceKeys.set(source, key);
    }
    ref = { kind: "source", key, name: fn.name || "anonymous", source };
  }
  refs.set(fn, ref);
  return ref;
}

/** @internal `name()` or `name() from <module>`, for messages. */
export function _describeRef(ref: FunctionRef): string {
  return ref.kind === "source" ? `${ref.name}()` : `${ref.name}() from ${ref.url}`;
}

type ErrorConstructorLike = new (message?: string) => Error;

const BUILTIN_ERRORS: Record<string, ErrorConstructorLike> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

/**
 * @internal Rebuilds what a worker threw: an error of the same built-in class (`TypeError`,
 * `RangeError`, … or `Error` for classes of the worker's own), with the original `name`,
 * `message`, the worker's `stack`, `cause`, `errors` and cloneable own properties.
 */
export function _reviveThrown(thrown: SerializedThrown): unknown {
  if (thrown.kind === "value") return thrown.value;
  let error: Error;
  if (thrown.base === "AggregateError") {
    error = new AggregateError((thrown.errors ?? []).map(_reviveThrown), thrown.message);
  } else {
    error = new (BUILTIN_ERRORS[thrown.base] ?? Error)(thrown.message);
  }
  if (error.name !== thrown.name) {
    Object.defineProperty(error, "name", {
      value: thrown.name,
      configurable: true,
      writable: true,
    });
  }
  if (thrown.stack !== undefined) {
    Object.defineProperty(error, "stack", {
      value: thrown.stack,
      configurable: true,
      writable: true,
    });
  }
  if (thrown.cause !== undefined) {
    Object.defineProperty(error, "cause", {
      value: _reviveThrown(thrown.cause),
      configurable: true,
      writable: true,
    });
  }
  if (thrown.errors !== undefined && thrown.base !== "AggregateError") {
    Object.defineProperty(error, "errors", {
      value: thrown.errors.map(_reviveThrown),
      configurable: true,
      writable: true,
    });
  }
  Object.assign(error, thrown.props);
  return error;
}

const BUILTIN_BASES = [
  "AggregateError",
  "EvalError",
  "RangeError",
  "ReferenceError",
  "SyntaxError",
  "TypeError",
  "URIError",
  "Error",
];

function isErrorObject(value: unknown): value is Error {
  return Object.prototype.toString.call(value) === "[object Error]";
}

function clonable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

function builtinBase(error: Error): string {
  for (let p: unknown = Object.getPrototypeOf(error); p !== null; p = Object.getPrototypeOf(p)) {
    const ctor = (p as { constructor?: { name?: string } }).constructor;
    const name = ctor?.name ?? "";
    if (BUILTIN_BASES.includes(name) && (globalThis as Record<string, unknown>)[name] === ctor) {
      return name;
    }
  }
  return "Error";
}

/**
 * @internal What `thrown` becomes to travel to another process (a pool's child, a remote
 * worker): the form {@link _reviveThrown} rebuilds. The worker thread's code keeps its own copy
 * of this (it must be self-contained).
 */
export function _serializeThrown(thrown: unknown, depth = 0): SerializedThrown {
  if (!isErrorObject(thrown)) {
    return { kind: "value", value: clonable(thrown) ? thrown : String(thrown) };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(thrown)) {
    if (key === "name" || key === "message" || key === "stack" || key === "cause" || key === "errors") {
      continue;
    }
    const value = (thrown as unknown as Record<string, unknown>)[key];
    if (clonable(value)) props[key] = value;
  }
  const errors = (thrown as { errors?: unknown }).errors;
  return {
    kind: "error",
    base: builtinBase(thrown),
    name: String(thrown.name),
    message: String(thrown.message),
    stack: typeof thrown.stack === "string" ? thrown.stack : undefined,
    props,
    ...(depth < 8 && "cause" in thrown ? { cause: _serializeThrown(thrown.cause, depth + 1) } : {}),
    ...(depth < 8 && Array.isArray(errors)
      ? { errors: errors.map((e: unknown) => _serializeThrown(e, depth + 1)) }
      : {}),
  };
}
