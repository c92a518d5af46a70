/**
 * @internal The protocol behind {@link Process}: puts a `StreamReader` on the child's stdout and
 * stderr pipes and a `StreamWriter` on its stdin. asyncio: `subprocess.SubprocessStreamProtocol`.
 *
 * The transport is closed once the child exited *and* its stdout/stderr pipes reached EOF
 * (3.12's fix of gh-108973: closing at the exit alone could cut output short); closing it
 * closes stdin, so `connectionLost` follows and `wait()` returns even if nobody closed stdin.
 *
 * For `communicate()` (beyond asyncio): while it waits for EOF, the readers' requests to pause
 * the pipes are held back (`#holds`), so the output can pile up in the readers without a
 * deadlock and without being taken out of them: a `communicate()` that is cancelled leaves
 * every byte in `process.stdout`/`process.stderr`.
 */
import type { EventLoop } from "../events/loop.js";
import type { Future } from "../futures.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { Waiter, WaiterQueue } from "../internal/waiters.js";
import { FlowControl } from "../streams/protocol.js";
import { StreamReader } from "../streams/reader.js";
import { StreamWriter, type StreamWriterProtocol } from "../streams/writer.js";
import { SubprocessProtocol } from "../transports/protocols.js";
import type { ReadTransport, SubprocessTransport, WriteTransport } from "../transports/transports.js";

/**
 * What a reader pauses and resumes: the pipe transport, except while `communicate()` holds
 * the pipe open (see the module comment). It remembers what the reader asked for.
 */
class PipeReadControl {
  #pauseRequested = false;
  #holds = 0;

  constructor(readonly pipe: ReadTransport) {}

  pauseReading(): void {
    this.#pauseRequested = true;
    if (this.#holds === 0) this.pipe.pauseReading();
  }

  resumeReading(): void {
    this.#pauseRequested = false;
    this.pipe.resumeReading();
  }

  hold(): void {
    this.#holds++;
    this.pipe.resumeReading();
  }

  release(): void {
    this.#holds--;
    if (this.#holds === 0 && this.#pauseRequested) this.pipe.pauseReading();
  }
}

/** @internal See the module comment. */
export class SubprocessStreamProtocol extends SubprocessProtocol implements StreamWriterProtocol {
  readonly #limit: number;
  readonly #loop: EventLoop;
  /** @internal */ readonly _flow: FlowControl;
  stdin: StreamWriter<WriteTransport> | null = null;
  stdout: StreamReader | null = null;
  stderr: StreamReader | null = null;
  #transport: SubprocessTransport | null = null;
  #processExited = false;
  #lost = false;
  /** The read pipes (1, 2) still open. */
  readonly #pipeFds = new Set<number>();
  readonly #controls = new Map<number, PipeReadControl>();
  readonly #closedWaiters = new Map<number, WaiterQueue<Waiter<void>, void>>();
  readonly #stdinClosed: Future<void>;

  constructor(limit: number, loop: EventLoop) {
    super();
    this.#limit = limit;
    this.#loop = loop;
    this._flow = new FlowControl(() => loop);
    this.#stdinClosed = loop.createFuture<void>();
  }

  override connectionMade(transport: SubprocessTransport): void {
    this.#transport = transport;
    for (const fd of [1, 2]) {
      const pipe = transport.getPipeTransport(fd);
      if (pipe === null) continue;
      const reader = new StreamReader({ limit: this.#limit, loop: this.#loop });
      const control = new PipeReadControl(pipe as ReadTransport);
      reader.setTransport(control);
      this.#controls.set(fd, control);
      this.#closedWaiters.set(fd, new WaiterQueue());
      this.#pipeFds.add(fd);
      if (fd === 1) this.stdout = reader;
      else this.stderr = reader;
    }
    const stdin = transport.getPipeTransport(0);
    if (stdin !== null) {
      // A pipe's write end is a WriteTransport; StreamWriter only uses its writing half.
      this.stdin = new StreamWriter(stdin as WriteTransport, this, null, this.#loop);
    }
  }

  override pipeDataReceived(fd: number, data: Buffer): void {
    const reader = fd === 1 ? this.stdout : fd === 2 ? this.stderr : null;
    reader?.feedData(data);
  }

  override pipeConnectionLost(fd: number, exc: Error | null): void {
    if (fd === 0) {
      this.stdin?.close();
      this.connectionLost(exc);
      if (!this.#stdinClosed.done()) {
        if (exc === null) this.#stdinClosed.setResult(undefined);
        else {
          this.#stdinClosed.setException(exc);
          this.#stdinClosed.exception(); // waitClosed() need not be awaited: not "never retrieved"
        }
      }
      return;
    }
    const reader = fd === 1 ? this.stdout : fd === 2 ? this.stderr : null;
    if (reader !== null) {
      if (exc === null) reader.feedEof();
      else reader.setException(exc);
    }
    this.#pipeFds.delete(fd);
    this.#closedWaiters.get(fd)?.wakeAll(undefined);
    this.#maybeCloseTransport();
  }

  override processExited(): void {
    this.#processExited = true;
    this.#maybeCloseTransport();
  }

  #maybeCloseTransport(): void {
    if (this.#pipeFds.size === 0 && this.#processExited && this.#transport !== null) {
      this.#transport.close();
      this.#transport = null;
    }
  }

  override connectionLost(exc: Error | null): void {
    // Called for stdin's loss, then once more (with null) when the whole transport closes:
    // the first one tells drain() why.
    if (this.#lost) return;
    this.#lost = true;
    this._flow.lost(exc);
  }

  override pauseWriting(): void {
    this._flow.pause();
  }

  override resumeWriting(): void {
    this._flow.resume();
  }

  /** @internal What `stdin.waitClosed()` awaits. */
  _getCloseWaiter(): Future<void> {
    return this.#stdinClosed;
  }

  /** @internal Resolves when the read pipe `fd` reached EOF or broke (at once if it did). */
  _waitPipeClosed(fd: number): Future<void> {
    const queue = this.#closedWaiters.get(fd);
    if (queue === undefined || !this.#pipeFds.has(fd)) {
      const done = this.#loop.createFuture<void>();
      done.setResult(undefined);
      return done;
    }
    return new Waiter<void>(this.#loop, queue, null);
  }

  /** @internal `communicate()` starts (`true`) or ends (`false`) holding the read pipes open. */
  _holdPipes(on: boolean): void {
    for (const control of this.#controls.values()) {
      if (on) control.hold();
      else control.release();
    }
  }

  override toString(): string {
    const parts: string[] = [];
    if (this.#processExited) parts.push("exited");
    if (this._flow.paused) parts.push("writing-paused");
    return formatRepr("SubprocessStreamProtocol", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
