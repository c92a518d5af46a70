/**
 * Who is running: the event loop that runs now, and the frame (task and context) that the code
 * asking belongs to.
 *
 * HOW: a task runs its coroutine inside `frameStorage.run(frame, …)`. Node's AsyncLocalStorage
 * carries that frame through every `await` of the task's code, into the async functions it
 * calls, `Promise.all`, async generators and timers. So any library call can ask "which task am
 * I in?" without the user passing anything along.
 *
 * WHY one running loop: asyncio allows one running loop per thread. A JS process has one
 * thread of JS, and `runForever()` returns a promise, so two loops could interleave; we refuse
 * that as asyncio does, and `getRunningLoop()` is then well defined everywhere: in a task, in a
 * loop callback, and in a Node callback (a socket event) that arrives while the loop runs.
 */
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import { RuntimeError } from "../errors.js";
import type { Context } from "../context.js";
import type { CancelScope } from "../internal/scope.js";
import type { Task } from "../tasks.js";
import type { EventLoop } from "./loop.js";

/**
 * What the code running now belongs to: its task (or `null`), its context, and the innermost
 * cancel scope of that task it runs in (`null`: the task's own code, outside any `timeout()` or
 * `taskGroup()` body). A task is its own frame (no extra object per task); a scope is the
 * frame of its body; `Context.run()` makes small ones.
 */
export interface Frame {
  /** @internal The task, or `null` outside any task. */
  readonly _frameTask: Task<unknown> | null;
  /** @internal The context variables' values. */
  readonly _context: Context;
  /** @internal The innermost cancel scope, or `null`. */
  readonly _scope: CancelScope | null;
}

/** @internal The storage that carries the current {@link Frame}. */
export const frameStorage = new AsyncLocalStorage<Frame>();

/**
 * Whether AsyncLocalStorage keeps its stores in frames that a resource re-enters unchanged
 * (Node ≥ 24; Node 22 with `--experimental-async-context-frame`): a store entered inside
 * `AsyncResource.runInAsyncScope` then ends with that scope. Older Nodes keep the store on the
 * resource itself, where it would stay. Probed once, by behaviour. Node only: Bun and Deno pass
 * the probe, but on Deno a task whose timeout scope ran this way stayed reachable after a
 * `waitFor()` on a promise that outlived it (test/combinators/retention.test.ts), and on Bun it
 * was not measured; both keep `storage.run`, the path their suites test.
 */
const FRAMES_STAY_PUT = process.versions.bun === undefined && process.versions.deno === undefined && ((): boolean => {
  const probe = new AsyncLocalStorage<number>();
  const resource = new AsyncResource("asyncio-ts.probe", { requireManualDestroy: true });
  resource.runInAsyncScope(() => probe.enterWith(1));
  const staysPut = resource.runInAsyncScope(() => probe.getStore()) === undefined;
  // Older Nodes propagate every enabled storage to every promise made (a property each).
  probe.disable();
  return staysPut;
})();

/**
 * @internal Calls `fn(task)` with `task` as the frame, from a loop callback. With frames that
 * stay put, this makes one frame, not `frameStorage.run`'s two (it enters the new one, then
 * re-enters the old one by making another copy): `scope` is a resource made in the loop
 * callbacks' own frame (`null`: make one), and the resource it used is returned for next time.
 * The iteration that made it must be the one that calls this (the loop forgets it each
 * iteration).
 */
export function _runInOwnFrame(
  task: Task<unknown>,
  fn: (task: Task<unknown>) => void,
  scope: AsyncResource | null,
): AsyncResource | null {
  if (!FRAMES_STAY_PUT) {
    frameStorage.run(task, fn, task);
    return null;
  }
  const resource = scope ?? new AsyncResource("asyncio-ts.iteration", { requireManualDestroy: true });
  resource.runInAsyncScope(enterAndRun, null, task, fn);
  return resource;
}

function enterAndRun(task: Task<unknown>, fn: (task: Task<unknown>) => void): void {
  frameStorage.enterWith(task);
  fn(task);
}

/**
 * @internal `frameStorage.run(frame, fn, a, b)` with one frame made, not two, where frames stay
 * put (see `_runInOwnFrame`): a resource made here keeps the caller's frame to return to.
 */
export function _runInFrame<A, B, R>(frame: Frame, fn: (a: A, b: B) => R, a: A, b: B): R {
  if (!FRAMES_STAY_PUT) return frameStorage.run(frame, fn, a, b);
  const resource = new AsyncResource("asyncio-ts.scope", { requireManualDestroy: true });
  return resource.runInAsyncScope(enterAndCall, null, frame, fn, a, b) as R;
}

function enterAndCall<A, B, R>(frame: Frame, fn: (a: A, b: B) => R, a: A, b: B): R {
  frameStorage.enterWith(frame);
  return fn(a, b);
}

/**
 * @internal Runs `fn` outside any frame (loop callbacks run so). Not `frameStorage.exit()`:
 * on Node 20 that disables and re-enables the promise hooks on every call. Already outside
 * (a Node event's callback, an iteration started by one), `fn` is called as it is: entering
 * the empty frame again would make a frame for nothing (a `Map` on Node ≥ 24), once per
 * iteration of a loop woken by I/O.
 */
export function _runOutsideFrame(fn: () => void): void {
  if (frameStorage.getStore() === undefined) fn();
  else frameStorage.run(undefined as unknown as Frame, fn);
}

let runningLoop: EventLoop | null = null;

/** @internal */
export function _setRunningLoop(loop: EventLoop | null): void {
  runningLoop = loop;
}

/** The running loop, or `null` when none runs. asyncio: `asyncio._get_running_loop()`. */
export function _getRunningLoop(): EventLoop | null {
  return runningLoop;
}

/**
 * What code that needs a loop is told when none runs. The usual cause: `run(main())`, which
 * calls `main` before `run()` has a loop, so main's first `sleep()` or `createTask()` finds none.
 */
const NO_RUNNING_LOOP =
  "no running event loop — did you call an async function outside run()? Pass the function: " +
  "run(main), not run(main())";

/**
 * @internal For an operation that may have to wait (a queue's `get()`, a lock's `acquire()`):
 * throws what {@link getRunningLoop} throws when no loop runs, whatever state the object is in,
 * so that calling it outside `run()` fails at once and the same way every time, never as a
 * rejected promise (which would be an unhandled rejection if nobody awaited it).
 */
export function _requireRunningLoop(): void {
  if (runningLoop === null) throw new RuntimeError(NO_RUNNING_LOOP);
}

/**
 * Returns the event loop that is running now.
 *
 * @throws {RuntimeError} "no running event loop — …" (with what to do about it) when no loop
 * runs.
 *
 * asyncio: `asyncio.get_running_loop()`.
 */
export function getRunningLoop(): EventLoop {
  if (runningLoop === null) throw new RuntimeError(NO_RUNNING_LOOP);
  return runningLoop;
}

/** Every event loop made and not yet collected, weakly: what introspection looks at. */
const loops = new Set<WeakRef<EventLoop>>();
const collected = new FinalizationRegistry<WeakRef<EventLoop>>((ref) => loops.delete(ref));

/** @internal A new loop (loops are few: this costs nothing that matters). */
export function _registerLoop(loop: EventLoop): void {
  const ref = new WeakRef(loop);
  loops.add(ref);
  collected.register(loop, ref);
}

/** @internal The loops alive now, oldest first. */
export function _allLoops(): EventLoop[] {
  const alive: EventLoop[] = [];
  for (const ref of loops) {
    const loop = ref.deref();
    if (loop !== undefined) alive.push(loop);
  }
  return alive;
}
