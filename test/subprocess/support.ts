/**
 * Helpers for the subprocess tests: the child programs (Node itself with `-e` scripts, and the
 * small fixture programs next to this file), a loop that records what its exception handler
 * gets, and checks that a child is gone.
 *
 * Real children take real time: every child here exits on its own within 20 seconds at most
 * (`blocked.mjs`), and the tests keep their real waits short.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type ExceptionContext,
  type Process,
  SubprocessProtocol,
  type SubprocessTransport,
  getRunningLoop,
  run,
  sleep,
} from "../../src/index.js";

/** Why the tests of a child's stdin write buffer are skipped on Bun. */
export const BUN_STDIN =
  "Bun's child-process stdin reports no buffered bytes (`writableLength` stays 0 while `write()` returns false), so the pipe's write buffer, its flow control and the EPIPE `drain()` would wait for are not seen";

/** Why the tests of a child's exit status after a signal are skipped on Deno. */
export const DENO_KILLED =
  "Deno's child_process reports a child it sent a signal to as ended by the first signal sent, whatever ended it (a SIGKILL after a SIGTERM, or an exit(0) after handling the signal)";

/** The Node binary running the tests: the child program of every test. */
export const NODE = process.execPath;

/** The path of a fixture program of test/subprocess/fixtures/. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** A child that copies its stdin to its stdout and exits at EOF (CPython's PROGRAM_CAT). */
export const CAT = ["-e", "process.stdin.pipe(process.stdout)"];

/** A child that runs until stopped (CPython's PROGRAM_BLOCKED); prints "ready" first. */
export const BLOCKED = [fixture("blocked.mjs")];

/** A child that prints "ready", ignores SIGTERM, and runs until killed. */
export const STUBBORN = [fixture("blocked.mjs"), "ignore-sigterm"];

/** `-e` and a script. */
export function script(code: string): string[] {
  return ["-e", code];
}

/**
 * The pids of this process's children that run Node or a shell (not tsx's esbuild service),
 * from /proc: Linux only, elsewhere none.
 */
function runningChildren(): number[] {
  if (process.platform !== "linux") return [];
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) !== process.pid || fields[0] === "Z") continue;
      const exe = readlinkSync(`/proc/${entry}/exe`);
      if (exe === NODE || /\/(ba|da)?sh$/.test(exe) || exe.endsWith("/sleep")) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

/**
 * Runs `main` in a fresh loop (real clock) that records what its exception handler gets.
 * Afterwards, a child that a failed test left running is killed, so the test file can end.
 */
export async function runSub<T>(main: (messages: ExceptionContext[]) => Promise<T>): Promise<T> {
  try {
    return await run(async () => {
      const messages: ExceptionContext[] = [];
      getRunningLoop().setExceptionHandler((_loop, context) => {
        messages.push(context);
      });
      return main(messages);
    });
  } finally {
    for (const pid of runningChildren()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
}

/** Whether a process with this pid exists (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** Reads lines of `proc.stdout` until one equals `line` (the child's "I am ready"). */
export async function waitForLine(proc: Process, line = "ready"): Promise<void> {
  const reader = proc.stdout;
  assert.ok(reader !== null, "the process needs stdout: PIPE");
  const got = (await reader.readline()).toString().trim();
  assert.equal(got, line);
}

/** Runs loop iterations until `predicate()` holds (at most `limit` seconds of real time). */
export async function until(predicate: () => boolean, limit = 5): Promise<void> {
  const deadline = performance.now() + limit * 1000;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error("condition not reached in time");
    await sleep(0.005);
  }
}

/** The error `promise` rejects with (fails when it resolves). */
export async function errorOf(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

/**
 * A protocol that records everything (CPython's `MySubprocessProtocol` of test_events.py):
 * checks the state of each callback (INITIAL → CONNECTED → CLOSED), gathers the data of each
 * pipe, and keeps the order of the calls in `events`.
 */
export class RecordingProtocol extends SubprocessProtocol {
  state: "INITIAL" | "CONNECTED" | "CLOSED" = "INITIAL";
  transport: SubprocessTransport | null = null;
  readonly data: Record<1 | 2, Buffer> = { 1: Buffer.alloc(0), 2: Buffer.alloc(0) };
  readonly disconnects = new Map<number, Error | null>();
  readonly events: string[] = [];
  returncode: number | null = null;
  readonly connected = getRunningLoop().createFuture<void>();
  readonly completed = getRunningLoop().createFuture<void>();
  readonly problems: string[] = [];
  #dataWaiters: { fd: number; want: (d: Buffer) => boolean; resolve: () => void }[] = [];

  #expect(state: RecordingProtocol["state"], callback: string): void {
    if (this.state !== state) this.problems.push(`${callback} in state ${this.state}, expected ${state}`);
  }

  override connectionMade(transport: SubprocessTransport): void {
    this.#expect("INITIAL", "connectionMade");
    this.state = "CONNECTED";
    this.transport = transport;
    this.events.push("connectionMade");
    this.connected.setResult(undefined);
  }

  override pipeDataReceived(fd: number, data: Buffer): void {
    this.#expect("CONNECTED", "pipeDataReceived");
    this.events.push(`pipeDataReceived ${fd}`);
    const key = fd as 1 | 2;
    this.data[key] = Buffer.concat([this.data[key], data]);
    this.#dataWaiters = this.#dataWaiters.filter((w) => {
      if (w.fd !== fd || !w.want(this.data[key])) return true;
      w.resolve();
      return false;
    });
  }

  override pipeConnectionLost(fd: number, exc: Error | null): void {
    this.#expect("CONNECTED", "pipeConnectionLost");
    this.events.push(`pipeConnectionLost ${fd}`);
    this.disconnects.set(fd, exc);
  }

  override processExited(): void {
    this.#expect("CONNECTED", "processExited");
    this.events.push("processExited");
    this.returncode = this.transport?.getReturncode() ?? null;
  }

  override connectionLost(exc: Error | null): void {
    this.#expect("CONNECTED", "connectionLost");
    this.state = "CLOSED";
    this.events.push(`connectionLost ${String(exc)}`);
    this.completed.setResult(undefined);
  }

  /** Resolves once the data of pipe `fd` satisfies `want` (default: anything). */
  gotData(fd: 1 | 2, want: (data: Buffer) => boolean = (d) => d.length > 0): PromiseLike<void> {
    const future = getRunningLoop().createFuture<void>();
    if (want(this.data[fd])) future.setResult(undefined);
    else this.#dataWaiters.push({ fd, want, resolve: () => future.setResult(undefined) });
    return future;
  }
}
