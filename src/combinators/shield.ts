/**
 * `shield`: wait for something without letting a cancel of the waiter reach it.
 */
import { Future } from "../futures.js";
import { checkAwaitable } from "../internal/validate.js";
import { type Awaitable, ensureFuture } from "../tasks.js";

/**
 * Returns a future that follows `aw` but protects it from cancellation: cancelling the
 * returned future (or the task awaiting it) does not cancel `aw`, which runs on. A thunk or
 * coroutine becomes a task first.
 *
 * **Cancellation**: the caller still gets `CancelledError` at its `await` when it is cancelled;
 * only `aw` is spared. If `aw` itself is cancelled, the returned future is cancelled too.
 * To finish the protected work even then, keep a reference to it and await it again.
 * Once the returned future is done, it keeps no callback on `aw`.
 *
 * @throws {TypeError} synchronously when `aw` is not an awaitable or a thunk.
 * @throws {RuntimeError} synchronously when `aw` must become a task and no loop is running.
 *
 * @example
 * try { await shield(() => saveCheckpoint()); } catch (e) { if (isCancellation(e)) ... }
 *
 * asyncio: `asyncio.shield(aw)`.
 */
export function shield<T>(aw: Awaitable<T>): Future<T> {
  checkAwaitable("`aw`", aw);
  const inner = ensureFuture(aw);
  if (inner.done()) return inner;
  const outer = new Future<T>({ loop: inner._loop });

  // CPython 3.14 also leaves a logging callback on `inner` when `outer` is cancelled first,
  // which reports an error of `inner` at once, even one its owner reads later (CPython issue
  // #156321). We keep 3.13's rule: nothing stays on `inner`, and an error nobody reads is
  // reported as "never retrieved" when `inner` is garbage-collected (or its loop closes).
  const onInnerDone = (): void => {
    if (outer.cancelled()) {
      if (!inner.cancelled()) inner.exception(); // mark the error retrieved
      return;
    }
    if (inner.cancelled()) outer.cancel();
    else if (inner._hasException) outer.setException(inner.exception());
    else outer.setResult(inner.result());
  };
  const onOuterDone = (): void => {
    if (!inner.done()) inner.removeDoneCallback(onInnerDone);
  };

  // For the call graph, `inner` is awaited by whoever awaits `outer`.
  inner._addInternalCallback(onInnerDone, outer);
  outer._addInternalCallback(onOuterDone);
  return outer;
}
