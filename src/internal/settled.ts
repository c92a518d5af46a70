/**
 * Settled native promises that say what they hold.
 *
 * WHY: the uncontended fast paths (`lock.acquire()` on a free lock, `q.get()` on a non-empty
 * queue, `q.put()` with room) have already done their work when they return, and return a
 * settled native promise: the cheapest thing V8 can await (a custom thenable costs about twice
 * as much; measured). But a settled promise cannot be asked whether it is settled, so
 * `waitFor(lock.acquire(), 0)` wrapped it in a pending future, timed out, and left the lock held
 * by nobody. A tag on the promise (a symbol property: measured free) lets the library see that
 * the operation is already complete and take its outcome as it is, as asyncio's `wait_for` does
 * with a future that is already done.
 */

const SETTLED_VALUE = Symbol("asyncio-ts.settledValue");
const SETTLED_ERROR = Symbol("asyncio-ts.settledError");

interface Tagged {
  [SETTLED_VALUE]?: unknown;
  [SETTLED_ERROR]?: unknown;
}

/** @internal A promise fulfilled with `value`, tagged as such. */
export function settledValue<T>(value: T): Promise<T> {
  const promise = Promise.resolve(value);
  (promise as Tagged)[SETTLED_VALUE] = value;
  return promise;
}

/** @internal A promise rejected with `error`, tagged as such. */
export function settledError<T = never>(error: unknown): Promise<T> {
  const promise = Promise.reject(error) as Promise<T>;
  (promise as Tagged)[SETTLED_ERROR] = error;
  return promise;
}

/** @internal Tags an existing promise known to be fulfilled with `value` (a shared constant). */
export function tagSettled<T>(promise: Promise<T>, value: T): Promise<T> {
  (promise as Tagged)[SETTLED_VALUE] = value;
  return promise;
}

/**
 * @internal What a tagged promise holds: `{ ok: true, value }`, `{ ok: false, error }`, or
 * `null` for anything else (its state unknown).
 */
export function settledOutcome(
  thenable: unknown,
): { ok: true; value: unknown } | { ok: false; error: unknown } | null {
  if (typeof thenable !== "object" || thenable === null) return null;
  if (SETTLED_VALUE in thenable) return { ok: true, value: (thenable as Tagged)[SETTLED_VALUE] };
  if (SETTLED_ERROR in thenable) return { ok: false, error: (thenable as Tagged)[SETTLED_ERROR] };
  return null;
}
