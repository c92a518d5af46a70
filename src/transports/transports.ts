/**
 * Transports: the connection side of the low-level API. A transport owns a socket (or a pipe, a
 * child process) and moves bytes; its {@link BaseProtocol} decides what to do with them.
 *
 * These are the base classes, as in asyncio: their methods throw until a concrete transport
 * implements them. The event loop's `createConnection`, `createServer`,
 * `createDatagramEndpoint`… make the concrete ones; code rarely subclasses these directly
 * (a subprocess or pipe transport does).
 *
 * asyncio: `asyncio.transports`.
 *
 * @module
 */
import type { PeerCertificate, SecureContext, TLSSocket } from "node:tls";
import { RuntimeError } from "../errors.js";
import type { EventLoop } from "../events/loop.js";
import type { BaseProtocol, DatagramAddress } from "./protocols.js";
import type { TransportSocket } from "./trsock.js";
import { describe } from "../internal/validate.js";
import { toBuffer } from "./util.js";

/**
 * The keys `getExtraInfo` knows, and what each holds. Addresses are `[host, port]` for TCP and
 * UDP, and the path for Unix sockets.
 */
export interface ExtraInfo {
  /** The remote address. */
  peername: [host: string, port: number] | string;
  /** The local address. */
  sockname: [host: string, port: number] | string;
  /** The socket, as a {@link TransportSocket}. */
  socket: TransportSocket;
  /** TLS only: the `SecureContext` of the connection. */
  sslcontext: SecureContext;
  /** TLS only: the other end's certificate (`null` when it sent none). */
  peercert: PeerCertificate | null;
  /** TLS only: the cipher in use, as `[name, protocolVersion, secretBits]`. */
  cipher: [name: string, version: string, bits: number | null];
  /** TLS only: always `null` (TLS compression is off in Node). */
  compression: null;
  /** TLS only: Node's `TLSSocket`. */
  ssl_object: TLSSocket;
  /** Pipes only: the Node stream of the pipe. */
  pipe: unknown;
}

function notImplemented(self: object, method: string): never {
  throw new RuntimeError(`${method}() is not implemented by ${self.constructor.name}`);
}

/**
 * What every transport has: extra information about the connection, closing, and its protocol.
 *
 * asyncio: `asyncio.BaseTransport`.
 */
export class BaseTransport {
  /** @internal The extra information given to the constructor. */
  _extra: Record<string, unknown>;

  /** `extra` holds what {@link BaseTransport.getExtraInfo} returns. */
  constructor(extra?: Record<string, unknown> | null) {
    this._extra = extra ?? {};
  }

  /**
   * Information about the connection: `"peername"`, `"sockname"`, `"socket"`, and for TLS
   * `"sslcontext"`, `"peercert"`, `"cipher"`, `"compression"`, `"ssl_object"` (the keys keep
   * asyncio's spelling). Returns `defaultValue` (`null` when not given) for a key the
   * transport does not know.
   */
  getExtraInfo<K extends keyof ExtraInfo>(name: K, defaultValue?: ExtraInfo[K] | null): ExtraInfo[K] | null;
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  getExtraInfo(name: string, defaultValue: unknown = null): unknown {
    return Object.prototype.hasOwnProperty.call(this._extra, name) ? this._extra[name] : defaultValue;
  }

  /** Whether the transport is closing or closed. */
  isClosing(): boolean {
    return notImplemented(this, "isClosing");
  }

  /**
   * Closes the transport: buffered data is still sent, then the protocol's `connectionLost`
   * is called with `null`. Closing twice does nothing.
   */
  close(): void {
    notImplemented(this, "close");
  }

  /** Replaces the protocol that receives the transport's callbacks. */
  setProtocol(_protocol: BaseProtocol): void {
    notImplemented(this, "setProtocol");
  }

  /** The protocol that receives the transport's callbacks. */
  getProtocol(): BaseProtocol {
    return notImplemented(this, "getProtocol");
  }
}

/**
 * The reading half of a stream transport.
 *
 * asyncio: `asyncio.ReadTransport`. A {@link Transport} is an `instanceof ReadTransport` too.
 */
export class ReadTransport extends BaseTransport {
  /** Whether data is being read (not paused, not closing). */
  isReading(): boolean {
    return notImplemented(this, "isReading");
  }

  /**
   * Stops calling the protocol's `dataReceived` until {@link ReadTransport.resumeReading}.
   * Does nothing when already paused or closing.
   */
  pauseReading(): void {
    notImplemented(this, "pauseReading");
  }

  /** Reading goes on after a pause. Does nothing when reading already or closing. */
  resumeReading(): void {
    notImplemented(this, "resumeReading");
  }

  static {
    Object.defineProperty(this, Symbol.hasInstance, {
      value(this: unknown, value: unknown): boolean {
        return Function.prototype[Symbol.hasInstance].call(this, value) ||
          (this === ReadTransport && value instanceof Transport);
      },
    });
  }
}

/** Bytes accepted by `write`: a `Buffer`/`Uint8Array`, or a string (sent as UTF-8). */
export type WriteData = Uint8Array | string;

/**
 * The writing half of a stream transport.
 *
 * asyncio: `asyncio.WriteTransport`. A {@link Transport} is an `instanceof WriteTransport` too.
 */
export class WriteTransport extends BaseTransport {
  /**
   * Sets the write buffer's high- and low-water marks, in bytes. The protocol's
   * `pauseWriting()` is called when the buffer goes over `high`, `resumeWriting()` when it
   * drains to `low`. Defaults: `high` 64 KiB (or `4 * low`), `low` `high / 4`.
   *
   * @throws {RangeError} unless `high >= low >= 0`.
   */
  setWriteBufferLimits(_high?: number | null, _low?: number | null): void {
    notImplemented(this, "setWriteBufferLimits");
  }

  /** How many bytes are waiting in the write buffer. */
  getWriteBufferSize(): number {
    return notImplemented(this, "getWriteBufferSize");
  }

  /** The write buffer's `[low, high]` water marks. */
  getWriteBufferLimits(): [low: number, high: number] {
    return notImplemented(this, "getWriteBufferLimits");
  }

  /**
   * Writes `data` without blocking: what cannot be sent now is buffered and sent in the
   * background. Differs from asyncio: a string is accepted and sent as UTF-8.
   */
  write(_data: WriteData): void {
    notImplemented(this, "write");
  }

  /** Writes each item of `list`, in order, as one write. */
  writelines(list: Iterable<WriteData>): void {
    // Not a string or a buffer: those are iterable too, but of characters and numbers.
    if (
      typeof list !== "object" ||
      list === null ||
      ArrayBuffer.isView(list) ||
      typeof (list as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function"
    ) {
      throw new TypeError(`writelines() takes an iterable of Buffers, Uint8Arrays or strings, got ${describe(list)}`);
    }
    const parts: Buffer[] = [];
    for (const item of list) parts.push(toBuffer(item, `writelines(): element ${parts.length}`));
    this.write(Buffer.concat(parts));
  }

  /** Closes the writing side once the buffer is sent (a TCP half-close). */
  writeEof(): void {
    notImplemented(this, "writeEof");
  }

  /** Whether {@link WriteTransport.writeEof} is supported (TCP and Unix sockets; not TLS). */
  canWriteEof(): boolean {
    return notImplemented(this, "canWriteEof");
  }

  /**
   * Closes the transport at once: buffered data is dropped, then the protocol's
   * `connectionLost` is called with `null`.
   */
  abort(): void {
    notImplemented(this, "abort");
  }

  static {
    Object.defineProperty(this, Symbol.hasInstance, {
      value(this: unknown, value: unknown): boolean {
        return Function.prototype[Symbol.hasInstance].call(this, value) ||
          (this === WriteTransport && value instanceof Transport);
      },
    });
  }
}

/**
 * A stream transport: the reading and the writing half of a connection (TCP, TLS, Unix
 * socket). `instanceof ReadTransport` and `instanceof WriteTransport` are both true.
 *
 * asyncio: `asyncio.Transport`.
 */
export class Transport extends WriteTransport {
  /** Whether data is being read (not paused, not closing). */
  isReading(): boolean {
    return notImplemented(this, "isReading");
  }

  /** See {@link ReadTransport.pauseReading}. */
  pauseReading(): void {
    notImplemented(this, "pauseReading");
  }

  /** See {@link ReadTransport.resumeReading}. */
  resumeReading(): void {
    notImplemented(this, "resumeReading");
  }
}

/**
 * A datagram (UDP) endpoint.
 *
 * asyncio: `asyncio.DatagramTransport`.
 */
export class DatagramTransport extends BaseTransport {
  /**
   * Sends the datagram `data` to `addr` (`[host, port]`), or to the remote address the
   * endpoint is connected to (`addr` omitted or `null`). Never blocks; a failed send is
   * reported to the protocol's `errorReceived`.
   */
  sendto(_data: WriteData, _addr?: DatagramAddress | null): void {
    notImplemented(this, "sendto");
  }

  /** Closes the endpoint at once, dropping unsent datagrams. */
  abort(): void {
    notImplemented(this, "abort");
  }

  /** How many bytes of datagrams are waiting to be sent. */
  getWriteBufferSize(): number {
    return notImplemented(this, "getWriteBufferSize");
  }

  /** See {@link WriteTransport.setWriteBufferLimits}. */
  setWriteBufferLimits(_high?: number | null, _low?: number | null): void {
    notImplemented(this, "setWriteBufferLimits");
  }

  /** See {@link WriteTransport.getWriteBufferLimits}. */
  getWriteBufferLimits(): [low: number, high: number] {
    return notImplemented(this, "getWriteBufferLimits");
  }
}

/**
 * A child process seen as a transport (built by the subprocess module).
 *
 * asyncio: `asyncio.SubprocessTransport`.
 */
export class SubprocessTransport extends BaseTransport {
  /** The child's process id. */
  getPid(): number {
    return notImplemented(this, "getPid");
  }

  /** The exit code, `null` while the child runs, negative for a signal. */
  getReturncode(): number | null {
    return notImplemented(this, "getReturncode");
  }

  /**
   * The transport of the pipe `fd`, or `null` when that pipe is not piped: the child's stdin
   * (0) is written to, its stdout (1) and stderr (2) are read.
   */
  getPipeTransport(fd: 0): WriteTransport | null;
  getPipeTransport(fd: 1 | 2): ReadTransport | null;
  getPipeTransport(fd: number): BaseTransport | null;
  getPipeTransport(_fd: number): BaseTransport | null {
    return notImplemented(this, "getPipeTransport");
  }

  /** Sends the signal `signal` (a number or a name such as `"SIGTERM"`) to the child. */
  sendSignal(_signal: number | NodeJS.Signals): void {
    notImplemented(this, "sendSignal");
  }

  /** Asks the child to stop (SIGTERM). */
  terminate(): void {
    notImplemented(this, "terminate");
  }

  /** Kills the child (SIGKILL). */
  kill(): void {
    notImplemented(this, "kill");
  }
}

const DEFAULT_HIGH = 64 * 1024;

/**
 * @internal The write flow control every writing transport shares (asyncio's
 * `_FlowControlMixin` in transports.py): pauses the protocol when the buffer goes over the
 * high-water mark, resumes it at the low-water mark, and reports a protocol that throws.
 */
export class WriteFlowControl {
  high = DEFAULT_HIGH;
  low = DEFAULT_HIGH / 4;
  /** Whether the protocol was told to pause. */
  paused = false;

  constructor(
    readonly loop: EventLoop,
    readonly transport: BaseTransport,
    readonly protocol: () => BaseProtocol,
    readonly size: () => number,
  ) {}

  /** After a write: pause the protocol if the buffer is over the high-water mark. */
  maybePause(): void {
    if (this.paused || this.size() <= this.high) return;
    this.paused = true;
    const protocol = this.protocol();
    try {
      protocol.pauseWriting();
    } catch (exception) {
      this.loop.callExceptionHandler({
        message: "protocol.pauseWriting() failed",
        exception,
        transport: this.transport,
        protocol,
      });
    }
  }

  /** After data left the buffer: resume the protocol at the low-water mark. */
  maybeResume(): void {
    if (!this.paused || this.size() > this.low) return;
    this.paused = false;
    const protocol = this.protocol();
    try {
      protocol.resumeWriting();
    } catch (exception) {
      this.loop.callExceptionHandler({
        message: "protocol.resumeWriting() failed",
        exception,
        transport: this.transport,
        protocol,
      });
    }
  }

  setLimits(high: number | null | undefined, low: number | null | undefined): void {
    for (const [name, value] of [["high", high], ["low", low]] as const) {
      if (value !== null && value !== undefined && (typeof value !== "number" || Number.isNaN(value))) {
        throw new TypeError(`\`${name}\` must be a number of bytes or null, got ${String(value)}`);
      }
    }
    let h = high ?? null;
    let l = low ?? null;
    if (h === null) h = l === null ? DEFAULT_HIGH : 4 * l;
    if (l === null) l = Math.floor(h / 4);
    if (!(h >= l && l >= 0)) {
      throw new RangeError(`high (${h}) must be >= low (${l}) must be >= 0`);
    }
    this.high = h;
    this.low = l;
    this.maybePause();
  }
}
