/**
 * `wait`: wait for a set of awaitables until a condition, without cancelling any of them.
 */
import { type Coroutine, isCoroutine } from "../coroutines.js";
import type { TimerHandle } from "../events/handles.js";
import { getRunningLoop } from "../events/running.js";
import { Future, isFuture } from "../futures.js";
import { checkAwaitable, checkOptionalDelay, checkOptions, describe } from "../internal/validate.js";
import { type Awaitable, type Task, type Thunk, _ensureFutureOn } from "../tasks.js";

/** `wait` returns when any awaitable finishes or is cancelled. */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/** `wait` returns when any awaitable fails (not when one is cancelled), or when all are done. */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/** `wait` returns when all awaitables are done. */
export const ALL_COMPLETED = "ALL_COMPLETED";

/** When `wait` returns. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/** Options of {@link wait}. */
export interface WaitOptions {
  /** Return after this many seconds even if the condition is not met; default: no limit. */
  timeout?: number | null;
  /** The condition; default {@link ALL_COMPLETED}. */
  returnWhen?: ReturnWhen;
}

const WAIT_KEYS = ["timeout", "returnWhen"] as const satisfies readonly (keyof WaitOptions)[];

/** What `wait` puts in its sets for an input: the task made for a thunk or coroutine, else the input itself. */
export type WaitItem<A> = A extends Thunk<infer T>
  ? Task<T>
  : A extends Coroutine<infer T>
    ? Task<T>
    : A;

/** The two sets `wait` resolves to. */
export interface WaitResult<A> {
  /** The awaitables that completed (or the tasks made for thunks and coroutines). */
  done: Set<WaitItem<A>>;
  /** The others, still running: `wait` does not cancel them. */
  pending: Set<WaitItem<A>>;
}

const RETURN_WHEN: readonly string[] = [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED];

/**
 * Waits until the awaitables in `aws` meet `returnWhen`, or `timeout` seconds pass, and
 * resolves to `{ done, pending }`: two sets of the objects passed in (a thunk or coroutine is
 * made a task first, and the set holds that task). A timeout does not raise: what is not done
 * is in `pending`. Nothing is cancelled.
 *
 * **Cancellation**: cancelling the awaiting task stops the waiting; the awaitables run on.
 *
 * @throws {RangeError} synchronously when `aws` is empty or `returnWhen` is unknown.
 * @throws {TypeError} synchronously when an element is not an awaitable or a thunk.
 *
 * @example
 * const { done, pending } = await wait([t1, t2], { returnWhen: FIRST_COMPLETED, timeout: 5 });
 *
 * asyncio: `asyncio.wait(aws, *, timeout=None, return_when=ALL_COMPLETED)`.
 */
export function wait<A extends Awaitable<unknown>>(
  aws: Iterable<A>,
  options: WaitOptions = {},
): Promise<WaitResult<A>> {
  if (aws === null || aws === undefined || typeof (aws as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function") {
    throw new TypeError(`\`aws\` must be an iterable of awaitables, got ${describe(aws)}`);
  }
  if (isFuture(aws)) throw new TypeError("expect an iterable of futures, not a Future");
  checkOptions("wait()", options, WAIT_KEYS);
  const timeout = checkOptionalDelay("timeout", options.timeout);
  const returnWhen = options.returnWhen ?? ALL_COMPLETED;
  if (!RETURN_WHEN.includes(returnWhen)) {
    throw new RangeError(`\`returnWhen\` must be one of ${RETURN_WHEN.join(", ")}, got ${describe(returnWhen)}`);
  }
  const inputs = Array.from(new Set(aws));
  if (inputs.length === 0) throw new RangeError("Set of Tasks/Futures is empty.");
  const loop = getRunningLoop();
  const entries = new Map<unknown, Future<unknown>>();
  inputs.forEach((aw, i) => checkAwaitable(`wait(): element ${i} of \`aws\``, aw));
  for (const aw of inputs) {
    const fut = _ensureFutureOn(aw, loop);
    // The sets hold what was passed in; a thunk or coroutine is represented by its task.
    entries.set(typeof aw === "function" || isCoroutine(aw) ? fut : aw, fut);
  }
  return waitUntil(entries, timeout, returnWhen) as Promise<WaitResult<A>>;
}

async function waitUntil(
  entries: Map<unknown, Future<unknown>>,
  timeout: number | null,
  returnWhen: string,
): Promise<WaitResult<unknown>> {
  const futures = Array.from(entries.values());
  const loop = getRunningLoop();
  const waiter = new Future<void>({ loop });
  let timer: TimerHandle | null = null;
  if (timeout !== null) {
    timer = loop.callLater(timeout, () => {
      if (!waiter.done()) waiter.setResult(undefined);
    });
  }
  let counter = futures.length;
  const onCompletion = (fut: Future<unknown>): void => {
    counter--;
    if (
      counter <= 0 ||
      returnWhen === FIRST_COMPLETED ||
      // exception() marks the error retrieved, as CPython's `f.exception() is not None` does.
      (returnWhen === FIRST_EXCEPTION && !fut.cancelled() && fut.exception() !== null)
    ) {
      timer?.cancel();
      if (!waiter.done()) waiter.setResult(undefined);
    }
  };
  // For the call graph, the futures are awaited by the task awaiting `waiter`.
  for (const fut of futures) fut._addInternalCallback(onCompletion, waiter);
  try {
    await waiter;
  } finally {
    timer?.cancel();
    for (const fut of futures) fut.removeDoneCallback(onCompletion);
  }
  const done = new Set<unknown>();
  const pending = new Set<unknown>();
  for (const [key, fut] of entries) (fut.done() ? done : pending).add(key);
  return { done, pending } as WaitResult<unknown>;
}
