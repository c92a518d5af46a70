/**
 * Reading the traces the tracing tests write: the Chrome trace JSON and its lanes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One event as written (the fields the tests read). */
export interface Event {
  ph: string;
  name: string;
  ts: number;
  pid: number;
  tid: number;
  dur?: number;
  cat?: string;
  id?: string;
  s?: string;
  args?: Record<string, unknown>;
}

export interface Trace {
  traceEvents: Event[];
  displayTimeUnit: string;
  otherData: { producer: string; program: string; events: number; droppedEvents: number; maxEvents: number };
}

/** Reads and parses a trace file: it must be valid JSON in the object format. */
export function readTrace(path: string): Trace {
  const trace = JSON.parse(readFileSync(path, "utf8")) as Trace;
  assert.ok(Array.isArray(trace.traceEvents), "traceEvents is an array");
  return trace;
}

/** The lanes: task id to the lane's name ("name (id)"), from the thread_name metadata. */
export function laneNames(trace: Trace): Map<number, string> {
  const names = new Map<number, string>();
  for (const event of trace.traceEvents) {
    if (event.ph === "M" && event.name === "thread_name" && event.tid !== 0) {
      names.set(event.tid, String(event.args?.name));
    }
  }
  return names;
}

/** The events of one lane (task id), metadata left out, in the order written. */
export function laneEvents(trace: Trace, tid: number): Event[] {
  return trace.traceEvents.filter((event) => event.tid === tid && event.ph !== "M");
}

/** The id of the lane named `name (id)`; fails when there is not exactly one. */
export function laneOf(trace: Trace, name: string): number {
  const ids = [...laneNames(trace)].filter(([id, lane]) => lane === `${name} (${id})`).map(([id]) => id);
  assert.equal(ids.length, 1, `one lane named ${name}, got ${ids.length}: ${[...laneNames(trace).values()].join(", ")}`);
  return ids[0] as number;
}

/**
 * Checks what every Chrome trace must satisfy for Perfetto and chrome://tracing: numeric
 * times, a duration on every complete event, a known phase, and every async begin matched by
 * an end of the same category and id, later or at the same time.
 */
export function checkWellFormed(trace: Trace): void {
  const open = new Map<string, number>();
  for (const event of trace.traceEvents) {
    assert.ok(["X", "i", "b", "e", "M"].includes(event.ph), `known phase: ${JSON.stringify(event)}`);
    assert.equal(typeof event.ts, "number");
    assert.equal(typeof event.pid, "number");
    assert.equal(typeof event.tid, "number");
    if (event.ph === "X") assert.ok(typeof event.dur === "number" && event.dur >= 0, `dur: ${JSON.stringify(event)}`);
    if (event.ph === "b") {
      const key = `${event.cat}/${event.id}`;
      assert.ok(!open.has(key), `no nested begin for ${key}`);
      open.set(key, event.ts);
    }
    if (event.ph === "e") {
      const key = `${event.cat}/${event.id}`;
      const began = open.get(key);
      assert.ok(began !== undefined, `an end with a begin: ${JSON.stringify(event)}`);
      assert.ok(event.ts >= began, `ends after it began: ${JSON.stringify(event)}`);
      open.delete(key);
    }
  }
  assert.deepEqual([...open.keys()], [], "every begin has an end");
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-trace-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
