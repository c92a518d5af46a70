/**
 * The HTML timeline of a trace: one self-contained file (inline CSS, script and SVG, no network)
 * that any browser opens, for a user who has no Perfetto at hand.
 *
 * HOW: the Chrome trace is boiled down to one compact model per lane (a task, or the loop's own
 * callbacks): its steps, its awaits, its marks (created, cancel requested, cancel delivered,
 * finished with a result, an error or cancelled), with times in microseconds from the start of
 * the trace and repeated text kept once in a string table. The page draws the lanes in view as
 * SVG; steps closer than a pixel are drawn as one bar (its tooltip counts them), so a trace of a
 * million events stays as quick to draw as a small one.
 *
 * In the page: hover for details; Ctrl (or ⌘) + wheel, the + and − buttons or the + / - keys
 * zoom around the pointer; drag to pan; 0 or "Reset" shows the whole run.
 */
import type { ChromeTrace, TraceEvent } from "./tracing.js";

/** Mark kinds, as the page draws them. */
const MARK = {
  created: 0,
  "cancel requested": 1,
  "cancel delivered": 2,
  "finished: result": 3,
  "finished: error": 4,
  "finished: cancelled": 5,
} as const;

/** Step kinds: a plain step, a first step, a step that got a cancellation, one that got an error. */
const STEP_KIND: Record<string, number> = { result: 0, "first step": 1, cancelled: 2, error: 3 };

interface LaneModel {
  pid: number;
  tid: number;
  name: string;
  label: string;
  parent: string;
  coro: string;
  /** Times in microseconds from the start of the trace; -1: not in the trace. */
  created: number;
  ended: number;
  outcome: "" | "result" | "error" | "cancelled";
  /** Per step: start, duration, kind, what resumed it (string index), what it then awaited. */
  steps: number[];
  /** Per await: start, end (-1: still waiting), what (string index). */
  waits: number[];
  /** Per mark: time, kind, text (string index). */
  marks: number[];
}

interface TimelineModel {
  title: string;
  /** The trace's first and last time, microseconds (absolute). */
  start: number;
  end: number;
  loops: number;
  events: number;
  dropped: number;
  maxEvents: number;
  strings: string[];
  lanes: LaneModel[];
}

/** @internal The HTML page of `trace`. */
export function _timelineHtml(trace: ChromeTrace): string {
  const model = buildModel(trace);
  const data = JSON.stringify(model).replace(/</g, "\\u003c");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(model.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(model.title)}</h1>
<p id="summary"></p>
<p id="dropped" hidden></p>
<div class="bar">
<span class="legend">${LEGEND}</span>
<span class="controls"><button id="zoom-in" title="Zoom in (+)">+</button><button id="zoom-out" title="Zoom out (-)">&minus;</button><button id="reset" title="Show the whole run (0)">Reset</button> <small>Ctrl/&#8984; + wheel: zoom &middot; drag: pan &middot; hover: details</small></span>
</div>
</header>
<svg id="axis" height="26"></svg>
<div id="view"><div id="spacer"><svg id="chart"></svg></div></div>
<div id="tip" hidden></div>
<script id="trace-data" type="application/json">${data}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function buildModel(trace: ChromeTrace): TimelineModel {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const intern = (text: unknown): number => {
    if (typeof text !== "string" || text === "") return -1;
    let i = index.get(text);
    if (i === undefined) {
      i = strings.length;
      strings.push(text);
      index.set(text, i);
    }
    return i;
  };
  let start = Infinity;
  let end = -Infinity;
  for (const event of trace.traceEvents) {
    if (event.ph === "M") continue;
    start = Math.min(start, event.ts);
    end = Math.max(end, event.ts + (event.dur ?? 0));
  }
  if (start === Infinity) start = end = 0;
  const at = (ts: number): number => Math.round((ts - start) * 1000) / 1000;

  const lanes = new Map<string, LaneModel & { sort: number }>();
  const pids = new Set<number>();
  const lane = (event: TraceEvent): LaneModel & { sort: number } => {
    const key = `${event.pid}:${event.tid}`;
    let found = lanes.get(key);
    if (found === undefined) {
      const name = event.tid === 0 ? "loop callbacks" : `Task-${event.tid}`;
      found = {
        pid: event.pid, tid: event.tid, name, label: event.tid === 0 ? name : `${name} (${event.tid})`,
        parent: "", coro: "", created: -1, ended: -1, outcome: "", steps: [], waits: [], marks: [],
        sort: event.tid === 0 ? -1 : event.tid,
      };
      lanes.set(key, found);
    }
    return found;
  };
  for (const event of trace.traceEvents) {
    const args = event.args ?? {};
    if (event.ph === "M") {
      if (event.name === "thread_name" && typeof args.name === "string") {
        const target = lane(event);
        target.label = args.name;
        target.name = event.tid === 0 ? args.name : args.name.replace(/ \(\d+\)$/, "");
      } else if (event.name === "thread_sort_index" && typeof args.sort_index === "number") {
        lane(event).sort = args.sort_index;
      }
      continue;
    }
    pids.add(event.pid);
    const target = lane(event);
    const t = at(event.ts);
    if (event.ph === "X") {
      const kind = event.tid === 0 ? 0 : (STEP_KIND[String(args.resumed)] ?? 0);
      const by = event.tid === 0 ? intern(event.name) : intern(args.by);
      target.steps.push(t, Math.round((event.dur ?? 0) * 1000) / 1000, kind, by, intern(args.awaits));
    } else if (event.ph === "b" && event.cat === "await") {
      target.waits.push(t, -1, intern(args.awaiting ?? event.name));
    } else if (event.ph === "e" && event.cat === "await") {
      const waits = target.waits;
      if (waits.length >= 3 && waits[waits.length - 2] === -1) waits[waits.length - 2] = t;
    } else if (event.ph === "b" && event.cat === "task") {
      target.created = t;
    } else if (event.ph === "e" && event.cat === "task") {
      target.ended = t;
    } else if (event.ph === "i") {
      const kind = (MARK as Record<string, number>)[event.name];
      if (kind === undefined) continue;
      let text: string;
      if (kind === MARK.created) {
        target.coro = typeof args.coro === "string" ? args.coro : "";
        target.parent = typeof args.parent === "string" ? args.parent : "";
        text = target.parent === "" ? "" : `parent: ${target.parent}`;
      } else if (kind === MARK["cancel requested"]) {
        text = `message: ${JSON.stringify(args.message ?? "")}\nby: ${String(args.by ?? "?")}` +
          (args.scope === undefined ? "" : `\nscope: ${String(args.scope)}`);
      } else if (kind === MARK["cancel delivered"]) {
        text = `message: ${JSON.stringify(args.message ?? "")}`;
      } else if (kind === MARK["finished: result"]) {
        target.outcome = "result";
        text = `result: ${String(args.result ?? "")}`;
      } else if (kind === MARK["finished: error"]) {
        target.outcome = "error";
        text = String(args.stack ?? args.error ?? "");
      } else {
        target.outcome = "cancelled";
        text = `message: ${JSON.stringify(args.message ?? "")}`;
      }
      target.marks.push(t, kind, intern(text));
    }
  }
  const sorted = [...lanes.values()]
    .filter((l) => l.tid !== 0 || l.steps.length > 0)
    .sort((a, b) => a.pid - b.pid || a.sort - b.sort);
  for (const l of sorted) {
    // Steps of one lane come in time order except across loops; the page searches them.
    sortBy(l.steps, 5);
    // A task with a made-up name (`Task-3`) is known by what it runs, when that has a name.
    if (/^Task-\d+$/.test(l.name) && l.coro !== "" && l.coro !== "anonymous") l.label += ` ${l.coro}`;
    if (pids.size > 1) l.label = `loop ${l.pid} · ${l.label}`;
  }
  const program = trace.otherData.program;
  return {
    title: program === "" ? "asyncio-ts timeline" : `asyncio-ts timeline: ${program}`,
    start,
    end,
    loops: pids.size,
    events: trace.otherData.events,
    dropped: trace.otherData.droppedEvents,
    maxEvents: trace.otherData.maxEvents,
    strings,
    lanes: sorted.map(({ sort: _sort, ...rest }) => rest),
  };
}

/** Sorts a flat array of records of `stride` numbers by their first number, if it is not sorted. */
function sortBy(flat: number[], stride: number): void {
  let sorted = true;
  for (let i = stride; i < flat.length; i += stride) {
    if ((flat[i] as number) < (flat[i - stride] as number)) {
      sorted = false;
      break;
    }
  }
  if (sorted) return;
  const records: number[][] = [];
  for (let i = 0; i < flat.length; i += stride) records.push(flat.slice(i, i + stride));
  records.sort((a, b) => (a[0] as number) - (b[0] as number));
  flat.length = 0;
  for (const record of records) flat.push(...record);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);
}

const LEGEND = [
  '<svg width="14" height="12"><rect class="step" x="1" y="2" width="12" height="8"/></svg> step',
  '<svg width="14" height="12"><rect class="step kind-1" x="1" y="2" width="12" height="8"/></svg> first step',
  '<svg width="14" height="12"><rect class="wait" x="1" y="5" width="12" height="3"/></svg> awaiting',
  '<svg width="14" height="12"><path class="shape m-cancel-requested" d="M2,1h10l-5,8z"/></svg> cancel requested',
  '<svg width="14" height="12"><path class="shape m-cancel-delivered" d="M7,0l6,6l-6,6l-6,-6z"/></svg> cancel delivered',
  '<svg width="14" height="12"><path class="shape m-result" d="M3,6a4,4 0 1,0 8,0a4,4 0 1,0 -8,0"/></svg> result',
  '<svg width="14" height="12"><path class="shape m-error" d="M2,1l10,10M12,1l-10,10"/></svg> error',
  '<svg width="14" height="12"><path class="shape m-cancelled" d="M2,1h10v10h-10zM2,11l10,-10"/></svg> cancelled',
].map((item) => `<span>${item}</span>`).join("");

const STYLE = `
:root { color-scheme: light; --label: 240px; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2937; background: #fff; }
header { padding: 10px 14px 6px; border-bottom: 1px solid #e5e7eb; }
h1 { font-size: 16px; margin: 0 0 2px; }
#summary { margin: 0; color: #4b5563; }
#dropped { margin: 4px 0 0; color: #92400e; background: #fef3c7; padding: 2px 6px; border-radius: 3px; }
.bar { display: flex; flex-wrap: wrap; gap: 12px; justify-content: space-between; align-items: center; margin-top: 6px; }
.legend span { margin-right: 10px; white-space: nowrap; }
.legend svg { vertical-align: -2px; }
.controls button { font: inherit; padding: 0 8px; margin-right: 2px; }
.controls small { color: #6b7280; }
#axis { display: block; width: 100%; border-bottom: 1px solid #e5e7eb; background: #fafafa; }
#view { position: relative; overflow-y: auto; overflow-x: hidden; max-height: calc(100vh - 130px); cursor: grab; }
#view.dragging { cursor: grabbing; }
#spacer { position: relative; }
#chart { position: absolute; left: 0; display: block; }
.lane-bg { fill: #fff; }
.lane-bg.odd { fill: #f8fafc; }
.label { font-size: 12px; fill: #111827; }
.label-bg { fill: #f3f4f6; }
.lane.callbacks .label { fill: #6b7280; font-style: italic; }
.life { stroke: #cbd5e1; stroke-width: 1; }
.wait { fill: #cbd5e1; }
.step { fill: #2563eb; }
.step.kind-1 { fill: #1e3a8a; }
.step.kind-2 { fill: #ea580c; }
.step.kind-3 { fill: #dc2626; }
.lane.callbacks .step { fill: #6b7280; }
.grid { stroke: #eef2f7; }
.tick { font-size: 11px; fill: #6b7280; }
.hit { fill: transparent; }
.shape { fill: none; stroke-width: 2; }
.m-created .shape, .shape.m-created { stroke: #64748b; stroke-width: 1.5; }
.m-cancel-requested .shape, .shape.m-cancel-requested { fill: #f59e0b; stroke: #b45309; stroke-width: 1; }
.m-cancel-delivered .shape, .shape.m-cancel-delivered { fill: #fb923c; stroke: #c2410c; stroke-width: 1; }
.m-result .shape, .shape.m-result { fill: #22c55e; stroke: #15803d; stroke-width: 1; }
.m-error .shape, .shape.m-error { stroke: #dc2626; stroke-width: 2.5; }
.m-cancelled .shape, .shape.m-cancelled { fill: #fed7aa; stroke: #c2410c; stroke-width: 1.5; }
#tip { position: fixed; z-index: 10; max-width: 560px; padding: 6px 8px; background: #111827; color: #f9fafb; border-radius: 4px; font: 12px/1.35 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; pointer-events: none; box-shadow: 0 2px 8px rgba(0,0,0,.25); }
#empty { padding: 20px; color: #6b7280; }
`;

/*
 * The page's script: plain ES2017, no template literals (this is a template literal itself),
 * no dependencies. The browser test (test/debug/timeline.test.ts) runs it in Chromium.
 */
const SCRIPT = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var S = data.strings, lanes = data.lanes;
  var NS = "http://www.w3.org/2000/svg";
  var LANE_H = 24, LABEL_W = 240, BAR_H = 14, WAIT_H = 4;
  var view = document.getElementById("view"), spacer = document.getElementById("spacer");
  var chart = document.getElementById("chart"), axis = document.getElementById("axis");
  var tip = document.getElementById("tip");
  var span = Math.max(data.end - data.start, 1);
  // The whole run, with a little room on both sides for the marks at its ends.
  var LO = -span * 0.01, HI = span * 1.03;
  var t0 = LO, t1 = HI;
  var MARK_NAMES = ["created", "cancel requested", "cancel delivered", "finished: result", "finished: error", "finished: cancelled"];
  var MARK_CLASS = ["m-created", "m-cancel-requested", "m-cancel-delivered", "m-result", "m-error", "m-cancelled"];
  var STEP_NAMES = ["step", "first step", "step (resumed with a cancellation)", "step (resumed with an error)"];

  function str(i) { return i >= 0 ? S[i] : ""; }
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(us) {
    var a = Math.abs(us);
    if (a >= 1e6) return (us / 1e6).toFixed(3) + " s";
    if (a >= 1e3) return (us / 1e3).toFixed(3) + " ms";
    return us.toFixed(a >= 10 ? 1 : 3) + " \u00b5s";
  }
  var W = 100;
  /** The plot's width in pixels: measured once a render (reading layout per bar would be slow). */
  function plotW() { return W; }
  function measure() { W = Math.max(view.clientWidth - LABEL_W - 10, 100); }
  function x(t) { return LABEL_W + (t - t0) / (t1 - t0) * W; }
  function fmtTick(t, step) {
    var unit = step >= 1e5 ? 1e6 : step >= 100 ? 1e3 : 1, name = unit === 1e6 ? " s" : unit === 1e3 ? " ms" : " \u00b5s";
    var digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step / unit) + 1e-9)));
    return t === 0 ? "0" : (t / unit).toFixed(digits) + name;
  }
  function ellipsis(s, n) { return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }

  var stepCount = 0;
  for (var i = 0; i < lanes.length; i++) if (lanes[i].tid !== 0) stepCount += lanes[i].steps.length / 5;
  var taskCount = lanes.filter(function (l) { return l.tid !== 0; }).length;
  document.getElementById("summary").textContent =
    taskCount + " task" + (taskCount === 1 ? "" : "s") + " \u00b7 " + stepCount + " step" + (stepCount === 1 ? "" : "s") +
    " \u00b7 " + fmt(data.end - data.start) + " \u00b7 " + data.events + " events" + (data.loops > 1 ? " \u00b7 " + data.loops + " loops" : "");
  if (data.dropped > 0) {
    var dropped = document.getElementById("dropped");
    dropped.hidden = false;
    dropped.textContent = data.dropped + " events were dropped past the limit of " + data.maxEvents +
      " (trace.maxEvents): the picture ends where the limit was reached.";
  }

  function laneTip(lane) {
    if (lane.tid === 0) return "loop callbacks: callSoon / callLater / callAt callbacks and timers";
    var lines = [lane.label];
    if (lane.coro) lines.push("runs: " + lane.coro);
    if (lane.parent) lines.push("parent: " + lane.parent);
    if (lane.created >= 0) lines.push("created at " + fmt(lane.created));
    if (lane.ended >= 0) lines.push((lane.outcome ? lane.outcome : "ended") + " at " + fmt(lane.ended) + " (lived " + fmt(lane.ended - lane.created) + ")");
    else lines.push("still pending when the trace was written");
    lines.push(lane.steps.length / 5 + " steps");
    return lines.join("\n");
  }
  function stepTip(lane, k) {
    var s = lane.steps;
    if (lane.tid === 0) return "callback " + str(s[k + 3]) + "\nat " + fmt(s[k]) + ", took " + fmt(s[k + 1]);
    var lines = [lane.label + ": " + STEP_NAMES[s[k + 2]], "at " + fmt(s[k]) + ", took " + fmt(s[k + 1])];
    if (s[k + 3] >= 0) lines.push("resumed by " + str(s[k + 3]));
    if (s[k + 4] >= 0) lines.push("then awaits " + str(s[k + 4]));
    return lines.join("\n");
  }
  function mergedTip(lane, first, last, stride, what) {
    var n = (last - first) / stride + 1, busy = 0, arr = what === "step" ? lane.steps : lane.waits;
    for (var k = first; k <= last; k += stride) busy += what === "step" ? arr[k + 1] : ((arr[k + 1] < 0 ? span : arr[k + 1]) - arr[k]);
    var end = what === "step" ? arr[last] + arr[last + 1] : (arr[last + 1] < 0 ? span : arr[last + 1]);
    return lane.label + ": " + n + " " + what + "s from " + fmt(arr[first]) + " to " + fmt(end) + "\n" +
      (what === "step" ? "running " : "waiting ") + fmt(busy) + " in all (zoom in to see each)";
  }

  /** The first record of a flat array (records of "stride" numbers, sorted by start) that may end after t. */
  function firstFrom(arr, stride, t) {
    var lo = 0, hi = arr.length / stride;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (arr[mid * stride] < t) lo = mid + 1; else hi = mid; }
    var back = Math.max(0, lo - 1) * stride;
    return back;
  }

  function drawBars(g, lane, arr, stride, what, y, h) {
    if (arr.length === 0) return;
    var k = firstFrom(arr, stride, t0), cur = null;
    function flush() {
      if (cur === null) return;
      var cls = what === "step" ? "step kind-" + cur.kind + (cur.n > 1 ? " merged" : "") : "wait" + (cur.n > 1 ? " merged" : "");
      var r = el("rect", { "class": cls, x: cur.x0.toFixed(2), y: y, width: Math.max(cur.x1 - cur.x0, 0).toFixed(2), height: h }, g);
      var first = cur.first, last = cur.last;
      r.__tip = cur.n > 1 ? function () { return mergedTip(lane, first, last, stride, what); }
        : what === "step" ? function () { return stepTip(lane, first); }
        : function () {
          var end = arr[first + 1];
          return lane.label + " awaits " + str(arr[first + 2]) + "\nfrom " + fmt(arr[first]) +
            (end < 0 ? ", still waiting when the trace was written" : " to " + fmt(end) + " (" + fmt(end - arr[first]) + ")");
        };
      cur = null;
    }
    for (; k < arr.length; k += stride) {
      var s = arr[k];
      if (s > t1) break;
      var e = what === "step" ? s + arr[k + 1] : (arr[k + 1] < 0 ? (lane.ended >= 0 ? lane.ended : span) : arr[k + 1]);
      if (e < t0) continue;
      var px0 = Math.max(x(s), LABEL_W - 2), px1 = Math.min(x(e), LABEL_W + plotW() + 2);
      if (what === "step" && px1 - px0 < 2) px1 = px0 + 2;
      if (cur !== null && px0 <= cur.x1 + 1) {
        cur.x1 = Math.max(cur.x1, px1); cur.n++; cur.last = k;
        if (what === "step") cur.kind = Math.max(cur.kind, arr[k + 2] === 1 ? 0 : arr[k + 2]);
      } else {
        flush();
        cur = { x0: px0, x1: px1, n: 1, first: k, last: k, kind: what === "step" ? arr[k + 2] : 0 };
      }
    }
    flush();
  }

  function markShape(kind, cx, mid) {
    if (kind === 0) return "M" + cx + "," + (mid - 7) + "v14";
    if (kind === 1) return "M" + (cx - 5) + ",1h10l-5,8z";
    if (kind === 2) return "M" + cx + "," + (mid - 6) + "l6,6l-6,6l-6,-6z";
    if (kind === 3) return "M" + (cx - 4) + "," + mid + "a4,4 0 1,0 8,0a4,4 0 1,0 -8,0";
    if (kind === 4) return "M" + (cx - 5) + "," + (mid - 5) + "l10,10M" + (cx + 5) + "," + (mid - 5) + "l-10,10";
    return "M" + (cx - 5) + "," + (mid - 5) + "h10v10h-10zM" + (cx - 5) + "," + (mid + 5) + "l10,-10";
  }

  function drawLane(i, y) {
    var lane = lanes[i], w = plotW(), mid = LANE_H / 2;
    var g = el("g", { "class": "lane" + (lane.tid === 0 ? " callbacks" : ""), "data-task-id": lane.tid, "data-pid": lane.pid,
      "data-name": lane.name, "data-outcome": lane.outcome, transform: "translate(0," + y + ")" }, chart);
    el("rect", { "class": "lane-bg" + (i % 2 ? " odd" : ""), x: 0, y: 0, width: LABEL_W + w + 10, height: LANE_H }, g);
    var plot = el("g", { "clip-path": "url(#plot-clip)" }, g);
    if (lane.created >= 0) {
      var a = Math.max(x(lane.created), LABEL_W), b = Math.min(x(lane.ended >= 0 ? lane.ended : span), LABEL_W + w);
      if (b > a) el("line", { "class": "life", x1: a, x2: b, y1: mid, y2: mid }, plot);
    }
    drawBars(plot, lane, lane.waits, 3, "wait", mid - WAIT_H / 2, WAIT_H);
    drawBars(plot, lane, lane.steps, 5, "step", mid - BAR_H / 2, BAR_H);
    var m = lane.marks;
    for (var k = 0; k < m.length; k += 3) {
      if (m[k] < t0 || m[k] > t1) continue;
      var cx = x(m[k]).toFixed(1), kind = m[k + 1];
      var mg = el("g", { "class": "mark " + MARK_CLASS[kind] }, plot);
      el("circle", { "class": "hit", cx: cx, cy: mid, r: 7 }, mg);
      el("path", { "class": "shape", d: markShape(kind, +cx, mid) }, mg);
      (function (k) {
        mg.__tip = function () {
          var text = str(m[k + 2]);
          return lane.label + ": " + MARK_NAMES[m[k + 1]] + " at " + fmt(m[k]) + (text ? "\n" + text : "");
        };
      })(k);
    }
    el("rect", { "class": "label-bg", x: 0, y: 0, width: LABEL_W - 4, height: LANE_H }, g);
    var label = el("text", { "class": "label", x: 6, y: mid + 4 }, g);
    label.textContent = ellipsis(lane.label, 36);
    label.__tip = function () { return laneTip(lane); };
  }

  function niceStep(range) {
    var raw = range / 8, p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
  }

  function drawAxis() {
    while (axis.firstChild) axis.removeChild(axis.firstChild);
    var w = plotW(), step = niceStep(t1 - t0);
    axis.setAttribute("width", LABEL_W + w + 10);
    var label = el("text", { "class": "tick", x: 6, y: 17 }, axis);
    label.textContent = "time since the first event";
    for (var t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      var px = x(t);
      el("line", { "class": "grid", x1: px, x2: px, y1: 18, y2: 26, stroke: "#9ca3af" }, axis);
      if (px + 48 > LABEL_W + w + 10) continue;
      var tx = el("text", { "class": "tick", x: px + 3, y: 14 }, axis);
      tx.textContent = fmtTick(t, step);
    }
  }

  var pending = false;
  function render() {
    pending = false;
    measure();
    var w = plotW(), height = lanes.length * LANE_H;
    spacer.style.height = height + "px";
    var top = view.scrollTop, visible = view.clientHeight || height;
    var first = Math.max(0, Math.floor(top / LANE_H) - 5);
    var last = Math.min(lanes.length, Math.ceil((top + visible) / LANE_H) + 5);
    chart.setAttribute("width", LABEL_W + w + 10);
    chart.setAttribute("height", Math.max(0, (last - first) * LANE_H));
    chart.style.top = (first * LANE_H) + "px";
    while (chart.firstChild) chart.removeChild(chart.firstChild);
    var defs = el("defs", {}, chart), clip = el("clipPath", { id: "plot-clip" }, defs);
    el("rect", { x: LABEL_W, y: 0, width: w + 4, height: LANE_H }, clip);
    var step = niceStep(t1 - t0);
    for (var t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      el("line", { "class": "grid", x1: x(t), x2: x(t), y1: 0, y2: (last - first) * LANE_H }, chart);
    }
    for (var i = first; i < last; i++) drawLane(i, (i - first) * LANE_H);
    drawAxis();
  }
  function schedule() { if (!pending) { pending = true; requestAnimationFrame(render); } }

  function zoom(factor, atPx) {
    var w = plotW(), at = atPx === undefined ? (t0 + t1) / 2 : t0 + (atPx - LABEL_W) / w * (t1 - t0);
    var range = Math.min(HI - LO, Math.max((t1 - t0) * factor, 1e-3));
    var frac = (at - t0) / (t1 - t0);
    t0 = at - frac * range; t1 = t0 + range;
    if (t0 < LO) { t1 += LO - t0; t0 = LO; }
    if (t1 > HI) { t0 = Math.max(LO, t0 - (t1 - HI)); t1 = HI; }
    schedule();
  }
  function reset() { t0 = LO; t1 = HI; schedule(); }

  view.addEventListener("wheel", function (e) {
    if (!e.ctrlKey && !e.metaKey) return;
    e.preventDefault();
    var rect = view.getBoundingClientRect();
    zoom(e.deltaY > 0 ? 1.25 : 0.8, e.clientX - rect.left);
  }, { passive: false });
  var drag = null;
  view.addEventListener("mousedown", function (e) { drag = { x: e.clientX, t0: t0, t1: t1 }; view.classList.add("dragging"); });
  window.addEventListener("mouseup", function () { drag = null; view.classList.remove("dragging"); });
  window.addEventListener("mousemove", function (e) {
    if (drag !== null) {
      var dt = (e.clientX - drag.x) / plotW() * (drag.t1 - drag.t0);
      var range = drag.t1 - drag.t0;
      t0 = Math.min(Math.max(LO, drag.t0 - dt), HI - range); t1 = t0 + range;
      schedule();
    }
    var target = e.target, text = null;
    while (target && target !== document.body) {
      if (typeof target.__tip === "function") { text = target.__tip(); break; }
      target = target.parentNode;
    }
    if (text === null) { tip.hidden = true; return; }
    tip.textContent = text;
    tip.hidden = false;
    var tx = e.clientX + 14, ty = e.clientY + 14;
    if (tx + tip.offsetWidth > window.innerWidth) tx = Math.max(0, e.clientX - tip.offsetWidth - 14);
    if (ty + tip.offsetHeight > window.innerHeight) ty = Math.max(0, e.clientY - tip.offsetHeight - 14);
    tip.style.left = tx + "px"; tip.style.top = ty + "px";
  });
  view.addEventListener("mouseleave", function () { tip.hidden = true; });
  view.addEventListener("scroll", schedule);
  window.addEventListener("resize", schedule);
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(0.5); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(2); });
  document.getElementById("reset").addEventListener("click", reset);
  window.addEventListener("keydown", function (e) {
    if (e.key === "+" || e.key === "=") zoom(0.5);
    else if (e.key === "-") zoom(2);
    else if (e.key === "0") reset();
  });
  if (lanes.length === 0) {
    var empty = document.createElement("p");
    empty.id = "empty";
    empty.textContent = "No task was recorded.";
    view.appendChild(empty);
  }
  render();
})();
`;
