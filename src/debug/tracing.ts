/**
 * Tracing: a picture of what the tasks of a loop did, written as a Chrome trace (for Perfetto or
 * chrome://tracing) and as a self-contained HTML timeline.
 *
 * HOW it records: the loop calls a {@link Tracer} from the few places where things happen, each
 * behind one check of `loop._tracer !== null`:
 *
 *   - a task is created (`loop._linkTask`) or finishes (`loop._unlinkTask`, called as the task
 *     settles: its outcome is read at the tracer's next call, once it is set);
 *   - a cancel is requested (`task.cancel()`, or a `timeout()`/`taskGroup()` scope's cancel);
 *   - the loop runs a ready item and then lets the microtasks drain. A task's code runs in the
 *     microtasks after the item that resumed it (its first step, or the wake-up of its await),
 *     so one *step* of a task is that item plus its drain. Debug mode already drains after each
 *     item to time it; a tracing loop does the same, so a step ends where the code suspended.
 *     At the end of a step the tracer reads what the task now awaits (the future's repr): that
 *     is the await, until the task's next step.
 *
 * WHY these hooks and no others: the loop's hot paths (running a ready item, creating a task,
 * completing a future) gain nothing but that null check when tracing is off. Code that resumes
 * from a promise the library did not make (`await fetch(…)`) runs outside any ready item, in
 * Node's own callbacks: its time shows in no step, and its await is shown as "a promise the
 * library did not make".
 *
 * Memory: at most `maxEvents` events are kept (default 1,000,000, about 200 bytes each); later
 * ones are dropped and counted, and the trace says how many (`otherData.droppedEvents`).
 *
 * Times are the loop's clock (`loop.time()`), in microseconds: on a virtual clock (`runTest`) a
 * step takes no time, as code does there.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { basename, resolve as resolvePath } from "node:path";
import { Handle, type ReadyItem } from "../events/handles.js";
import type { EventLoop } from "../events/loop.js";
import { frameStorage } from "../events/running.js";
import type { Future } from "../futures.js";
import { reprValue } from "../internal/inspect.js";
import { checkInteger, checkOptions, describe } from "../internal/validate.js";
import { type Task, _describeCoro } from "../tasks.js";
import { _timelineHtml } from "./timeline.js";

/**
 * Where a trace goes: `trace` of `run`, `Runner`, `runTest` and `new EventLoop()`. Give `file`,
 * `html` or both. The files are written when the loop closes (at the end of `run()`, also when
 * `main` failed or Ctrl-C cancelled it), or when the process exits if the loop was never closed.
 *
 * Not in asyncio: like Trio's instruments, with the output Perfetto and chrome://tracing open.
 */
export interface TraceOptions {
  /** Write the Chrome trace (JSON) here, for Perfetto or chrome://tracing; default: none. */
  file?: string;
  /** Write the HTML timeline here (one file, opens offline in any browser); default: none. */
  html?: string;
  /** Keep at most this many events; later ones are dropped and counted. Default 1,000,000. */
  maxEvents?: number;
}

/** The keys of {@link TraceOptions}. */
const TRACE_KEYS = ["file", "html", "maxEvents"] as const satisfies readonly (keyof TraceOptions)[];

/** The environment variable that traces every loop of a program (`ASYNCIO_TS_TRACE=out`). */
export const TRACE_ENV = "ASYNCIO_TS_TRACE";

const DEFAULT_MAX_EVENTS = 1_000_000;
/** The longest repr kept in an event. */
const MAX_REPR = 200;

/** @internal A `trace` option, checked: absolute paths, the event bound. */
export interface TraceTarget {
  readonly file: string | null;
  readonly html: string | null;
  readonly maxEvents: number;
}

/**
 * @internal Checks the `trace` option of `fn` (`"run()"`): `undefined` (the environment
 * decides), `false` (off, whatever the environment says), a base name or file name (see
 * {@link _targetOfName}), or {@link TraceOptions}.
 */
export function _checkTrace(fn: string, value: unknown): TraceTarget | false | undefined {
  if (value === undefined || value === false) return value;
  if (typeof value === "string") {
    if (value === "") throw new RangeError(`\`trace\` of ${fn} must be a file name, got ""`);
    return _targetOfName(value, DEFAULT_MAX_EVENTS);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `\`trace\` of ${fn} must be a base file name ("trace" writes trace.json and trace.html), ` +
        `an object { file?, html?, maxEvents? } or false, got ${describe(value)}`,
    );
  }
  const options = value as TraceOptions;
  checkOptions(`${fn} \`trace\``, options, TRACE_KEYS);
  const file = checkPath("trace.file", options.file);
  const html = checkPath("trace.html", options.html);
  if (file === null && html === null) {
    throw new TypeError(`\`trace\` of ${fn} needs \`file\`, \`html\` or both: where to write the trace`);
  }
  const maxEvents = options.maxEvents === undefined ? DEFAULT_MAX_EVENTS : checkInteger("trace.maxEvents", options.maxEvents, 1);
  return { file, html, maxEvents };
}

function checkPath(name: string, value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== "string") throw new TypeError(`\`${name}\` must be a file name, got ${describe(value)}`);
  if (value === "") throw new RangeError(`\`${name}\` must be a file name, got ""`);
  return resolvePath(value);
}

/**
 * @internal What a name given as `trace` (or in the environment variable) writes: `out.json`
 * the Chrome trace only, `out.html` the timeline only, `out` (any other name) both, as
 * `out.json` and `out.html`.
 */
export function _targetOfName(name: string, maxEvents: number): TraceTarget {
  const path = resolvePath(name);
  if (/\.json$/i.test(name)) return { file: path, html: null, maxEvents };
  if (/\.html?$/i.test(name)) return { file: null, html: path, maxEvents };
  return { file: `${path}.json`, html: `${path}.html`, maxEvents };
}

/** One event of the Chrome trace format (the JSON object format's `traceEvents`). */
export interface TraceEvent {
  /** The phase: `X` complete, `i` instant, `b`/`e` async begin/end, `M` metadata. */
  ph: "X" | "i" | "b" | "e" | "M";
  name: string;
  /** Microseconds. */
  ts: number;
  /** The loop (one "process" per loop). */
  pid: number;
  /** The task's id; 0 is the loop's own callbacks. */
  tid: number;
  dur?: number;
  cat?: string;
  id?: string;
  s?: "t" | "p" | "g";
  args?: Record<string, unknown>;
}

/** A Chrome trace, JSON object format. */
export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: "ms";
  otherData: {
    producer: string;
    program: string;
    /** Events kept, and how many were dropped past `maxEvents`. */
    events: number;
    droppedEvents: number;
    maxEvents: number;
  };
}

/** What resumed a task in a step: read before the ready item runs (running it changes it). */
type Resumption = "first step" | "result" | "error" | "cancelled";

interface Lane {
  pid: number;
  name: string;
  /** The parent task's id, 0 when none is known. */
  parent: number;
}

/** The environment's tracer: every loop made while the variable is set records into it. */
let envTracer: Tracer | null = null;

/**
 * @internal The tracer of a new loop: from its `trace` option, or from the environment when the
 * option is not given. `null`: not traced.
 */
export function _tracerFor(loop: EventLoop, target: TraceTarget | false | undefined): Tracer | null {
  let tracer: Tracer | null;
  if (target === false) tracer = null;
  else if (target !== undefined) tracer = new Tracer(target, false);
  else {
    const name = process.env[TRACE_ENV];
    if (name === undefined || name === "") return null;
    const named = _targetOfName(name, DEFAULT_MAX_EVENTS);
    if (envTracer === null || envTracer._target.file !== named.file || envTracer._target.html !== named.html) {
      envTracer = new Tracer(named, true);
    }
    tracer = envTracer;
  }
  tracer?._attach(loop);
  return tracer;
}

/**
 * @internal Records what the tasks of one or more loops do (see the module comment) and writes
 * the Chrome trace and the HTML timeline.
 *
 * Invariant: `#item` is set from the loop's `_beforeItem` call until its `_afterItem` call (a
 * step, when the item resumed code, lasts until the microtasks drained); `#finishing` holds
 * tasks that settled since the last call, their outcome not read yet.
 */
export class Tracer {
  readonly _target: TraceTarget;
  readonly #fromEnv: boolean;
  readonly #events: TraceEvent[] = [];
  #dropped = 0;
  /** Events recorded since the files were last written. */
  #dirty = false;
  /** How many events the files held when last written. */
  #written = 0;
  readonly #pids = new Map<EventLoop, number>();
  #nextPid = 1;
  #open = 0;
  #exitHook: (() => void) | null = null;
  /** Every task seen created, by id. */
  readonly #lanes = new Map<number, Lane>();
  /** The open await of each suspended task: the name its "b" event was given. */
  readonly #awaits = new Map<number, string>();
  #finishing: { task: Task<unknown>; ts: number; pid: number }[] = [];
  #item: ReadyItem | null = null;
  #itemTask: Task<unknown> | null = null;
  #itemPid = 0;
  #itemStart = 0;
  #resumption: Resumption = "result";
  #resumedBy: string | null = null;
  #delivered: string | null = null;
  #callbackName: string | null = null;

  constructor(target: TraceTarget, fromEnv: boolean) {
    this._target = target;
    this.#fromEnv = fromEnv;
  }

  /** @internal Records the tasks of `loop` too, as one more "process" of the trace. */
  _attach(loop: EventLoop): void {
    if (this.#pids.has(loop)) return;
    const pid = this.#nextPid++;
    this.#pids.set(loop, pid);
    this.#open++;
    const kind = loop.constructor.name;
    this.#events.push({ ph: "M", name: "process_name", pid, tid: 0, ts: 0, args: { name: `${kind} ${pid}` } });
    this.#events.push({ ph: "M", name: "process_sort_index", pid, tid: 0, ts: 0, args: { sort_index: pid } });
    if (this.#exitHook === null) {
      // A loop that is never closed: write what there is when the process exits.
      this.#exitHook = () => this._write();
      process.on("exit", this.#exitHook);
    }
  }

  /**
   * @internal `loop` closed: once no loop of this tracer is open, the files are written. When
   * many loops of one process share the tracer (the environment variable over a test suite),
   * they are rewritten only once the trace has grown by a tenth since the last time, so that
   * writing stays linear in the size of the trace; the exit hook writes the rest.
   */
  _detach(loop: EventLoop): void {
    if (!this.#pids.has(loop)) return;
    this.#pids.delete(loop);
    this.#open--;
    if (this.#open > 0) return;
    if (this.#events.length >= this.#written * 1.1) this._write();
    if (!this.#dirty && this.#finishing.length === 0 && this.#exitHook !== null) {
      process.removeListener("exit", this.#exitHook);
      this.#exitHook = null;
    }
  }

  // ------------------------------------------------------------------ recording

  #push(event: TraceEvent): void {
    if (this.#events.length >= this._target.maxEvents) {
      this.#dropped++;
      return;
    }
    this.#events.push(event);
    this.#dirty = true;
  }

  /** @internal A task of `loop` was created. */
  _taskCreated(loop: EventLoop, task: Task<unknown>): void {
    this.#settleFinishing();
    const pid = this.#pids.get(loop) ?? 0;
    const ts = micros(loop.time());
    const id = task._id;
    const name = task.getName();
    // Read with care: the parent's id is a field another part of the library may set.
    const parent = (task as { _parentId?: unknown })._parentId;
    const parentId = typeof parent === "number" && parent > 0 ? parent : 0;
    if (this.#events.length >= this._target.maxEvents) {
      this.#dropped += 2;
      return;
    }
    this.#lanes.set(id, { pid, name, parent: parentId });
    const args: Record<string, unknown> = { task: `${name} (${id})`, coro: _describeCoro(task._coro) };
    if (parentId > 0) args.parent = this.#label(parentId);
    this.#push({ ph: "i", s: "t", name: "created", cat: "task", ts, pid, tid: id, args });
    this.#push({ ph: "b", name, cat: "task", id: `task:${id}`, ts, pid, tid: id });
  }

  /** @internal A task of `loop` is settling: its outcome is read at the next call. */
  _taskFinished(loop: EventLoop, task: Task<unknown>): void {
    this.#finishing.push({ task, ts: micros(loop.time()), pid: this.#pids.get(loop) ?? 0 });
  }

  /** @internal `task.cancel(msg)` or a cancel scope of the task asked it to stop. */
  _cancelRequested(task: Task<unknown>, msg: string | undefined, scope: boolean): void {
    this.#settleFinishing();
    const pid = this.#pids.get(task._loop) ?? 0;
    const frame = frameStorage.getStore();
    const by = frame === undefined ? null : frame._frameTask;
    const args: Record<string, unknown> = { message: msg ?? "" };
    args.by = by === null ? "code outside any task" : by === task ? "itself" : `${by.getName()} (${by._id})`;
    if (scope) args.scope = "timeout() or taskGroup()";
    this.#push({ ph: "i", s: "t", name: "cancel requested", cat: "cancel", ts: micros(task._loop.time()), pid, tid: task._id, args });
  }

  /**
   * @internal The loop is about to run `item`, which resumes `task`'s code when it resumes any
   * (see the loop's `taskOfItem`). Reads what the task gets, before the item changes it.
   */
  _beforeItem(loop: EventLoop, item: ReadyItem, task: Task<unknown> | null): void {
    this.#settleFinishing();
    this.#item = item;
    this.#itemTask = task;
    this.#itemPid = this.#pids.get(loop) ?? 0;
    this.#itemStart = loop.time();
    this.#callbackName = null;
    this.#delivered = null;
    this.#resumedBy = null;
    if (task === null) {
      if (item instanceof Handle) this.#callbackName = item._describeCallback();
      return;
    }
    if (item === task) {
      this.#resumption = "first step";
      return;
    }
    // A wake-up: an await record, or a future awaited inline (a `sleep(0)`, a lock's, a
    // semaphore's or a queue's wait) that resumes its awaiter itself.
    const record = ((item as { _future?: unknown })._future === undefined
      ? (item as unknown as Future<unknown>)._firstRecord()
      : item) as unknown as AwaitLike | null;
    const future = record?._future ?? null;
    if (record === null || future === null) {
      this.#resumption = "result";
      return;
    }
    if (record._cancelOnRun !== null && record._cancelOnRun !== undefined) {
      this.#resumption = "cancelled";
      this.#delivered = record._cancelOnRun;
    } else if (future._state === "cancelled" || (task._mustCancel && task._state === "pending")) {
      this.#resumption = "cancelled";
      this.#delivered = future._state === "cancelled" ? (future._cancelMessage ?? "") : (task._cancelMessage ?? "");
    } else {
      this.#resumption = future._state === "finished" && future._hasException ? "error" : "result";
    }
    this.#resumedBy = describeAwaited(future);
  }

  /**
   * @internal The item begun with `_beforeItem` is over: with `resumed`, the code it resumed
   * ran until the microtasks drained (a step); else it was a plain callback.
   */
  _afterItem(loop: EventLoop, resumed: boolean): void {
    const item = this.#item;
    if (item === null) return;
    this.#item = null;
    const task = this.#itemTask;
    this.#itemTask = null;
    const pid = this.#itemPid;
    const start = micros(this.#itemStart);
    const dur = micros(loop.time()) - start;
    if (task === null) {
      const name = this.#callbackName ?? (resumed ? String(item) : null);
      if (name !== null) {
        this.#push({ ph: "X", name: trim(name), cat: "callback", ts: start, dur, pid, tid: 0 });
      }
    } else if (resumed) {
      this.#step(task, pid, start, dur);
    }
    this.#settleFinishing();
  }

  #step(task: Task<unknown>, pid: number, start: number, dur: number): void {
    const id = task._id;
    const awaited = this.#awaits.get(id);
    if (awaited !== undefined) {
      this.#awaits.delete(id);
      this.#push({ ph: "e", name: awaited, cat: "await", id: `await:${id}`, ts: start, pid, tid: id });
    }
    if (this.#delivered !== null) {
      this.#push({ ph: "i", s: "t", name: "cancel delivered", cat: "cancel", ts: start, pid, tid: id, args: { message: this.#delivered } });
    }
    const args: Record<string, unknown> = { resumed: this.#resumption };
    if (this.#resumedBy !== null) args.by = this.#resumedBy;
    const end = start + dur;
    if (task._state === "pending") {
      const waiter = task._futWaiter;
      const more = Math.max(0, task._awaitedFutures().length - 1);
      const awaiting = waiter === null
        ? "a promise the library did not make"
        : describeAwaited(waiter) + (more > 0 ? ` and ${more} more` : "");
      args.awaits = awaiting;
      this.#push({ ph: "X", name: this.#resumption === "first step" ? "first step" : "step", cat: "step", ts: start, dur, pid, tid: id, args });
      const name = trim(awaiting, 80);
      this.#awaits.set(id, name);
      this.#push({ ph: "b", name, cat: "await", id: `await:${id}`, ts: end, pid, tid: id, args: { awaiting } });
    } else {
      this.#push({ ph: "X", name: this.#resumption === "first step" ? "first step" : "step", cat: "step", ts: start, dur, pid, tid: id, args });
    }
  }

  /** Records the outcome of the tasks that settled since the last call. */
  #settleFinishing(): void {
    if (this.#finishing.length === 0) return;
    const finishing = this.#finishing;
    this.#finishing = [];
    for (const { task, ts, pid } of finishing) {
      const id = task._id;
      const lane = this.#lanes.get(id);
      if (lane !== undefined) lane.name = task.getName();
      const awaited = this.#awaits.get(id);
      if (awaited !== undefined) {
        this.#awaits.delete(id);
        this.#push({ ph: "e", name: awaited, cat: "await", id: `await:${id}`, ts, pid, tid: id });
      }
      let outcome: string;
      const args: Record<string, unknown> = {};
      if (task._state === "cancelled") {
        outcome = "cancelled";
        args.message = task._cancelMessage ?? "";
      } else if (task._hasException) {
        outcome = "error";
        const error = task._exception;
        args.error = reprValue(error, MAX_REPR);
        if (error instanceof Error && typeof error.stack === "string") {
          args.stack = error.stack.split("\n").slice(0, 8).join("\n");
        }
      } else {
        outcome = "result";
        args.result = reprValue(task._result, MAX_REPR);
      }
      this.#push({ ph: "i", s: "t", name: `finished: ${outcome}`, cat: "task", ts, pid, tid: id, args });
      this.#push({ ph: "e", name: lane?.name ?? task.getName(), cat: "task", id: `task:${id}`, ts, pid, tid: id, args: { outcome } });
    }
  }

  #label(id: number): string {
    const lane = this.#lanes.get(id);
    return lane === undefined ? `Task-${id}` : `${lane.name} (${id})`;
  }

  // ------------------------------------------------------------------ output

  /** @internal The trace so far, complete: lane names, and an end for every span still open. */
  _trace(): ChromeTrace {
    this.#settleFinishing();
    const events: TraceEvent[] = [];
    for (const [id, lane] of this.#lanes) {
      const args: Record<string, unknown> = { name: `${lane.name} (${id})` };
      events.push({ ph: "M", name: "thread_name", pid: lane.pid, tid: id, ts: 0, args });
      events.push({ ph: "M", name: "thread_sort_index", pid: lane.pid, tid: id, ts: 0, args: { sort_index: id } });
    }
    const callbackPids = new Set<number>();
    for (const event of this.#events) if (event.tid === 0 && event.ph === "X") callbackPids.add(event.pid);
    for (const pid of callbackPids) {
      events.push({ ph: "M", name: "thread_name", pid, tid: 0, ts: 0, args: { name: "loop callbacks" } });
      events.push({ ph: "M", name: "thread_sort_index", pid, tid: 0, ts: 0, args: { sort_index: -1 } });
    }
    // Not `push(...events)`: a spread of a million arguments overflows the stack.
    for (const event of this.#events) events.push(event);
    for (const event of closeOpenSpans(this.#events)) events.push(event);
    return {
      traceEvents: events,
      displayTimeUnit: "ms",
      otherData: {
        producer: "asyncio-ts",
        program: process.argv[1] === undefined ? "" : basename(process.argv[1]),
        events: this.#events.length,
        droppedEvents: this.#dropped,
        maxEvents: this._target.maxEvents,
      },
    };
  }

  /**
   * @internal Writes the files now (what was recorded so far). Never throws: a file that cannot
   * be written is reported on stderr, and the program goes on.
   */
  _write(): void {
    if (!this.#dirty && this.#finishing.length === 0) return;
    this.#dirty = false;
    this.#written = this.#events.length;
    let trace: ChromeTrace;
    try {
      trace = this._trace();
    } catch (error) {
      console.error(`asyncio-ts: could not make the trace: ${String(error)}`);
      return;
    }
    const written: string[] = [];
    const { file, html } = this._target;
    if (file !== null && attempt(file, () => writeJson(file, trace))) written.push(file);
    if (html !== null && attempt(html, () => writeText(html, _timelineHtml(trace)))) written.push(html);
    if (this.#fromEnv && written.length > 0) {
      const dropped = trace.otherData.droppedEvents;
      process.stderr.write(
        `asyncio-ts: trace written to ${written.join(" and ")} (${trace.otherData.events} events` +
          `${dropped > 0 ? `, ${dropped} dropped past ${trace.otherData.maxEvents}` : ""})\n`,
      );
    }
  }
}

/** The part of an await record the tracer reads. */
interface AwaitLike {
  _future: Future<unknown> | null;
  _cancelOnRun?: string | null;
}

/** An "e" for every "b" of the same category and id that has none (tasks still pending, awaits). */
function closeOpenSpans(events: readonly TraceEvent[]): TraceEvent[] {
  const open = new Map<string, TraceEvent>();
  let last = 0;
  for (const event of events) {
    last = Math.max(last, event.ts + (event.dur ?? 0));
    if (event.ph === "b") open.set(`${event.cat}/${event.id}`, event);
    else if (event.ph === "e") open.delete(`${event.cat}/${event.id}`);
  }
  const ends: TraceEvent[] = [];
  for (const begin of open.values()) {
    ends.push({
      ph: "e",
      name: begin.name,
      cat: begin.cat,
      id: begin.id,
      ts: last,
      pid: begin.pid,
      tid: begin.tid,
      args: { outcome: "still pending when the trace was written" },
    });
  }
  return ends;
}

function attempt(path: string, write: () => void): boolean {
  try {
    write();
    return true;
  } catch (error) {
    console.error(`asyncio-ts: could not write the trace to ${path}: ${(error as Error).message ?? String(error)}`);
    return false;
  }
}

/** Writes the trace in pieces: one string for a million events would pass V8's string limit. */
function writeJson(path: string, trace: ChromeTrace): void {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, '{"traceEvents":[\n');
    const events = trace.traceEvents;
    const chunk = 4096;
    for (let i = 0; i < events.length; i += chunk) {
      const part = events.slice(i, i + chunk).map((event) => JSON.stringify(event)).join(",\n");
      writeSync(fd, i === 0 ? part : `,\n${part}`);
    }
    writeSync(fd, `\n],\n"displayTimeUnit":"ms",\n"otherData":${JSON.stringify(trace.otherData)}}\n`);
  } finally {
    closeSync(fd);
  }
}

function writeText(path: string, text: string): void {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * What a task awaits, for the trace: the future's repr without its callbacks (the awaiting
 * task is the lane already), under the name of the library class that made it (`GetOperation`
 * for `queue.get()`); a sleep says until when, and how long that is from now.
 */
function describeAwaited(future: Future<unknown>): string {
  const kind = future.constructor.name;
  if (kind === "SleepFuture") {
    const when = (future as unknown as { _when: number })._when;
    const until = `sleep until loop time ${Number.isFinite(when) ? when.toFixed(3) : String(when)}`;
    if (future._state !== "pending") return `${until} (${future._state})`;
    const left = when - future._loop.time();
    return Number.isFinite(left) ? `${until}, ${left.toFixed(3)} s to go` : until;
  }
  if (kind === "YieldFuture") return "sleep(0)";
  let text = future.toString().replace(/ cb=\[[^\]]*\]/g, "");
  if (kind !== "" && kind !== future._kind() && text.startsWith(`<${future._kind()}`)) {
    text = `<${kind}${text.slice(future._kind().length + 1)}`;
  }
  return trim(text, MAX_REPR);
}

/** Seconds to microseconds, to the nanosecond. */
function micros(seconds: number): number {
  return Math.round(seconds * 1e9) / 1e3;
}

function trim(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
