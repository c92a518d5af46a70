/**
 * Datagram (UDP) endpoints on Node's `dgram`: the transport, and `loop.createDatagramEndpoint`.
 *
 * HOW: each `sendto` is a `socket.send` whose callback counts the bytes out of the write
 * buffer (Node queues sends itself); a failed send goes to the protocol's `errorReceived`, as
 * asyncio reports a failed `sendto`. `close()` waits for queued sends, then closes the socket;
 * `connectionLost` follows in the next loop iteration.
 */
import dgram from "node:dgram";
import dns from "node:dns/promises";
import net from "node:net";
import type { EventLoop } from "../events/loop.js";
import { _runOutsideFrame } from "../events/running.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { checkFunction, checkOptions, describe } from "../internal/validate.js";
import type { BaseProtocol, DatagramAddress } from "./protocols.js";
import { DatagramTransport, type WriteData, WriteFlowControl } from "./transports.js";
import { TransportSocket, _toAddress } from "./trsock.js";
import { checkMadeProtocol, checkPort, reportsFatal, outsideFrame, outsideFrame2, schedule, toBuffer, callProtocol } from "./util.js";

/** Options of `loop.createDatagramEndpoint`. */
export interface CreateDatagramEndpointOptions {
  /** Bind to this local `[host, port]` (port 0: any free port). */
  localAddr?: DatagramAddress | null;
  /** Connect to this remote `[host, port]`: `sendto` without an address goes there. */
  remoteAddr?: DatagramAddress | null;
  /** 4 or 6; default: taken from the addresses (needed when there are none). */
  family?: 0 | 4 | 6;
  /** Let several sockets bind the same port (`SO_REUSEPORT`, needs Node 22.12+ for UDP in Node's API). */
  reusePort?: boolean;
  /** Allow sending to broadcast addresses (`SO_BROADCAST`). */
  allowBroadcast?: boolean;
  /** Use this `dgram.Socket` (already bound or connected) instead of making one. */
  sock?: dgram.Socket | null;
}

/** The keys of {@link CreateDatagramEndpointOptions}. */
const CREATE_DATAGRAM_ENDPOINT_KEYS = [
  "localAddr",
  "remoteAddr",
  "family",
  "reusePort",
  "allowBroadcast",
  "sock",
] as const satisfies readonly (keyof CreateDatagramEndpointOptions)[];

const LOG_THRESHOLD = 5;

/**
 * @internal A datagram transport on a `dgram.Socket`. The public type is
 * {@link DatagramTransport}.
 */
export class DatagramSocketTransport extends DatagramTransport {
  readonly #loop: EventLoop;
  readonly #socket: dgram.Socket;
  #protocol: BaseProtocol;
  readonly #address: DatagramAddress | null;
  readonly #flow: WriteFlowControl;
  #pending = 0;
  #closing = false;
  #connLost = 0;
  #lostSends = 0;

  constructor(loop: EventLoop, socket: dgram.Socket, protocol: BaseProtocol, address: DatagramAddress | null) {
    super(null);
    this.#loop = loop;
    this.#socket = socket;
    this.#protocol = protocol;
    this.#address = address;
    this.#flow = new WriteFlowControl(loop, this, () => this.#protocol, () => this.#pending);
    const trsock = new TransportSocket(socket);
    this._extra = { socket: trsock, sockname: trsock.getsockname(), peername: address === null ? null : trsock.getpeername() };
    socket.on("message", this.#onMessage);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
    loop._track(this);
  }

  /** @internal `connectionMade`, then `waiter` settles: in the loop's next iteration. */
  _start(waiter: { done(): boolean; setResult(v: undefined): void }): void {
    schedule(this.#loop, () => {
      callProtocol(this.#loop, this, this.#protocol, "connectionMade", () => this.#protocol.connectionMade(this));
      if (!waiter.done()) waiter.setResult(undefined);
    });
  }

  #onMessage = outsideFrame2((msg: Buffer, info: dgram.RemoteInfo): void => {
    if (this.#closing) return;
    try {
      (this.#protocol as unknown as { datagramReceived(d: Buffer, a: DatagramAddress): void }).datagramReceived(msg, [info.address, info.port]);
    } catch (exc) {
      this.#fatalError(exc, "Fatal error: protocol.datagramReceived() call failed.");
    }
  });

  #onError = outsideFrame((err: Error): void => {
    this.#errorReceived(err);
  });

  #onClose = outsideFrame((): void => {
    this.#forceClose(null);
  });

  #errorReceived(err: Error): void {
    try {
      (this.#protocol as { errorReceived?(e: Error): void }).errorReceived?.(err);
    } catch (exc) {
      this.#fatalError(exc, "Fatal error: protocol.errorReceived() call failed.");
    }
  }

  /** A protocol callback threw `exc`: always reported, whatever it carries. */
  #fatalError(exc: unknown, message: string): void {
    if (reportsFatal(this.#loop, exc, true)) {
      this.#loop.callExceptionHandler({ message, exception: exc, transport: this, protocol: this.#protocol });
    }
    this.#forceClose(exc instanceof Error ? exc : new Error(String(exc)));
  }

  #forceClose(exc: Error | null): void {
    if (this.#connLost !== 0) return;
    this.#connLost++;
    this.#closing = true;
    this.#closeSocket();
    this.#loop._untrack(this);
    schedule(this.#loop, () =>
      callProtocol(this.#loop, this, this.#protocol, "connectionLost", () => this.#protocol.connectionLost(exc)),
    );
  }

  override sendto(data: WriteData, addr: DatagramAddress | null = null): void {
    const buf = toBuffer(data, "sendto()");
    let target = addr;
    if (this.#address !== null) {
      if (addr !== null && addr !== undefined && (addr[0] !== this.#address[0] || addr[1] !== this.#address[1])) {
        throw new RangeError(`Invalid address: must be null or [${this.#address[0]}, ${this.#address[1]}], got ${describe(addr)}`);
      }
      target = null;
    } else if (!Array.isArray(target) || target.length !== 2) {
      throw new TypeError(`sendto(): \`addr\` must be [host, port] on an unconnected endpoint, got ${describe(addr)}`);
    }
    if (this.#closing) {
      if (++this.#lostSends === LOG_THRESHOLD) console.warn(`${this.toString()}: sendto() after close: datagram dropped`);
      return;
    }
    this.#pending += buf.length;
    const done = (err: Error | null): void => {
      this.#pending -= buf.length;
      if (err) this.#errorReceived(err);
      this.#flow.maybeResume();
      if (this.#closing && this.#pending === 0) this.#forceClose(null);
    };
    try {
      if (target === null) this.#socket.send(buf, outsideFrame(done));
      else this.#socket.send(buf, checkPort(target[1], "addr[1]"), target[0], outsideFrame(done));
    } catch (err) {
      this.#pending -= buf.length;
      if (err instanceof RangeError || err instanceof TypeError) throw err;
      this.#errorReceived(err as Error);
      return;
    }
    this.#flow.maybePause();
  }

  #closeSocket(): void {
    try {
      this.#socket.close();
    } catch {
      // Already closed.
    }
  }

  /** @internal The loop closes: close the socket; the protocol hears nothing more. */
  _closeForLoop(): boolean {
    if (this.#connLost !== 0) return false;
    const leftOpen = !this.#closing;
    this.#connLost++;
    this.#closing = true;
    this.#closeSocket();
    return leftOpen;
  }

  override close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#pending === 0) this.#forceClose(null);
  }

  override abort(): void {
    this.#forceClose(null);
  }

  override isClosing(): boolean {
    return this.#closing;
  }

  override getWriteBufferSize(): number {
    return this.#pending;
  }

  override setWriteBufferLimits(high?: number | null, low?: number | null): void {
    this.#flow.setLimits(high, low);
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
    const parts = [this.#connLost !== 0 ? "closed" : this.#closing ? "closing" : "open"];
    const name = this._extra.sockname;
    if (Array.isArray(name)) parts.push(`laddr=${String(name[0])}:${String(name[1])}`);
    if (this.#address !== null) parts.push(`raddr=${this.#address[0]}:${this.#address[1]}`);
    return formatRepr("DatagramTransport", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

function checkAddress(name: string, value: unknown): DatagramAddress | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string") {
    throw new TypeError(`\`${name}\` must be [host, port], got ${describe(value)}`);
  }
  return [value[0], checkPort(value[1], `${name}[1]`)];
}

async function resolveFamily(host: string, family: 0 | 4 | 6): Promise<[string, 4 | 6]> {
  const kind = net.isIP(host);
  if (kind === 4 || kind === 6) return [host, kind];
  const found = await dns.lookup(host, { family });
  return [found.address, found.family as 4 | 6];
}

/** Waits for a `dgram` operation that reports through an event or an 'error'. */
function whenReady(loop: EventLoop, socket: dgram.Socket, start: (done: () => void) => void) {
  const future = loop.createFuture<void>();
  const onError = (err: Error): void => {
    if (!future.done()) future.setException(err);
  };
  socket.once("error", onError);
  start(() => {
    socket.off("error", onError);
    if (!future.done()) future.setResult(undefined);
  });
  return future;
}

/**
 * `loop.createDatagramEndpoint(protocolFactory, options)`: see the declaration on `EventLoop`.
 */
export async function createDatagramEndpoint<P extends BaseProtocol>(
  loop: EventLoop,
  protocolFactory: () => P,
  options: CreateDatagramEndpointOptions = {},
): Promise<[DatagramTransport, P]> {
  checkFunction("protocolFactory", protocolFactory);
  checkOptions("loop.createDatagramEndpoint()", options, CREATE_DATAGRAM_ENDPOINT_KEYS);
  const local = checkAddress("localAddr", options.localAddr);
  const remote = checkAddress("remoteAddr", options.remoteAddr);
  let family = options.family ?? 0;
  if (family !== 0 && family !== 4 && family !== 6) {
    throw new RangeError(`\`family\` must be 0, 4 or 6, got ${describe(family)}`);
  }
  let socket: dgram.Socket;
  let connected: DatagramAddress | null = null;
  if (options.sock !== undefined && options.sock !== null) {
    if (local !== null || remote !== null || options.family !== undefined) {
      throw new RangeError("socket modifier keyword arguments can not be used when sock is specified");
    }
    socket = options.sock;
    try {
      connected = _toAddress(socket.remoteAddress()) as DatagramAddress;
    } catch {
      connected = null;
    }
  } else {
    let localHost: string | null = null;
    let remoteHost: string | null = null;
    if (local !== null) [localHost, family] = await resolveFamily(local[0], family);
    if (remote !== null) {
      let remoteFamily: 4 | 6;
      [remoteHost, remoteFamily] = await resolveFamily(remote[0], family);
      if (family !== 0 && remoteFamily !== family) {
        throw new RangeError(`localAddr and remoteAddr are of different address families`);
      }
      family = remoteFamily;
    }
    if (family === 0) throw new RangeError("unexpected address family: give localAddr, remoteAddr or family");
    if (options.reusePort) {
      const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
      if (major < 22 || (major === 22 && minor < 12)) {
        throw new RangeError(`reusePort is not supported by Node ${process.versions.node} (needs 22.12 or later)`);
      }
    }
    const created = dgram.createSocket({ type: family === 6 ? "udp6" : "udp4", reusePort: options.reusePort === true } as dgram.SocketOptions);
    socket = created;
    try {
      if (local !== null) {
        await whenReady(loop, created, (done) => _runOutsideFrame(() => created.bind(local[1], localHost as string, done)));
      }
      if (remote !== null) {
        await whenReady(loop, created, (done) => _runOutsideFrame(() => created.connect(remote[1], remoteHost as string, done)));
        connected = [remoteHost as string, remote[1]];
      }
      if (options.allowBroadcast) {
        if (local === null && remote === null) {
          await whenReady(loop, created, (done) => _runOutsideFrame(() => created.bind(0, done)));
        }
        created.setBroadcast(true);
      }
    } catch (error) {
      created.on("error", () => {});
      try {
        created.close();
      } catch {
        // Never bound.
      }
      throw error;
    }
  }
  let protocol: P;
  try {
    protocol = protocolFactory();
    checkMadeProtocol(protocol);
  } catch (error) {
    socket.close();
    throw error;
  }
  const transport = new DatagramSocketTransport(loop, socket, protocol, connected);
  const waiter = loop.createFuture<void>();
  transport._start(waiter);
  try {
    await waiter;
  } catch (error) {
    transport.close();
    throw error;
  }
  return [transport, protocol];
}
