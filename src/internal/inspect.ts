/**
 * CPython-style representations (`<Lock [locked, waiters:2]>`) shared by every primitive:
 * `toString()` and Node's `util.inspect` both print them.
 */

/** Node's `util.inspect.custom` symbol, without importing `node:util`. */
export const inspectCustom: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

/** A value as Python's `repr` would show it in a state line: strings quoted, errors as `Name('msg')`. */
export function reprValue(value: unknown, max = 60): string {
  let text: string;
  if (typeof value === "string") text = `'${value}'`;
  else if (value instanceof Error) text = `${value.name}(${value.message === "" ? "" : `'${value.message}'`})`;
  else if (value === undefined) text = "undefined";
  else if (typeof value === "function") text = value.name || "function";
  else if (typeof value === "object" && value !== null) {
    const custom = (value as { toString?: () => string }).toString;
    text =
      typeof custom === "function" && custom !== Object.prototype.toString
        ? String(value)
        : safeJson(value);
  } else text = String(value);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function safeJson(value: object): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** `<Name a, b>` from a class name and a list of state words. */
export function formatRepr(name: string, parts: readonly string[]): string {
  return parts.length === 0 ? `<${name}>` : `<${name} ${parts.join(" ")}>`;
}
