// Machines: the same moduleFunction as a job of a BullMQ queue on Redis, served by worker
// processes (`asyncio-ts worker`), which could as well run on other machines.
//
// Needs `redis-server` (Debian: apt-get install redis-server) and the packages bullmq and
// ioredis; without redis-server it prints why and is skipped (exit code 77). It starts its own
// Redis on a free port in a temporary directory, two workers serving the queue "demo" with the
// files of this directory as their root, runs jobs through a BullMQExecutor, cancels one
// mid-run on its worker, stops the workers with SIGTERM (they drain) and stops Redis.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gather, getRunningLoop, isTimeoutError, moduleFunction, run, timeout } from "../src/index.js";
import type * as Slow from "./_slow.js";

if (spawnSync("redis-server", ["--version"]).status !== 0) {
  console.log("skipped: redis-server is not installed (Debian: apt-get install redis-server)");
  process.exit(77);
}
const { BullMQExecutor } = await import("../src/bullmq.js");

const here = new URL("./", import.meta.url);
const fib = moduleFunction<(n: number) => number>(new URL("_work.mjs", here), "fib");
const square = moduleFunction<(x: number) => number>(new URL("_work.mjs", here), "square");
const nap = moduleFunction<typeof Slow.nap>(new URL("_slow.ts", here), "nap");

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts `command` and resolves once a line of its output contains `ready`. */
function start(command: string, args: string[], ready: string, lines: string[]): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start`)), 20_000);
    const watch = (chunk: Buffer): void => {
      for (const line of chunk.toString().split("\n")) {
        if (line.includes(ready)) {
          clearTimeout(timer);
          resolve(child);
        } else if (line.includes("CancelledError")) lines.push(line);
      }
    };
    child.stdout?.on("data", watch);
    child.stderr?.on("data", watch);
  });
}

const exited = (child: ChildProcess): Promise<void> => new Promise((resolve) => child.once("exit", () => resolve()));

const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-demo-"));
const port = await freePort();
const redisUrl = `redis://127.0.0.1:${port}`;
const redis = await start(
  "redis-server",
  ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes"],
  "Ready to accept connections",
  [],
);
const said: string[] = [];
const workerArgs = [
  "--import", "tsx", fileURLToPath(new URL("_worker.ts", here)),
  "--queue", "demo", "--redis", redisUrl, "--concurrency", "2",
  "--allow", "./_work.mjs", "--allow", "./_slow.ts", "--root", fileURLToPath(here),
];
const workers = await Promise.all([1, 2].map(() => start(process.execPath, workerArgs, "serving queue", said)));

try {
  await run(async () => {
    await using executor = new BullMQExecutor({ queue: "demo", connection: redisUrl, root: here });
    const loop = getRunningLoop();
    console.log(`fib(25) on a worker: ${await loop.runInExecutor(executor, fib, 25)}`);
    const squares = await gather(...[1, 2, 3, 4].map((x) => loop.runInExecutor(executor, square, x)));
    console.log(`4 jobs on 2 workers: ${squares.join(", ")}`);
    try {
      await timeout(1, () => loop.runInExecutor(executor, nap, 3600, "on its worker"));
    } catch (error) {
      if (!isTimeoutError(error)) throw error;
      console.log("gave up after 1 s");
    }
  });
} finally {
  for (const worker of workers) worker.kill("SIGTERM"); // a deploy: they drain, then exit
  await Promise.all(workers.map(exited));
  console.log(...said.map((line) => line.trim()));
  console.log("workers drained");
  redis.kill("SIGTERM");
  await exited(redis);
  rmSync(dir, { recursive: true, force: true });
}

// Expected output:
// fib(25) on a worker: 75025
// 4 jobs on 2 workers: 1, 4, 9, 16
// gave up after 1 s
// on its worker: the job's task got CancelledError
// workers drained
