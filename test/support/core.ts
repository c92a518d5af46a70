/**
 * Helpers for the core runtime's tests (loop, futures, tasks, context): CPython's
 * `test_utils.run_briefly`/`run_once`, exception-handler capture, and garbage collection that
 * waits for FinalizationRegistry callbacks.
 */
import { spawn, spawnSync } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { EventLoop, ExceptionContext } from "../../src/index.js";

/**
 * Runs `loop` until a task that does nothing is done: a couple of iterations, as CPython's
 * `test_utils.run_briefly`.
 */
export async function runBriefly(loop: EventLoop): Promise<void> {
  await loop.runUntilComplete(async () => {});
}

/** Runs exactly one iteration of `loop` (CPython's idiom `call_soon(stop); run_forever()`). */
export async function runOnce(loop: EventLoop): Promise<void> {
  loop.callSoon(() => loop.stop());
  await loop.runForever();
}

/** Sets an exception handler on `loop` that records every context it gets. */
export function captureExceptions(loop: EventLoop): ExceptionContext[] {
  const seen: ExceptionContext[] = [];
  loop.setExceptionHandler((_loop, context) => {
    seen.push(context);
  });
  return seen;
}

/** The `--expose-gc` collector; the test scripts always pass the flag. */
export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error("run the tests with --expose-gc");
  collect();
}

/**
 * Collects garbage until `done()` is true, giving FinalizationRegistry callbacks (which run
 * asynchronously after a collection) a turn each time; gives up after `rounds` tries.
 * Returns whether `done()` became true.
 */
export async function collectUntil(done: () => boolean, rounds = 100): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    if (done()) return true;
    gc();
    await delay(1);
  }
  return done();
}

/** Collects garbage a few times, letting finalizers run (for "nothing is reported" checks). */
export async function collectGarbage(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gc();
    await delay(1);
  }
}

/** What a child process run of test/fixtures/loop-scenarios.ts printed and how it ended. */
export interface ScenarioRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string[];
  stderr: string;
}

/**
 * Runs `scenario` of test/fixtures/loop-scenarios.ts in a child process (real time; the
 * fixture gives up after 10 seconds) and returns its output lines and exit status.
 */
export function runScenario(scenario: string): ScenarioRun {
  const fixture = fileURLToPath(new URL("../fixtures/loop-scenarios.ts", import.meta.url));
  const child = spawnSync(process.execPath, ["--import", "tsx", fixture, scenario], {
    encoding: "utf8",
    timeout: 20_000,
    killSignal: "SIGKILL", // SIGTERM would only cancel a fixture's main (run() handles it)
  });
  return {
    status: child.status,
    signal: child.signal,
    stdout: child.stdout.split("\n").filter((line) => line !== ""),
    stderr: child.stderr,
  };
}

/**
 * Runs `test/fixtures/<fixture>` with `args` in a child process through tsx and resolves what
 * it printed and how it ended. It is killed after 20 s (then `signal` is `SIGKILL`): a bound
 * against a hang, not a timing.
 */
export function runFixture(fixture: string, args: readonly string[]): Promise<ScenarioRun> {
  const path = fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 20_000,
      killSignal: "SIGKILL", // SIGTERM would only cancel a fixture's main (run() handles it)
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status, signal) => {
      resolve({ status, signal, stdout: stdout.split("\n").filter((line) => line !== ""), stderr });
    });
  });
}

/** Runs the collector until `ref` is cleared, or gives up after a few rounds. */
export async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
    // A new macrotask first: a WeakRef keeps its target alive until the current job ends.
    await new Promise<void>((resolve) => setImmediate(resolve));
    gc();
  }
  return ref.deref() === undefined;
}

/** A queue as the loop and the waiter queues use it: what {@link takenItemIsCollected} needs. */
export interface QueueLike {
  push(item: object): void;
  shift(): unknown;
  readonly length: number;
}

/**
 * Pushes two items on `queue`, takes the first back, and returns whether the collector then
 * frees it (the queue kept no reference to it in a vacated slot); the second stays queued.
 */
export async function takenItemIsCollected(queue: QueueLike): Promise<boolean> {
  let ref: WeakRef<object> | undefined;
  (() => {
    const item = {};
    ref = new WeakRef(item);
    queue.push(item);
    queue.push({});
    queue.shift();
  })();
  return (await collected(ref as WeakRef<object>)) && queue.length === 1;
}
