/**
 * Listening: `loop.createServer` and `loop.createUnixServer` (declared on `EventLoop` in
 * `loop-methods.ts`).
 *
 * HOW: one Node `net.Server` (a `tls.Server` with `ssl`) per address the host resolves to, each
 * made with `allowHalfOpen`; each accepted socket gets a fresh protocol from the factory and a
 * transport attached to the {@link Server}. A TLS connection is handed on once its handshake
 * is done (`secureConnection`); a failed handshake destroys the socket and is only logged in
 * debug mode, as asyncio does.
 *
 * WHY the server destroys the socket itself: Node's `handshakeTimeout` (the
 * `sslHandshakeTimeout` here) runs from the moment the connection is accepted and is not reset
 * by the bytes a client trickles in, but when it fires Node only emits 'tlsClientError'
 * (`ERR_TLS_HANDSHAKE_TIMEOUT`) and leaves the connection open; only a malformed handshake
 * makes Node destroy it. The 'tlsClientError' listener closes every failed handshake.
 */
import dns from "node:dns/promises";
import { existsSync, lstatSync, unlinkSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import type { EventLoop } from "../events/loop.js";
import type { Future } from "../futures.js";
import { _runOutsideFrame } from "../events/running.js";
import { checkFunction, checkInteger, checkOptions, describe } from "../internal/validate.js";
import { sleep } from "../tasks.js";
import { SSL_HANDSHAKE_TIMEOUT, SSL_SHUTDOWN_TIMEOUT } from "./connections.js";
import type { BaseProtocol } from "./protocols.js";
import { Server } from "./server.js";
import { SocketTransport } from "./socket.js";
import { type SslOption, type TlsSetup, serverTls } from "./tls.js";
import { checkMadeProtocol, checkPort, checkTimeout, checkUnixPath } from "./util.js";

/** Options of `loop.createServer` (and of `startServer`). */
export interface CreateServerOptions {
  /** 4 or 6 to listen on that family only; default 0 (what the host resolves to). */
  family?: 0 | 4 | 6;
  /** Serve this `net.Server` (listening already) instead of making one; host and port null. */
  sock?: net.Server | null;
  /** The listen backlog; default 511, Node's (asyncio's is 100). */
  backlog?: number;
  /** Serve TLS: a `tls.SecureContext` or Node `tls` server options (`{ key, cert, … }`). */
  ssl?: SslOption | null;
  /** Node always sets `SO_REUSEADDR` on Unix-like systems: `false` is not supported. */
  reuseAddress?: boolean;
  /** `SO_REUSEPORT`: needs Node 22.12 or later. */
  reusePort?: boolean;
  /** Turn on TCP keep-alive on accepted connections (3.13). */
  keepAlive?: boolean;
  /**
   * Seconds a client has to finish its TLS handshake, counted from when it is accepted; a
   * client still not done is disconnected. Default 60. Only with `ssl`.
   */
  sslHandshakeTimeout?: number | null;
  /**
   * Seconds a connection's `close()` may take: to send the buffered data and close_notify,
   * and get the client's close_notify back (a client that does not read or does not answer
   * holds it up). Then the socket is aborted and `connectionLost` gets a `TimeoutError`.
   * Default 30. Only with `ssl`.
   */
  sslShutdownTimeout?: number | null;
  /** Accept connections at once (default true); with false, call `server.startServing()`. */
  startServing?: boolean;
}

/** Options of `loop.createUnixServer` (and of `startUnixServer`). */
export interface CreateUnixServerOptions {
  /** Serve this `net.Server` (listening already) instead of making one; path null. */
  sock?: net.Server | null;
  /** The listen backlog; default 511, Node's (asyncio's is 100). */
  backlog?: number;
  /** Serve TLS (see {@link CreateServerOptions.ssl}). */
  ssl?: SslOption | null;
  /** As {@link CreateServerOptions.sslHandshakeTimeout}: default 60. Only with `ssl`. */
  sslHandshakeTimeout?: number | null;
  /** As {@link CreateServerOptions.sslShutdownTimeout}: default 30. Only with `ssl`. */
  sslShutdownTimeout?: number | null;
  /** Accept connections at once (default true); with false, call `server.startServing()`. */
  startServing?: boolean;
  /**
   * Remove the socket file when the server closes (default true, 3.13). Node (libuv) always
   * removes the file of a socket it bound, so `false` is not supported.
   */
  cleanupSocket?: boolean;
}

/** @internal The keys of {@link CreateServerOptions} (`startServer` adds `limit`). */
export const CREATE_SERVER_KEYS = [
  "family",
  "sock",
  "backlog",
  "ssl",
  "reuseAddress",
  "reusePort",
  "keepAlive",
  "sslHandshakeTimeout",
  "sslShutdownTimeout",
  "startServing",
] as const satisfies readonly (keyof CreateServerOptions)[];
/** @internal The keys of {@link CreateUnixServerOptions}. */
export const CREATE_UNIX_SERVER_KEYS = [
  "sock",
  "backlog",
  "ssl",
  "sslHandshakeTimeout",
  "sslShutdownTimeout",
  "startServing",
  "cleanupSocket",
] as const satisfies readonly (keyof CreateUnixServerOptions)[];

interface ListenPlan {
  options: net.ListenOptions;
}

/** The listen backlog when none is given: Node's (asyncio's is 100). */
const DEFAULT_BACKLOG = 511;

/** The longest delay Node's timers take, in ms (Node cuts a longer one down, with a warning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `sslHandshakeTimeout` as Node's `handshakeTimeout`: whole milliseconds, at least 1 (0 would
 * turn it off) and at most what Node's timers take (Node throws on `Infinity`, which here
 * means no limit: 0).
 */
function handshakeTimeoutMs(seconds: number): number {
  if (seconds === Infinity) return 0;
  return Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(seconds * 1000)));
}

function makeNodeServer(setup: TlsSetup | null, handshakeTimeout: number, onSocket: (socket: net.Socket) => void, loop: EventLoop): net.Server {
  let server!: net.Server;
  _runOutsideFrame(() => {
    if (setup === null) {
      server = net.createServer({ allowHalfOpen: true, noDelay: true }, onSocket);
    } else {
      server = tls.createServer({
        ...setup.options,
        secureContext: setup.secureContext,
        handshakeTimeout: handshakeTimeoutMs(handshakeTimeout),
      });
      server.on("secureConnection", onSocket);
      server.on("tlsClientError", (exception: Error, socket: tls.TLSSocket) => {
        // Node leaves a timed-out handshake's socket open: close it (see the module comment).
        socket.destroy();
        if (loop.getDebug()) {
          loop.callExceptionHandler({ message: "SSL handshake failed on a server connection", exception, socket });
        }
      });
    }
  });
  return server;
}

function listen(loop: EventLoop, server: net.Server, options: net.ListenOptions): Future<void> {
  const future = loop.createFuture<void>();
  const onError = (err: Error): void => {
    if (!future.done()) future.setException(err);
  };
  server.once("error", onError);
  _runOutsideFrame(() => {
    server.listen(options, () => {
      server.off("error", onError);
      if (!future.done()) future.setResult(undefined);
    });
  });
  return future;
}

/** The `accept` callback of a server: protocol, transport, `connectionMade`. */
function acceptor(
  loop: EventLoop,
  protocolFactory: () => BaseProtocol,
  setup: TlsSetup | null,
  options: { keepAlive?: boolean | undefined; unixPath: string | null; shutdownTimeout?: number },
  server: () => Server,
): (socket: net.Socket) => void {
  return (socket) => {
    let protocol: BaseProtocol;
    try {
      protocol = protocolFactory();
    } catch (exception) {
      socket.destroy();
      // As asyncio: a factory that fails is reported in debug mode only.
      if (loop.getDebug()) {
        loop.callExceptionHandler({ message: "Error on transport creation for incoming connection", exception });
      }
      return;
    }
    try {
      checkMadeProtocol(protocol);
    } catch (exception) {
      // A factory that returns no protocol is a mistake in the program: always reported (asyncio
      // reports the missing method it then trips on).
      socket.destroy();
      loop.callExceptionHandler({ message: "Error on transport creation for incoming connection", exception });
      return;
    }
    if (options.keepAlive) socket.setKeepAlive(true);
    const transport = new SocketTransport(loop, socket, protocol, {
      server: server(),
      secureContext: setup?.secureContext ?? null,
      unixPath: options.unixPath,
      serverSide: true,
      shutdownTimeout: options.shutdownTimeout ?? null,
    });
    transport._start(null);
  };
}

async function serve(
  loop: EventLoop,
  servers: net.Server[],
  plans: ListenPlan[],
  server: Server,
  startServing: boolean,
): Promise<Server> {
  try {
    for (let i = 0; i < plans.length; i++) {
      await listen(loop, servers[i] as net.Server, (plans[i] as ListenPlan).options);
    }
  } catch (error) {
    server.close();
    throw error;
  }
  if (startServing) {
    server._startServing();
    await sleep(0);
  }
  return server;
}

function checkServerSslOnly(options: { ssl?: unknown; sslHandshakeTimeout?: unknown; sslShutdownTimeout?: unknown }): void {
  if (options.ssl) return;
  if (options.sslHandshakeTimeout !== undefined && options.sslHandshakeTimeout !== null) {
    throw new RangeError("sslHandshakeTimeout is only meaningful with ssl");
  }
  if (options.sslShutdownTimeout !== undefined && options.sslShutdownTimeout !== null) {
    throw new RangeError("sslShutdownTimeout is only meaningful with ssl");
  }
}

function checkSock(sock: unknown): net.Server {
  if (!(sock instanceof net.Server) || !sock.listening) {
    throw new TypeError(`\`sock\` must be a listening net.Server, got ${describe(sock)}`);
  }
  return sock;
}

/** The checks and settings the TCP and Unix servers share: TLS, its timeouts, backlog. */
function serverArguments(
  protocolFactory: unknown,
  options: CreateServerOptions | CreateUnixServerOptions,
): { setup: ReturnType<typeof serverTls>; timeout: number; shutdownTimeout: number; backlog: number } {
  checkFunction("protocolFactory", protocolFactory);
  checkServerSslOnly(options);
  return {
    setup: serverTls(options.ssl),
    timeout: checkTimeout("sslHandshakeTimeout", options.sslHandshakeTimeout, SSL_HANDSHAKE_TIMEOUT),
    shutdownTimeout: checkTimeout("sslShutdownTimeout", options.sslShutdownTimeout, SSL_SHUTDOWN_TIMEOUT),
    backlog: checkInteger("backlog", options.backlog ?? DEFAULT_BACKLOG, 0),
  };
}

/** `loop.createServer(...)`: see the declaration on `EventLoop`. */
export async function createServer(
  loop: EventLoop,
  protocolFactory: () => BaseProtocol,
  host: string | string[] | null | undefined,
  port: number | string | null | undefined,
  options: CreateServerOptions = {},
): Promise<Server> {
  checkOptions("loop.createServer()", options, CREATE_SERVER_KEYS);
  const { setup, timeout, shutdownTimeout, backlog } = serverArguments(protocolFactory, options);
  if (options.reuseAddress === false) {
    throw new RangeError("reuseAddress: false is not supported: Node always sets SO_REUSEADDR");
  }
  if (options.reusePort) {
    const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
    if (major < 22 || (major === 22 && minor < 12)) {
      throw new RangeError(`reusePort is not supported by Node ${process.versions.node} (needs 22.12 or later)`);
    }
  }
  const family = options.family ?? 0;
  if (family !== 0 && family !== 4 && family !== 6) {
    throw new RangeError(`\`family\` must be 0, 4 or 6, got ${describe(family)}`);
  }
  let server!: Server;
  const accept = acceptor(loop, protocolFactory, setup, { keepAlive: options.keepAlive, unixPath: null, shutdownTimeout }, () => server);
  const onSocket = (socket: net.Socket): void => server._onConnection(socket);
  if (options.sock !== undefined && options.sock !== null) {
    if ((host !== undefined && host !== null) || (port !== undefined && port !== null)) {
      throw new RangeError("host/port and sock can not be specified at the same time");
    }
    const sock = checkSock(options.sock);
    if (setup !== null) throw new RangeError("ssl with sock is not supported: make the net.Server a tls.Server");
    sock.on("connection", onSocket);
    server = new Server(loop, [sock], accept);
    return serve(loop, [], [], server, options.startServing ?? true);
  }
  const portNumber = port === undefined || port === null ? 0 : checkPort(port);
  let hosts: (string | undefined)[];
  if (host === undefined || host === null || host === "") hosts = [family === 4 ? "0.0.0.0" : family === 6 ? "::" : undefined];
  else if (typeof host === "string") hosts = [host];
  else if (Array.isArray(host) && host.every((h) => typeof h === "string")) hosts = [...new Set(host)];
  else throw new TypeError(`\`host\` must be a string, an array of strings or null, got ${describe(host)}`);
  const addresses: string[] = [];
  let anyAddress = false;
  for (const h of hosts) {
    if (h === undefined) {
      anyAddress = true;
      continue;
    }
    if (net.isIP(h) !== 0) addresses.push(h);
    else {
      const found = await dns.lookup(h, { all: true, family });
      if (found.length === 0) throw new Error(`getaddrinfo(${JSON.stringify(h)}) returned empty list`);
      for (const a of found) if (!addresses.includes(a.address)) addresses.push(a.address);
    }
  }
  const plans: ListenPlan[] = [];
  if (anyAddress) plans.push({ options: { port: portNumber, backlog } });
  for (const address of addresses) {
    plans.push({ options: { host: address, port: portNumber, backlog, ipv6Only: net.isIPv6(address) } });
  }
  const servers = plans.map(() => makeNodeServer(setup, timeout, onSocket, loop));
  server = new Server(loop, servers, accept);
  return serve(loop, servers, plans, server, options.startServing ?? true);
}

/** `loop.createUnixServer(...)`: see the declaration on `EventLoop`. */
export async function createUnixServer(
  loop: EventLoop,
  protocolFactory: () => BaseProtocol,
  path: string | null | undefined,
  options: CreateUnixServerOptions = {},
): Promise<Server> {
  checkOptions("loop.createUnixServer()", options, CREATE_UNIX_SERVER_KEYS);
  const { setup, timeout, shutdownTimeout, backlog } = serverArguments(protocolFactory, options);
  if (options.cleanupSocket === false) {
    throw new RangeError("cleanupSocket: false is not supported: Node removes the socket file it bound when the server closes");
  }
  let server!: Server;
  const onSocket = (socket: net.Socket): void => server._onConnection(socket);
  if (options.sock !== undefined && options.sock !== null) {
    if (path !== undefined && path !== null) throw new RangeError("path and sock can not be specified at the same time");
    const sock = checkSock(options.sock);
    if (setup !== null) throw new RangeError("ssl with sock is not supported: make the net.Server a tls.Server");
    const bound = sock.address();
    const unixPath = typeof bound === "string" ? bound : "";
    sock.on("connection", onSocket);
    server = new Server(loop, [sock], acceptor(loop, protocolFactory, null, { unixPath }, () => server), unixPath);
    return serve(loop, [], [], server, options.startServing ?? true);
  }
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`\`path\` must be a non-empty string, got ${describe(path)}`);
  }
  checkUnixPath(path, "bind");
  // Remove a stale socket file left by an earlier server (asyncio does the same).
  if (!path.startsWith("\0") && existsSync(path)) {
    try {
      if (lstatSync(path).isSocket()) unlinkSync(path);
    } catch {
      // listen() reports what is wrong with the path.
    }
  }
  const nodeServer = makeNodeServer(setup, timeout, onSocket, loop);
  server = new Server(loop, [nodeServer], acceptor(loop, protocolFactory, setup, { unixPath: path, shutdownTimeout }, () => server), path);
  return serve(loop, [nodeServer], [{ options: { path, backlog } }], server, options.startServing ?? true);
}
