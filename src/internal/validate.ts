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
  if (Array.isArray(value)) return "an array";
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

/** The keys of `T` that the list `K` leaves out (`never` when it names them all). */
export type MissingOptionKeys<T, K extends readonly string[]> = Exclude<keyof NonNullable<T>, K[number]>;

/**
 * Compile-time check of a key list given to {@link checkOptions}: `unknown` (no constraint)
 * when `K` is a list of literal keys naming every key of `T`, else an object type whose one
 * property says what is wrong, so the call does not typecheck. Declare each list `as const`
 * next to its interface: `const FOO_KEYS = [...] as const satisfies readonly (keyof FooOptions)[]`
 * (no stray names), and this check (at every call) makes a new option that is not listed a
 * type error.
 */
export type CoversOptionKeys<T, K extends readonly string[]> = string extends K[number]
  ? { readonly "the option keys must be a const array of literal names": never }
  : [MissingOptionKeys<T, K>] extends [never]
    ? unknown
    : { readonly "option keys missing from the list": MissingOptionKeys<T, K> };

/**
 * Checks an options bag: `undefined`, or an object (not an array) whose keys are all in
 * `known`. Anything else is a `TypeError` naming `fn` (`"openConnection()"`); an unknown key
 * (its value `undefined` or not: a typo is a typo) is named with the accepted ones, and a near
 * miss with what to write instead (`tls`, `SSL` and `sll` get "did you mean `ssl`?"). `hint`
 * may add a sentence about the unknown keys. Only the top-level keys are checked: what an
 * option passes on to Node (the TLS options of `ssl`, a child's `env`) is Node's business.
 *
 * Cheap when every key is known: a `for…in` and an `includes` per key, no allocation.
 */
export function checkOptions<T, const K extends readonly string[]>(
  fn: string,
  options: T,
  known: K & CoversOptionKeys<T, K>,
  hint?: (unknown: readonly string[]) => string,
): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`\`options\` of ${fn} must be an options object, got ${describe(options)}`);
  }
  for (const key in options) {
    if (!known.includes(key)) throw unknownOptions(fn, options, known, hint);
  }
}

function unknownOptions(
  fn: string,
  options: object,
  known: readonly string[],
  hint: ((unknown: readonly string[]) => string) | undefined,
): TypeError {
  const unknown: string[] = [];
  for (const key in options) if (!known.includes(key)) unknown.push(key);
  const list = unknown.map((key) => {
    const guess = suggestOption(key, known);
    return guess === null ? `\`${key}\`` : `\`${key}\` (did you mean \`${guess}\`?)`;
  });
  return new TypeError(
    `${fn} got unknown option${unknown.length > 1 ? "s" : ""} ${list.join(", ")}; ` +
      `known options: ${known.length === 0 ? "none" : known.join(", ")}${hint === undefined ? "" : hint(unknown)}`,
  );
}

/**
 * Names a user may write for an option of ours: other libraries' names and asyncio's
 * (normalised as {@link normaliseKey} does). Used only when the target is an accepted key.
 */
const OPTION_ALIASES: ReadonlyMap<string, string> = new Map([
  ["tls", "ssl"],
  ["sslcontext", "ssl"],
  ["servername", "serverHostname"],
]);

/** Case, `_` and `-` dropped: `server_hostname`, `ServerHostname` and `serverHostname` meet. */
function normaliseKey(key: string): string {
  return key.replace(/[_-]/g, "").toLowerCase();
}

/**
 * The accepted key `key` is most likely a slip for, or `null`: an alias, the same name in
 * another case or in snake_case, else the nearest name within a small edit distance (one edit
 * for names of up to 4 letters, two beyond), else the one name that starts as the other does
 * (`localAddress` for `localAddr`, `cleanup` for `cleanupSocket`; 5 letters at least).
 */
function suggestOption(key: string, known: readonly string[]): string | null {
  const wanted = normaliseKey(key);
  const alias = OPTION_ALIASES.get(wanted);
  if (alias !== undefined && known.includes(alias)) return alias;
  let best: string | null = null;
  let bestDistance = wanted.length <= 4 ? 1 : 2;
  let prefixed: string | null = null;
  let prefixes = 0;
  for (const candidate of known) {
    const name = normaliseKey(candidate);
    if (name === wanted) return candidate;
    const distance = editDistance(wanted, name, bestDistance);
    if (distance <= bestDistance && (best === null || distance < bestDistance)) {
      best = candidate;
      bestDistance = distance;
    }
    if (Math.min(name.length, wanted.length) >= 5 && (name.startsWith(wanted) || wanted.startsWith(name))) {
      prefixed = candidate;
      prefixes++;
    }
  }
  return best ?? (prefixes === 1 ? prefixed : null);
}

/**
 * The edit distance of `a` and `b` (insertions, deletions, substitutions, and swaps of two
 * neighbours: `sll`/`ssl` is one edit), or `max + 1` when it is larger than `max`.
 */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const above = rows[i - 1] as number[];
      let d = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  const distance = (rows[a.length] as number[])[b.length] as number;
  return distance > max ? max + 1 : distance;
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
