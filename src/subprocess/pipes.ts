/**
 * @internal The transports of a child's pipes: a read transport on its stdout/stderr, a write
 * transport on its stdin (asyncio's `_UnixReadPipeTransport` / `_UnixWritePipeTransport`), on
 * the Node streams that `child_process.spawn` makes.
 *
 * HOW they sit on Node:
 * - Reading: the transport listens to 'data' from the moment it is made, which is right after
 *   `spawn()` returns (Node throws away the output of a child that exits before anybody
 *   listens). Each chunk goes to the protocol at once, from Node's I/O callback, as asyncio's
 *   `_read_ready` does. `pauseReading()` is `stream.pause()`. Node's trap: when the child
 *   exits, Node resumes every stdout/stderr stream of it (`flushStdio`), paused or not; so a
 *   chunk that arrives while paused is held, the stream paused again, and the chunk delivered
 *   on `resumeReading()`. EOF closes the transport: `eofReceived`, then `connectionLost(null)`,
 *   in the loop's next iteration.
 * - Writing: `write()` is `stream.write()`; the write buffer is Node's (`writableLength`). Over
 *   the high-water mark the protocol's `pauseWriting()` is called, and an empty "marker" write
 *   behind the data tells when it drained to the low-water mark. `close()` (= `writeEof()`)
 *   ends the stream once the buffer is flushed, then `connectionLost(null)`. A write that
 *   fails (EPIPE: the child closed its stdin or exited) closes the transport with that error.
 *   Node destroys a child's stdin when the child exits; with bytes still buffered that is a
 *   broken pipe too, as asyncio reports it.
 *
 * Invariant: `#lost` is set once, when `connectionLost` is scheduled; after it the stream is
 * destroyed and the protocol hears nothing more.
 */
import type { Readable, Writable } from "node:stream";
import type { EventLoop } from "../events/loop.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import type { BaseProtocol } from "../transports/protocols.js";
import { ReadTransport, type WriteData, WriteFlowControl, WriteTransport } from "../transports/transports.js";
import { type CodedError, reportsFatal, outsideFrame, schedule, toBuffer, callProtocol } from "../transports/util.js";

/** What a read pipe transport calls. */
export interface ReadPipeProtocol extends BaseProtocol {
  dataReceived(data: Buffer): void;
  eofReceived(): unknown;
}

const LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5;
const EMPTY = Buffer.alloc(0);

/** Python's `BrokenPipeError`, as Node spells it: `code: "EPIPE"`. */
export function brokenPipeError(detail = "the child process closed its end of the pipe"): CodedError {
  const error = new Error(`Broken pipe: ${detail}`) as CodedError;
  error.code = "EPIPE";
  return error;
}

function reportFatal(loop: EventLoop, exc: unknown, message: string, transport: object, protocol: BaseProtocol, fromProtocol = false): void {
  // asyncio logs OSErrors of pipes only in debug mode; a protocol callback that threw always.
  if (reportsFatal(loop, exc, fromProtocol)) {
    loop.callExceptionHandler({ message, exception: exc, transport, protocol });
  }
}

function callLost(loop: EventLoop, protocol: BaseProtocol, exc: Error | null, transport: object): void {
  callProtocol(loop, transport, protocol, "connectionLost", () => protocol.connectionLost(exc));
}

/** @internal The read end of a child's stdout or stderr pipe. asyncio: `_UnixReadPipeTransport`. */
export class ReadPipeTransport extends ReadTransport {
  readonly #loop: EventLoop;
  readonly #stream: Readable;
  #protocol: ReadPipeProtocol;
  readonly #name: string;
  #closing = false;
  #lost = false;
  #paused = false;
  /** Chunks Node delivered while paused (see the module comment), and an EOF behind them. */
  #held: Buffer[] = [];
  #eofHeld = false;

  constructor(loop: EventLoop, stream: Readable, protocol: ReadPipeProtocol, name: string) {
    super({ pipe: stream });
    this.#loop = loop;
    this.#stream = stream;
    this.#protocol = protocol;
    this.#name = name;
    stream.on("data", this.#onData);
    stream.on("end", this.#onEnd);
    stream.on("error", this.#onError);
    stream.on("close", this.#onClose);
  }

  #onData = outsideFrame((chunk: Buffer): void => {
    if (this.#closing) return;
    if (this.#paused) {
      this.#held.push(chunk);
      this.#stream.pause();
      return;
    }
    this.#deliver(chunk);
  });

  #deliver(chunk: Buffer): void {
    try {
      this.#protocol.dataReceived(chunk);
    } catch (exc) {
      this.#fatalError(exc, "Fatal error: protocol.dataReceived() call failed.", true);
    }
  }

  #onEnd = outsideFrame((): void => {
    if (this.#closing) return;
    if (this.#held.length > 0) this.#eofHeld = true;
    else this.#eof();
  });

  #eof(): void {
    this.#closing = true;
    this.#lost = true;
    const protocol = this.#protocol;
    schedule(this.#loop, () => {
      try {
        protocol.eofReceived();
      } catch (exception) {
        this.#loop.callExceptionHandler({ message: "protocol.eofReceived() call failed.", exception, transport: this, protocol });
      }
    });
    schedule(this.#loop, () => callLost(this.#loop, protocol, null, this));
  }

  #onError = outsideFrame((err: Error): void => {
    this.#fatalError(err, "Fatal read error on pipe transport");
  });

  #onClose = outsideFrame((): void => {
    if (this.#lost || this.#eofHeld) return;
    const errored = (this.#stream as { errored?: Error | null }).errored ?? null;
    this.#forceClose(errored);
  });

  #fatalError(exc: unknown, message: string, fromProtocol = false): void {
    if (this.#lost) return;
    reportFatal(this.#loop, exc, message, this, this.#protocol, fromProtocol);
    this.#forceClose(exc instanceof Error ? exc : new Error(String(exc)));
  }

  #forceClose(exc: Error | null): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#closing = true;
    this.#held = [];
    this.#stream.destroy();
    const protocol = this.#protocol;
    schedule(this.#loop, () => callLost(this.#loop, protocol, exc, this));
  }

  override isReading(): boolean {
    return !this.#paused && !this.#closing;
  }

  override pauseReading(): void {
    if (this.#closing || this.#paused) return;
    this.#paused = true;
    this.#stream.pause();
  }

  override resumeReading(): void {
    if (this.#closing || !this.#paused) return;
    this.#paused = false;
    while (!this.#paused && !this.#closing && this.#held.length > 0) {
      this.#deliver(this.#held.shift() as Buffer);
    }
    if (this.#paused || this.#closing) return;
    if (this.#eofHeld) {
      this.#eofHeld = false;
      this.#eof();
      return;
    }
    this.#stream.resume();
  }

  /** Closes the read end now: unread output is dropped, then `connectionLost(null)`. */
  override close(): void {
    if (!this.#closing) this.#forceClose(null);
  }

  override isClosing(): boolean {
    return this.#closing;
  }

  override setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as ReadPipeProtocol;
  }

  override getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  override toString(): string {
    const state = this.#lost ? "closed" : this.#closing ? "closing" : this.#paused ? "paused" : "open";
    return formatRepr("ReadPipeTransport", [this.#name, state]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

/** @internal The write end of a child's stdin pipe. asyncio: `_UnixWritePipeTransport`. */
export class WritePipeTransport extends WriteTransport {
  readonly #loop: EventLoop;
  readonly #stream: Writable;
  #protocol: BaseProtocol;
  readonly #flow: WriteFlowControl;
  #closing = false;
  #lost = false;
  #lostWrites = 0;
  #markerPending = false;

  constructor(loop: EventLoop, stream: Writable, protocol: BaseProtocol) {
    super({ pipe: stream });
    this.#loop = loop;
    this.#stream = stream;
    this.#protocol = protocol;
    this.#flow = new WriteFlowControl(loop, this, () => this.#protocol, () => this.getWriteBufferSize());
    stream.on("error", this.#onError);
    stream.on("finish", this.#onFinish);
    stream.on("close", this.#onClose);
  }

  #onError = outsideFrame((err: Error): void => {
    if (this.#lost) return;
    reportFatal(this.#loop, err, "Fatal write error on pipe transport", this, this.#protocol);
    this.#forceClose(err);
  });

  #onFinish = outsideFrame((): void => {
    if (this.#closing) this.#forceClose(null);
  });

  #onClose = outsideFrame((): void => {
    if (this.#lost) return;
    const stream = this.#stream as Writable & { errored?: Error | null };
    // Node destroys a child's stdin when the child exits: with bytes still waiting, they
    // never reached it.
    const exc = stream.errored ?? (this.#pendingBytes() > 0 ? brokenPipeError() : null);
    this.#forceClose(exc);
  });

  #pendingBytes(): number {
    return this.#stream.writableLength;
  }

  #forceClose(exc: Error | null): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#closing = true;
    this.#stream.destroy();
    const protocol = this.#protocol;
    schedule(this.#loop, () => {
      callLost(this.#loop, protocol, exc, this);
    });
  }

  #onMarker = (): void => {
    this.#markerPending = false;
    if (this.#lost) return;
    this.#flow.maybeResume();
    this.#armMarker();
  };

  /** While bytes wait in Node's buffer and the protocol is paused, keep one marker behind them. */
  #armMarker(): void {
    if (this.#markerPending || !this.#flow.paused || this.#lost) return;
    const stream = this.#stream;
    if (stream.writableLength === 0 || stream.writableEnded) {
      this.#flow.maybeResume();
      return;
    }
    this.#markerPending = true;
    stream.write(EMPTY, outsideFrame(this.#onMarker));
  }

  /**
   * Writes `data` without blocking (see the module comment). Writes after `close()` or after
   * the pipe broke are dropped, as asyncio drops them; `drain()` then raises.
   */
  override write(data: WriteData): void {
    const buf = toBuffer(data, "write()");
    if (buf.length === 0) return;
    if (this.#lost || this.#closing) {
      if (++this.#lostWrites >= LOG_THRESHOLD_FOR_CONNLOST_WRITES) {
        console.warn(`${this.toString()}: pipe closed by peer or write() after close(): data dropped`);
      }
      return;
    }
    const stream = this.#stream;
    stream.write(buf);
    if (this.#lost) return;
    if (stream.writableLength > this.#flow.high) {
      this.#flow.maybePause();
      this.#armMarker();
    }
  }

  /** Closes the pipe once the buffer is flushed (the child reads EOF). Same as `close()`. */
  override writeEof(): void {
    if (this.#closing) return;
    this.#closing = true;
    // 'finish' (all bytes handed to the child) closes the transport.
    this.#stream.end();
  }

  override canWriteEof(): boolean {
    return true;
  }

  /** Closes the pipe once the buffered bytes are flushed, then `connectionLost(null)`. */
  override close(): void {
    if (!this.#closing) this.writeEof();
  }

  /** Closes the pipe now, dropping buffered bytes. */
  override abort(): void {
    this.#forceClose(null);
  }

  override isClosing(): boolean {
    return this.#closing;
  }

  override getWriteBufferSize(): number {
    return this.#lost ? 0 : this.#stream.writableLength;
  }

  override setWriteBufferLimits(high?: number | null, low?: number | null): void {
    this.#flow.setLimits(high, low);
    this.#armMarker();
  }

  override getWriteBufferLimits(): [low: number, high: number] {
    return [this.#flow.low, this.#flow.high];
  }

  override setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol;
  }

  override getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  override toString(): string {
    const parts = ["stdin", this.#lost ? "closed" : this.#closing ? "closing" : "open"];
    const size = this.getWriteBufferSize();
    if (size > 0) parts.push(`buffered=${size}`);
    return formatRepr("WritePipeTransport", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
