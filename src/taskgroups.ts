/**
 * Task groups: structured concurrency. Tasks created in a group cannot outlive it.
 *
 * HOW (CPython 3.13's `TaskGroup`, in callback form): `taskGroup(body)` runs `body(tg)` inline
 * in the calling task (the "parent"). When the body ends, the group waits for its tasks. The
 * first task that fails aborts the group: the other tasks are cancelled, and so is the body
 * (the body and the group's exit run in a cancel scope of their own, `internal/scope.ts`, so
 * this reaches their awaits and nothing else the parent task does; it counts as a cancellation
 * request on the parent, as asyncio's `parent.cancel()` does), so that a body still running
 * stops at its next await. On exit the group takes its own cancel of the parent back
 * (`uncancel()`), so only cancels from outside propagate, and raises every
 * task error together as an {@link ExceptionGroup}. Errors beat a cancellation: a parent cancel
 * that collides with a task error is not lost, it is re-requested on the parent (the cancel
 * count stays as it was) and the group raises the errors.
 */
import { type Coroutine, isCoroutine } from "./coroutines.js";
import { type CancelledError, ExceptionGroup, RuntimeError, isCancellation } from "./errors.js";
import type { EventLoop } from "./events/loop.js";
import { _requireRunningLoop } from "./events/running.js";
import { Future } from "./futures.js";
import { formatRepr, inspectCustom } from "./internal/inspect.js";
import { CancelScope, runInScope } from "./internal/scope.js";
import { checkFunction } from "./internal/validate.js";
import { type Awaitable, type Task, type TaskOptions, currentTask } from "./tasks.js";

/** new → running (body runs) → exiting (waiting for tasks) → done. */
type GroupPhase = "new" | "running" | "exiting" | "done";

let groupCounter = 0;

/** What the task running a group's exit awaits: reports name the group. */
class GroupWait extends Future<boolean> {
  readonly #group: TaskGroup;

  constructor(loop: EventLoop, group: TaskGroup) {
    super(loop);
    this.#group = group;
  }

  override _describeWait(): string {
    return this.#group.toString();
  }
}

/**
 * A group of tasks that `taskGroup()` waits for and cancels together. Received by the body of
 * {@link taskGroup}.
 *
 * asyncio: `asyncio.TaskGroup` (3.11).
 */
export class TaskGroup {
  /** @internal A number naming the group in introspection (`asyncio-ts ps`). */
  readonly _id = ++groupCounter;
  #phase: GroupPhase = "new";
  /** The group cancels its tasks (a task failed, the parent was cancelled, or `cancel()`). */
  #aborting = false;
  /** The group itself cancelled the parent task, and must `uncancel()` it on exit. */
  #parentCancelRequested = false;
  #cancelOnEnter = false;
  #loop: EventLoop | null = null;
  #parent: Task<unknown> | null = null;
  /** The scope the body and the exit run in: what the group cancels on the parent's side. */
  #scope: CancelScope | null = null;
  #tasks = new Set<Task<unknown>>();
  #errors: unknown[] = [];
  #onCompleted: Future<boolean> | null = null;

  /**
   * Creates a task in this group (as `createTask`) and returns it.
   *
   * **Cancellation**: the group cancels its tasks when one of them fails, when the task running
   * the group is cancelled, and on `cancel()`; a task cancelled on its own is not a failure.
   *
   * @throws {RuntimeError} when the group has not started, has finished, or is shutting down
   * after a failure (a coroutine given is then closed, never run).
   */
  createTask<T>(coro: Awaitable<T>, options?: TaskOptions): Task<T> {
    const reject = (why: string): never => {
      if (isCoroutine(coro)) (coro as Coroutine<T>).close();
      throw new RuntimeError(`TaskGroup ${this.toString()} ${why}`);
    };
    if (this.#phase === "new") reject("has not been entered");
    if ((this.#phase === "exiting" && this.#tasks.size === 0) || this.#phase === "done") {
      reject("is finished");
    }
    if (this.#aborting) reject("is shutting down");
    const task = (this.#loop as EventLoop).createTask(coro, options);
    this.#tasks.add(task as Task<unknown>);
    // The group is the task's waiter in the call graph: its parent task awaits the task.
    task._addInternalCallback(this.#onTaskDone as (t: Task<T>) => void, this);
    // An eager task may have failed and aborted the group before it joined the set.
    if (this.#aborting && !task.done()) task.cancel();
    return task;
  }

  /**
   * Cancels the group's tasks and its body; the group then ends without raising
   * `CancelledError` (errors of tasks that failed are still raised). Called before the group
   * starts, it cancels the group as it starts; after it ended, it does nothing.
   *
   * asyncio: `TaskGroup.cancel()` (3.15).
   */
  cancel(): void {
    if (this.#phase === "new") {
      this.#cancelOnEnter = true;
      return;
    }
    if (this.#phase === "done" || (this.#phase === "exiting" && this.#tasks.size === 0)) return;
    if (this.#aborting) return;
    this.#abort();
    const parent = this.#parent;
    if (parent !== null && !this.#parentCancelRequested) {
      this.#parentCancelRequested = this.#scope?._requestCancel() ?? false;
    }
  }

  /** @internal */
  _enter(): CancelScope {
    if (this.#phase !== "new") throw new RuntimeError(`TaskGroup ${this.toString()} has already been entered`);
    const parent = currentTask();
    if (parent === null) {
      throw new RuntimeError(`TaskGroup ${this.toString()} cannot determine the parent task`);
    }
    const scope = new CancelScope(parent);
    this.#scope = scope;
    this.#parent = parent;
    this.#loop = parent._loop;
    this.#phase = "running";
    if (this.#cancelOnEnter) this.cancel();
    return scope;
  }

  /**
   * @internal The body ended (`threw` tells how): wait for the tasks, then raise what is to be
   * raised. Phases: abort if the body failed; wait until no task is left (a cancel from outside
   * aborts too); take back the group's own cancel of the parent; raise the errors, or the
   * outside cancellation, or nothing.
   */
  async _exit(threw: boolean, error: unknown): Promise<void> {
    try {
      await this.#exit(threw, error);
    } finally {
      this.#scope?._close();
      this.#scope = null;
      // Errors are heavy and the parent may be long-lived: a group kept by its user (to call
      // a late `cancel()`) keeps neither (CPython's __aexit__ drops them too).
      this.#parent = null;
      this.#errors = [];
    }
  }

  async #exit(threw: boolean, error: unknown): Promise<void> {
    this.#phase = "exiting";
    const parent = this.#parent as Task<unknown>;
    let propagate: unknown = threw && isCancellation(error) ? error : null;
    let hasPropagate = propagate !== null;
    if (threw && !this.#aborting) this.#abort();

    let pendingCancellation: CancelledError | null = null;
    while (this.#tasks.size > 0) {
      if (this.#onCompleted === null) this.#onCompleted = new GroupWait(parent._loop, this);
      try {
        await this.#onCompleted;
      } catch (caught) {
        if (!isCancellation(caught)) throw caught;
        pendingCancellation = caught as CancelledError;
        if (!this.#aborting) {
          // The parent is cancelled from outside while its tasks still run.
          propagate = caught;
          hasPropagate = true;
          this.#abort();
        }
      }
      this.#onCompleted = null;
    }
    this.#phase = "done";

    if (this.#parentCancelRequested) {
      if (parent.uncancel() === 0) {
        hasPropagate = false;
        propagate = null;
      } else if (!hasPropagate && pendingCancellation !== null) {
        // The remaining cancel is not ours: do not drop it.
        propagate = pendingCancellation;
        hasPropagate = true;
      }
    }

    const errors = this.#errors;
    if (hasPropagate && errors.length === 0) throw propagate;
    if (threw && !isCancellation(error)) errors.push(error);
    if (errors.length > 0) {
      // Keep the parent's cancel count stable when it is cancelled from outside too.
      if (parent.cancelling() > 0) {
        parent.uncancel();
        parent.cancel();
      }
      throw new ExceptionGroup("unhandled errors in a TaskGroup", errors);
    }
  }

  #abort(): void {
    this.#aborting = true;
    for (const task of this.#tasks) if (!task.done()) task.cancel();
  }

  #onTaskDone = (task: Task<unknown>): void => {
    this.#tasks.delete(task);
    const waiter = this.#onCompleted;
    if (waiter !== null && this.#tasks.size === 0 && !waiter.done()) waiter.setResult(true);
    if (task.cancelled() || !task._hasException) return;
    const error = task.exception();
    this.#errors.push(error);
    const parent = this.#parent;
    if (parent === null || parent.done()) {
      (this.#loop as EventLoop).callExceptionHandler({
        message: `Task ${task.toString()} has errored out but its parent task ${String(parent)} is already completed`,
        exception: error,
        task,
      });
      return;
    }
    if (!this.#aborting && !this.#parentCancelRequested) {
      // Stop the body where it is: it may be awaiting something unrelated to the tasks.
      this.#abort();
      this.#parentCancelRequested = this.#scope?._requestCancel() ?? false;
    }
  };

  /**
   * @internal For the call graph: the task that awaits this group's tasks (the task running
   * the group's body or exit), or `null` once the group is done.
   */
  _graphParent(): Task<unknown> | null {
    return this.#phase === "running" || this.#phase === "exiting" ? this.#parent : null;
  }

  /** The state of the group, as asyncio's repr shows it. */
  toString(): string {
    const parts: string[] = [];
    if (this.#tasks.size > 0) parts.push(`tasks=${this.#tasks.size}`);
    if (this.#errors.length > 0) parts.push(`errors=${this.#errors.length}`);
    if (this.#aborting) parts.push("cancelling");
    else if (this.#phase !== "new") parts.push("entered");
    return formatRepr("TaskGroup", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

/**
 * Runs `body(tg)` in the current task; tasks it creates with `tg.createTask()` run
 * concurrently, and `taskGroup` resolves, with what `body` resolved to, only when all of them
 * are done.
 *
 * If a task fails, the group cancels the other tasks and the body, waits for them, and rejects
 * with an {@link ExceptionGroup} of every failure (a failure of the body itself included).
 * Tasks that end cancelled are not failures.
 *
 * **Cancellation**: cancelling the awaiting task cancels the body and every task of the group;
 * once they have finished, `CancelledError` propagates (unless a task failed: then the
 * `ExceptionGroup` does, and the cancel is re-requested on the task). After `tg.cancel()`
 * the group ends without error; the body's result is then `undefined` if it was interrupted.
 *
 * @throws {RuntimeError} synchronously when no loop runs; (as a rejection) in a running loop
 * but outside a task.
 *
 * @example
 * const [a, b] = await taskGroup(async (tg) => {
 *   const ta = tg.createTask(() => fetchA());
 *   const tb = tg.createTask(() => fetchB());
 *   return [ta, tb];
 * }).then(([ta, tb]) => [ta.result(), tb.result()]);
 *
 * asyncio: `async with asyncio.TaskGroup() as tg:` (3.11).
 */
export function taskGroup<T>(body: (tg: TaskGroup) => PromiseLike<T> | T): Promise<T> {
  checkFunction("body", body);
  _requireRunningLoop();
  // The body and the exit run in the group's scope: its cancels reach their awaits only.
  return runInScope(new TaskGroup(), body, runBody);
}

async function runBody<T>(group: TaskGroup, body: (tg: TaskGroup) => PromiseLike<T> | T): Promise<T> {
  let result: T;
  try {
    result = await body(group);
  } catch (error) {
    await group._exit(true, error);
    // The group suppressed the body's error (its own cancellation): nothing to resolve with.
    return undefined as T;
  }
  await group._exit(false, undefined);
  return result;
}
