/**
 * `StreamWriter`: the writing end of a stream, with real backpressure through `drain()`.
 */
import type { EventLoop } from "../events/loop.js";
import type { Future } from "../futures.js";
import { RuntimeError } from "../errors.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { checkOptions } from "../internal/validate.js";
import { sleep } from "../tasks.js";
import type { BaseProtocol } from "../transports/protocols.js";
import type { SslOption } from "../transports/tls.js";
import { type ExtraInfo, Transport, type WriteData, type WriteTransport } from "../transports/transports.js";
import type { FlowControl } from "./protocol.js";
import type { StreamReader } from "./reader.js";

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * What a {@link StreamWriter} needs of its protocol (a `StreamReaderProtocol`, or the
 * subprocess module's protocol): the write flow control, the future `waitClosed()` awaits,
 * and for `startTls` which side it is and how to swap the transport.
 */
export interface StreamWriterProtocol extends BaseProtocol {
  /** @internal */ readonly _flow: FlowControl;
  /** @internal */ _getCloseWaiter(): Future<void>;
  /** @internal */ readonly _isServerSide?: boolean;
  /** @internal */ _replaceTransport?(transport: Transport): void;
}

/** Options of {@link StreamWriter.startTls}. */
export interface StreamStartTlsOptions {
  /** The name to check the server's certificate against; `""` turns the check off. */
  serverHostname?: string | null;
  /** Seconds to wait for the handshake; default 60. */
  sslHandshakeTimeout?: number | null;
  /**
   * Seconds `close()` may then take (send what is buffered and close_notify, get the peer's
   * close_notify) before the connection is aborted and `waitClosed()` raises `TimeoutError`;
   * default 30.
   */
  sslShutdownTimeout?: number | null;
}

const STREAM_START_TLS_KEYS = [
  "serverHostname",
  "sslHandshakeTimeout",
  "sslShutdownTimeout",
] as const satisfies readonly (keyof StreamStartTlsOptions)[];

/**
 * The writing end of a stream: wraps a {@link Transport}. `write()` never blocks; `await
 * drain()` after writing is what applies backpressure (it waits while the transport's buffer
 * is over its high-water mark).
 *
 * @example
 * writer.write(Buffer.from("hello\n"));
 * await writer.drain();
 * writer.close();
 * await writer.waitClosed();
 *
 * asyncio: `asyncio.StreamWriter`.
 */
export class StreamWriter<T extends WriteTransport = Transport> {
  #transport: T;
  readonly #protocol: StreamWriterProtocol;
  readonly #reader: StreamReader | null;
  readonly #loop: EventLoop;

  /** Made by `openConnection` and `startServer`; make one yourself only with the low-level API. */
  constructor(transport: T, protocol: StreamWriterProtocol, reader: StreamReader | null, loop: EventLoop) {
    this.#transport = transport;
    this.#protocol = protocol;
    this.#reader = reader;
    this.#loop = loop;
  }

  /** The underlying transport (a socket's, or a child's stdin pipe, which is write-only). */
  get transport(): T {
    return this.#transport;
  }

  /**
   * Writes `data` (bytes, or a string sent as UTF-8) without blocking; follow with
   * `await drain()`. Writes after `close()` are dropped (the next `drain()` throws).
   *
   * @throws {RuntimeError} after `writeEof()`.
   */
  write(data: WriteData): void {
    this.#transport.write(data);
  }

  /** Writes each item of `data`, in order, as one write. */
  writelines(data: Iterable<WriteData>): void {
    this.#transport.writelines(data);
  }

  /** Closes the writing side once the buffer is sent (TCP half-close; not over TLS). */
  writeEof(): void {
    this.#transport.writeEof();
  }

  /** Whether {@link StreamWriter.writeEof} is supported. */
  canWriteEof(): boolean {
    return this.#transport.canWriteEof();
  }

  /** Closes the stream: buffered data is still sent. Follow with `await waitClosed()`. */
  close(): void {
    this.#transport.close();
  }

  /** Whether the stream is closing or closed. */
  isClosing(): boolean {
    return this.#transport.isClosing();
  }

  /**
   * Waits until the connection is closed (after `close()`, or when the other end closed it).
   *
   * **Cancellation**: cancelling the awaiting task stops the waiting; the stream is left as
   * it is.
   *
   * @throws the error the connection was lost with, if any.
   */
  async waitClosed(): Promise<void> {
    await this.#protocol._getCloseWaiter();
  }

  /** Information about the connection (see {@link BaseTransport.getExtraInfo}). */
  getExtraInfo<K extends keyof ExtraInfo>(name: K, defaultValue?: ExtraInfo[K] | null): ExtraInfo[K] | null;
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  getExtraInfo(name: string, defaultValue: unknown = null): unknown {
    return this.#transport.getExtraInfo(name, defaultValue);
  }

  /**
   * Waits until it is fine to write more: returns at once (no loop iteration) while the
   * transport's buffer is under its high-water mark (64 KiB by default), else waits until it
   * drains to the low-water mark.
   *
   * **Cancellation**: cancelling the awaiting task ends the wait with `CancelledError`; the
   * data already written stays queued.
   *
   * @throws the connection's error once it is lost (`ECONNRESET`, `EPIPE`…, Node's `code`
   * kept), or an error with `code: "ECONNRESET"` and message "Connection lost" when it closed
   * (for example `drain()` after `close()`); the reader's error when it has one.
   *
   * asyncio: `StreamWriter.drain()`.
   */
  drain(): PromiseLike<void> {
    const reader = this.#reader;
    if (reader !== null) {
      const exc = reader.exception();
      if (exc !== null) return this.#failed(exc);
    }
    const flow = this.#protocol._flow;
    if (this.#transport.isClosing()) return this.#drainClosing(flow);
    if (flow.connectionLost) return this.#failed(flow.lostReason());
    // The fast path: one shared settled promise, the cheapest thing to await.
    if (!flow.paused) return RESOLVED;
    return flow.wait();
  }

  async #drainClosing(flow: FlowControl): Promise<void> {
    // Let connectionLost() run first, so the error it brings is the one raised.
    await sleep(0);
    if (flow.connectionLost) throw flow.lostReason();
    if (flow.paused) await flow.wait();
  }

  /** A failed future: awaited, it throws; never awaited, it makes no unhandled rejection. */
  #failed(error: unknown): Future<void> {
    const future = this.#loop.createFuture<void>();
    future.setException(error);
    return future;
  }

  /**
   * Upgrades the connection to TLS (STARTTLS): drains, then does the handshake; reads and
   * writes go through TLS from then on. The server side of `startServer` is the TLS server
   * (`sslcontext` with a key and certificate); a client's `sslcontext` is as `ssl` of
   * `openConnection`.
   *
   * **Cancellation**: cancelling during the handshake destroys the connection (the reader
   * then raises the `CancelledError`).
   *
   * @throws TLS errors from the handshake; `TimeoutError` after `sslHandshakeTimeout`.
   *
   * asyncio: `StreamWriter.start_tls(sslcontext, *, server_hostname, ssl_handshake_timeout)`.
   */
  async startTls(sslcontext: SslOption, options: StreamStartTlsOptions = {}): Promise<void> {
    checkOptions("StreamWriter.startTls()", options, STREAM_START_TLS_KEYS);
    const protocol = this.#protocol;
    const transport = this.#transport;
    if (!(transport instanceof Transport)) {
      throw new RuntimeError("startTls() needs a socket's transport, not a write-only pipe");
    }
    await this.drain();
    const upgraded = await this.#loop.startTls(transport, protocol, sslcontext, {
      serverSide: protocol._isServerSide === true,
      serverHostname: options.serverHostname ?? null,
      sslHandshakeTimeout: options.sslHandshakeTimeout ?? null,
      sslShutdownTimeout: options.sslShutdownTimeout ?? null,
    });
    this.#transport = upgraded as WriteTransport as T;
    protocol._replaceTransport?.(upgraded);
  }

  /**
   * `await using writer = …`: closes the stream and waits until it is closed (errors of the
   * connection are not raised from here). An addition to asyncio.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    try {
      await this.waitClosed();
    } catch {
      // The connection's error belongs to whoever reads or drains.
    }
  }

  /** The state of the writer, as asyncio's repr shows it. */
  toString(): string {
    const parts = [`transport=${String(this.#transport)}`];
    if (this.#reader !== null) parts.push(`reader=${this.#reader.toString()}`);
    return formatRepr("StreamWriter", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
