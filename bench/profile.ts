/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and sums self time per function and
 * per area (asyncio-ts source file, AsyncLocalStorage / async hooks, other Node internals,
 * garbage collector, …), so RESULTS.md can say where a missed target spends its time.
 */
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  area: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  functions: SelfTime[];
  areas: { area: string; ms: number; share: number }[];
}

/** The part of a script URL worth showing: from src/ or bench/ on, or node:… as is. */
function shortUrl(url: string): string {
  const at = url.search(/\/(src|bench|node_modules)\//);
  if (at >= 0) return url.slice(at + 1).replace(/^bench\/out\//, "");
  return url;
}

function areaOf(frame: CallFrame): string {
  const url = frame.url;
  const name = frame.functionName;
  if (url === "") {
    if (name.startsWith("(")) return name; // (garbage collector), (program), (idle)
    if (/^(write|read|writev|shutdown|close|connect|listen|accept)/i.test(name)) return "Node: socket I/O (native)";
    if (/^(compileFunction|openFileHandle|fstat|readFileUtf8|internalModuleStat|realpath)/.test(name)) {
      return "Node: start-up (module loading)";
    }
    return "V8 builtins and native code (promises, microtasks)";
  }
  if (name === "" && frame.lineNumber === 0) return "Node: start-up (module loading)"; // a module's top level
  if (/async_hooks|async_local_storage|promise_hooks|async_context_frame/.test(url)) {
    return "Node: AsyncLocalStorage / async hooks";
  }
  if (/^node:internal\/(modules|bootstrap|vm|source_map)|^node:(path|url|fs)$|^node:internal\/(url|fs)/.test(url)) {
    return "Node: start-up (module loading)";
  }
  if (url.startsWith("node:internal/timers") || url.startsWith("node:timers")) return "Node: timers / setImmediate";
  if (url.startsWith("node:internal/process/task_queues")) return "Node: microtask / nextTick queue";
  if (url.startsWith("node:")) return "Node: other internals";
  const src = /\/src\/(.+)$/.exec(url);
  if (src !== null && !url.includes("/node_modules/")) return `asyncio-ts: src/${src[1]?.replace(/\.js$/, ".ts")}`;
  if (url.includes("/node_modules/")) return "other packages";
  return "bench program";
}

/** Sums the profile's self time by function and by area, largest first. */
export function summariseProfile(path: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const perFunction = new Map<string, SelfTime>();
  const perArea = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const area = areaOf(frame);
    const where = frame.url === "" ? "" : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
    const key = `${name}@${where}`;
    const entry = perFunction.get(key) ?? { name, where, area, ms: 0, share: 0 };
    entry.ms += us / 1000;
    perFunction.set(key, entry);
    perArea.set(area, (perArea.get(area) ?? 0) + us / 1000);
    total += us / 1000;
  }
  const functions = [...perFunction.values()]
    .filter((f) => f.name !== "(idle)")
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
    .map((f) => ({ ...f, share: f.ms / total }));
  const areas = [...perArea.entries()]
    .map(([area, ms]) => ({ area, ms, share: ms / total }))
    .sort((a, b) => b.ms - a.ms);
  return { totalMs: total, functions, areas };
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Object counts and self sizes of a heap snapshot, by kind ("Task", "(closure) f", …). */
function heapCensus(path: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(path, "utf8")) as HeapSnapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const census = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + typeAt] as number] ?? "?";
    const name = snap.strings[snap.nodes[i + nameAt] as number] ?? "";
    let key: string;
    if (type === "object") key = name;
    else if (type === "closure") key = `(closure) ${name === "" ? "anonymous" : name}`;
    else if (type.includes("string")) key = "(string)";
    else if (type === "number") key = "(heap number)";
    else if (type === "code") key = "(compiled code)";
    else key = `(${type}) ${name}`;
    if (key.length > 70) key = `${key.slice(0, 67)}…`;
    const entry = census.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + sizeAt] as number;
    census.set(key, entry);
  }
  return census;
}

export interface HeapGrowth {
  kind: string;
  perTask: number;
  bytesPerTask: number;
}

/**
 * What the heap gained between two snapshots, per task: how many objects of each kind and how
 * many bytes, largest first.
 */
export function heapGrowthPerTask(beforePath: string, afterPath: string, tasks: number, top = 12): {
  totalPerTask: number;
  kinds: HeapGrowth[];
} {
  const before = heapCensus(beforePath);
  const after = heapCensus(afterPath);
  const kinds: HeapGrowth[] = [];
  let total = 0;
  for (const [kind, a] of after) {
    const b = before.get(kind) ?? { count: 0, bytes: 0 };
    const bytes = (a.bytes - b.bytes) / tasks;
    total += bytes;
    kinds.push({ kind, perTask: (a.count - b.count) / tasks, bytesPerTask: bytes });
  }
  kinds.sort((x, y) => y.bytesPerTask - x.bytesPerTask);
  return { totalPerTask: total, kinds: kinds.slice(0, top) };
}
