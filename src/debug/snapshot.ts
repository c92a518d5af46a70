/**
 * A picture of every task of every loop, as plain data: what `asyncio-ts ps|pstree PID` prints
 * and what the deadlock and stall reports describe.
 *
 * HOW the command gets it: importing the library adds a function to the array at
 * `globalThis[Symbol.for("asyncio-ts.introspect")]` (one per copy of the library loaded), which
 * returns the snapshot as JSON. The command asks Node's inspector in the target process to call
 * it. Taking it only reads: it changes nothing, and a field it cannot read comes out empty.
 */
import { readFileSync } from "node:fs";
import type { EventLoop } from "../events/loop.js";
import { _allLoops } from "../events/running.js";
import type { Future } from "../futures.js";
import { Task, _createdAt, currentTask } from "../tasks.js";
import { _awaitersOf, _groupOf, _suspendedStack } from "./graph.js";

/** One task in a {@link TasksSnapshot}. */
export interface TaskSnapshot {
  /** A number unique to the task in this process (the `N` of the default name `Task-N`). */
  id: number;
  /** The task's name (`task.getName()`). */
  name: string;
  /** Whether the task is still running, finished, or ended cancelled. */
  state: "pending" | "finished" | "cancelled";
  /** The task whose code took the snapshot. */
  current: boolean;
  /** Reprs of what its code awaits now (`<Lock [locked, waiters:2]>`). */
  awaiting: string[];
  /** Ids of the tasks it waits for (directly, or through gather, wait, shield, its task group). */
  awaitingTasks: number[];
  /** Ids of the tasks that wait for it. */
  awaitedBy: number[];
  /** The id of the task whose code created it, or `null`. */
  parent: number | null;
  /** Its task group while it runs in one. */
  group: {
    /** A number unique to the group in this process. */
    id: number;
    /** How the group prints (`<TaskGroup tasks=3>`). */
    repr: string;
  } | null;
  /** Where it was created (debug mode), or `null`. */
  createdAt: string | null;
  /** Best-effort frames, innermost first (debug mode: where it suspended); may be empty. */
  stack: string[];
  /** The innermost frame of `stack` in the program's own code (not the library's), or `null`. */
  suspendedAt: string | null;
}

/** One loop in a {@link TasksSnapshot}. */
export interface LoopSnapshot {
  /** A number unique to the loop in this process. */
  id: number;
  /** Whether the loop is running (`loop.isRunning()`). */
  running: boolean;
  /** Whether the loop is closed (`loop.isClosed()`). */
  closed: boolean;
  /** Whether the loop is in debug mode (`loop.getDebug()`). */
  debug: boolean;
  /** The loop's clock, in seconds. */
  time: number;
  /** The loop's live tasks. */
  tasks: TaskSnapshot[];
}

/** Every live task of every loop of the process. */
export interface TasksSnapshot {
  /** The process's id. */
  pid: number;
  /** The library's version. */
  version: string;
  /** Every loop of the process that runs or has tasks. */
  loops: LoopSnapshot[];
}

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

/** Reads `read()`, or gives `fallback` when the state it reads is not what it expects. */
function tolerant<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** @internal The futures `task`'s code awaits now. */
export function _awaitsOf(task: Task<unknown>): Future<unknown>[] {
  return task._awaitedFutures();
}

/** @internal The snapshot of one loop. */
export function _snapshotLoop(loop: EventLoop): LoopSnapshot {
  const tasks = tolerant(() => loop._liveTasks(), [] as Task<unknown>[]);
  const current = tolerant(() => currentTask(loop), null);
  const awaitingTasks = new Map<number, number[]>();
  const entries: TaskSnapshot[] = tasks.map((task) => {
    const awaitedBy = tolerant(
      () => _awaitersOf(task).filter((f): f is Task<unknown> => f instanceof Task).map((t) => t._id),
      [] as number[],
    );
    for (const id of awaitedBy) {
      const list = awaitingTasks.get(id);
      if (list === undefined) awaitingTasks.set(id, [task._id]);
      else list.push(task._id);
    }
    const group = tolerant(() => _groupOf(task), null);
    const frames = tolerant(() => _suspendedStack(task), []);
    const own = frames.find((frame) => !frame._isLibrary);
    return {
      id: task._id,
      name: tolerant(() => task.getName(), `Task-${task._id}`),
      state: task._state,
      current: task === current,
      awaiting: tolerant(() => _awaitsOf(task).map((f) => f._describeWait()), [] as string[]),
      awaitingTasks: [],
      awaitedBy,
      parent: task._parentId === 0 ? null : task._parentId,
      group: group === null ? null : { id: group._id, repr: tolerant(() => group.toString(), "<TaskGroup>") },
      createdAt: _createdAt.get(task) ?? null,
      stack: frames.map(String),
      suspendedAt: own === undefined ? null : String(own),
    };
  });
  for (const entry of entries) entry.awaitingTasks = awaitingTasks.get(entry.id) ?? [];
  return {
    id: loop._id,
    running: tolerant(() => loop.isRunning(), false),
    closed: tolerant(() => loop.isClosed(), false),
    debug: tolerant(() => loop.getDebug(), false),
    time: tolerant(() => loop.time(), 0),
    tasks: entries,
  };
}

/** @internal The snapshot of every loop that has tasks or runs. */
export function _tasksSnapshot(): TasksSnapshot {
  const loops = _allLoops()
    .filter((loop) => tolerant(() => loop.isRunning() || loop._firstTask !== null, false))
    .map(_snapshotLoop);
  return { pid: process.pid, version: packageVersion(), loops };
}

/** The key of the global array the `asyncio-ts` command reads. */
const INTROSPECT = Symbol.for("asyncio-ts.introspect");

const registry = globalThis as unknown as Record<symbol, Array<() => string> | undefined>;
(registry[INTROSPECT] ??= []).push(() => JSON.stringify(_tasksSnapshot()));
