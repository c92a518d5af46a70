/**
 * Handing work to a loop from outside its own code: `loop.callSoonThreadsafe` and
 * `runCoroutineThreadsafe`.
 *
 * WHAT "another thread" means here: in Python these are called from a different OS thread than
 * the loop's, and must wake a loop that may sleep in `select()`. In Node a loop lives in one
 * isolate, and JS objects never cross threads; the counterpart of "another thread" is code that
 * runs outside the loop's iterations on the same thread: a Node callback (a socket or
 * `fs` callback, a timer), a worker's `'message'` handler on the main thread, code that resumed
 * after awaiting a foreign promise. Code there can already call `loop.callSoon`, which wakes a
 * sleeping loop (it queues the next iteration with `setImmediate`), so these two add no locking;
 * they exist so that ported code reads the same and says where it comes from, and
 * `runCoroutineThreadsafe` adds a result you can await or cancel from outside any task.
 *
 * A worker thread cannot call them: it has no access to the loop's objects. It posts a message,
 * and the main thread's `'message'` handler calls them.
 */
import { RuntimeError } from "../errors.js";
import type { Handle } from "../events/handles.js";
import { EventLoop } from "../events/loop.js";
import { checkAwaitable } from "../internal/validate.js";
import { type Awaitable, _checkLoop } from "../tasks.js";
import { ConcurrentFuture } from "./concurrent-future.js";

declare module "../events/loop.js" {
  interface EventLoop {
    /**
     * Schedules `callback(...args)` on this loop from code outside the loop's own iterations (a
     * Node callback, a worker's `'message'` handler) and wakes the loop if it is idle. The
     * callback runs in a later iteration, after those already scheduled (FIFO), in the context
     * that is current at the call.
     *
     * Differs from asyncio: JS objects never cross threads, so this is never called from
     * another thread; on the loop's own thread it does what `callSoon` does (which also wakes
     * the loop). Use it where Python code uses `call_soon_threadsafe`.
     *
     * @throws {RuntimeError} when the loop is closed.
     *
     * asyncio: `loop.call_soon_threadsafe(callback, *args)`.
     */
    callSoonThreadsafe<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle;
  }
}

function callSoonThreadsafe<A extends unknown[]>(
  this: EventLoop,
  callback: (...args: A) => unknown,
  ...args: A
): Handle {
  return this.callSoon(callback, ...args);
}

// A method as a class defines it: not enumerable.
Object.defineProperty(EventLoop.prototype, "callSoonThreadsafe", {
  value: callSoonThreadsafe,
  writable: true,
  configurable: true,
});

/**
 * Runs `coro` as a new task of `loop`, from code that is not a step of that loop (a Node
 * callback, a worker's `'message'` handler, code before `run()`), and returns a
 * {@link ConcurrentFuture} that settles with the task: await it, or read `result()` once
 * `done()`. (A Node callback still carries the `AsyncLocalStorage` context of the code that made
 * its emitter, so a task made here copies the context of the task that made the server, if any.)
 *
 * The task is created at once (it starts at the loop's next iteration, or when the loop runs if
 * it does not run yet), in a copy of the current context.
 *
 * **Cancellation**: `future.cancel()` cancels the task and marks the future cancelled at once
 * (awaiting it throws `CancelledError`), while the task's `finally` blocks still run in the
 * loop; a task that ends cancelled by itself cancels the future. Returns `false` once the task
 * is done.
 *
 * Differs from asyncio: the returned future does not block (`result()` throws
 * `InvalidStateError` until done; await it instead), and a task factory that throws makes this
 * call throw, rather than failing the future.
 *
 * @throws {TypeError} when `coro` is not an awaitable or a thunk, or `loop` is not an
 * `EventLoop`.
 * @throws {RuntimeError} when `loop` is closed.
 *
 * @example
 * server.on("request", (req, res) => {          // a Node callback, not a step of the loop
 *   runCoroutineThreadsafe(() => handle(req, res), loop).catch(reportError);
 * });
 *
 * asyncio: `asyncio.run_coroutine_threadsafe(coro, loop)`.
 */
export function runCoroutineThreadsafe<T>(coro: Awaitable<T>, loop: EventLoop): ConcurrentFuture<T> {
  checkAwaitable("`coro`", coro);
  _checkLoop(loop);
  if (loop.isClosed()) throw new RuntimeError("Event loop is closed");
  const task = loop.createTask(coro);
  const future = new ConcurrentFuture<T>(() => task.cancel());
  task._addInternalCallback((t) => {
    if (t.cancelled()) {
      try {
        t.result();
      } catch (error) {
        future._setCancelled(error);
      }
    } else if (t._hasException) {
      future._setException(t.exception());
    } else {
      future._setResult(t.result());
    }
  });
  return future;
}
