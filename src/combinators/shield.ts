/**
 * `shield`: wait for something without letting a cancel of the waiter reach it.
 */
import { Future } from "../futures.js";
import { type Awaitable, ensureFuture } from "../tasks.js";

/**
 * Returns a future that follows `aw` but protects it from cancellation: cancelling the
 * returned future (or the task awaiting it) does not cancel `aw`, which runs on. A thunk or
 * coroutine becomes a task first.
 *
 * **Cancellation**: the caller still gets `CancelledError` at its `await` when it is cancelled;
 * only `aw` is spared. If `aw` itself is cancelled, the returned future is cancelled too.
 * To finish the protected work even then, keep a reference to it and await it again.
 *
 * @example
 * try { await shield(() => saveCheckpoint()); } catch (e) { if (isCancellation(e)) ... }
 *
 * asyncio: `asyncio.shield(aw)`.
 */
export function shield<T>(aw: Awaitable<T>): Future<T> {
  const inner = ensureFuture(aw);
  if (inner.done()) return inner;
  const outer = new Future<T>({ loop: inner._loop });

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

  inner._addInternalCallback(onInnerDone);
  outer._addInternalCallback(onOuterDone);
  return outer;
}
