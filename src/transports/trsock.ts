/**
 * The socket objects the networking API hands out: `server.sockets[i]` and
 * `transport.getExtraInfo("socket")`.
 *
 * @module
 */
import type { Socket as DgramSocket } from "node:dgram";
import type { Server as NetServer, Socket as NetSocket } from "node:net";
import { formatRepr, inspectCustom } from "../internal/inspect.js";

/** An address as the networking API reports it: `[host, port]`, or a path for Unix sockets. */
export type SocketAddress = [host: string, port: number] | string;

/** @inline */
type NodeSocket = NetSocket | NetServer | DgramSocket;

/** @internal An address from Node's `address()` shapes, in our form. */
export function _toAddress(
  info: { address?: string | undefined; port?: number | undefined } | string | null | undefined,
  unixPath: string | null = null,
): SocketAddress | null {
  if (info === null || info === undefined) return unixPath;
  if (typeof info === "string") return info;
  if (info.address === undefined || info.port === undefined) return unixPath;
  return [info.address, info.port];
}

/**
 * A read-only view of a socket: its addresses and family. The Node object behind it is
 * {@link TransportSocket.nodeSocket} (a `net.Server` for a listening socket, a `net.Socket`
 * or `tls.TLSSocket` for a connection, a `dgram.Socket` for a datagram endpoint).
 *
 * Differs from asyncio: asyncio's `TransportSocket` wraps a Python `socket.socket` and forwards
 * `getsockopt`, `setsockopt` and friends; Node exposes no such calls, so this has only the
 * addresses. Use `nodeSocket` for what Node offers (`setKeepAlive`, `setNoDelay`, buffer
 * sizes of datagram sockets).
 *
 * asyncio: `asyncio.trsock.TransportSocket`.
 */
export class TransportSocket {
  /** The Node object behind this socket. */
  readonly nodeSocket: NodeSocket;
  readonly #unixPath: string | null;

  /** @internal */
  constructor(nodeSocket: NodeSocket, unixPath: string | null = null) {
    this.nodeSocket = nodeSocket;
    this.#unixPath = unixPath;
  }

  /** The address family: `"IPv4"`, `"IPv6"`, or `"unix"`. */
  get family(): "IPv4" | "IPv6" | "unix" {
    const name = this.getsockname();
    if (typeof name === "string" || name === null) return "unix";
    return name[0].includes(":") ? "IPv6" : "IPv4";
  }

  /** The local address: `[host, port]`, or the path of a Unix socket. */
  getsockname(): SocketAddress | null {
    const s = this.nodeSocket as { address(): unknown };
    let info: unknown;
    try {
      info = s.address();
    } catch {
      info = null;
    }
    if (this.#unixPath !== null && (info === null || typeof info === "string" || isEmpty(info))) {
      return typeof info === "string" && info !== "" ? info : this.#unixPath;
    }
    return _toAddress(info as { address?: string; port?: number } | string | null);
  }

  /** The remote address of a connection: `[host, port]`, or `null` when unknown. */
  getpeername(): SocketAddress | null {
    const s = this.nodeSocket as Partial<NetSocket> & { remoteAddress?: unknown };
    if (typeof s.remoteAddress === "string" && typeof s.remotePort === "number") {
      return [s.remoteAddress, s.remotePort];
    }
    const dgram = this.nodeSocket as Partial<DgramSocket>;
    if (typeof dgram.remoteAddress === "function") {
      try {
        return _toAddress(dgram.remoteAddress());
      } catch {
        return null;
      }
    }
    return this.#unixPath === null ? null : "";
  }

  /** The state of the socket, as asyncio's repr shows it. */
  toString(): string {
    const name = this.getsockname();
    const where = name === null ? "unbound" : typeof name === "string" ? `path=${name}` : `laddr=${name[0]}:${name[1]}`;
    return formatRepr("TransportSocket", [`family=${this.family}`, where]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

function isEmpty(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.keys(value).length === 0;
}
