/**
 * Argument checks shared by the public API. Every message names the argument, the rule and
 * what was given: `` `delay` must be a number of seconds, got NaN ``.
 */

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "object") {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
    return ctor && ctor !== "Object" ? `a ${ctor}` : "an object";
  }
  return typeof value;
}

/**
 * A delay in seconds: any number but NaN (negative delays mean "now", as in asyncio;
 * `Infinity` means never).
 */
export function checkDelay(name: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`\`${name}\` must be a number of seconds, got ${describe(value)}`);
  }
  if (Number.isNaN(value)) throw new RangeError(`\`${name}\` must be a number of seconds, got NaN`);
  return value;
}

/** A delay in seconds, or `null`/`undefined` for "no limit". */
export function checkOptionalDelay(name: string, value: unknown): number | null {
  if (value === null || value === undefined) return null;
  return checkDelay(name, value);
}

export function checkFunction(name: string, value: unknown): void {
  if (typeof value !== "function") {
    throw new TypeError(`\`${name}\` must be a function, got ${describe(value)}`);
  }
}

/** An integer count ≥ `min`. */
export function checkInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`\`${name}\` must be an integer, got ${describe(value)}`);
  }
  if (value < min) throw new RangeError(`\`${name}\` must be >= ${min}, got ${value}`);
  return value;
}

/** Options bags: `undefined` or a plain object. */
export function checkOptions(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== "object" || value === null)) {
    throw new TypeError(`\`${name}\` must be an options object, got ${describe(value)}`);
  }
}

/**
 * Refuses an options object (already checked to be one) with a key not in `known`: a
 * `TypeError` naming `fn`, the unknown keys and the accepted ones, plus what `hint` adds.
 */
export function checkOptionKeys(
  fn: string,
  options: object | undefined,
  known: readonly string[],
  hint: (unknown: string[]) => string = () => "",
): void {
  if (options === undefined) return;
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  if (unknown.length === 0) return;
  const list = unknown.map((key) => `\`${key}\``).join(", ");
  throw new TypeError(
    `${fn} got unknown option${unknown.length > 1 ? "s" : ""} ${list}; known options: ${known.join(", ")}` +
      hint(unknown),
  );
}

/** True for anything with a callable `then`. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** What the combinators accept: a thunk or a thenable. `label` names it ("`aw`", "argument 2 of gather()"). */
export function checkAwaitable(label: string, value: unknown): void {
  if (typeof value !== "function" && !isThenable(value)) {
    throw new TypeError(`${label} must be an awaitable or a thunk, got ${describe(value)}`);
  }
}
