/**
 * What `asyncio-ts ps|pstree PID` reads from a running process: on import, the library adds a
 * function to the array `globalThis[Symbol.for("asyncio-ts.introspect")]` (several copies of
 * the library each add one); calling it returns a JSON {@link TasksSnapshot} of the running
 * loop's tasks. The command evaluates it through the inspector and changes nothing.
 *
 * This version fills what can be read from outside the tasks: direct awaits (task on task,
 * task on a lock or a future) and task-group membership (by the done callback a group puts on
 * each of its tasks). `parent`, `stack`, and awaited-by edges through gather/wait/shield and
 * task groups are left empty here.
 */
import { readFileSync } from "node:fs";
import type { EventLoop } from "../events/loop.js";
import { _getRunningLoop } from "../events/running.js";
import type { Future } from "../futures.js";
import { Task, _createdAt, currentTask } from "../tasks.js";

/** The tasks of one process. */
export interface TasksSnapshot {
  pid: number;
  /** The version of this copy of asyncio-ts. */
  version: string;
  loops: LoopSnapshot[];
}

/** One event loop and its live tasks. */
export interface LoopSnapshot {
  id: number;
  running: boolean;
  closed: boolean;
  debug: boolean;
  /** The loop's time, in seconds. */
  time: number;
  tasks: TaskSnapshot[];
}

/** One task. */
export interface TaskSnapshot {
  id: number;
  name: string;
  state: "pending" | "finished" | "cancelled";
  /** The task running now (the snapshot was taken inside it). */
  current: boolean;
  /** Reprs of what it awaits now. */
  awaiting: string[];
  /** Ids of the tasks among what it awaits. */
  awaitingTasks: number[];
  /** Ids of the tasks that await this one. */
  awaitedBy: number[];
  /** Id of the task that created it. */
  parent: number | null;
  /** Its task group. */
  group: { id: number; repr: string } | null;
  /** `file:line:col` where it was created (debug mode only), else `null`. */
  createdAt: string | null;
  /** Best-effort frames `fn (file:line:col)`, innermost first; may be empty. */
  stack: string[];
}

const loopIds = new WeakMap<EventLoop, number>();
let nextLoopId = 1;
let version: string | null = null;

function packageVersion(): string {
  if (version === null) {
    try {
      const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
      version = String((JSON.parse(text) as { version?: unknown }).version ?? "unknown");
    } catch {
      version = "unknown";
    }
  }
  return version;
}

/**
 * A future's repr, or a short one when the repr fails (a task in an await cycle recurses
 * through `wait_for=` without end).
 */
function safeRepr(future: Future<unknown>): string {
  try {
    return future.toString();
  } catch {
    return future instanceof Task ? `<Task ${future._state} name='${future.getName()}'>` : `<Future ${future._state}>`;
  }
}

/** The callback records of a future (`_cb0`, then `_cbs`). */
function callbackRecords(future: Future<unknown>): unknown[] {
  const records: unknown[] = [];
  if (future._cb0 !== null) records.push(future._cb0);
  if (future._cbs !== null) records.push(...future._cbs);
  return records;
}

/** The done callback a task group puts on each of its tasks: one function per group. */
function groupCallback(task: Task<unknown>): object | null {
  for (const record of callbackRecords(task as Future<unknown>)) {
    const fn = (record as { _fn?: unknown })._fn;
    if (typeof fn === "function" && fn.name === "#onTaskDone") return fn;
  }
  return null;
}

function loopSnapshot(loop: EventLoop): LoopSnapshot {
  let id = loopIds.get(loop);
  if (id === undefined) {
    id = nextLoopId++;
    loopIds.set(loop, id);
  }
  const running = currentTask();
  const tasks = loop._liveTasks();
  const groups = new Map<object, { id: number; members: number }>();
  const groupOf = new Map<Task<unknown>, object>();
  for (const task of tasks) {
    const fn = groupCallback(task);
    if (fn === null) continue;
    groupOf.set(task, fn);
    const known = groups.get(fn);
    if (known === undefined) groups.set(fn, { id: groups.size + 1, members: 1 });
    else known.members++;
  }
  const snapshots = tasks.map((task): TaskSnapshot => {
    const records = task._waitRecords === null ? [task._waitRecord] : [task._waitRecord, ...task._waitRecords];
    const awaiting: string[] = [];
    const awaitingTasks: number[] = [];
    for (const record of records) {
      if (record === null || !record._isAwait()) continue;
      const future = record._future;
      awaiting.push(safeRepr(future));
      if (future instanceof Task) awaitingTasks.push(future._id);
    }
    const fn = groupOf.get(task);
    const group = fn === undefined ? undefined : groups.get(fn);
    return {
      id: task._id,
      name: task.getName(),
      state: task._state,
      current: task === running,
      awaiting,
      awaitingTasks,
      awaitedBy: [],
      parent: null,
      group: group === undefined ? null : { id: group.id, repr: `<TaskGroup tasks=${group.members}>` },
      createdAt: _createdAt.get(task) ?? null,
      stack: [],
    };
  });
  const byId = new Map(snapshots.map((s) => [s.id, s]));
  for (const s of snapshots) for (const awaited of s.awaitingTasks) byId.get(awaited)?.awaitedBy.push(s.id);
  return {
    id,
    running: loop.isRunning(),
    closed: loop.isClosed(),
    debug: loop.getDebug(),
    time: loop.time(),
    tasks: snapshots,
  };
}

/** The snapshot as JSON: the running loop's tasks (none when no loop runs). */
function takeSnapshot(): string {
  const loop = _getRunningLoop();
  const snapshot: TasksSnapshot = {
    pid: process.pid,
    version: packageVersion(),
    loops: loop === null ? [] : [loopSnapshot(loop)],
  };
  return JSON.stringify(snapshot);
}

const KEY = Symbol.for("asyncio-ts.introspect");
const registry = globalThis as unknown as Record<symbol, unknown>;
if (registry[KEY] === undefined) registry[KEY] = [];
const introspectors = registry[KEY];
if (Array.isArray(introspectors)) introspectors.push(takeSnapshot);
