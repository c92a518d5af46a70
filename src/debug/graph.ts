/**
 * The call graph (CPython 3.14's `asyncio.graph`): which code a task is running, and which
 * tasks wait for it.
 *
 * HOW the awaited-by edges are found: nothing new is recorded when code awaits. A pending
 * future keeps its callbacks; an await made by a task's code is a callback record that names
 * its task (the same record that lets a cancel reach the await). Library helpers that wait on
 * a future for someone else name that someone on their callback: `gather`, `shield`, `wait`
 * and `race` name the future they return (whoever awaits it awaits the children), a task group
 * names itself (the task running the group's body awaits its tasks). So the edges are read
 * from what is already there when the graph is asked for, and cost nothing before.
 * `futureAddToAwaitedBy` adds an edge by hand, for code that waits on a future through a
 * callback of its own.
 *
 * WHY the call stack is best effort: V8 keeps the async stack of the code running now (the
 * `at async …` frames), so the current task's stack is real. For a suspended task, JavaScript
 * offers no way to read where it suspended; in debug mode the library remembers where the
 * task's code made the future it awaits (`await sleep(1)`, `await q.get()`), and that is shown.
 */
import { RuntimeError } from "../errors.js";
import { _getRunningLoop } from "../events/running.js";
import { AwaitRecord, DoneCallback, Future, _suspendedAt, type CallbackRecord } from "../futures.js";
import { type ParsedFrame, _parseStack } from "../internal/callsite.js";
import { checkOptions, describe } from "../internal/validate.js";
import { TaskGroup } from "../taskgroups.js";
import { Task, currentTask } from "../tasks.js";

/**
 * One frame of a call stack in a {@link FutureCallGraph}.
 *
 * asyncio: `asyncio.FrameCallGraphEntry` (3.14), which holds a Python frame object; here the
 * frame's parts, as V8 reports them.
 */
export class FrameCallGraphEntry {
  /** The function's name as V8 prints it (`main`, `Worker.run`, `<anonymous>`). */
  readonly functionName: string;
  /** The file (a path; `node:…` for Node's own code; `""` when V8 gives none). */
  readonly fileName: string;
  /** 1-based line, 0 when unknown. */
  readonly lineNumber: number;
  /** 1-based column, 0 when unknown. */
  readonly columnNumber: number;
  /** An `async` frame: an async function suspended further up the await chain. */
  readonly isAsync: boolean;
  /** @internal The library's own code (or Node's). */
  readonly _isLibrary: boolean;

  /** @internal */
  constructor(frame: ParsedFrame) {
    this.functionName = frame.functionName === "" ? "<anonymous>" : frame.functionName;
    this.fileName = frame.fileName;
    this.lineNumber = frame.lineNumber;
    this.columnNumber = frame.columnNumber;
    this.isAsync = frame.isAsync;
    this._isLibrary = frame.isLibrary;
  }

  /** `async main (/app/main.ts:12:5)`. */
  toString(): string {
    const where = this.fileName === "" ? "" : ` (${this.fileName}:${this.lineNumber}:${this.columnNumber})`;
    return `${this.isAsync ? "async " : ""}${this.functionName}${where}`;
  }
}

/**
 * A future or task, the stack of the code it runs (innermost first), and the graphs of what
 * awaits it.
 *
 * asyncio: `asyncio.FutureCallGraph` (3.14).
 */
export class FutureCallGraph {
  /** @internal */
  constructor(
    /** The future or task this node is about. */
    readonly future: Future<unknown>,
    /** Its code's stack, innermost frame first; empty for a plain future (best effort: see the module). */
    readonly callStack: readonly FrameCallGraphEntry[],
    /** The graphs of the futures and tasks that await it. */
    readonly awaitedBy: readonly FutureCallGraph[],
  ) {}
}

/** Options of {@link captureCallGraph} and {@link formatCallGraph}. */
export interface CallGraphOptions {
  /** How many frames of the caller's stack to skip, counting the caller as 1; default 1. */
  depth?: number;
  /**
   * How many frames of each stack to keep: `n > 0` the innermost n, `n < 0` the outermost -n,
   * `0` none; default all.
   */
  limit?: number | null;
}

/** Options of {@link printCallGraph}. */
export interface PrintCallGraphOptions extends CallGraphOptions {
  /** Where to write; anything with `write(s)`; default `process.stdout`. */
  file?: {
    /** Called with the text to write. */
    write(s: string): unknown;
  };
}

const GRAPH_KEYS = ["depth", "limit"] as const satisfies readonly (keyof CallGraphOptions)[];
const PRINT_KEYS = ["file", "depth", "limit"] as const satisfies readonly (keyof PrintCallGraphOptions)[];

/** Edges added by hand: future → the futures that await it. */
const addedEdges = new WeakMap<Future<unknown>, Set<Future<unknown>>>();

function checkFuture(name: string, value: unknown): Future<unknown> {
  if (!(value instanceof Future)) {
    throw new TypeError(`\`${name}\` must be a Future or a Task, got ${describe(value)}`);
  }
  return value;
}

/**
 * Records that `waiter` awaits `fut`, for the call graph: for code that waits on a future
 * through a callback of its own rather than an `await`, `gather`, `wait`, `shield` or a task
 * group (which are seen without this). Undo it with {@link futureDiscardFromAwaitedBy}.
 *
 * @throws {TypeError} when either is not a {@link Future} (asyncio ignores those silently).
 *
 * asyncio: `asyncio.future_add_to_awaited_by(fut, waiter)` (3.14).
 */
export function futureAddToAwaitedBy(fut: Future<unknown>, waiter: Future<unknown>): void {
  checkFuture("fut", fut);
  checkFuture("waiter", waiter);
  let set = addedEdges.get(fut);
  if (set === undefined) addedEdges.set(fut, (set = new Set()));
  set.add(waiter);
}

/**
 * Removes an edge added with {@link futureAddToAwaitedBy}; nothing happens when there is none.
 *
 * @throws {TypeError} when either is not a {@link Future}.
 *
 * asyncio: `asyncio.future_discard_from_awaited_by(fut, waiter)` (3.14).
 */
export function futureDiscardFromAwaitedBy(fut: Future<unknown>, waiter: Future<unknown>): void {
  checkFuture("fut", fut);
  checkFuture("waiter", waiter);
  const set = addedEdges.get(fut);
  if (set === undefined) return;
  set.delete(waiter);
  if (set.size === 0) addedEdges.delete(fut);
}

/** The callback records of a pending future, in order (a done future has none). */
function recordsOf(fut: Future<unknown>): CallbackRecord[] {
  return fut._callbackRecords();
}

/**
 * @internal The futures and tasks awaiting `fut`, in the order they started to: tasks whose
 * code awaits it, the awaiters of a `gather`/`shield`/`wait`/`race` future following it, the
 * task running the body of its task group, and edges added by hand. Reads state as it is,
 * even half-updated: it never changes anything.
 */
export function _awaitersOf(fut: Future<unknown>): Future<unknown>[] {
  const out = new Set<Future<unknown>>();
  collectAwaiters(fut, out, new Set());
  out.delete(fut);
  return [...out];
}

function collectAwaiters(fut: Future<unknown>, out: Set<Future<unknown>>, seen: Set<Future<unknown>>): void {
  if (seen.has(fut)) return;
  seen.add(fut);
  for (const record of recordsOf(fut)) {
    if (record instanceof AwaitRecord) {
      const task = record._task;
      if (task !== null && task._state === "pending" && record._isAwait()) out.add(task);
    } else if (record instanceof DoneCallback && record._waiter !== null) {
      let waiter: unknown = record._waiter;
      if (typeof waiter === "function") waiter = (waiter as () => unknown)();
      if (waiter instanceof TaskGroup) {
        const parent = waiter._graphParent();
        if (parent !== null) out.add(parent);
      } else if (waiter instanceof Task) {
        out.add(waiter as Task<unknown>);
      } else if (waiter instanceof Future) {
        // A future a helper returned (gather's, shield's): its awaiters await this one.
        collectAwaiters(waiter, out, seen);
      }
    }
  }
  const added = addedEdges.get(fut);
  if (added !== undefined) for (const waiter of added) out.add(waiter);
}

/** @internal The task group `task` belongs to while it runs, or `null`. */
export function _groupOf(task: Task<unknown>): TaskGroup | null {
  for (const record of recordsOf(task)) {
    if (record instanceof DoneCallback && record._waiter instanceof TaskGroup) return record._waiter;
  }
  return null;
}

/** Keeps the frames `limit` asks for (innermost first in, innermost first out). */
function applyLimit<F>(frames: F[], limit: number | null): F[] {
  if (limit === null) return frames;
  if (limit === 0) return [];
  return limit > 0 ? frames.slice(0, limit) : frames.slice(limit);
}

/**
 * A task's frames end where the library started its code: drop the bottom frames that are the
 * library's machinery or Node's (the task's first step, the loop), never async ones.
 */
function trimBottom(all: ParsedFrame[]): ParsedFrame[] {
  // Node's own synchronous frames (the microtask queue that resumed the code) are machinery.
  const frames = all.filter((frame) => frame.isAsync || !frame.fileName.startsWith("node:"));
  let end = frames.length;
  while (end > 0) {
    const frame = frames[end - 1] as ParsedFrame;
    if (frame.isAsync || !frame.isLibrary) break;
    end--;
  }
  return frames.slice(0, end);
}

/** @internal The frames of a stack string, as a task's stack: `skip` top frames dropped. */
export function _taskFrames(stack: string, skip: number): FrameCallGraphEntry[] {
  let frames = _parseStack(stack).slice(skip);
  // The constructors of the futures the library made are not where the code is.
  while (frames.length > 0 && (frames[0] as ParsedFrame).isLibrary && (frames[0] as ParsedFrame).functionName.startsWith("new ")) {
    frames = frames.slice(1);
  }
  return trimBottom(frames).map((frame) => new FrameCallGraphEntry(frame));
}

/** @internal Best effort: where a task other than the current one is suspended (debug mode). */
export function _suspendedStack(fut: Future<unknown>): FrameCallGraphEntry[] {
  if (!(fut instanceof Task)) return [];
  const task = fut as Task<unknown>;
  const captured = _suspendedAt.get(task);
  if (captured !== undefined) return _taskFrames(captured.stack ?? "", 0);
  // Without debug mode's record, at least the function the task runs, as asyncio shows the
  // task's outermost coroutine.
  const coro = task._coro as unknown;
  const name = typeof coro === "function" ? coro.name : "";
  if (name === "") return [];
  return [new FrameCallGraphEntry({ functionName: name, fileName: "", lineNumber: 0, columnNumber: 0, isAsync: true, isLibrary: false })];
}

function buildGraph(fut: Future<unknown>, limit: number | null, path: Set<Future<unknown>>): FutureCallGraph {
  const stack = limit === 0 ? [] : applyLimit(_suspendedStack(fut), limit);
  path.add(fut);
  const awaitedBy: FutureCallGraph[] = [];
  // A cycle (tasks awaiting each other: a deadlock) ends where it comes back.
  for (const waiter of _awaitersOf(fut)) if (!path.has(waiter)) awaitedBy.push(buildGraph(waiter, limit, path));
  path.delete(fut);
  return new FutureCallGraph(fut, stack, awaitedBy);
}

function readOptions(fn: string, options: CallGraphOptions | undefined, keys: readonly string[]): { depth: number; limit: number | null } {
  if (options !== undefined) checkOptions(fn, options, keys as readonly (keyof CallGraphOptions)[]);
  const depth = options?.depth ?? 1;
  if (!Number.isInteger(depth) || depth < 0) {
    throw new RangeError(`${fn}: \`depth\` must be an integer >= 0, got ${describe(depth)}`);
  }
  const limit = options?.limit ?? null;
  if (limit !== null && !Number.isInteger(limit)) {
    throw new TypeError(`${fn}: \`limit\` must be an integer or null, got ${describe(limit)}`);
  }
  return { depth, limit };
}

/**
 * Whether `Error.captureStackTrace(holder, fn)` finds `fn` further up than its direct caller, as
 * V8 does; `null`: not probed yet. Bun 1.x finds only the direct caller (and leaves no frame
 * otherwise), and its engine drops the frame of a function that ends in `return f()` (a proper
 * tail call), so there the stack is cut after the library's own frames instead.
 */
let captureFindsCallers: boolean | null = null;

function probeCapture(): boolean {
  const inner = (above: () => string): string => {
    const holder: { stack?: string } = {};
    Error.captureStackTrace(holder, above);
    return holder.stack ?? "";
  };
  const outer = (): string => {
    const stack = inner(outer);
    return stack;
  };
  return /\n\s+at /.test(outer());
}

/** The stack of the code calling `above`, with `depth - 1` more frames skipped. */
function liveStack(above: (...args: never[]) => unknown, depth: number): FrameCallGraphEntry[] {
  captureFindsCallers ??= probeCapture();
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  const holder: { stack?: string } = {};
  try {
    Error.captureStackTrace(holder, captureFindsCallers ? above : liveStack);
  } finally {
    Error.stackTraceLimit = saved;
  }
  const stack = holder.stack ?? "";
  let skip = Math.max(depth - 1, 0);
  if (!captureFindsCallers) {
    const frames = _parseStack(stack);
    let own = 0;
    while (own < frames.length && (frames[own] as ParsedFrame).isLibrary) own++;
    skip += own;
  }
  return _taskFrames(stack, skip);
}

function capture(
  future: Future<unknown> | undefined,
  options: CallGraphOptions | undefined,
  fn: string,
  above: (...args: never[]) => unknown,
  extraDepth: number,
): FutureCallGraph | null {
  const { depth, limit } = readOptions(fn, options, GRAPH_KEYS);
  if (future !== undefined) checkFuture("future", future);
  const loop = _getRunningLoop();
  let target = future;
  if (target === undefined) {
    if (loop === null) {
      throw new RuntimeError(
        `${fn} was called outside a running event loop with no future to look at: call it ` +
          "inside run(main), or pass the future or task",
      );
    }
    target = currentTask() ?? undefined;
    if (target === undefined) return null;
  } else if (loop === null || target !== currentTask()) {
    return buildGraph(target, limit, new Set());
  }
  const stack = limit === 0 ? [] : applyLimit(liveStack(above, depth + extraDepth), limit);
  const path = new Set<Future<unknown>>([target]);
  const awaitedBy: FutureCallGraph[] = [];
  for (const waiter of _awaitersOf(target)) if (!path.has(waiter)) awaitedBy.push(buildGraph(waiter, limit, path));
  return new FutureCallGraph(target, stack, awaitedBy);
}

/**
 * The call graph of `future` (default: the current task): its stack and, recursively, what
 * awaits it. For the current task the stack is the live one (the caller's, `depth` counting
 * the caller as 1); for another task it is where debug mode saw it suspend, else empty.
 * Returns `null` when no future is given and no task runs (a plain loop callback).
 *
 * @throws {RuntimeError} with no `future` outside a running loop.
 * @throws {TypeError} when `future` is not a Future; for an unknown option.
 *
 * @example
 * const graph = captureCallGraph();  // inside a task
 * for (const parent of graph?.awaitedBy ?? []) console.log(parent.future.toString());
 *
 * asyncio: `asyncio.capture_call_graph(future=None, *, depth=1, limit=None)` (3.14).
 */
export function captureCallGraph(future?: Future<unknown>, options?: CallGraphOptions): FutureCallGraph | null {
  return capture(future, options, "captureCallGraph()", captureCallGraph, 0);
}

/** A stable number for a plain future in the printed graph (tasks have their own). */
const futureIds = new WeakMap<Future<unknown>, number>();
let futureCounter = 0;

function describeNode(future: Future<unknown>): string {
  if (future instanceof Task) {
    const task = future as Task<unknown>;
    return `* Task(name='${task.getName()}', id=0x${task._id.toString(16)})`;
  }
  let id = futureIds.get(future);
  if (id === undefined) futureIds.set(future, (id = ++futureCounter));
  return `* Future(id=0x${id.toString(16)})`;
}

function describeFrame(entry: FrameCallGraphEntry): string {
  const name = `${entry.isAsync ? "async " : ""}${entry.functionName}()`;
  if (entry.fileName === "") return `in ${name}`;
  return `File '${entry.fileName}', line ${entry.lineNumber}, in ${name}`;
}

function render(graph: FutureCallGraph, lines: string[], level: number): void {
  const indent = "    ".repeat(level);
  lines.push(indent + describeNode(graph.future));
  if (graph.callStack.length > 0) {
    lines.push(`${indent}  + Call stack:`);
    for (const entry of graph.callStack) lines.push(`${indent}  |   ${describeFrame(entry)}`);
  }
  if (graph.awaitedBy.length > 0) {
    lines.push(`${indent}  + Awaited by:`);
    for (const parent of graph.awaitedBy) render(parent, lines, level + 1);
  }
}

/**
 * The call graph of `future` (default: the current task) as text, in CPython's layout:
 * `* Task(name='…', id=0x…)`, its `+ Call stack:` and `+ Awaited by:` sections, nested four
 * spaces a level. `""` where {@link captureCallGraph} gives `null`. Task ids are the tasks'
 * numbers (`Task-N`), not addresses.
 *
 * @throws as {@link captureCallGraph}.
 *
 * asyncio: `asyncio.format_call_graph(future=None, *, depth=1, limit=None)` (3.14).
 */
export function formatCallGraph(future?: Future<unknown>, options?: CallGraphOptions): string {
  const graph = capture(future, options, "formatCallGraph()", formatCallGraph, 0);
  if (graph === null) return "";
  const lines: string[] = [];
  render(graph, lines, 0);
  return lines.join("\n");
}

/**
 * Writes {@link formatCallGraph}'s text and a newline to `options.file` (default stdout).
 *
 * @throws as {@link captureCallGraph}; {@link TypeError} when `file` has no `write` method.
 *
 * asyncio: `asyncio.print_call_graph(future=None, *, file=None, depth=1, limit=None)` (3.14).
 */
export function printCallGraph(future?: Future<unknown>, options?: PrintCallGraphOptions): void {
  if (options !== undefined) checkOptions("printCallGraph()", options, PRINT_KEYS);
  const file = options?.file ?? process.stdout;
  if (file === null || typeof file !== "object" || typeof (file as { write?: unknown }).write !== "function") {
    throw new TypeError(`printCallGraph(): \`file\` must have a write(s) method, got ${describe(file)}`);
  }
  const graphOptions: CallGraphOptions = {};
  if (options?.depth !== undefined) graphOptions.depth = options.depth;
  if (options?.limit !== undefined) graphOptions.limit = options.limit;
  const graph = capture(future, graphOptions, "printCallGraph()", printCallGraph, 0);
  if (graph === null) {
    file.write("\n");
    return;
  }
  const lines: string[] = [];
  render(graph, lines, 0);
  file.write(`${lines.join("\n")}\n`);
}
