/**
 * `retry(fn, options)`: call `fn` again after a failure, waiting longer each time.
 *
 * HOW: the attempts run inline in the calling task, one after the other; between two of them
 * the task sleeps (a library `sleep`, so the wait is a cancellation point like any other).
 * Attempt `k` (from 1) that fails with an error `retryOn` accepts is followed, if attempts
 * remain, by a wait of `min(max, initial × factor^(k−1))` seconds, shortened by up to
 * `jitter` of itself at random. When the attempts run out, `retry` rejects with a
 * `RetryError` that lists every attempt's error.
 *
 * WHY cancellations are never retried: a cancellation is a request to stop, not a failure of
 * the attempt. So a `CancelledError` (or an `AbortError` caused by one) propagates at once,
 * whatever `retryOn` says, and so does any error that ends an attempt while the task is being
 * cancelled (its `cancelling()` count went up since `retry` began: the attempt turned the
 * cancellation into another error).
 */
import { RetryError, isCancellation } from "./errors.js";
import { getRunningLoop } from "./events/running.js";
import { checkDelay, checkFunction, checkInteger, checkOptions, describe } from "./internal/validate.js";
import { currentTask, sleep } from "./tasks.js";

/** How long `retry` waits between attempts. */
export interface BackoffOptions {
  /** The wait after the first failure, in seconds (≥ 0). Required. */
  initial: number;
  /** The longest wait, in seconds; default `Infinity`. */
  max?: number;
  /** What each wait is multiplied by for the next one (≥ 1); default 2. */
  factor?: number;
  /**
   * How much of each wait may be taken off at random, a fraction from 0 to 1: each wait is
   * drawn between `wait × (1 − jitter)` and `wait`; default 0 (no jitter). 1 is "full jitter".
   */
  jitter?: number;
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /** How many times `fn` is called at most, the first call included: an integer ≥ 1. Required. */
  attempts: number;
  /** The waits between attempts. Required. */
  backoff: BackoffOptions;
  /**
   * Whether to try again after `error` (attempt `attempt` failed with it); default: every error.
   * Cancellations are never retried, whatever it says. An error it rejects propagates as it is.
   */
  retryOn?: (error: unknown, attempt: number) => boolean;
}

const RETRY_KEYS = ["attempts", "backoff", "retryOn"] as const satisfies readonly (keyof RetryOptions)[];
const BACKOFF_KEYS = ["initial", "max", "factor", "jitter"] as const satisfies readonly (keyof BackoffOptions)[];

/** The checked options. */
interface Plan {
  readonly attempts: number;
  readonly initial: number;
  readonly max: number;
  readonly factor: number;
  readonly jitter: number;
  readonly retryOn: ((error: unknown, attempt: number) => boolean) | undefined;
}

/** A number of seconds ≥ 0 (`Infinity` only where `infinite` allows it). */
function checkSeconds(name: string, value: unknown, infinite: boolean): number {
  const seconds = checkDelay(name, value);
  if (seconds < 0 || (!infinite && !Number.isFinite(seconds))) {
    throw new RangeError(`\`${name}\` must be a ${infinite ? "" : "finite "}number of seconds >= 0, got ${seconds}`);
  }
  return seconds;
}

function checkPlan(options: RetryOptions): Plan {
  checkOptions("retry()", options, RETRY_KEYS);
  if (options === undefined) throw new TypeError("`options` of retry() must be given: { attempts, backoff }");
  const attempts = checkInteger("attempts", options.attempts, 1);
  const backoff = options.backoff;
  if (typeof backoff !== "object" || backoff === null) {
    throw new TypeError(`\`backoff\` must be an options object ({ initial, max?, factor?, jitter? }), got ${describe(backoff)}`);
  }
  checkOptions("retry() `backoff`", backoff, BACKOFF_KEYS);
  const initial = checkSeconds("backoff.initial", backoff.initial, false);
  const max = backoff.max === undefined ? Infinity : checkSeconds("backoff.max", backoff.max, true);
  const factor = backoff.factor ?? 2;
  if (typeof factor !== "number" || !(factor >= 1) || !Number.isFinite(factor)) {
    throw new RangeError(`\`backoff.factor\` must be a finite number >= 1, got ${describe(factor)}`);
  }
  const jitter = backoff.jitter ?? 0;
  if (typeof jitter !== "number" || !(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`\`backoff.jitter\` must be a fraction from 0 to 1, got ${describe(jitter)}`);
  }
  const retryOn = options.retryOn;
  if (retryOn !== undefined) checkFunction("retryOn", retryOn);
  return { attempts, initial, max, factor, jitter, retryOn };
}

/** The wait after failed attempt `attempt` (from 1). */
function waitAfter(plan: Plan, attempt: number): number {
  const wait = Math.min(plan.max, plan.initial * plan.factor ** (attempt - 1));
  return plan.jitter === 0 ? wait : wait * (1 - plan.jitter * Math.random());
}

/**
 * Calls `fn(attempt)` (attempt 1, 2, …) until it succeeds, at most `attempts` times, waiting
 * between attempts as `backoff` says, and resolves to its result. An error that `retryOn`
 * refuses propagates at once, as it is; when every attempt failed, `retry` rejects with a
 * {@link RetryError} whose `errors` lists each attempt's error and whose `cause` is the last.
 *
 * The waits: after attempt `k` fails, `min(max, initial × factor^(k−1))` seconds (`factor`
 * defaults to 2, `max` to `Infinity`), of which up to a `jitter` fraction (default 0) is
 * taken off at random. `fn` runs in the calling task, like a `timeout()` body: give each
 * attempt its own deadline with `timeout()` inside `fn`; a `TimeoutError` is retried like any
 * other error.
 *
 * **Cancellation**: cancellations are never retried. A `CancelledError` from `fn`
 * propagates at once, and so does any error `fn` ends with while the task is being cancelled;
 * a cancel during a wait interrupts the `sleep` and propagates (no further attempt is made).
 *
 * @throws {TypeError} / {@link RangeError} synchronously for a bad `fn` or option (`attempts`
 * an integer ≥ 1; `backoff.initial` seconds ≥ 0; `max` ≥ 0; `factor` ≥ 1; `jitter` 0 to 1).
 * @throws {RuntimeError} synchronously when no loop runs.
 *
 * @example
 * const page = await retry(() => timeout(5, () => fetchPage(url)), {
 *   attempts: 4,
 *   backoff: { initial: 0.5, max: 10, jitter: 0.2 },
 *   retryOn: (e) => !(e instanceof NotFoundError),
 * });
 *
 * Not in asyncio: like p-retry and tenacity (`attempts` counts the first call, as tenacity's
 * `stop_after_attempt`; p-retry's `retries` does not).
 */
export function retry<T>(fn: (attempt: number) => PromiseLike<T> | T, options: RetryOptions): Promise<T> {
  checkFunction("fn", fn);
  const plan = checkPlan(options);
  getRunningLoop();
  return runAttempts(fn, plan);
}

async function runAttempts<T>(fn: (attempt: number) => PromiseLike<T> | T, plan: Plan): Promise<T> {
  const task = currentTask();
  const cancelling = task?.cancelling() ?? 0;
  const errors: unknown[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (isCancellation(error) || (task !== null && task.cancelling() > cancelling)) throw error;
      if (plan.retryOn !== undefined && !plan.retryOn(error, attempt)) throw error;
      errors.push(error);
      if (attempt >= plan.attempts) throw new RetryError(errors);
    }
    await sleep(waitAfter(plan, attempt));
  }
}
