/**
 * `toThread`: run a blocking or CPU-heavy function in a worker thread without blocking the loop.
 */
import { getRunningLoop } from "../events/running.js";
import type { Future } from "../futures.js";
import "./executor.js"; // registers the default executor

/**
 * Runs `fn(...args)` in a worker thread of the loop's default executor and resolves to its
 * result, while the loop goes on running other tasks.
 *
 * What `fn` can be — a worker thread has its own heap, so a JS function cannot be sent there
 * as an object; its source text is sent and compiled again in the worker (once per worker and
 * distinct source):
 * - **Self-contained**: it must not use variables, functions or imports of its enclosing scope;
 *   they do not exist in the worker (a `ReferenceError` there says so). Pass values as
 *   arguments, define helpers inside it, and import modules inside it: async functions are
 *   supported, so `const { gzipSync } = await import("node:zlib")` works (use absolute URLs or
 *   package names; a relative specifier resolves against the current directory).
 * - A function declaration, function expression, arrow function or async function. Native and
 *   bound functions, classes, methods (`name() {…}`) and generators are refused with a
 *   `TypeError` that says what to do instead.
 * - For real code (it imports things, shares helpers), export it from a module and pass
 *   `moduleFunction(new URL("./work.js", import.meta.url), "name")`.
 *
 * Arguments and the result are structured-cloned (as `postMessage` does): plain data, arrays,
 * `Map`, `Set`, `Date`, typed arrays, `Buffer` contents (as `Uint8Array`); no functions; class
 * instances lose their prototype. A `SharedArrayBuffer` is shared, not copied. An argument that
 * cannot be cloned is a `TypeError` at the call. Errors thrown in the worker are rebuilt (see
 * {@link ThreadPoolExecutor}). Console output of the worker is printed before the result arrives.
 *
 * **Cancellation**: cancelling the awaiting task (or the returned future) stops the waiting at
 * once; a call still queued in the pool is dropped; a function already running in a worker
 * finishes on its own and its result is discarded, as in asyncio (a thread cannot be stopped).
 *
 * Differs from asyncio: `fn` does not share the caller's objects, and it does not run in a copy
 * of the caller's context (`ContextVar` values are not visible in the worker). There are no
 * keyword arguments: pass an object.
 *
 * @returns a {@link Future} of the running loop.
 * @throws {RuntimeError} when no loop is running, or its default executor was shut down.
 * @throws {TypeError} when `fn` cannot run in a worker, or an argument cannot be cloned.
 *
 * @example
 * function work(ms: number): string {
 *   Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);   // blocks this thread only
 *   return "done";
 * }
 * const [result] = await gather(toThread(work, 2000), sleep(1));
 *
 * asyncio: `asyncio.to_thread(func, /, *args, **kwargs)`.
 */
export function toThread<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>> {
  return getRunningLoop().runInExecutor(null, fn, ...args);
}
