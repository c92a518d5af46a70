/**
 * Listening: `loop.createServer` and `loop.createUnixServer` (declared on `EventLoop` in
 * `loop-methods.ts`).
 *
 * HOW: one Node `net.Server` (a `tls.Server` with `ssl`) per address the host resolves to, each
 * made with `allowHalfOpen`; each accepted socket gets a fresh protocol from the factory and a
 * transport attached to the {@link Server}. A TLS connection is handed on once its handshake
 * is done (`secureConnection`); a failed handshake is only logged in debug mode, as asyncio
 * does.
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
import { SSL_HANDSHAKE_TIMEOUT } from "./connections.js";
import type { BaseProtocol } from "./protocols.js";
import { Server } from "./server.js";
import { SocketTransport } from "./socket.js";
import { type SslOption, type TlsSetup, serverTls } from "./tls.js";
import { checkPort, checkTimeout } from "./util.js";

/** Options of `loop.createServer` (and of `startServer`). */
export interface CreateServerOptions {
  /** 4 or 6 to listen on that family only; default 0 (what the host resolves to). */
  family?: 0 | 4 | 6;
  /** Serve this `net.Server` (listening already) instead of making one; host and port null. */
  sock?: net.Server | null;
  /** The listen backlog; default 100. */
  backlog?: number;
  /** Serve TLS: a `tls.SecureContext` or Node `tls` server options (`{ key, cert, … }`). */
  ssl?: SslOption | null;
  /** Node always sets `SO_REUSEADDR` on Unix-like systems: `false` is not supported. */
  reuseAddress?: boolean;
  /** `SO_REUSEPORT`: needs Node 22.12 or later. */
  reusePort?: boolean;
  /** Turn on TCP keep-alive on accepted connections (3.13). */
  keepAlive?: boolean;
  /** Seconds to wait for a client's TLS handshake; default 60. Only with `ssl`. */
  sslHandshakeTimeout?: number | null;
  /** Accepted for asyncio's sake. Only with `ssl`. */
  sslShutdownTimeout?: number | null;
  /** Accept connections at once (default true); with false, call `server.startServing()`. */
  startServing?: boolean;
}

/** Options of `loop.createUnixServer` (and of `startUnixServer`). */
export interface CreateUnixServerOptions {
  /** Serve this `net.Server` (listening already) instead of making one; path null. */
  sock?: net.Server | null;
  /** The listen backlog; default 100. */
  backlog?: number;
  /** Serve TLS (see {@link CreateServerOptions.ssl}). */
  ssl?: SslOption | null;
  /** Seconds to wait for a client's TLS handshake; default 60. Only with `ssl`. */
  sslHandshakeTimeout?: number | null;
  /** Accepted for asyncio's sake. Only with `ssl`. */
  sslShutdownTimeout?: number | null;
  /** Accept connections at once (default true); with false, call `server.startServing()`. */
  startServing?: boolean;
  /**
   * Remove the socket file when the server closes (default true, 3.13). Node (libuv) always
   * removes the file of a socket it bound, so `false` is not supported.
   */
  cleanupSocket?: boolean;
}

interface ListenPlan {
  options: net.ListenOptions;
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
        handshakeTimeout: Math.round(handshakeTimeout * 1000),
      });
      server.on("secureConnection", onSocket);
      server.on("tlsClientError", (exception: Error, socket: tls.TLSSocket) => {
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
  options: { keepAlive?: boolean | undefined; unixPath: string | null },
  server: () => Server,
): (socket: net.Socket) => void {
  return (socket) => {
    let protocol: BaseProtocol;
    try {
      protocol = protocolFactory();
    } catch (exception) {
      socket.destroy();
      if (loop.getDebug()) {
        loop.callExceptionHandler({ message: "Error on transport creation for incoming connection", exception });
      }
      return;
    }
    if (options.keepAlive) socket.setKeepAlive(true);
    const transport = new SocketTransport(loop, socket, protocol, {
      server: server(),
      secureContext: setup?.secureContext ?? null,
      unixPath: options.unixPath,
      serverSide: true,
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

/** The checks and settings the TCP and Unix servers share: TLS, handshake timeout, backlog. */
function serverArguments(
  protocolFactory: unknown,
  options: CreateServerOptions | CreateUnixServerOptions,
): { setup: ReturnType<typeof serverTls>; timeout: number; backlog: number } {
  checkFunction("protocolFactory", protocolFactory);
  checkOptions("options", options);
  checkServerSslOnly(options);
  return {
    setup: serverTls(options.ssl),
    timeout: checkTimeout("sslHandshakeTimeout", options.sslHandshakeTimeout, SSL_HANDSHAKE_TIMEOUT),
    backlog: checkInteger("backlog", options.backlog ?? 100, 0),
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
  const { setup, timeout, backlog } = serverArguments(protocolFactory, options);
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
  const accept = acceptor(loop, protocolFactory, setup, { keepAlive: options.keepAlive, unixPath: null }, () => server);
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
  const { setup, timeout, backlog } = serverArguments(protocolFactory, options);
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
  // Remove a stale socket file left by an earlier server (asyncio does the same).
  if (!path.startsWith("\0") && existsSync(path)) {
    try {
      if (lstatSync(path).isSocket()) unlinkSync(path);
    } catch {
      // listen() reports what is wrong with the path.
    }
  }
  const nodeServer = makeNodeServer(setup, timeout, onSocket, loop);
  server = new Server(loop, [nodeServer], acceptor(loop, protocolFactory, setup, { unixPath: path }, () => server), path);
  return serve(loop, [nodeServer], [{ options: { path, backlog } }], server, options.startServing ?? true);
}
