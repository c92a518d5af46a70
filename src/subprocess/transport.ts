/**
 * @internal The transport of a child process: `child_process.spawn`, its pipes, its exit, and
 * the order in which the protocol hears of them. A port of asyncio's `BaseSubprocessTransport`
 * (base_subprocess.py) with `_UnixSubprocessTransport`'s spawning done by Node.
 *
 * HOW the callbacks are ordered (asyncio's rules):
 *   1. `connectionMade(transport)` comes first, in the loop iteration after Node reports the
 *      child spawned. Whatever happened before (output, even the exit) is queued and
 *      delivered after it, in order (`#pending`, asyncio's `_pending_calls`).
 *   2. Each pipe's `pipeDataReceived(fd, data)` calls come before its
 *      `pipeConnectionLost(fd, exc)`; each is one loop callback, FIFO with the others.
 *   3. `processExited()` comes when Node reports the exit; it may come before or after the pipe
 *      callbacks (a child's output can still be in the pipe when it exits, and a grandchild may
 *      hold the pipe open), as in asyncio.
 *   4. `connectionLost(null)` comes last: once the child exited and every pipe is closed.
 *      `wait()` (`_wait()`) resolves right after it, with the return code; a `_wait()` made
 *      after the exit is known resolves at once (asyncio's `_wait`).
 *
 * HOW it sits on Node: the pipe transports are made right after `spawn()` returns, so they
 * listen before the child can exit (Node drops output nobody listens to). The return code is
 * Node's exit code, or minus the signal number when a signal ended the child (-15, -9). Node
 * reports a program that cannot be started (ENOENT, EACCES) with an 'error' event instead of
 * 'spawn'; the creation then fails with that error and the protocol hears nothing.
 *
 * Invariant: `#pending` is an array until the child spawned (then `null`); `#returncode` is
 * set once; `#finished` is set once, when `connectionLost` is scheduled.
 */
import { type ChildProcess, type IOType, type StdioOptions, spawn } from "node:child_process";
import type { Stream } from "node:stream";
import { existsSync } from "node:fs";
import { constants as osConstants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { getSystemErrorMap } from "node:util";
import { RuntimeError } from "../errors.js";
import type { EventLoop } from "../events/loop.js";
import type { Future } from "../futures.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { describe } from "../internal/validate.js";
import { Waiter, WaiterQueue } from "../internal/waiters.js";
import { BaseProtocol, type SubprocessProtocol } from "../transports/protocols.js";
import { type BaseTransport, type ReadTransport, SubprocessTransport, type WriteTransport } from "../transports/transports.js";
import { outsideFrame, outsideFrame2, schedule } from "../transports/util.js";
import type { SharedChannel } from "./merge.js";
import type { SpawnPlan, StdioPlan } from "./options.js";
import { ReadPipeTransport, WritePipeTransport } from "./pipes.js";

/** One entry of Node's `stdio` array. */
type StdioEntry = IOType | Stream | number | null | undefined;

const SIGNALS = osConstants.signals as Record<string, number>;
const SIGNAL_NAMES = new Map<number, string>(Object.entries(SIGNALS).map(([name, n]) => [n, name]));

/**
 * @internal A signal given as a number (15) or a name ("SIGTERM"), checked; returns the name.
 * @throws {TypeError} for something else; {@link RangeError} for an unknown signal.
 */
export function checkSignal(signal: unknown): string {
  if (typeof signal === "number") {
    const name = Number.isInteger(signal) ? SIGNAL_NAMES.get(signal) : undefined;
    if (name === undefined) throw new RangeError(`\`signal\` must be a signal number of this platform, got ${signal}`);
    return name;
  }
  if (typeof signal === "string") {
    if (!Object.hasOwn(SIGNALS, signal)) {
      throw new RangeError(`\`signal\` must be a signal name such as "SIGTERM", got ${describe(signal)}`);
    }
    return signal;
  }
  throw new TypeError(`\`signal\` must be a signal number or name (15 or "SIGTERM"), got ${describe(signal)}`);
}

/** The return code of an exit: the exit code, or minus the number of the signal that ended it. */
function returncodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal === null ? undefined : SIGNALS[signal];
  return n === undefined ? -1 : -n;
}

/** A clearer error for a program that could not be started, keeping Node's `code` and fields. */
function explainSpawnError(error: Error, plan: SpawnPlan): Error {
  const e = error as Error & { code?: unknown; errno?: unknown; syscall?: unknown; path?: unknown; spawnargs?: unknown };
  if (typeof e.code !== "string") return error;
  const defaultShell = process.platform === "win32" ? (process.env.ComSpec ?? "cmd.exe") : "/bin/sh";
  const what = plan.shell === false ? plan.file : typeof plan.shell === "string" ? plan.shell : defaultShell;
  let reason = typeof e.errno === "number" ? getSystemErrorMap().get(e.errno)?.[1] : undefined;
  reason ??= e.code;
  if (e.code === "ENOENT") {
    const cwd = plan.cwd === undefined ? undefined : String(plan.cwd instanceof URL ? plan.cwd.pathname : plan.cwd);
    if (cwd !== undefined && !existsSync(cwd)) reason = `the working directory ${JSON.stringify(cwd)} does not exist`;
    else if (plan.shell === false) reason = "no such file or directory (not found on the PATH)";
  }
  const clear = new Error(`Cannot run ${JSON.stringify(what)}: ${reason} (${e.code})`, { cause: error }) as typeof e;
  clear.code = e.code;
  if (e.errno !== undefined) clear.errno = e.errno;
  if (e.syscall !== undefined) clear.syscall = e.syscall;
  if (e.path !== undefined) clear.path = e.path;
  if (e.spawnargs !== undefined) clear.spawnargs = e.spawnargs;
  return clear;
}

/** What Node's `stdio` gets for one plan entry (stderr's `STDOUT` resolved by the caller). */
function nodeStdio(plan: StdioPlan): StdioEntry {
  switch (plan.kind) {
    case "pipe":
      return "pipe";
    case "devnull":
      return "ignore";
    case "inherit":
      return "inherit";
    case "given":
      return plan.value as Stream | number;
    case "stdout":
      throw new RuntimeError("STDOUT is resolved against stdout");
  }
}

/**
 * The pipe protocols (asyncio's `ReadSubprocessPipeProto`/`WriteSubprocessPipeProto`): what
 * the pipe transports call, passed on to the child's transport with the fd.
 */
class PipeProto extends BaseProtocol {
  pipe: ReadPipeTransport | WritePipeTransport | null = null;
  disconnected = false;

  constructor(
    readonly owner: ChildProcessTransport,
    readonly fd: number,
  ) {
    super();
  }

  dataReceived(data: Buffer): void {
    this.owner._pipeDataReceived(this.fd, data);
  }

  eofReceived(): void {}

  override connectionLost(exc: Error | null): void {
    this.disconnected = true;
    this.owner._pipeConnectionLost(this.fd, exc);
  }

  override pauseWriting(): void {
    this.owner.getProtocol().pauseWriting();
  }

  override resumeWriting(): void {
    this.owner.getProtocol().resumeWriting();
  }

  override toString(): string {
    return `<PipeProto fd=${this.fd}>`;
  }
}

/** @internal The {@link SubprocessTransport} of a child started with `child_process.spawn`. */
export class ChildProcessTransport extends SubprocessTransport {
  readonly #loop: EventLoop;
  #protocol: SubprocessProtocol;
  readonly #child: ChildProcess;
  readonly #plan: SpawnPlan;
  /** Settled when the child spawned (after `connectionMade`) or could not be started. */
  readonly #waiter: Future<void>;
  #pid: number | null = null;
  #returncode: number | null = null;
  #spawnError: Error | null = null;
  #closed = false;
  #finished = false;
  #pipesConnected = false;
  #pending: (() => void)[] | null = [];
  readonly #pipes = new Map<number, PipeProto>();
  /** `_wait()` callers: woken after `connectionLost` (asyncio's `_exit_waiters`). */
  readonly #exitWaiters = new WaiterQueue<Waiter<number>, number>();
  /** `_waitExited()` callers: woken at the exit itself (for `killOnCancel`). */
  readonly #exitedWaiters = new WaiterQueue<Waiter<number>, number>();
  /** An error Node emitted while `sendSignal` was calling `child.kill()` (EPERM). */
  #signalError: Error | null = null;
  #sendingSignal = false;

  /**
   * Spawns the child (Node may throw for bad arguments) and attaches its pipes at once. The
   * protocol's callbacks start once Node reports the spawn; `waiter` then resolves, after
   * `connectionMade` ran, or fails with the error that kept the program from starting.
   */
  constructor(loop: EventLoop, protocol: SubprocessProtocol, plan: SpawnPlan, channel: SharedChannel | null, waiter: Future<void>) {
    super(null);
    this.#loop = loop;
    this.#protocol = protocol;
    this.#plan = plan;
    this.#waiter = waiter;
    const [inPlan, outPlan, errPlan] = plan.stdio;
    const out = channel !== null ? channel.writer : nodeStdio(outPlan);
    let err: StdioEntry;
    if (errPlan.kind === "stdout") {
      // stderr goes where stdout goes: the shared channel, the null device, this process's
      // own fd 1 (inherit), or the same fd or stream.
      err = channel !== null ? channel.writer : outPlan.kind === "inherit" ? 1 : nodeStdio(outPlan);
    } else err = nodeStdio(errPlan);
    const stdio: StdioOptions = [nodeStdio(inPlan), out, err];
    try {
      this.#child = spawn(plan.file, plan.args as string[], {
        stdio,
        env: plan.env,
        cwd: plan.cwd,
        detached: plan.detached,
        uid: plan.uid,
        gid: plan.gid,
        argv0: plan.argv0,
        windowsHide: plan.windowsHide,
        shell: plan.shell,
      });
    } finally {
      // The child has its own copy of the channel's write end now (or never will).
      channel?.writer.destroy();
    }
    const child = this.#child;
    this._extra.subprocess = child;
    child.on("error", this.#onError);
    child.once("spawn", this.#onSpawn);
    child.once("exit", this.#onExit);
    if (child.stdin !== null && inPlan.kind === "pipe") this.#addPipe(0, child.stdin);
    const stdout: Readable | null = channel !== null ? channel.reader : child.stdout;
    if (stdout !== null && outPlan.kind === "pipe") this.#addPipe(1, stdout);
    if (child.stderr !== null && errPlan.kind === "pipe") this.#addPipe(2, child.stderr);
    loop._track(this);
  }

  #addPipe(fd: 0 | 1 | 2, stream: Readable | Writable): void {
    const proto = new PipeProto(this, fd);
    proto.pipe = fd === 0
      ? new WritePipeTransport(this.#loop, stream as Writable, proto)
      : new ReadPipeTransport(this.#loop, stream as Readable, proto, fd === 1 ? "stdout" : "stderr");
    this.#pipes.set(fd, proto);
  }

  // ---------------------------------------------------------------- Node's events

  #onSpawn = outsideFrame((): void => {
    this.#pid = this.#child.pid ?? null;
    if (this.#loop.getDebug()) {
      console.debug(`process ${JSON.stringify(this.#plan.file)} created: pid ${String(this.#pid)}`);
    }
    // asyncio's _connect_pipes: connectionMade, then what happened meanwhile, then the waiter.
    // The waiter is settled from the loop too, so its awaiter resumes after all of them.
    const loop = this.#loop;
    schedule(loop, this.#callConnectionMade);
    for (const call of this.#pending ?? []) schedule(loop, call);
    this.#pending = null;
    this.#pipesConnected = true;
    const waiter = this.#waiter;
    schedule(loop, () => {
      if (!waiter.done()) waiter.setResult(undefined);
    });
    this.#tryFinish();
  });

  #callConnectionMade = (): void => {
    this.#protocol.connectionMade(this);
  };

  #onError = outsideFrame((error: Error): void => {
    if (this.#pid === null && this.#returncode === null && !this.#pipesConnected) {
      // The program could not be started: no 'spawn', no 'exit'; Node closes the pipes.
      this.#spawnError = error;
      this.#closed = true;
      this.#loop._untrack(this);
      this.#closePipes();
      if (!this.#waiter.done()) this.#waiter.setException(explainSpawnError(error, this.#plan));
      this.#exitWaiters.failAll(error);
      this.#exitedWaiters.failAll(error);
      return;
    }
    if (this.#sendingSignal) {
      this.#signalError = error;
      return;
    }
    this.#loop.callExceptionHandler({ message: "Error reported by the child process", exception: error, transport: this });
  });

  #onExit = outsideFrame2((code: number | null, signal: NodeJS.Signals | null): void => {
    this.#processExited(returncodeOf(code, signal));
  });

  // ---------------------------------------------------------------- asyncio's machinery

  /** Runs `call` in the loop, or queues it until `connectionMade` ran. */
  #call(call: () => void): void {
    if (this.#pending !== null) this.#pending.push(call);
    else schedule(this.#loop, call);
  }

  /** @internal A pipe transport got data. */
  _pipeDataReceived(fd: number, data: Buffer): void {
    const protocol = this.#protocol;
    this.#call(function pipeDataReceived() {
      protocol.pipeDataReceived(fd, data);
    });
  }

  /** @internal A pipe transport closed. */
  _pipeConnectionLost(fd: number, exc: Error | null): void {
    const protocol = this.#protocol;
    this.#call(function pipeConnectionLost() {
      protocol.pipeConnectionLost(fd, exc);
    });
    this.#tryFinish();
  }

  #processExited(returncode: number): void {
    if (this.#returncode !== null) return;
    if (this.#loop.getDebug()) console.debug(`${this.toString()} exited with return code ${returncode}`);
    this.#returncode = returncode;
    this.#exitedWaiters.wakeAll(returncode);
    const protocol = this.#protocol;
    this.#call(function processExited() {
      protocol.processExited();
    });
    this.#tryFinish();
  }

  #tryFinish(): void {
    const returncode = this.#returncode;
    if (this.#finished || returncode === null) return;
    if (!this.#pipesConnected) {
      // Never connected (the creation failed or was cancelled): wake wait() now, or never.
      this.#exitWaiters.wakeAll(returncode);
    }
    for (const proto of this.#pipes.values()) if (!proto.disconnected) return;
    this.#finished = true;
    this.#loop._untrack(this);
    this.#call(this.#callConnectionLost);
  }

  #callConnectionLost = (): void => {
    try {
      this.#protocol.connectionLost(null);
    } finally {
      this.#exitWaiters.wakeAll(this.#returncode as number);
    }
  };

  /**
   * @internal Waits for the child: resolves the return code once it exited and its pipes
   * closed (after `connectionLost`); at once when the exit is already known. asyncio:
   * `_wait()`.
   */
  _wait(): Future<number> {
    const loop = this.#loop;
    if (this.#returncode !== null) {
      const done = loop.createFuture<number>();
      done.setResult(this.#returncode);
      return done;
    }
    if (this.#spawnError !== null) {
      const failed = loop.createFuture<number>();
      failed.setException(this.#spawnError);
      return failed;
    }
    return new Waiter<number>(loop, this.#exitWaiters, null);
  }

  /** @internal Resolves the return code as soon as the child exited (pipes may be open). */
  _waitExited(): Future<number> {
    if (this.#returncode !== null || this.#spawnError !== null) return this._wait();
    return new Waiter<number>(this.#loop, this.#exitedWaiters, null);
  }

  // ---------------------------------------------------------------- the public API

  override getPid(): number {
    return this.#pid ?? this.#child.pid ?? -1;
  }

  override getReturncode(): number | null {
    return this.#returncode;
  }

  override getPipeTransport(fd: 0): WriteTransport | null;
  override getPipeTransport(fd: 1 | 2): ReadTransport | null;
  override getPipeTransport(fd: number): BaseTransport | null;
  override getPipeTransport(fd: number): BaseTransport | null {
    return this.#pipes.get(fd)?.pipe ?? null;
  }

  /**
   * Sends `signal` (a number such as 15, or a name such as "SIGTERM") to the child. Does
   * nothing once the child exited (asyncio ignores the `ProcessLookupError`).
   *
   * @throws {TypeError}/{@link RangeError} for a signal this platform does not know; Node's
   * error (`EPERM`) when the signal cannot be sent.
   */
  override sendSignal(signal: number | NodeJS.Signals): void {
    const name = checkSignal(signal);
    const child = this.#child;
    if (this.#returncode !== null || this.#spawnError !== null || child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    this.#sendingSignal = true;
    this.#signalError = null;
    try {
      child.kill(name as NodeJS.Signals);
    } finally {
      this.#sendingSignal = false;
    }
    const error = this.#signalError;
    this.#signalError = null;
    if (error !== null) throw error;
  }

  /** Asks the child to stop: SIGTERM (on Windows, ends it). */
  override terminate(): void {
    this.sendSignal("SIGTERM");
  }

  /** Kills the child: SIGKILL (on Windows, ends it). */
  override kill(): void {
    this.sendSignal("SIGKILL");
  }

  /**
   * Closes the pipes and, if the child still runs, kills it (SIGKILL), as asyncio does. The
   * protocol still hears of the pipes closing and of the exit, then `connectionLost`.
   */
  override close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#loop.isClosed()) {
      for (const proto of this.#pipes.values()) proto.pipe?.close();
    }
    const child = this.#child;
    if (this.#returncode === null && child.exitCode === null && child.signalCode === null && this.#spawnError === null) {
      if (this.#loop.getDebug()) console.warn(`Close running child process: kill ${this.toString()}`);
      try {
        this.kill();
      } catch {
        // Already gone, or not ours to kill (setuid): nothing more to do.
      }
    }
  }

  #closePipes(): void {
    for (const proto of this.#pipes.values()) {
      if (proto.pipe instanceof WritePipeTransport) proto.pipe.abort();
      else proto.pipe?.close();
    }
  }

  /**
   * @internal The loop closes: `close()` (a child still running is killed) and the pipes are
   * destroyed; the protocol hears nothing more.
   */
  _closeForLoop(): boolean {
    const leftOpen = !this.#closed;
    this.close();
    this.#closePipes();
    return leftOpen;
  }

  override isClosing(): boolean {
    return this.#closed;
  }

  override setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as SubprocessProtocol;
  }

  override getProtocol(): SubprocessProtocol {
    return this.#protocol;
  }

  override toString(): string {
    const parts: string[] = [];
    if (this.#closed) parts.push("closed");
    if (this.#pid !== null) parts.push(`pid=${this.#pid}`);
    if (this.#returncode !== null) parts.push(`returncode=${this.#returncode}`);
    else if (this.#pid !== null) parts.push("running");
    else parts.push("not started");
    const stdin = this.#pipes.get(0)?.pipe;
    if (stdin) parts.push(`stdin=${stdin.toString()}`);
    const stdout = this.#pipes.get(1)?.pipe;
    if (stdout) parts.push(`stdout=${stdout.toString()}`);
    const stderr = this.#pipes.get(2)?.pipe;
    if (stderr) parts.push(`stderr=${stderr.toString()}`);
    return formatRepr("ChildProcessTransport", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
