/**
 * Stuck programs: whether anything outside the loop's queue may still wake a task, and the
 * picture of what each blocked task awaits (the deadlock report of `runTest`, and the stall
 * report of debug mode).
 *
 * WHY "nothing can wake a task" needs two views: the loop knows its ready callbacks, timers and
 * the transports, servers and subprocesses its API made, and the thread pools know their
 * running jobs; but a task may also wait on a promise of code the library does not know
 * (`fetch`, `fs`, a third-party client), which Node completes from a handle or request of its
 * own (sockets, timers, file and DNS requests…). While a test runs, an async hook notes each
 * one made while its loop runs: any of them still referenced or not done may wake a task, so
 * the report waits; what the test runner holds is not counted. Worker threads and pool child
 * processes are counted through the library's own pools.
 *
 * WHY the hook has no `destroy` callback and opts out of promises: a hook with `destroy` makes
 * Node track the end of every promise (a weak callback per promise, paid again in each
 * collection), and one that tracks promises at all runs a hook call per promise made. Each is
 * paid by every `await` of the test. Whether a noted resource is done is instead asked of the
 * resource itself when it matters (see `stillPending`), and the list is pruned as it grows.
 * `trackPromises: false` is honoured from Node 24; Node 22 ignores it and still calls `init`
 * for each promise, which returns at once.
 */
import { type AsyncHook, AsyncResource, type HookCallbacks, createHook } from "node:async_hooks";
import { type EventLoop, _setBlockedReporter } from "../events/loop.js";
import { _getRunningLoop } from "../events/running.js";
import { _processJobsRunning } from "../processes/pool.js";
import { _threadJobsRunning } from "../threads/executor.js";
import { type LoopSnapshot, type TaskSnapshot, _snapshotLoop } from "./snapshot.js";

/**
 * Kinds of Node resources that are not work a task can be waiting for: promises (the loop
 * sees those that matter through the tasks), a file or directory handle (its operations are requests of
 * their own), signal listeners, and what runs before any callback could (ticks, microtasks).
 */
const NOT_WORK = new Set(["PROMISE", "FILEHANDLE", "DIRHANDLE", "SIGNALWRAP", "TickObject", "Microtask"]);

interface Tracked {
  type: string;
  resource: WeakRef<object>;
}

/**
 * What one watched loop's code made: the Node resources made while it ran, until found done
 * (by `_realWorkPending`, or when the list has doubled since it was last pruned).
 */
interface Watch {
  readonly made: Map<number, Tracked>;
  /** The size at which `made` is next pruned: twice what the last prune left. */
  pruneAt: number;
}

const watched = new Map<EventLoop, Watch>();
let hook: AsyncHook | null = null;
/** Set while the watcher makes a timer of its own (not the test's work). */
let ownWork = false;
/** The least size at which a watched list is pruned of resources that are done. */
const PRUNE_FROM = 64;

/** `createHook`'s options; `trackPromises` (Node 24 and later) is missing from the typings. */
type HookOptions = HookCallbacks & { trackPromises?: boolean };

function ensureHook(): AsyncHook {
  if (hook !== null) return hook;
  const options: HookOptions = {
    init(asyncId, type, _trigger, resource) {
      // An `AsyncResource` is code's own bookkeeping (a callback bound to its context): it
      // holds nothing open and is destroyed only when its owner says so.
      if (ownWork || NOT_WORK.has(type) || resource instanceof AsyncResource) return;
      const loop = _getRunningLoop();
      if (loop === null) return;
      const watch = watched.get(loop);
      if (watch === undefined) return;
      watch.made.set(asyncId, { type, resource: new WeakRef(resource as object) });
      if (watch.made.size >= watch.pruneAt) pruneDone(watch, new Set(process.getActiveResourcesInfo()));
    },
    trackPromises: false,
  };
  hook = createHook(options);
  return hook;
}

/** Drops from the watch every resource that can no longer call back; whether any may still. */
function pruneDone(watch: Watch, active: ReadonlySet<string>): boolean {
  const made = watch.made;
  let pending = false;
  for (const [id, entry] of made) {
    if (stillPending(entry, active)) pending = true;
    else made.delete(id);
  }
  watch.pruneAt = Math.max(PRUNE_FROM, made.size * 2);
  return pending;
}

/** Whether this runtime's async hooks are told of the handles code makes; `null`: not probed yet. */
let hooksSeeWork: boolean | null = null;

/**
 * @internal Whether the handles and requests code makes can be seen (probed once, at the first
 * call): Node's and Deno's async hooks are told of them, Bun's `createHook` accepts hooks and
 * never calls them. Where they cannot be seen, nothing proves that no outside work may still wake
 * a task, so `runTest` makes no deadlock report there.
 */
export function _outsideWorkVisible(): boolean {
  if (hooksSeeWork === null) {
    let seen = false;
    const probe = createHook({
      init() {
        seen = true;
      },
    }).enable();
    clearImmediate(setImmediate(() => {}));
    probe.disable();
    hooksSeeWork = seen;
  }
  return hooksSeeWork;
}

/**
 * @internal Starts counting the Node handles and requests made while `loop` runs (sockets,
 * timers, file and DNS requests…), so that `_realWorkPending` knows what the loop's code
 * still waits on, and not what the test runner around it holds. Returns the function that
 * stops it.
 */
export function _watchOutsideWork(loop: EventLoop): () => void {
  watched.set(loop, { made: new Map(), pruneAt: PRUNE_FROM });
  ensureHook().enable();
  return () => {
    watched.delete(loop);
    if (watched.size === 0) hook?.disable();
  };
}

/** @internal How many Node resources made while `loop` runs are noted (-1: not watched). */
export function _watchedResources(loop: EventLoop): number {
  return watched.get(loop)?.made.size ?? -1;
}

/** @internal Runs `fn` (which makes a timer or an immediate) without counting what it makes. */
export function _asOwnWork<T>(fn: () => T): T {
  ownWork = true;
  try {
    return fn();
  } finally {
    ownWork = false;
  }
}

/**
 * Whether a Node resource may still call back: a timer until it has fired or been cleared
 * (`_destroyed`: its `hasRef()` stays true after), a handle while it keeps the process alive
 * (`hasRef()`, false once closed), a request while Node lists its kind among the active
 * resources (`active`). A request that is done but not yet collected counts while another of
 * its kind is active: the report waits a little longer, it is never made too early.
 */
function stillPending(entry: Tracked, active: ReadonlySet<string>): boolean {
  const resource = entry.resource.deref() as
    | { hasRef?: () => boolean; _destroyed?: unknown; constructor?: { name?: string } }
    | undefined;
  if (resource === undefined || resource._destroyed === true) return false;
  if (typeof resource.hasRef === "function") return resource.hasRef();
  return active.has(resource.constructor?.name ?? entry.type);
}

/**
 * @internal Whether work outside `loop`'s queue may still wake one of its tasks: a transport,
 * server or subprocess of the loop, a job in a worker thread or a pool's child process, or (when the loop is watched,
 * see `_watchOutsideWork`) a Node handle or request its code made that is still referenced
 * or not done — an unreferenced timer does not count, as it does not keep Node alive either.
 * Unwatched, any resource Node lists counts. Call it from a fresh Node callback (a
 * `setImmediate`), so that the callback itself is not counted.
 */
export function _realWorkPending(loop: EventLoop): boolean {
  if (loop._holding().resources.length > 0) return true;
  if (_threadJobsRunning() > 0 || _processJobsRunning() > 0) return true;
  const watch = watched.get(loop);
  if (watch === undefined) {
    return process.getActiveResourcesInfo().some((kind) => kind !== "SignalWrap" && kind !== "CloseReq");
  }
  const active = new Set(process.getActiveResourcesInfo());
  if (pruneDone(watch, active)) return true;
  // A message port that is referenced now waits for a reply, wherever it was made: a module
  // loader running on its own thread (a dynamic `import()` under tsx or other loader hooks),
  // a worker thread's answer.
  return active.has("MessagePort");
}

/** `'name' (id 3)`. */
function label(task: TaskSnapshot): string {
  return `'${task.name}' (id ${task.id})`;
}

/** Every cycle of tasks waiting for tasks, each once, as lists of ids. */
function findCycles(tasks: TaskSnapshot[]): number[][] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const cycles: number[][] = [];
  const seenCycles = new Set<string>();
  const done = new Set<number>();
  const visit = (id: number, path: number[], onPath: Set<number>): void => {
    if (onPath.has(id)) {
      const cycle = path.slice(path.indexOf(id));
      const key = [...cycle].sort((a, b) => a - b).join(",");
      if (!seenCycles.has(key)) {
        seenCycles.add(key);
        cycles.push(cycle);
      }
      return;
    }
    if (done.has(id)) return;
    const task = byId.get(id);
    if (task === undefined) return;
    onPath.add(id);
    path.push(id);
    for (const next of task.awaitingTasks) visit(next, path, onPath);
    path.pop();
    onPath.delete(id);
    done.add(id);
  };
  for (const task of tasks) visit(task.id, [], new Set());
  return cycles;
}

/**
 * @internal The blocked-on picture of a loop: each pending task, what it awaits, who created
 * it, its group, where it suspended (debug mode), and every cycle of tasks awaiting tasks.
 */
export function _describeBlocked(snapshot: LoopSnapshot): string {
  const tasks = snapshot.tasks.filter((t) => t.state === "pending");
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const lines: string[] = [];
  for (const task of tasks) {
    const about: string[] = [];
    if (task.parent !== null) {
      const parent = byId.get(task.parent);
      about.push(parent === undefined ? `created by task ${task.parent}` : `created by ${label(parent)}`);
    }
    if (task.group !== null) about.push(`in ${task.group.repr}`);
    const waits =
      task.awaiting.length === 0
        ? "a promise the library did not make (or nothing: it has not started)"
        : task.awaiting.join(" and ");
    lines.push(`  Task ${label(task)}${about.length > 0 ? `, ${about.join(", ")},` : ""} awaits ${waits}`);
    const where = task.suspendedAt ?? task.stack[0];
    if (where !== undefined) lines.push(`      suspended at ${where}`);
  }
  for (const cycle of findCycles(tasks)) {
    const names = cycle.map((id) => label(byId.get(id) as TaskSnapshot));
    lines.push(`  cycle: ${[...names, names[0]].join(" awaits ")}`);
  }
  return lines.join("\n");
}

/** @internal {@link _describeBlocked} for a live loop. */
export function _blockedReport(loop: EventLoop): string {
  return _describeBlocked(_snapshotLoop(loop));
}

_setBlockedReporter(_blockedReport);
