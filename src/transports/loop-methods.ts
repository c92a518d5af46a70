/**
 * The event loop's networking methods: `loop.createConnection`, `createServer`,
 * `createUnixConnection`, `createUnixServer`, `createDatagramEndpoint`,
 * `connectAcceptedSocket` and `startTls`.
 *
 * WHY here and not in `events/loop.ts`: CPython's `base_events.py` mixes the scheduler with
 * all of networking; here the loop stays a scheduler, and this module adds the networking half
 * to `EventLoop` (TypeScript declaration merging for the types, the prototype for the code).
 * `index.ts` re-exports from this module, so importing `asyncio-ts` always installs them.
 *
 * @module
 */
import type net from "node:net";
import { EventLoop } from "../events/loop.js";
import {
  type ConnectAcceptedSocketOptions,
  type CreateConnectionOptions,
  type CreateUnixConnectionOptions,
  type StartTlsOptions,
  connectAcceptedSocket,
  createConnection,
  createUnixConnection,
  startTls,
} from "./connections.js";
import { type CreateDatagramEndpointOptions, createDatagramEndpoint } from "./datagram.js";
import { type CreateServerOptions, type CreateUnixServerOptions, createServer, createUnixServer } from "./listen.js";
import type { BaseProtocol } from "./protocols.js";
import type { Server } from "./server.js";
import type { SslOption } from "./tls.js";
import type { DatagramTransport, Transport } from "./transports.js";

export type {
  ConnectAcceptedSocketOptions,
  CreateConnectionOptions,
  CreateDatagramEndpointOptions,
  CreateServerOptions,
  CreateUnixConnectionOptions,
  CreateUnixServerOptions,
  SslOption,
  StartTlsOptions,
};

declare module "../events/loop.js" {
  interface EventLoop {
    /**
     * Opens a TCP connection to `host`:`port` (with `ssl`, a TLS one) and resolves
     * `[transport, protocol]` once the protocol's `connectionMade` has run. Node resolves the
     * host and, when it has several addresses, tries them in turn (happy eyeballs).
     *
     * **Cancellation**: cancelling the awaiting task at any point (connecting, the TLS
     * handshake, before `connectionMade`) destroys the half-made connection; the task gets
     * `CancelledError`.
     *
     * @throws Node's connection errors, `code` kept: `ECONNREFUSED`, `ENOTFOUND` (DNS),
     * `ETIMEDOUT`; an `AggregateError` ("Multiple exceptions: …") when every address failed;
     * TLS errors (`ERR_TLS_CERT_ALTNAME_INVALID`, `DEPTH_ZERO_SELF_SIGNED_CERT`…);
     * {@link TimeoutError} when the TLS handshake takes longer than `sslHandshakeTimeout`.
     * @throws {RangeError} for a bad port or family, or `host`/`port` together with `sock`.
     *
     * @example
     * const [transport, protocol] = await loop.createConnection(() => new Client(), "127.0.0.1", 8888);
     *
     * asyncio: `loop.create_connection(protocol_factory, host, port, **kwargs)`.
     */
    createConnection<P extends BaseProtocol>(
      protocolFactory: () => P,
      host?: string | null,
      port?: number | string | null,
      options?: CreateConnectionOptions,
    ): Promise<[Transport, P]>;

    /**
     * Opens a connection to the Unix socket at `path` (with `ssl`, TLS over it) and resolves
     * `[transport, protocol]` once `connectionMade` has run.
     *
     * **Cancellation**: as {@link EventLoop.createConnection}: nothing half-made is leaked.
     *
     * @throws Node's errors (`ENOENT` when nothing listens at `path`, `ECONNREFUSED`); an
     * `Error` with `code: "ENAMETOOLONG"` (asyncio's `OSError: AF_UNIX path too long`) when
     * `path` is over the platform's limit: at most 107 bytes of UTF-8 on Linux, 103 on macOS
     * and the BSDs (a Linux abstract name, first byte NUL, may have 108); {@link RangeError}
     * for a NUL byte past the first.
     *
     * asyncio: `loop.create_unix_connection(protocol_factory, path, **kwargs)`.
     */
    createUnixConnection<P extends BaseProtocol>(
      protocolFactory: () => P,
      path?: string | null,
      options?: CreateUnixConnectionOptions,
    ): Promise<[Transport, P]>;

    /**
     * Listens on `host`:`port` and makes one protocol (`protocolFactory()`) and one transport
     * per accepted connection. `host` may be a name (one listening socket per address it
     * resolves to), a list of hosts, or `null` for every interface (one dual-stack socket);
     * `port` 0 picks a free port (see `server.sockets[0].getsockname()`). TCP_NODELAY is on
     * for every connection. The listen backlog is 511 unless `backlog` says otherwise. With
     * `ssl`, a client that has not finished its handshake within `sslHandshakeTimeout` is
     * disconnected.
     *
     * **Cancellation**: cancelling while the sockets are being bound closes them.
     *
     * @throws Node's errors (`EADDRINUSE`, `EACCES`), `code` kept.
     *
     * asyncio: `loop.create_server(protocol_factory, host, port, **kwargs)`.
     */
    createServer(
      protocolFactory: () => BaseProtocol,
      host?: string | string[] | null,
      port?: number | string | null,
      options?: CreateServerOptions,
    ): Promise<Server>;

    /**
     * Listens on the Unix socket `path` (a stale socket file there is removed first; the file
     * is removed again when the server closes). With `ssl`, a client that has not finished its
     * handshake within `sslHandshakeTimeout` is disconnected.
     *
     * **Cancellation**: cancelling while binding closes the socket.
     *
     * @throws as {@link EventLoop.createUnixConnection} for a path too long (`ENAMETOOLONG`,
     * nothing is created on disk) or with a NUL byte; Node's errors (`EADDRINUSE`, `EACCES`).
     *
     * asyncio: `loop.create_unix_server(protocol_factory, path, **kwargs)`.
     */
    createUnixServer(
      protocolFactory: () => BaseProtocol,
      path?: string | null,
      options?: CreateUnixServerOptions,
    ): Promise<Server>;

    /**
     * Makes a UDP endpoint: bound to `localAddr`, connected to `remoteAddr`, or both, and
     * resolves `[transport, protocol]` once `connectionMade` has run.
     *
     * **Cancellation**: cancelling while binding or connecting closes the socket.
     *
     * asyncio: `loop.create_datagram_endpoint(protocol_factory, local_addr, remote_addr, …)`.
     */
    createDatagramEndpoint<P extends BaseProtocol>(
      protocolFactory: () => P,
      options?: CreateDatagramEndpointOptions,
    ): Promise<[DatagramTransport, P]>;

    /**
     * Wraps a connection accepted elsewhere (a `net.Socket` from a plain Node `net.Server`)
     * into a transport and protocol; with `ssl`, serves TLS on it first.
     *
     * **Cancellation**: cancelling during the TLS handshake or before `connectionMade`
     * destroys the socket.
     *
     * asyncio: `loop.connect_accepted_socket(protocol_factory, sock, **kwargs)`.
     */
    connectAcceptedSocket<P extends BaseProtocol>(
      protocolFactory: () => P,
      sock: net.Socket,
      options?: ConnectAcceptedSocketOptions,
    ): Promise<[Transport, P]>;

    /**
     * Upgrades the live connection of `transport` to TLS and resolves the new transport, which
     * now calls `protocol` (no second `connectionMade`). The old transport is inert from then
     * on. `serverSide: true` makes this end the TLS server (`sslcontext` then needs a key and
     * certificate).
     *
     * **Cancellation**: cancelling during the handshake destroys the connection; the
     * protocol's `connectionLost` gets the `CancelledError`.
     *
     * @throws {TypeError} when the transport cannot be upgraded (already TLS, closing, not a
     * socket transport); TLS errors from the handshake; {@link TimeoutError} after
     * `sslHandshakeTimeout`.
     *
     * asyncio: `loop.start_tls(transport, protocol, sslcontext, **kwargs)`.
     */
    startTls(
      transport: Transport,
      protocol: BaseProtocol,
      sslcontext: SslOption,
      options?: StartTlsOptions,
    ): Promise<Transport>;
  }
}

const proto = EventLoop.prototype;

proto.createConnection = function (this: EventLoop, protocolFactory, host, port, options) {
  return createConnection(this, protocolFactory, host, port, options);
};
proto.createUnixConnection = function (this: EventLoop, protocolFactory, path, options) {
  return createUnixConnection(this, protocolFactory, path, options);
};
proto.createServer = function (this: EventLoop, protocolFactory, host, port, options) {
  return createServer(this, protocolFactory, host, port, options);
};
proto.createUnixServer = function (this: EventLoop, protocolFactory, path, options) {
  return createUnixServer(this, protocolFactory, path, options);
};
proto.createDatagramEndpoint = function (this: EventLoop, protocolFactory, options) {
  return createDatagramEndpoint(this, protocolFactory, options);
};
proto.connectAcceptedSocket = function (this: EventLoop, protocolFactory, sock, options) {
  return connectAcceptedSocket(this, protocolFactory, sock, options);
};
proto.startTls = function (this: EventLoop, transport, protocol, sslcontext, options) {
  return startTls(this, transport, protocol, sslcontext, options);
};
