/**
 * `Process`: a running child made by `createSubprocessExec` / `createSubprocessShell`, with its
 * pipes as streams, `wait()`, `communicate()` and signals. asyncio: `asyncio.subprocess.Process`.
 *
 * HOW `killOnCancel` works (beyond asyncio; Trio's `run_process` behaviour): when the task
 * awaiting `wait()` or `communicate()` is cancelled, the `CancelledError` is caught there, the
 * child is stopped, and the error is rethrown once the child has exited:
 *   1. SIGTERM, and a timer (the loop's clock) for the grace period;
 *   2. when the timer fires and the child still runs: SIGKILL;
 *   3. wait for the exit itself (not for the pipes: a grandchild may hold them open).
 * A second cancel while waiting does not leave the child behind: it sends SIGKILL at once and
 * the waiting goes on. A grace period of 0 sends SIGKILL at once.
 */
import { gather } from "../combinators/gather.js";
import { RuntimeError, isCancellation } from "../errors.js";
import type { TimerHandle } from "../events/handles.js";
import type { EventLoop } from "../events/loop.js";
import type { Future } from "../futures.js";
import type { Task } from "../tasks.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { describe } from "../internal/validate.js";
import type { StreamReader } from "../streams/reader.js";
import type { StreamWriter } from "../streams/writer.js";
import type { WriteData, WriteTransport } from "../transports/transports.js";
import type { SubprocessStreamProtocol } from "./protocol.js";
import type { ChildProcessTransport } from "./transport.js";

/** Errors of a pipe whose other end is gone: `communicate()` ignores them while feeding stdin. */
function isBrokenPipe(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EPIPE" || code === "ECONNRESET" || code === "ERR_STREAM_DESTROYED";
}

/** What a read at EOF resolved (it is done at once: nothing to wait for). */
function settle(read: Future<Buffer> | null): Buffer | null {
  if (read === null) return null;
  if (!read.done()) throw new RuntimeError("communicate(): a pipe reached EOF but its reader still waits");
  return read.result();
}

/**
 * A child process started by {@link createSubprocessExec} or {@link createSubprocessShell}.
 *
 * `stdin` is a {@link StreamWriter} and `stdout`/`stderr` are {@link StreamReader}s when that
 * stream was created with `PIPE`; otherwise they are `null` (`DEVNULL`, inherited, a file, or
 * stderr sent to `STDOUT`). The readers are attached the moment the child is spawned, so the
 * output of a child that exits at once is never lost.
 *
 * Reading `stdout` while writing `stdin` by hand can deadlock when the child fills one pipe
 * while you wait on the other: {@link Process.communicate} does both at once.
 *
 * @example
 * const proc = await createSubprocessExec("ls", ["-l"], { stdout: PIPE });
 * const [out] = await proc.communicate();
 * console.log(proc.returncode, out?.toString());
 *
 * asyncio: `asyncio.subprocess.Process`.
 */
export class Process {
  readonly #transport: ChildProcessTransport;
  readonly #protocol: SubprocessStreamProtocol;
  readonly #loop: EventLoop;
  readonly #grace: number | null;

  /** The child's process id. */
  readonly pid: number;
  /** The child's standard input, when created with `stdin: PIPE`; else `null`. */
  readonly stdin: StreamWriter<WriteTransport> | null;
  /** The child's standard output, when created with `stdout: PIPE`; else `null`. */
  readonly stdout: StreamReader | null;
  /** The child's standard error, when created with `stderr: PIPE`; else `null`. */
  readonly stderr: StreamReader | null;

  /** @internal Made by `createSubprocessExec` / `createSubprocessShell`. */
  constructor(transport: ChildProcessTransport, protocol: SubprocessStreamProtocol, loop: EventLoop, killGrace: number | null) {
    this.#transport = transport;
    this.#protocol = protocol;
    this.#loop = loop;
    this.#grace = killGrace;
    this.pid = transport.getPid();
    this.stdin = protocol.stdin;
    this.stdout = protocol.stdout;
    this.stderr = protocol.stderr;
  }

  /**
   * The return code: `null` while the child runs; its exit code once it exited; minus the
   * signal number when a signal ended it (`-15` for SIGTERM, `-9` for SIGKILL). Set as soon as
   * the exit is known, not only by `wait()`.
   *
   * asyncio: `Process.returncode`.
   */
  get returncode(): number | null {
    return this.#transport.getReturncode();
  }

  /**
   * Waits for the child to exit and resolves its return code (see {@link Process.returncode}).
   * It resolves once the child exited and its pipes are closed, so all its output is in the
   * readers by then; when the exit is already known, at once. Many tasks may wait at once.
   *
   * With `stdout: PIPE` or `stderr: PIPE`, read the output while waiting (or use
   * {@link Process.communicate}): a child that fills a pipe nobody reads blocks, and so does
   * `wait()`.
   *
   * Returns a {@link Future} (a {@link Task} with `killOnCancel`), not a promise, so that
   * `waitFor(proc.wait(), 5)` and `gather(…)` can cancel it, as asyncio's `wait_for` cancels
   * the coroutine.
   *
   * **Cancellation**: cancelling the awaiting task (or the returned future) ends the wait with
   * `CancelledError`; the child keeps running, as in asyncio. With `killOnCancel`, the child is
   * stopped first (SIGTERM, the grace period, SIGKILL) and the `CancelledError` goes on once it
   * exited: `await waitFor(proc.wait(), 5)` then raises `TimeoutError` with the child gone.
   *
   * @example
   * const code = await proc.wait();
   *
   * asyncio: `Process.wait()`.
   */
  wait(): Future<number> {
    const exit = this.#transport._wait();
    if (this.#grace === null || exit.done()) return exit;
    return this.#loop.createTask(
      async () => {
        try {
          return await exit;
        } catch (error) {
          await this.#afterError(error);
          throw error;
        }
      },
      { name: `${this.toString()}.wait()` },
    );
  }

  /**
   * Sends `input` to the child's stdin and closes it (also without `input`, as 3.12 does),
   * reads stdout and stderr until EOF, waits for the child to exit, and resolves
   * `[stdout, stderr]`: a `Buffer` for each stream created with `PIPE`, `null` for the others.
   * Feeding and reading go on at once, so large outputs on both pipes never deadlock. A broken
   * pipe on stdin (the child exited or closed it without reading everything) is ignored, as
   * asyncio does.
   *
   * Returns a {@link Task} (not a promise), so that `waitFor(proc.communicate(input), 5)` and
   * `gather(…)` can cancel it, as asyncio's `wait_for` cancels the coroutine.
   *
   * **Cancellation**: cancelling the awaiting task (or the returned task) ends the call with
   * `CancelledError`; stdin keeps what was written, and — unlike asyncio, which loses it — the
   * output that had arrived stays in `stdout`/`stderr` for whoever reads next. The child keeps
   * running unless the process was created with `killOnCancel`: then it is stopped first (see
   * {@link Process.wait}).
   *
   * @throws {TypeError} (at once) when `input` is not bytes or a string; {@link RangeError}
   * (at once) when `input` is given but stdin is not a pipe (asyncio silently drops it).
   * @throws the error of a stdout/stderr pipe that broke.
   *
   * @example
   * const proc = await createSubprocessExec("sort", [], { stdin: PIPE, stdout: PIPE });
   * const [sorted] = await waitFor(proc.communicate("b\na\n"), 10);
   *
   * asyncio: `Process.communicate(input=None)`.
   */
  communicate(input?: WriteData | null): Task<[stdout: Buffer | null, stderr: Buffer | null]> {
    if (input !== undefined && input !== null && typeof input !== "string" && !(input instanceof Uint8Array)) {
      throw new TypeError(`\`input\` must be a Buffer, a Uint8Array, a string or null, got ${describe(input)}`);
    }
    if (input !== undefined && input !== null && input.length > 0 && this.stdin === null) {
      throw new RangeError("communicate(input) needs the process to be created with `stdin: PIPE`");
    }
    return this.#loop.createTask(() => this.#communicate(input ?? null), { name: `${this.toString()}.communicate()` });
  }

  async #communicate(input: WriteData | null): Promise<[Buffer | null, Buffer | null]> {
    const protocol = this.#protocol;
    const parts: (() => PromiseLike<unknown>)[] = [];
    if (this.stdin !== null) parts.push(() => this.#feedStdin(input));
    if (this.stdout !== null) parts.push(() => protocol._waitPipeClosed(1));
    if (this.stderr !== null) parts.push(() => protocol._waitPipeClosed(2));
    protocol._holdPipes(true);
    try {
      if (parts.length > 0) await gather(...parts);
      // Exit and pipes closed: only then take the output out of the readers (synchronously:
      // at EOF, read() is already done), so a cancel anywhere before leaves it there.
      await this.#transport._wait();
      const stdout = this.stdout?.read() ?? null;
      const stderr = this.stderr?.read() ?? null;
      return [settle(stdout), settle(stderr)];
    } catch (error) {
      await this.#afterError(error);
      throw error;
    } finally {
      protocol._holdPipes(false);
    }
  }

  async #feedStdin(input: WriteData | null): Promise<void> {
    const stdin = this.stdin as StreamWriter<WriteTransport>;
    try {
      if (input !== null && input.length > 0) {
        stdin.write(input);
        await stdin.drain();
      }
    } catch (error) {
      if (!isBrokenPipe(error)) throw error;
      if (this.#loop.getDebug()) console.debug(`${this.toString()} communicate: stdin got ${String(error)}`);
    }
    stdin.close();
  }

  /** After `wait()`/`communicate()` failed: with `killOnCancel`, a cancel stops the child. */
  async #afterError(error: unknown): Promise<void> {
    if (this.#grace === null || !isCancellation(error)) return;
    await this.#stop(this.#grace);
  }

  /** SIGTERM, `grace` seconds, SIGKILL; resolves once the child exited (see the module comment). */
  async #stop(grace: number): Promise<void> {
    const transport = this.#transport;
    if (transport.getReturncode() !== null) return;
    let timer: TimerHandle | null = null;
    if (grace > 0) {
      transport.terminate();
      if (Number.isFinite(grace)) timer = this.#loop.callLater(grace, () => transport.kill());
    } else {
      transport.kill();
    }
    try {
      while (transport.getReturncode() === null) {
        try {
          await transport._waitExited();
        } catch (error) {
          if (!isCancellation(error)) throw error;
          // Cancelled again while the child is being stopped: stop it now, keep waiting.
          timer?.cancel();
          transport.kill();
        }
      }
    } finally {
      timer?.cancel();
    }
  }

  /**
   * Sends `signal` (a number such as 15, or a name such as `"SIGHUP"`) to the child. Does
   * nothing once the child exited (asyncio ignores `ProcessLookupError` the same way).
   *
   * @throws {TypeError}/{@link RangeError} for a signal unknown to this platform; Node's error
   * (`EPERM`) when the signal cannot be sent.
   *
   * asyncio: `Process.send_signal(signal)`.
   */
  sendSignal(signal: number | NodeJS.Signals): void {
    this.#transport.sendSignal(signal);
  }

  /**
   * Asks the child to stop: SIGTERM on POSIX (on Windows, the child is ended). Does nothing
   * once the child exited.
   *
   * asyncio: `Process.terminate()`.
   */
  terminate(): void {
    this.#transport.terminate();
  }

  /**
   * Kills the child: SIGKILL on POSIX (on Windows, the child is ended). Does nothing once the
   * child exited.
   *
   * asyncio: `Process.kill()`.
   */
  kill(): void {
    this.#transport.kill();
  }

  /** `<Process 1234>`, as asyncio prints it. */
  toString(): string {
    return formatRepr("Process", [String(this.pid)]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
