/**
 * Callbacks of Node resources as tasks: `taskPerCall`.
 *
 * WHY: the current task travels with Node's AsyncLocalStorage (`events/running.ts`), so a
 * resource made inside a task (a listening server, a socket, a timer of another library) runs
 * its callbacks in that task's async context: `currentTask()` in a request handler is the task
 * that started the server (called `listen()`), and every library await the handler makes is an
 * await of that task. A deadline or a task group inside the handler is scope-local (it cancels
 * only its own body), but a `cancel()` of that task from outside reaches every request in
 * progress, and requests share one `cancelling()` count. `taskPerCall` wraps the callback so
 * that each call runs as a task of its own, as asyncio's `start_server` runs each connection's
 * callback as a new task.
 *
 * HOW: the wrapper creates the task with the running loop's `createTask` (so a task factory
 * applies), in a copy of the context current at the call (the creating task's, for a Node
 * callback). Nothing else: the task is an ordinary task, held by the loop until it ends.
 */
import { RuntimeError } from "./errors.js";
import { _getRunningLoop } from "./events/running.js";
import { checkFunction, checkOptions, describe } from "./internal/validate.js";
import type { Task } from "./tasks.js";

/** Options of {@link taskPerCall}. */
export interface TaskPerCallOptions {
  /** The name of every task made (all calls share it); default: `Task-N`, one number per task. */
  name?: string;
}

const TASK_PER_CALL_KEYS = ["name"] as const satisfies readonly (keyof TaskPerCallOptions)[];

/**
 * Wraps `fn` so that each call runs as a task of its own: the returned function takes `fn`'s
 * arguments, creates a task that runs `fn(...args)` (with the same `this`) on the running loop,
 * and returns that {@link Task}. Made for the callbacks of Node resources, which otherwise run
 * as the task that created the resource (for a server: the task that called `listen()`):
 *
 * ```ts
 * const server = http.createServer(
 *   taskPerCall(async (req: http.IncomingMessage, res: http.ServerResponse) => {
 *     res.end(await timeout(2, () => render(req.url))); // currentTask(): this request's task
 *   }),
 * );
 * ```
 *
 * (Annotate the parameters when the wrapper goes to an overloaded or generic function such as
 * `http.createServer`: TypeScript cannot infer them through it.)
 *
 * `fn` returns something to await (an async function does); a call whose `fn` returns anything
 * else fails its task with a `TypeError`, as a thunk that does so fails its task.
 *
 * The task starts in the loop's next iteration, in a copy of the context current at the call
 * (for a Node callback: the context of the task that created the resource, so its `ContextVar`
 * values are seen). Inside, `currentTask()` is the per-call task: a deadline, a task group
 * failure or a cancellation inside one call touches that call only.
 *
 * **Errors**: an error that escapes `fn` fails its task. Nobody awaits the task when Node calls
 * the wrapper (Node drops the returned Task), so the error goes to the loop's exception handler
 * as any unretrieved task error does: "Task exception was never retrieved", when the task is
 * garbage-collected or, at the latest, when the loop closes. Catch errors inside `fn` to answer them (a 500), or
 * await the returned task when you call the wrapper yourself.
 *
 * **Cancellation**: each task is independent of the task that created the resource and of the
 * task running when the callback fired: cancelling either does not cancel calls in progress,
 * and cancelling one call's task (the Task returned) cancels that call only. `run()` cancels
 * the tasks still running when its main task ends, as it does every leftover task, so close the
 * resource in a `finally` of the task that created it: a callback that fires once the loop has
 * stopped cannot make a task.
 *
 * @throws {TypeError} when `fn` is not a function, `options` is not an object, has a key other
 * than `name`, or `name` is not a string.
 *
 * The returned function throws {@link RuntimeError} when it is called with no running event
 * loop (the callback fired after `run()` returned, or before the loop started). Thrown from
 * a Node event listener, that becomes an uncaught exception: close the resource before the
 * loop stops.
 *
 * An addition to asyncio, whose servers already run each connection's callback as a new task
 * (`start_server`'s `client_connected_cb`).
 */
export function taskPerCall<A extends unknown[], T>(
  fn: (...args: A) => PromiseLike<T>,
  options?: TaskPerCallOptions,
): (...args: A) => Task<T> {
  checkFunction("fn", fn);
  checkOptions("taskPerCall()", options, TASK_PER_CALL_KEYS);
  const name = options?.name;
  if (name !== undefined && typeof name !== "string") {
    throw new TypeError(`\`name\` must be a string, got ${describe(name)}`);
  }
  const taskOptions = name === undefined ? undefined : { name };
  const label = fn.name || "(anonymous)";
  return function taskPerCallWrapper(this: unknown, ...args: A): Task<T> {
    const loop = _getRunningLoop();
    if (loop === null) {
      throw new RuntimeError(
        `taskPerCall(${label}): the callback fired outside a running event loop (after run() ` +
          "returned, or before the loop started), so no task can run it; close the resource " +
          "before the loop stops",
      );
    }
    return loop.createTask(() => fn.apply(this, args), taskOptions);
  };
}
