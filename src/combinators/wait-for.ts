/**
 * `waitFor`: wait for one awaitable, with a timeout.
 */
import { isCoroutine } from "../coroutines.js";
import { TimeoutError, isCancelledError } from "../errors.js";
import { getRunningLoop } from "../events/running.js";
import { Future, _wrapThenable, isFuture } from "../futures.js";
import { checkAwaitable, checkOptionalDelay, describe, isThenable } from "../internal/validate.js";
import { _timeout } from "../timeouts.js";
import { type Awaitable, type Thunk, ensureFuture } from "../tasks.js";

/**
 * Waits for `aw` for at most `timeout` seconds (`null`: no limit), and resolves to its result.
 * When time runs out, `aw` is cancelled, waited for, and the call rejects with `TimeoutError`
 * (its `cause` is the `CancelledError`).
 *
 * A thunk or coroutine runs inline in the calling task (3.12 semantics: no new task), so it is
 * cancelled where it waits and its `finally` blocks run before `TimeoutError` is raised. A
 * future or task is awaited, and cancelled on timeout. A promise that already runs is waited
 * for; on timeout the waiting stops, not the work. A `timeout` of zero or less never starts a
 * thunk or coroutine: it is cancelled before it runs.
 *
 * **Cancellation**: cancelling the calling task cancels `aw` too and rejects with
 * `CancelledError`, never `TimeoutError`.
 *
 * @throws {TypeError} / {@link RangeError} synchronously for a bad `aw` or `timeout`.
 * @throws {RuntimeError} synchronously when no loop runs.
 *
 * @example
 * try { await waitFor(() => work(), 1.0); } catch (e) { if (e instanceof TimeoutError) … }
 *
 * asyncio: `asyncio.wait_for(aw, timeout)` (3.12).
 */
export function waitFor<T>(aw: Awaitable<T>, timeout: number | null): Promise<T> {
  checkAwaitable("`aw`", aw);
  const seconds = checkOptionalDelay("timeout", timeout);
  getRunningLoop();
  return seconds !== null && seconds <= 0 ? expired(aw, seconds) : within(aw, seconds);
}

/** The deadline has already passed: cancel `aw` (before it starts, if it is lazy). */
async function expired<T>(aw: Awaitable<T>, seconds: number): Promise<T> {
  const fut = ensureFuture(aw);
  if (fut.done()) return fut.result();
  await cancelAndWait(fut);
  try {
    return fut.result();
  } catch (error) {
    if (isCancelledError(error)) throw new TimeoutError(`waitFor() timeout of ${seconds} s expired`, { cause: error });
    throw error;
  }
}

function within<T>(aw: Awaitable<T>, seconds: number | null): Promise<T> {
  return _timeout(seconds, () => inline(aw), "waitFor() timeout");
}

/** Awaits `aw` in the calling task: thunks and coroutines run here, promises are wrapped. */
function inline<T>(aw: Awaitable<T>): PromiseLike<T> {
  if (typeof aw === "function") {
    const started = (aw as Thunk<T>)();
    if (!isThenable(started)) {
      throw new TypeError(
        `the thunk given to waitFor() returned ${describe(started)}; a thunk must return an awaitable`,
      );
    }
    return started;
  }
  if (isFuture(aw) || isCoroutine(aw)) return aw;
  return _wrapThenable(aw, getRunningLoop());
}

/** Cancels `fut` and waits until it is done, whatever it does with the cancel. */
async function cancelAndWait(fut: Future<unknown>): Promise<void> {
  const waiter = new Future<void>({ loop: fut._loop });
  const onDone = (): void => {
    if (!waiter.done()) waiter.setResult(undefined);
  };
  fut._addInternalCallback(onDone);
  try {
    fut.cancel();
    await waiter;
  } finally {
    fut.removeDoneCallback(onDone);
  }
}
