/**
 * The stream transport on a Node socket: TCP, TLS, Unix sockets (and any `net.Socket`, such as
 * a child process's pipe).
 *
 * HOW it wraps `net.Socket`:
 * - Reading: the transport listens to 'data' and 'end' once `connectionMade` has run, and
 *   hands each chunk to the protocol at once, from Node's I/O callback (no loop iteration in
 *   between; a stream reader's waiter is woken through the loop). `pauseReading()` is
 *   `socket.pause()`: Node then stops reading from the kernel once its own small buffer fills.
 * - Writing: `write()` is `socket.write()`, which sends at once when the kernel takes the
 *   bytes. The write buffer is Node's (`socket.writableLength`). When it goes over the
 *   high-water mark the protocol's `pauseWriting()` is called; to learn when it drains, the
 *   transport queues an empty "marker" write behind the data and checks again in its callback
 *   (one marker at a time, and only while something is buffered, so a write that goes straight
 *   to the kernel costs nothing more).
 * - Closing: `close()` stops reading, lets Node flush the buffer (`end()`), then destroys the
 *   socket; `connectionLost` runs in the loop's next iteration after that, as asyncio's
 *   `call_soon(_call_connection_lost)`. Over TLS, once close_notify is out the transport
 *   waits for the peer's (reading and dropping data) before it destroys the socket; a close
 *   not done after `sslShutdownTimeout` aborts the socket with a `TimeoutError`.
 *   `abort()` destroys at once. Errors from Node close the transport with the error
 *   (`connectionLost(err)`); Node's system errors (`ECONNRESET`, `EPIPE`…) are not reported
 *   to the exception handler, as asyncio does not report `OSError`s; an error thrown by a
 *   protocol callback is.
 * - Half-close: sockets are made with `allowHalfOpen`, so an EOF from the other end reaches
 *   `eofReceived()`, whose falsy result closes the transport and `true` keeps it writable.
 *
 * Invariant: `#closing` is set by `close()`, `abort()`, a fatal error or the loss; `#connLost`
 * counts the loss as asyncio's `_conn_lost` does: once it is non-zero the socket is destroyed
 * and `connectionLost` is scheduled (exactly once).
 */
import type { Socket } from "node:net";
import type { SecureContext, TLSSocket } from "node:tls";
import { RuntimeError, TimeoutError } from "../errors.js";
import type { TimerHandle } from "../events/handles.js";
import type { EventLoop } from "../events/loop.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { type BaseProtocol, _isBufferedProtocol } from "./protocols.js";
import { Transport, type WriteData, WriteFlowControl } from "./transports.js";
import { TransportSocket, _toAddress } from "./trsock.js";
import { outsideFrame, reportsFatal, schedule, toBuffer, callProtocol } from "./util.js";

/** @internal What a transport tells the server it was accepted by. */
export interface ConnectionOwner {
  _attach(transport: Transport): void;
  _detach(transport: Transport): void;
}

/** @internal How a {@link SocketTransport} is made. */
export interface SocketTransportOptions {
  /** The server that accepted the connection. */
  server?: ConnectionOwner | null;
  /** The `SecureContext` when the socket is a `TLSSocket`. */
  secureContext?: SecureContext | null;
  /** The path of a Unix socket, and on which side it is. */
  unixPath?: string | null;
  serverSide?: boolean;
  /**
   * TLS only: seconds a `close()` may take to send the buffered data and close_notify and
   * get the peer's close_notify, before the socket is aborted (`sslShutdownTimeout`);
   * `null`: no limit.
   */
  shutdownTimeout?: number | null;
}

const LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5;
const EMPTY = Buffer.alloc(0);

/**
 * @internal A stream transport on a `net.Socket` or `tls.TLSSocket` (see the module comment).
 * Made by the event loop's networking methods; the public type is {@link Transport}.
 */
export class SocketTransport extends Transport {
  readonly #loop: EventLoop;
  #socket: Socket;
  #protocol: BaseProtocol;
  #buffered: boolean;
  #server: ConnectionOwner | null;
  readonly #tls: boolean;
  readonly #flow: WriteFlowControl;
  #closing = false;
  #eof = false;
  #connLost = 0;
  #paused = false;
  #reading = false;
  #eofPending = false;
  #protocolConnected = false;
  #closeWhenFlushed = false;
  #markerPending = false;
  #upgraded = false;
  #lostWrites = 0;
  readonly #unixPath: string | null;
  readonly #serverSide: boolean;
  readonly #shutdownTimeout: number | null;
  #shutdownTimer: TimerHandle | null = null;

  constructor(loop: EventLoop, socket: Socket, protocol: BaseProtocol, options: SocketTransportOptions = {}) {
    super(null);
    this.#loop = loop;
    this.#socket = socket;
    this.#protocol = protocol;
    this.#buffered = _isBufferedProtocol(protocol);
    this.#server = options.server ?? null;
    this.#tls = options.secureContext !== null && options.secureContext !== undefined;
    this.#unixPath = options.unixPath ?? null;
    this.#serverSide = options.serverSide ?? false;
    this.#shutdownTimeout = this.#tls ? (options.shutdownTimeout ?? null) : null;
    this.#flow = new WriteFlowControl(loop, this, () => this.#protocol, () => this.getWriteBufferSize());
    this._extra = this.#makeExtra(options.secureContext ?? null);
    if (this.#unixPath === null && typeof socket.setNoDelay === "function") socket.setNoDelay(true);
    // The transport decides what an EOF does (eofReceived), not Node: a socket made elsewhere
    // (`sock`, `connectAcceptedSocket`) must not end its writing side by itself.
    if (!this.#tls) socket.allowHalfOpen = true;
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
    socket.on("finish", this.#onFinish);
    // Node may end a stream that has no reader yet (EOF right after connect): listen now and
    // deliver it once reading starts.
    socket.on("end", this.#onEnd);
    this.#server?._attach(this);
    loop._track(this);
  }

  #makeExtra(secureContext: SecureContext | null): Record<string, unknown> {
    const socket = this.#socket;
    const trsock = new TransportSocket(socket, this.#unixPath);
    const extra: Record<string, unknown> = { socket: trsock };
    if (this.#unixPath !== null) {
      extra.sockname = this.#serverSide ? this.#unixPath : "";
      extra.peername = this.#serverSide ? "" : this.#unixPath;
    } else {
      extra.sockname = _toAddress(socket.address() as { address?: string; port?: number });
      extra.peername = trsock.getpeername();
    }
    if (secureContext !== null) {
      const tlsSocket = socket as TLSSocket;
      const cert = tlsSocket.getPeerCertificate();
      const cipher = tlsSocket.getCipher();
      extra.sslcontext = secureContext;
      extra.peercert = cert !== null && Object.keys(cert).length > 0 ? cert : null;
      extra.cipher = cipher ? [cipher.name, cipher.version, null] : null;
      extra.compression = null;
      extra.ssl_object = tlsSocket;
    }
    return extra;
  }

  /**
   * @internal Schedules `connectionMade`, then starts reading, then settles `waiter` — in the
   * loop's next iteration, as asyncio does (`call_soon` of the three).
   */
  _start(waiter: { done(): boolean; setResult(v: undefined): void } | null, callConnectionMade = true): void {
    this.#protocolConnected = true;
    schedule(this.#loop, () => {
      if (callConnectionMade) {
        callProtocol(this.#loop, this, this.#protocol, "connectionMade", () => this.#protocol.connectionMade(this));
      }
      if (!this.#closing) this.#startReading();
      if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
    });
  }

  #startReading(): void {
    if (this.#reading) return;
    this.#reading = true;
    const socket = this.#socket;
    socket.on("data", this.#onData);
    if (this.#paused) socket.pause();
    if (this.#eofPending) {
      this.#eofPending = false;
      this.#onEnd(undefined);
    }
  }

  // ---------------------------------------------------------------- Node's events

  #onData = outsideFrame((chunk: Buffer): void => {
    if (this.#closing) return;
    const protocol = this.#protocol;
    try {
      if (this.#buffered) this.#deliverBuffered(chunk);
      else (protocol as unknown as { dataReceived(d: Buffer): void }).dataReceived(chunk);
    } catch (exc) {
      this.#fatalError(exc, `Fatal error: protocol.${this.#buffered ? "bufferUpdated" : "dataReceived"}() call failed.`, true);
    }
  });

  #deliverBuffered(chunk: Buffer): void {
    const protocol = this.#protocol as unknown as { getBuffer(n: number): Uint8Array; bufferUpdated(n: number): void };
    let offset = 0;
    while (offset < chunk.length) {
      const remaining = chunk.length - offset;
      const buf = protocol.getBuffer(remaining);
      if (!(buf instanceof Uint8Array) || buf.length === 0) {
        throw new RuntimeError("getBuffer() returned an empty buffer");
      }
      const n = Math.min(buf.length, remaining);
      chunk.copy(buf, 0, offset, offset + n);
      offset += n;
      protocol.bufferUpdated(n);
      if (this.#closing) return;
    }
  }

  #onEnd = outsideFrame((_: unknown): void => {
    if (this.#closing) return;
    if (!this.#reading) {
      this.#eofPending = true;
      return;
    }
    let keepOpen: unknown;
    try {
      keepOpen = (this.#protocol as { eofReceived?(): unknown }).eofReceived?.();
    } catch (exc) {
      this.#fatalError(exc, "Fatal error: protocol.eofReceived() call failed.", true);
      return;
    }
    if (keepOpen && this.#tls) {
      console.warn("returning true from eofReceived() has no effect when using TLS");
    }
    if (!keepOpen || this.#tls) this.close();
  });

  #onError = outsideFrame((err: Error): void => {
    this.#fatalError(err, "Fatal error on socket transport");
  });

  #onClose = outsideFrame((): void => {
    if (this.#upgraded) return;
    const err = (this.#socket as { errored?: Error | null }).errored ?? null;
    this.#forceClose(err);
  });

  #onFinish = outsideFrame((): void => {
    if (!this.#closeWhenFlushed || this.#connLost !== 0) return;
    if (this.#tls && !this.#socket.readableEnded) {
      // close_notify is out: wait for the peer's (Node then closes the socket: 'close'),
      // dropping what arrives before it, as asyncio does. The shutdown timer bounds the wait.
      this.#socket.resume();
      return;
    }
    this.#forceClose(null);
  });

  #onMarker = (): void => {
    this.#markerPending = false;
    if (this.#connLost !== 0) return;
    this.#flow.maybeResume();
    this.#armMarker();
  };

  /** While bytes wait in Node's buffer above the low-water mark, keep one marker behind them. */
  #armMarker(): void {
    if (this.#markerPending || !this.#flow.paused || this.#connLost !== 0) return;
    if (this.#socket.writableLength === 0) {
      this.#flow.maybeResume();
      return;
    }
    this.#markerPending = true;
    this.#socket.write(EMPTY, outsideFrame(this.#onMarker));
  }

  // ---------------------------------------------------------------- closing

  /** `fromProtocol`: a protocol callback threw `exc` (else it is the socket's own error). */
  #fatalError(exc: unknown, message: string, fromProtocol = false): void {
    if (reportsFatal(this.#loop, exc, fromProtocol)) {
      this.#loop.callExceptionHandler({ message, exception: exc, transport: this, protocol: this.#protocol });
    }
    this.#forceClose(exc instanceof Error ? exc : new Error(String(exc)));
  }

  #forceClose(exc: Error | null): void {
    if (this.#connLost !== 0 || this.#upgraded) return;
    this.#connLost++;
    this.#closing = true;
    this.#shutdownTimer?.cancel();
    this.#shutdownTimer = null;
    this.#socket.destroy();
    this.#loop._untrack(this);
    schedule(this.#loop, () => this.#callConnectionLost(exc));
  }

  /** @internal The loop closes: destroy the socket; the protocol hears nothing more. */
  _closeForLoop(): boolean {
    if (this.#connLost !== 0 || this.#upgraded) return false;
    const leftOpen = !this.#closing;
    this.#connLost++;
    this.#closing = true;
    this.#shutdownTimer = null; // the closed loop dropped its timers
    this.#socket.destroy();
    this.#server?._detach(this);
    this.#server = null;
    return leftOpen;
  }

  #callConnectionLost(exc: Error | null): void {
    if (this.#protocolConnected) {
      callProtocol(this.#loop, this, this.#protocol, "connectionLost", () => this.#protocol.connectionLost(exc));
    }
    const server = this.#server;
    this.#server = null;
    server?._detach(this);
  }

  override close(): void {
    if (this.#closing) return;
    this.#closing = true;
    const socket = this.#socket;
    if (this.#reading) socket.pause();
    if (socket.writableFinished || (!this.#tls && socket.writableLength === 0)) {
      this.#forceClose(null);
      return;
    }
    this.#closeWhenFlushed = true;
    this.#armShutdownTimer();
    if (!socket.writableEnded) socket.end();
  }

  /**
   * TLS: a close not done after the shutdown timeout (the peer does not read, or does not
   * answer close_notify) aborts the socket; `connectionLost` gets a `TimeoutError`, as
   * asyncio's `_check_shutdown_timeout` does.
   */
  #armShutdownTimer(): void {
    const timeout = this.#shutdownTimeout;
    if (timeout === null || this.#shutdownTimer !== null || this.#loop.isClosed()) return;
    this.#shutdownTimer = this.#loop.callLater(timeout, () => {
      this.#shutdownTimer = null;
      this.#forceClose(new TimeoutError("SSL shutdown timed out"));
    });
  }

  override abort(): void {
    this.#forceClose(null);
  }

  override isClosing(): boolean {
    return this.#closing;
  }

  // ---------------------------------------------------------------- writing

  override write(data: WriteData): void {
    const buf = toBuffer(data, "write()");
    if (this.#upgraded) throw this.#upgradedError("write");
    if (this.#eof) throw new RuntimeError("Cannot call write() after writeEof()");
    if (buf.length === 0) return;
    if (this.#closing) {
      // asyncio drops writes to a lost connection; drain() then raises.
      if (++this.#lostWrites === LOG_THRESHOLD_FOR_CONNLOST_WRITES) {
        console.warn(`${this.toString()}: write() after the transport was closed: data dropped`);
      }
      return;
    }
    const socket = this.#socket;
    socket.write(buf);
    if (socket.destroyed) {
      // A write that failed at once (EPIPE, ECONNRESET) destroyed the socket.
      this.#forceClose((socket as { errored?: Error | null }).errored ?? null);
      return;
    }
    if (socket.writableLength > this.#flow.high) {
      this.#flow.maybePause();
      this.#armMarker();
    }
  }

  override writeEof(): void {
    if (this.#upgraded) throw this.#upgradedError("writeEof");
    if (this.#closing || this.#eof) return;
    if (this.#tls) throw new RuntimeError("TLS does not support half-closes: writeEof() is not available");
    this.#eof = true;
    this.#socket.end();
  }

  override canWriteEof(): boolean {
    return !this.#tls;
  }

  override getWriteBufferSize(): number {
    return this.#connLost !== 0 || this.#upgraded ? 0 : this.#socket.writableLength;
  }

  override setWriteBufferLimits(high?: number | null, low?: number | null): void {
    this.#flow.setLimits(high, low);
    this.#armMarker();
  }

  override getWriteBufferLimits(): [low: number, high: number] {
    return [this.#flow.low, this.#flow.high];
  }

  // ---------------------------------------------------------------- reading

  override isReading(): boolean {
    return !this.#paused && !this.#closing;
  }

  override pauseReading(): void {
    if (!this.isReading()) return;
    this.#paused = true;
    if (this.#reading) this.#socket.pause();
  }

  override resumeReading(): void {
    if (this.#closing || !this.#paused) return;
    this.#paused = false;
    if (this.#reading) this.#socket.resume();
  }

  // ---------------------------------------------------------------- protocol

  override setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol;
    this.#buffered = _isBufferedProtocol(protocol);
    this.#protocolConnected = true;
  }

  override getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  // ---------------------------------------------------------------- TLS upgrade

  /** @internal Whether `loop.startTls()` can upgrade this transport. */
  get _startTlsCompatible(): boolean {
    return !this.#tls && !this.#closing && !this.#upgraded;
  }

  /** @internal The server that accepted this connection, if any. */
  get _server(): ConnectionOwner | null {
    return this.#server;
  }

  /** @internal The path of a Unix socket, and whether this is its server side. */
  get _unix(): { path: string | null; serverSide: boolean } {
    return { path: this.#unixPath, serverSide: this.#serverSide };
  }

  /**
   * @internal Hands the socket over to a TLS upgrade: bytes Node already read go to the
   * protocol first, then this transport lets go of the socket and becomes inert (its methods
   * throw; it never calls the protocol again).
   */
  _detachForUpgrade(): Socket {
    const socket = this.#socket;
    socket.pause();
    if (this.#reading && !this.#paused) {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        this.#onData(chunk);
      }
    }
    socket.off("data", this.#onData);
    socket.off("end", this.#onEnd);
    socket.off("error", this.#onError);
    socket.off("close", this.#onClose);
    socket.off("finish", this.#onFinish);
    this.#upgraded = true;
    this.#closing = true;
    this.#loop._untrack(this);
    return socket;
  }

  /** @internal The server's bookkeeping moves to the TLS transport that replaces this one. */
  _releaseServer(): void {
    const server = this.#server;
    this.#server = null;
    server?._detach(this);
  }

  /** @internal The TLS upgrade failed: the protocol learns the connection is lost. */
  _upgradeFailed(exc: Error): void {
    schedule(this.#loop, () => this.#callConnectionLost(exc));
  }

  #upgradedError(method: string): RuntimeError {
    return new RuntimeError(
      `${method}() on a transport that startTls() upgraded: use the transport startTls() returned`,
    );
  }

  override toString(): string {
    const parts: string[] = [];
    if (this.#upgraded) parts.push("upgraded");
    else if (this.#connLost !== 0) parts.push("closed");
    else if (this.#closing) parts.push("closing");
    else parts.push("open");
    if (this.#tls) parts.push("tls");
    const peer = this._extra.peername;
    if (Array.isArray(peer)) parts.push(`peer=${String(peer[0])}:${String(peer[1])}`);
    else if (typeof peer === "string" && peer !== "") parts.push(`peer=${peer}`);
    if (!this.#closing) parts.push(this.isReading() ? "reading" : "paused");
    const size = this.getWriteBufferSize();
    if (size > 0) parts.push(`buffered=${size}`);
    return formatRepr(this.#tls ? "TLSTransport" : "SocketTransport", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
