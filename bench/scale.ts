/**
 * The scale-out bench: what it costs to send a small job out of the process.
 *
 *   1. `ThreadPoolExecutor` against `ProcessPoolExecutor`, 2 workers each: throughput (jobs in
 *      flight, at most 64 at once) and latency (one job at a time), of a job that costs nothing
 *      itself (`add(a, b)` in bench/scale-jobs.mjs).
 *   2. `BullMQExecutor` + `runWorker` against raw BullMQ code (`queue.add` +
 *      `job.waitUntilFinished`, a plain `Worker`), on the same Redis (a `redis-server` started
 *      here on a free port), one worker process each, both returning results to the producer.
 *      Target: asyncio-ts costs at most 1.2× raw BullMQ per job.
 *   3. For the record: `BullMQExecutor` throughput with 1, 2 and 4 worker processes (on a
 *      2-core machine, Redis, the producer and the workers share the cores).
 *
 * `npm run bench` runs it (bench/run.ts puts its section in RESULTS.md); alone:
 * `node --import tsx bench/scale.ts [--quick] [--runs N]` prints the section (markdown).
 * Quick mode: small sizes, one run, no timing asserted. Without `redis-server`, the BullMQ
 * tables say so.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ProcessPoolExecutor, ThreadPoolExecutor, moduleFunction } from "../src/index.js";

const quick = process.argv.includes("--quick");
const runsAt = process.argv.indexOf("--runs");
const RUNS = quick ? 1 : Math.min(5, Number(runsAt >= 0 ? process.argv[runsAt + 1] : 3) || 3);
const HERE = new URL("./", import.meta.url);
const add = moduleFunction<(a: number, b: number) => number>(new URL("scale-jobs.mjs", HERE), "add");
const WINDOW = 64;

interface Measure {
  /** Jobs per second with up to WINDOW in flight. */
  throughput: number;
  /** Microseconds per job, one at a time. */
  latency: number;
}

type Submit = (i: number) => PromiseLike<unknown>;

async function throughput(submit: Submit, jobs: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs) {
      const i = next++;
      if ((await submit(i)) !== i + 1) throw new Error(`job ${i} returned a wrong result`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(WINDOW, jobs) }, lane));
  return jobs / ((performance.now() - started) / 1000);
}

async function latency(submit: Submit, jobs: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < jobs; i++) {
    if ((await submit(i)) !== i + 1) throw new Error(`job ${i} returned a wrong result`);
  }
  return ((performance.now() - started) * 1000) / jobs;
}

async function measure(submit: Submit, sizes: { throughput: number; latency: number }): Promise<Measure> {
  await throughput(submit, Math.max(20, sizes.throughput / 10)); // warm-up
  return { throughput: await throughput(submit, sizes.throughput), latency: await latency(submit, sizes.latency) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function medians(samples: Measure[]): Measure {
  return { throughput: median(samples.map((s) => s.throughput)), latency: median(samples.map((s) => s.latency)) };
}

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1));

// ------------------------------------------------------------------ pools

async function pools(): Promise<string> {
  const sizes = quick ? { throughput: 400, latency: 100 } : { throughput: 20_000, latency: 3_000 };
  const threads: Measure[] = [];
  const processes: Measure[] = [];
  for (let run = 0; run < RUNS; run++) {
    const threadPool = new ThreadPoolExecutor(2);
    threads.push(await measure((i) => threadPool.submit(add, i, 1), sizes));
    await threadPool.shutdown();
    const processPool = new ProcessPoolExecutor({ maxWorkers: 2 });
    processes.push(await measure((i) => processPool.submit(add, i, 1), sizes));
    await processPool.shutdown();
  }
  const t = medians(threads);
  const p = medians(processes);
  return [
    `### Thread pool and process pool: small jobs, 2 workers`,
    "",
    `\`add(a, b)\` from a module (bench/scale-jobs.mjs), ${sizes.throughput.toLocaleString("en-US")} jobs with up to ` +
      `${WINDOW} in flight for throughput, ${sizes.latency.toLocaleString("en-US")} one at a time for latency; ` +
      `median of ${RUNS} run(s). A process pool's job crosses an IPC pipe with the V8 serializer twice, and runs ` +
      "as a task of the child's event loop (which is what lets it be cancelled).",
    "",
    "| Executor | Throughput (jobs/s) | Latency (µs per job) | Cost per job vs threads |",
    "| --- | ---: | ---: | ---: |",
    `| \`ThreadPoolExecutor(2)\` | ${fmt(t.throughput)} | ${fmt(t.latency)} | 1× |`,
    `| \`ProcessPoolExecutor({ maxWorkers: 2 })\` | ${fmt(p.throughput)} | ${fmt(p.latency)} | ${(t.throughput / p.throughput).toFixed(2)}× (throughput), ${(p.latency / t.latency).toFixed(2)}× (latency) |`,
    "",
  ].join("\n");
}

// ------------------------------------------------------------------ BullMQ

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts `command` and resolves once its output contains `ready` (bounded: 30 s). */
function start(command: string, args: string[], ready: string): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not start within 30 s`));
    }, 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes(ready)) {
        clearTimeout(timer);
        child.stdout?.resume();
        resolve(child);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

const WORKER = fileURLToPath(new URL("scale-worker.ts", HERE));

async function workers(mode: "raw" | "asyncio-ts", url: string, queue: string, count: number, concurrency: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      start(process.execPath, ["--import", "tsx", WORKER, mode, url, queue, String(concurrency)], "ready"),
    ),
  );
}

async function bullmq(): Promise<string> {
  const heading = "### BullMQExecutor and raw BullMQ: small jobs through Redis";
  if (spawnSync("redis-server", ["--version"]).status !== 0) {
    return `${heading}\n\nNot measured: \`redis-server\` is not installed (Debian: \`apt-get install redis-server\`).\n`;
  }
  const { Queue, QueueEvents } = await import("bullmq");
  const { BullMQExecutor } = await import("../src/bullmq.js");
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-bench-redis-"));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = await start(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"],
    "Ready to accept connections",
  );
  const connection = { url, maxRetriesPerRequest: null };
  const sizes = quick ? { throughput: 200, latency: 50 } : { throughput: 5_000, latency: 1_000 };
  const CONCURRENCY = 8;
  let queues = 0;
  try {
    const raw: Measure[] = [];
    const ours: Measure[] = [];
    // Raw first in even runs, asyncio-ts first in odd ones, so that drift in the machine's load
    // spreads over both.
    const measureRaw = async (): Promise<void> => {
      {
        const name = `raw-${++queues}`;
        const ws = await workers("raw", url, name, 1, CONCURRENCY);
        const queue = new Queue(name, { connection });
        // From the stream's start (the queue is new): at "$", the default, the reader misses the
        // events written before its first read, and waitUntilFinished then waits forever.
        const events = new QueueEvents(name, { connection, lastEventId: "0-0" });
        // waitUntilFinished adds listeners per job in flight: not a leak here.
        queue.setMaxListeners(WINDOW * 2);
        events.setMaxListeners(WINDOW * 2);
        await events.waitUntilReady();
        raw.push(
          await measure(async (i) => {
            const job = await queue.add("add", { args: [i, 1] }, { removeOnComplete: { age: 3600 } });
            return job.waitUntilFinished(events);
          }, sizes),
        );
        await Promise.all([events.close(), queue.close(), ...ws.map(stop)]);
      }
    };
    const measureOurs = async (): Promise<void> => {
      {
        const name = `ours-${++queues}`;
        const ws = await workers("asyncio-ts", url, name, 1, CONCURRENCY);
        const executor = new BullMQExecutor({ queue: name, connection: url, root: HERE });
        ours.push(await measure((i) => executor.submit(add, i, 1), sizes));
        await executor.shutdown();
        await Promise.all(ws.map(stop));
      }
    };
    for (let run = 0; run < RUNS; run++) {
      if (run % 2 === 0) {
        await measureRaw();
        await measureOurs();
      } else {
        await measureOurs();
        await measureRaw();
      }
    }
    const r = medians(raw);
    const o = medians(ours);
    const cost = r.throughput / o.throughput;
    const latencyCost = o.latency / r.latency;
    const verdict = (x: number): string => (quick ? "" : x <= 1.2 ? " (target ≤ 1.2×: met)" : " (target ≤ 1.2×: missed)");

    const scaling: string[] = [];
    for (const count of [1, 2, 4]) {
      const samples: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const name = `scale-${++queues}`;
        const ws = await workers("asyncio-ts", url, name, count, CONCURRENCY);
        const executor = new BullMQExecutor({ queue: name, connection: url, root: HERE });
        await throughput((i) => executor.submit(add, i, 1), 50);
        samples.push(await throughput((i) => executor.submit(add, i, 1), sizes.throughput));
        await executor.shutdown();
        await Promise.all(ws.map(stop));
      }
      scaling.push(`| ${count} | ${fmt(median(samples))} |`);
    }
    return [
      heading,
      "",
      `One worker process (concurrency ${CONCURRENCY}) and the producer (this process) on one \`redis-server\` ` +
        `(no persistence), ${sizes.throughput.toLocaleString("en-US")} jobs with up to ${WINDOW} in flight for throughput, ` +
        `${sizes.latency.toLocaleString("en-US")} one at a time for latency; median of ${RUNS} run(s). Raw: ` +
        "`queue.add` with JSON arguments and `job.waitUntilFinished(queueEvents)`, a plain `Worker`. asyncio-ts: " +
        "`BullMQExecutor.submit` (V8-serialized arguments and result, a module id, results from the same events " +
        "stream) and `runWorker` (each job a task; the allow list; the cancel relay).",
      "",
      "| Producer and worker | Throughput (jobs/s) | Latency (µs per job) |",
      "| --- | ---: | ---: |",
      `| raw BullMQ | ${fmt(r.throughput)} | ${fmt(r.latency)} |`,
      `| \`BullMQExecutor\` + \`runWorker\` | ${fmt(o.throughput)} | ${fmt(o.latency)} |`,
      "",
      `Cost per job against raw BullMQ: ${cost.toFixed(2)}× at throughput${verdict(cost)}, ` +
        `${latencyCost.toFixed(2)}× in latency${verdict(latencyCost)}.`,
      "",
      "#### BullMQExecutor throughput by worker processes (for the record)",
      "",
      `The same small jobs, ${sizes.throughput.toLocaleString("en-US")} with up to ${WINDOW} in flight, each worker at ` +
        `concurrency ${CONCURRENCY}. On this 2-core machine Redis, the producer and the workers share the cores, so ` +
        "more workers do not mean more throughput here: the numbers record the overhead, not the scaling.",
      "",
      "| Worker processes | Throughput (jobs/s) |",
      "| ---: | ---: |",
      ...scaling,
      "",
    ].join("\n");
  } finally {
    await stop(redis);
    rmSync(dir, { recursive: true, force: true });
  }
}

function versions(): string {
  const read = (name: string): string => {
    try {
      return (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), "utf8")) as { version: string }).version;
    } catch {
      return "not installed";
    }
  };
  const redis = spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout?.match(/v=(\S+)/)?.[1] ?? "none";
  return `Node ${process.version}, bullmq ${read("bullmq")}, ioredis ${read("ioredis")}, redis-server ${redis}`;
}

const sections = [
  "## Scale-out: process pool and BullMQ",
  "",
  "Measured by bench/scale.ts (run by `npm run bench`): what it costs to send a small job out of the " +
    "process, to a child process or through Redis to another process.",
  "",
  `- Run: ${new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC")}; ${versions()}; ${RUNS} run(s) of ` +
    "each measurement; the machine is shared with other work, so compare within a table.",
  "",
  await pools(),
  await bullmq(),
];
process.stdout.write(`${sections.join("\n")}\n`);
