/**
 * Worker processes for the BullMQ tests: each runs test/bullmq/fixtures/worker.ts (a real
 * `runWorker`) against the test's Redis. Every wait is bounded; `stopAll()` kills what is left.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { moduleFunction } from "../../src/index.js";
import type { RunWorkerOptions } from "../../src/bullmq.js";
import type * as Jobs from "./fixtures/jobs.js";

export const FIXTURES = new URL("./fixtures/", import.meta.url);
const WORKER = fileURLToPath(new URL("worker.ts", FIXTURES));

/** A job function of fixtures/jobs.ts, as the producer names it. */
export function job<K extends keyof typeof Jobs>(name: K) {
  return moduleFunction<(typeof Jobs)[K]>(new URL("jobs.ts", FIXTURES), name);
}

export interface WorkerProcess {
  readonly pid: number;
  readonly process: ChildProcess;
  /** What it printed so far (stdout lines). */
  readonly lines: string[];
  /** Resolves with its exit code (or signal name) once it exited. */
  readonly exited: Promise<number | string>;
}

const started = new Set<WorkerProcess>();

/** Starts a worker process and resolves once it serves (the fixture printed "serving"). */
export async function startWorker(options: Partial<RunWorkerOptions> & { queue: string; connection: string }): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", WORKER, JSON.stringify({ allow: ["./jobs.ts"], lockDuration: 2, stalledInterval: 1, ...options })],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines: string[] = [];
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1));
  });
  let buffer = "";
  const serving = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the worker did not start within 30 s")), 30_000);
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      lines.push(...parts);
      if (lines.some((l) => l.startsWith("serving"))) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited (${code}) before it served`));
    });
  });
  const worker: WorkerProcess = { pid: child.pid ?? -1, process: child, lines, exited };
  started.add(worker);
  void exited.then(() => started.delete(worker));
  await serving;
  return worker;
}

/** Kills every worker still running (after a test file). */
export async function stopAll(): Promise<void> {
  const left = [...started];
  for (const w of left) w.process.kill("SIGKILL");
  await Promise.all(left.map((w) => w.exited));
}

/** Waits (real time, bounded) until `check()` holds. */
export async function until(check: () => boolean, ms = 20_000, what = "condition"): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) assert.fail(`${what} still false after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
