/**
 * Protocols: the objects a transport calls when something happens on a connection.
 *
 * A protocol is what you write when you use the low-level API: extend {@link Protocol} (or
 * {@link BufferedProtocol}, {@link DatagramProtocol}, {@link SubprocessProtocol}) and override
 * the callbacks you need; the defaults do nothing. Hand the event loop a zero-argument factory
 * (`() => new EchoProtocol()`): it makes one protocol per connection.
 *
 * The order of the callbacks is asyncio's:
 *
 *     connectionMade  →  dataReceived*  →  eofReceived?  →  connectionLost
 *
 * with `pauseWriting` / `resumeWriting` in between as the transport's write buffer crosses its
 * high- and low-water marks. Callbacks are plain functions, not coroutines: to do async work,
 * start a task from them (`createTask(() => …)`).
 *
 * asyncio: `asyncio.protocols`.
 *
 * @module
 */
import type { BaseTransport, DatagramTransport, SubprocessTransport, Transport } from "./transports.js";

/**
 * The callbacks every protocol has: the connection was made, was lost, and the transport's
 * write buffer went over its high-water mark or back under its low-water mark.
 *
 * asyncio: `asyncio.BaseProtocol`.
 */
export class BaseProtocol {
  /**
   * The connection is made. `transport` is the connection: keep it to write and to close.
   * Called once, before any other callback.
   */
  connectionMade(_transport: BaseTransport): void {}

  /**
   * The connection is lost or closed: the last callback. `exc` is the error that broke it, or
   * `null` for an ordinary close (a `close()`, an `abort()`, or an end of stream).
   */
  connectionLost(_exc: Error | null): void {}

  /**
   * The transport's write buffer went over its high-water mark: stop writing until
   * {@link BaseProtocol.resumeWriting} is called. Calls alternate: never two pauses in a row.
   */
  pauseWriting(): void {}

  /** The transport's write buffer drained to its low-water mark: writing may go on. */
  resumeWriting(): void {}
}

/**
 * The protocol of a stream connection (TCP, TLS, Unix socket, pipe): data arrives as it comes,
 * in chunks of any size.
 *
 * @example
 * class EchoProtocol extends Protocol {
 *   #transport!: Transport;
 *   override connectionMade(transport: Transport) { this.#transport = transport; }
 *   override dataReceived(data: Buffer) { this.#transport.write(data); }
 * }
 *
 * asyncio: `asyncio.Protocol`.
 */
export class Protocol extends BaseProtocol {
  /** Narrows the transport's type: a stream protocol gets a {@link Transport}. */
  override connectionMade(_transport: Transport): void {}

  /**
   * Bytes arrived. `data` is a chunk of the stream: framing (lines, messages) is the
   * protocol's business.
   */
  dataReceived(_data: Buffer): void {}

  /**
   * The other end sent EOF (it will send nothing more). Return a falsy value (the default)
   * and the transport closes itself; return `true` to keep the connection half-open and go on
   * writing. TLS transports always close.
   */
  eofReceived(): boolean | void {}
}

/**
 * A stream protocol that reads into buffers it provides, to save a copy: the transport asks
 * {@link BufferedProtocol.getBuffer} for a buffer, fills it, then calls
 * {@link BufferedProtocol.bufferUpdated} with the number of bytes written.
 *
 * Differs from asyncio: Node hands the transport the bytes it read in its own buffer, so the
 * transport copies them into yours (no zero-copy read); a chunk larger than your buffer is
 * delivered in several `getBuffer`/`bufferUpdated` rounds.
 *
 * asyncio: `asyncio.BufferedProtocol`.
 */
export class BufferedProtocol extends BaseProtocol {
  /** Narrows the transport's type: a stream protocol gets a {@link Transport}. */
  override connectionMade(_transport: Transport): void {}

  /**
   * Returns the buffer to read into (a non-empty `Buffer` or `Uint8Array`). `sizeHint` is how
   * many bytes are waiting; a smaller or larger buffer is fine.
   */
  getBuffer(_sizeHint: number): Uint8Array {
    throw new TypeError(`${this.constructor.name} must implement getBuffer(sizeHint)`);
  }

  /** `nbytes` bytes were written at the start of the buffer `getBuffer` returned last. */
  bufferUpdated(_nbytes: number): void {}

  /** As {@link Protocol.eofReceived}: falsy closes the transport, `true` keeps it half-open. */
  eofReceived(): boolean | void {}
}

/** A datagram's sender or receiver: `[host, port]`. */
export type DatagramAddress = [host: string, port: number];

/**
 * The protocol of a datagram (UDP) endpoint.
 *
 * asyncio: `asyncio.DatagramProtocol`.
 */
export class DatagramProtocol extends BaseProtocol {
  /** Narrows the transport's type: a datagram protocol gets a {@link DatagramTransport}. */
  override connectionMade(_transport: DatagramTransport): void {}

  /** A datagram `data` arrived from `addr`. */
  datagramReceived(_data: Buffer, _addr: DatagramAddress): void {}

  /**
   * A send or receive failed (for example `ECONNREFUSED` after sending to a closed port on a
   * connected endpoint). The endpoint stays open.
   */
  errorReceived(_exc: Error): void {}
}

/**
 * The protocol of a child process: data from its stdout (fd 1) and stderr (fd 2), each pipe's
 * closing, and the process's exit.
 *
 * asyncio: `asyncio.SubprocessProtocol`.
 */
export class SubprocessProtocol extends BaseProtocol {
  /** Narrows the transport's type: a subprocess protocol gets a {@link SubprocessTransport}. */
  override connectionMade(_transport: SubprocessTransport): void {}

  /** The child wrote `data` to the pipe `fd` (1 for stdout, 2 for stderr). */
  pipeDataReceived(_fd: number, _data: Buffer): void {}

  /** The pipe `fd` (0, 1 or 2) closed; `exc` is the error that broke it, or `null`. */
  pipeConnectionLost(_fd: number, _exc: Error | null): void {}

  /** The child exited (see the transport's `getReturncode()`). */
  processExited(): void {}
}

/** @internal Whether `protocol` reads through `getBuffer`/`bufferUpdated`. */
export function _isBufferedProtocol(protocol: BaseProtocol): protocol is BufferedProtocol {
  if (protocol instanceof BufferedProtocol) return true;
  const p = protocol as Partial<BufferedProtocol>;
  return typeof p.getBuffer === "function" && typeof p.bufferUpdated === "function";
}
