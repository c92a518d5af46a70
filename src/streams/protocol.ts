/**
 * The protocol between a transport and a stream reader/writer pair, and the write flow
 * control that `StreamWriter.drain()` waits on.
 *
 * asyncio: `streams.FlowControlMixin` and `streams.StreamReaderProtocol`.
 */
import type { EventLoop } from "../events/loop.js";
import { _getRunningLoop, getRunningLoop } from "../events/running.js";
import type { Future } from "../futures.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { checkFunction } from "../internal/validate.js";
import { Waiter, WaiterQueue } from "../internal/waiters.js";
import { Protocol } from "../transports/protocols.js";
import type { Transport } from "../transports/transports.js";
import { connectionLostError } from "../transports/util.js";
import type { StreamReader } from "./reader.js";
import { StreamWriter } from "./writer.js";

/**
 * What `startServer` calls for each connection: `(reader, writer)`. It may be sync or async;
 * an async one runs as a task of its own.
 */
export type ClientConnectedCallback = (reader: StreamReader, writer: StreamWriter) => unknown;

/**
 * @internal Write flow control for stream protocols (asyncio's `FlowControlMixin`): the
 * transport's `pauseWriting`/`resumeWriting` open and shut a gate, and `drainHelper()` waits
 * at it. Reusable by any protocol that feeds a `StreamWriter` (the subprocess protocol).
 *
 * Invariant: drain waiters are parked only while `paused`; `resume()` and `lost()` wake them
 * all (several tasks may drain one writer at once).
 */
export class FlowControl {
  #paused = false;
  #connectionLost = false;
  #lostError: Error | null = null;
  readonly #waiters = new WaiterQueue<Waiter<void>, void>();
  readonly #loop: () => EventLoop;

  constructor(loop: () => EventLoop) {
    this.#loop = loop;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get connectionLost(): boolean {
    return this.#connectionLost;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#waiters.wakeAll(undefined);
  }

  lost(exc: Error | null): void {
    this.#connectionLost = true;
    this.#lostError = exc;
    if (!this.#paused) return;
    if (exc === null) this.#waiters.wakeAll(undefined);
    else this.#waiters.failAll(exc);
  }

  /** The error the connection was lost with, or `null`. */
  get lostError(): Error | null {
    return this.#lostError;
  }

  /** The error `drain()` raises once the connection is lost. */
  lostReason(): Error {
    return this.#lostError ?? connectionLostError();
  }

  /** Parks a drain until `resume()` or `lost()`; call only while `paused`. */
  wait(): Waiter<void> {
    return new Waiter<void>(this.#loop(), this.#waiters, null);
  }
}

/**
 * Adapts a {@link StreamReader} (and, on the server side, the client-connected callback) to
 * the {@link Protocol} interface: data goes to the reader, EOF and loss are fed to it, and
 * `pauseWriting`/`resumeWriting` drive `StreamWriter.drain()`.
 *
 * Use it to put streams on a transport made with the low-level API:
 * `loop.createConnection(() => new StreamReaderProtocol(reader), host, port)`.
 *
 * asyncio: `asyncio.StreamReaderProtocol`.
 */
export class StreamReaderProtocol extends Protocol {
  #reader: StreamReader | null;
  #clientConnected: ClientConnectedCallback | null;
  #loop: EventLoop | null;
  #transport: Transport | null = null;
  #overTls = false;
  #closed: Future<void> | null = null;
  /** @internal */ readonly _flow: FlowControl;
  /** @internal The task running the client-connected callback (server side), for the server's shutdown. */
  _handler: Future<unknown> | null = null;

  /**
   * `clientConnected`, when given, is called with `(reader, writer)` once the connection is
   * made (what `startServer` does). `loop` defaults to the running loop.
   */
  constructor(reader: StreamReader | null, clientConnected: ClientConnectedCallback | null = null, loop: EventLoop | null = null) {
    super();
    if (clientConnected !== null) checkFunction("clientConnected", clientConnected);
    this.#reader = reader;
    this.#clientConnected = clientConnected;
    this.#loop = loop ?? _getRunningLoop();
    this._flow = new FlowControl(() => this.#getLoop());
  }

  #getLoop(): EventLoop {
    return this.#loop ?? (this.#loop = getRunningLoop());
  }

  /** @internal Whether this protocol serves the server side (made by `startServer`). */
  get _isServerSide(): boolean {
    return this.#clientConnected !== null;
  }

  /** @internal The future `waitClosed()` awaits. */
  _getCloseWaiter(): Future<void> {
    if (this.#closed === null) this.#closed = this.#getLoop().createFuture<void>();
    return this.#closed;
  }

  /** @internal `startTls` replaced the transport. */
  _replaceTransport(transport: Transport): void {
    this.#transport = transport;
    this.#overTls = transport.getExtraInfo("sslcontext") !== null;
    this.#reader?._replaceTransport(transport);
  }

  override connectionMade(transport: Transport): void {
    this.#transport = transport;
    const reader = this.#reader;
    if (reader !== null) reader.setTransport(transport);
    this.#overTls = transport.getExtraInfo("sslcontext") !== null;
    const callback = this.#clientConnected;
    if (callback === null) return;
    const loop = this.#getLoop();
    const writer = new StreamWriter(transport, this, reader, loop);
    // The callback runs inside a task of its own, started at once (an eager task): an async
    // callback's code then belongs to that task (cancellation, currentTask()), as a coroutine
    // callback does in asyncio.
    const task = loop.createTask(async () => {
      await callback(reader as StreamReader, writer);
    }, { eagerStart: true });
    this._handler = task;
    task.addDoneCallback((t) => {
      if (t.cancelled()) {
        transport.close();
        return;
      }
      const exception = t.exception();
      if (exception !== null) {
        loop.callExceptionHandler({ message: "Unhandled exception in client_connected_cb", exception, transport });
        transport.close();
      }
    });
  }

  override connectionLost(exc: Error | null): void {
    const reader = this.#reader;
    if (reader !== null) {
      if (exc === null) reader.feedEof();
      else reader.setException(exc);
    }
    const closed = this._getCloseWaiter();
    if (!closed.done()) {
      if (exc === null) closed.setResult(undefined);
      else {
        closed.setException(exc);
        closed.exception(); // waitClosed() may never be awaited: do not report it as unread
      }
    }
    this._flow.lost(exc);
    this.#reader = null;
    this.#transport = null;
  }

  override dataReceived(data: Buffer): void {
    this.#reader?.feedData(data);
  }

  override eofReceived(): boolean {
    this.#reader?.feedEof();
    // Over TLS the transport closes on EOF whatever we say: do not ask it to stay open.
    return !this.#overTls;
  }

  override pauseWriting(): void {
    this._flow.pause();
  }

  override resumeWriting(): void {
    this._flow.resume();
  }

  override toString(): string {
    const parts: string[] = [];
    if (this.#clientConnected !== null) parts.push("server-side");
    if (this.#transport !== null) parts.push(`transport=${String(this.#transport)}`);
    if (this._flow.paused) parts.push("writing-paused");
    return formatRepr("StreamReaderProtocol", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
