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
 *
 * `tg.start(fn)` (Trio's `nursery.start`) puts its task in the group at once, so that the
 * group stays open and its abort reaches the task, but routes the task's outcome to the
 * caller of `start` until the task calls `status.started()`: only from then on is a failure
 * the group's.
 */
import { type Coroutine, isCoroutine } from "./coroutines.js";
import { type CancelledError, ExceptionGroup, RuntimeError, isCancellation } from "./errors.js";
import type { EventLoop } from "./events/loop.js";
import { _requireRunningLoop } from "./events/running.js";
import { DoneCallback, Future } from "./futures.js";
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
 * A task's membership of its group: the callback its end runs, and a link in the group's list
 * of live tasks (a list, not a `Set`: joining and leaving cost no hashing, and a group aborts
 * its tasks in the order they were created). A member that left keeps its `_next`, so that a
 * walk of the list that is standing on it goes on.
 */
class GroupMember extends DoneCallback {
  readonly _group: TaskGroup;
  /** The status of a task made by `start()`, or `null`. */
  readonly _status: StartStatus<unknown> | null;
  _prev: GroupMember | null = null;
  _next: GroupMember | null = null;

  constructor(group: TaskGroup, task: Task<unknown>, status: StartStatus<unknown> | null) {
    // For the call graph, the group awaits its tasks; a task still starting is awaited by the
    // caller of `start()` instead.
    super(task, noop, null, status === null ? group : null);
    this._group = group;
    this._status = status;
  }

  override _run(): void {
    this._group._memberDone(this);
  }

  /** In the task's repr, as asyncio's: `cb=[TaskGroup._on_task_done()]`. */
  override toString(): string {
    return "TaskGroup._on_task_done()";
  }
}

/** The member's callback as `removeDoneCallback` sees it: it runs `_memberDone` instead. */
function noop(): void {}

/** `createTask` on a group that takes no task: a coroutine given is closed, never run. */
function refuse(group: TaskGroup, coro: unknown, why: string): never {
  if (isCoroutine(coro)) (coro as Coroutine<unknown>).close();
  throw new RuntimeError(`TaskGroup ${group.toString()} ${why}`);
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
  /** The live tasks, in the order they joined: `#count` of them from `#first` to `#last`. */
  #first: GroupMember | null = null;
  #last: GroupMember | null = null;
  #count = 0;
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
    if (this.#phase === "new") refuse(this, coro, "has not been entered");
    if ((this.#phase === "exiting" && this.#count === 0) || this.#phase === "done") {
      refuse(this, coro, "is finished");
    }
    if (this.#aborting) refuse(this, coro, "is shutting down");
    const task = (this.#loop as EventLoop).createTask(coro, options);
    this.#join(task as Task<unknown>, null);
    // An eager task may have failed and aborted the group before it joined.
    if (this.#aborting && !task.done()) task.cancel();
    return task;
  }

  /**
   * Starts `fn(status)` as a task of the group and resolves with the value that task passes to
   * `status.started(value)`, while the task runs on in the group: start a server, learn its
   * port, and know it listens before going on.
   *
   * Until the task calls `status.started()`, it runs on behalf of the caller of `start`, as
   * in Trio: an error it throws (or a return without `started()`, a {@link RuntimeError})
   * rejects `start` and is not a failure of the group, which goes on. From `started()` on, it
   * is a task of the group like any other: its failure aborts the group. The group does not
   * end while a start is pending, and when it aborts, a task still starting is cancelled too.
   * Calling `started()` twice is a {@link RuntimeError}.
   *
   * **Cancellation**: cancelling the caller before `started()` cancels the task; `start` then
   * waits for the task to end and rejects with the `CancelledError` (or with the task's own
   * error, if it failed while stopping: errors beat a cancellation, and the cancel is requested
   * again so it is not lost). A `started()` that comes after the caller was cancelled does not
   * move the task into the group. Cancelled after `started()`, the caller gets the
   * `CancelledError` and the task stays in the group.
   *
   * @throws {TypeError} synchronously when `fn` is not a function.
   * @throws {RuntimeError} synchronously when the group has not started, has finished, or is
   * shutting down after a failure.
   *
   * @example
   * await taskGroup(async (tg) => {
   *   const port = await tg.start<number>(async (status) => {
   *     const server = await startServer(handleClient, "127.0.0.1", 0);
   *     status.started(server.sockets[0]!.getsockname()[1] as number);
   *     await server.serveForever();
   *   });
   *   console.log(`listening on ${port}`);
   * });
   *
   * Not in asyncio: Trio's `nursery.start` (AnyIO's `TaskGroup.start`).
   */
  start<T = void>(fn: (status: TaskStatus<T>) => unknown, options?: TaskOptions): Promise<T> {
    checkFunction("fn", fn);
    if (this.#phase === "new") throw new RuntimeError(`TaskGroup ${this.toString()} has not been entered`);
    if ((this.#phase === "exiting" && this.#count === 0) || this.#phase === "done") {
      throw new RuntimeError(`TaskGroup ${this.toString()} is finished`);
    }
    if (this.#aborting) throw new RuntimeError(`TaskGroup ${this.toString()} is shutting down`);
    const loop = this.#loop as EventLoop;
    const status = new StartStatus<T>(loop);
    const task = loop.createTask(() => runStarting(fn, status), options);
    status._task = task;
    // In the group from the start, so that the group stays open and its abort reaches the task;
    // its outcome is the group's only once it has started.
    this.#join(task, status as StartStatus<unknown>);
    if (this.#aborting && !task.done()) task.cancel();
    return awaitStarted(status, task);
  }

  /** `task` joins the group: its end runs `_memberDone`. */
  #join(task: Task<unknown>, status: StartStatus<unknown> | null): void {
    const member = new GroupMember(this, task, status);
    const last = this.#last;
    member._prev = last;
    if (last === null) this.#first = member;
    else last._next = member;
    this.#last = member;
    this.#count++;
    if (task.done()) (this.#loop as EventLoop)._enqueue(member);
    else task._addRecord(member);
  }

  /**
   * @internal A task of the group ended (its member's callback): it leaves the group. A task
   * made by `start()` is the group's like any other once started; before, its outcome is its
   * caller's.
   */
  _memberDone(member: GroupMember): void {
    const prev = member._prev;
    const next = member._next;
    if (prev === null) this.#first = next;
    else prev._next = next;
    if (next === null) this.#last = prev;
    else next._prev = prev;
    member._prev = null;
    this.#count--;
    const task = member._future as Task<unknown>;
    const status = member._status;
    const waiter = this.#onCompleted;
    if (waiter !== null && this.#count === 0 && !waiter.done()) waiter.setResult(true);
    if (status !== null && status._state !== "started") status._taskEnded(task);
    else this.#taskEnded(task);
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
    if (this.#phase === "done" || (this.#phase === "exiting" && this.#count === 0)) return;
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
    while (this.#count > 0) {
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
    for (let member = this.#first; member !== null; member = member._next) {
      const task = member._future;
      if (!task.done()) task.cancel();
    }
  }

  /** A task of the group (not one still starting) ended: a failure aborts the group. */
  #taskEnded(task: Task<unknown>): void {
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
  }

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
    if (this.#count > 0) parts.push(`tasks=${this.#count}`);
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

/**
 * What the task started by {@link TaskGroup.start} receives: it calls `started(value)` once it
 * is ready, and `start` resolves with `value`.
 *
 * Not in asyncio: Trio's `TaskStatus`.
 */
export interface TaskStatus<T = void> {
  /**
   * Tells the caller of `start` that the task is ready, with `value` for it; from now on the
   * task belongs to the group.
   *
   * @throws {RuntimeError} when called a second time, or after the task ended.
   */
  started(value: T): void;
}

/** starting → started, or starting → abandoned (the caller was cancelled) or ended (before started()). */
type StartState = "starting" | "started" | "abandoned" | "ended";

/** @internal The `status` of a task made by `start()`, and the future its caller awaits. */
class StartStatus<T> implements TaskStatus<T> {
  _state: StartState = "starting";
  _task: Task<unknown> | null = null;
  readonly _future: StartFuture<T>;
  #called = false;

  constructor(loop: EventLoop) {
    this._future = new StartFuture<T>(loop, this);
  }

  started(value: T): void {
    if (this.#called) throw new RuntimeError("status.started() was called twice");
    if (this._state === "ended") throw new RuntimeError("status.started() was called after the task ended");
    this.#called = true;
    // After the caller was cancelled the task stays its caller's: it is stopping.
    if (this._state !== "starting") return;
    this._state = "started";
    this._future.setResult(value);
  }

  /** The caller was cancelled before `started()`: the task is cancelled with it. */
  _abandon(msg: string | undefined): void {
    if (this._state !== "starting") return;
    this._state = "abandoned";
    this._task?.cancel(msg);
  }

  /** The task ended before `started()`: its outcome is the caller's. */
  _taskEnded(task: Task<unknown>): void {
    if (this._state !== "starting") return; // Abandoned: the caller waits for the task and reads its outcome.
    this._state = "ended";
    const future = this._future;
    if (task.cancelled()) future.cancel();
    else if (task._hasException) future.setException(task.exception());
    else future.setException(new RuntimeError("the task returned without calling status.started()"));
  }

  toString(): string {
    return formatRepr("TaskStatus", [this._state]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

/** @internal What the caller of `start()` awaits: cancelling it (cancelling the caller) cancels the task. */
class StartFuture<T> extends Future<T> {
  readonly #status: StartStatus<T>;

  constructor(loop: EventLoop, status: StartStatus<T>) {
    super(loop);
    this.#status = status;
  }

  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this.#status._abandon(msg);
    return true;
  }
}

async function runStarting<T>(fn: (status: TaskStatus<T>) => unknown, status: TaskStatus<T>): Promise<unknown> {
  return await fn(status);
}

/**
 * The caller's side of `start()`: the value given to `started()`, or the task's error. Phases
 * when the caller is cancelled before `started()` (the task was cancelled with it): wait for
 * the task to end; raise its error if it failed (re-requesting the cancel), else the cancel.
 */
async function awaitStarted<T>(status: StartStatus<T>, task: Task<unknown>): Promise<T> {
  try {
    return await status._future;
  } catch (error) {
    // The task ended first (its outcome is the error), or started and belongs to the group.
    if (status._state !== "abandoned") throw error;
    while (!task.done()) {
      try {
        await task;
      } catch {
        // Its outcome is read below; a cancel of ours meanwhile was passed on to it.
      }
    }
    if (!task.cancelled() && task._hasException && !isCancellation(task.exception())) {
      const caller = currentTask();
      if (caller !== null && caller.cancelling() > 0) {
        caller.uncancel();
        caller.cancel();
      }
      throw task.exception();
    }
    throw error;
  }
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
