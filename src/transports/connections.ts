/**
 * Making connections: `loop.createConnection`, `loop.createUnixConnection`,
 * `loop.connectAcceptedSocket` and `loop.startTls` (declared on `EventLoop` in
 * `loop-methods.ts`).
 *
 * HOW a connection is made (asyncio's `create_connection` → `_create_connection_transport`):
 *   1. connect (Node resolves the host and tries its addresses; with several, Node's own happy
 *      eyeballs, `autoSelectFamily`), and for TLS finish the handshake, within
 *      `sslHandshakeTimeout`;
 *   2. make the protocol with the factory, and the transport on the socket;
 *   3. in the loop's next iteration: `connectionMade`, start reading, and resolve.
 * Cancelled at any step, the half-made connection is destroyed before the `CancelledError`
 * goes on: nothing is leaked.
 */
import net from "node:net";
import tls from "node:tls";
import { RuntimeError, TimeoutError } from "../errors.js";
import type { EventLoop } from "../events/loop.js";
import { _runOutsideFrame } from "../events/running.js";
import { checkFunction, checkOptions, describe } from "../internal/validate.js";
import type { BaseProtocol } from "./protocols.js";
import { type ConnectionOwner, SocketTransport } from "./socket.js";
import { type SslOption, type TlsSetup, clientTls, serverTls } from "./tls.js";
import type { Transport } from "./transports.js";
import { checkMadeProtocol, checkPort, checkTimeout, checkUnixPath, explainConnectError } from "./util.js";

/** The default TLS handshake timeout, in seconds (asyncio's `SSL_HANDSHAKE_TIMEOUT`). */
export const SSL_HANDSHAKE_TIMEOUT = 60;

/** The default TLS shutdown timeout, in seconds (asyncio's `SSL_SHUTDOWN_TIMEOUT`). */
export const SSL_SHUTDOWN_TIMEOUT = 30;

/** Options of `loop.createConnection` (and of `openConnection`). */
export interface CreateConnectionOptions {
  /** TLS: `true` (Node's default CAs), a `tls.SecureContext`, or Node `tls` options. */
  ssl?: SslOption | null;
  /**
   * The name to check the server's certificate against (and send as SNI); default: `host`.
   * `""` turns the hostname check off. Only with `ssl`.
   */
  serverHostname?: string | null;
  /** 4 or 6 to use only that address family; default 0 (either). */
  family?: 0 | 4 | 6;
  /** Use this connected `net.Socket` instead of connecting (then `host` and `port` are null). */
  sock?: net.Socket | null;
  /** Bind the local end to `[host, port]` before connecting. */
  localAddr?: [host: string, port: number] | null;
  /** Seconds to wait for the TLS handshake; default 60. Only with `ssl`. */
  sslHandshakeTimeout?: number | null;
  /**
   * Seconds `close()` may take: to send the buffered data and TLS's close_notify, and get the
   * peer's close_notify back. Then the socket is aborted and `connectionLost` gets a
   * `TimeoutError`. Default 30. Only with `ssl`.
   */
  sslShutdownTimeout?: number | null;
  /**
   * Happy eyeballs: seconds to wait for one address before trying the next (Node's
   * `autoSelectFamilyAttemptTimeout`, at least 0.01). Node tries a host's addresses this way
   * by default; `null` (the default) keeps Node's delay (0.25 s).
   */
  happyEyeballsDelay?: number | null;
  /** Turn on TCP keep-alive. */
  keepAlive?: boolean;
}

/** Options of `loop.createUnixConnection` (and of `openUnixConnection`). */
export interface CreateUnixConnectionOptions {
  /** TLS over the Unix socket (see {@link CreateConnectionOptions.ssl}). */
  ssl?: SslOption | null;
  /** The name to check the certificate against; `""` turns the check off. Only with `ssl`. */
  serverHostname?: string | null;
  /** Use this connected `net.Socket` instead of connecting (then `path` is null). */
  sock?: net.Socket | null;
  /** Seconds to wait for the TLS handshake; default 60. Only with `ssl`. */
  sslHandshakeTimeout?: number | null;
  /** As {@link CreateConnectionOptions.sslShutdownTimeout}: default 30. Only with `ssl`. */
  sslShutdownTimeout?: number | null;
}

/** Options of `loop.connectAcceptedSocket`. */
export interface ConnectAcceptedSocketOptions {
  /** Serve TLS on the socket: a `SecureContext` or Node `tls` server options. */
  ssl?: SslOption | null;
  /** Seconds to wait for the TLS handshake; default 60. Only with `ssl`. */
  sslHandshakeTimeout?: number | null;
  /** As {@link CreateConnectionOptions.sslShutdownTimeout}: default 30. Only with `ssl`. */
  sslShutdownTimeout?: number | null;
}

/** Options of `loop.startTls` (and of `StreamWriter.startTls`). */
export interface StartTlsOptions {
  /** Be the TLS server of the connection; default false. */
  serverSide?: boolean;
  /** Client side: the name to check the certificate against; `""` turns the check off. */
  serverHostname?: string | null;
  /** Seconds to wait for the handshake; default 60. */
  sslHandshakeTimeout?: number | null;
  /**
   * Seconds the upgraded transport's `close()` may take before it aborts (see
   * {@link CreateConnectionOptions.sslShutdownTimeout}); default 30.
   */
  sslShutdownTimeout?: number | null;
}

/** @internal The keys of {@link CreateConnectionOptions} (`openConnection` adds `limit`). */
export const CREATE_CONNECTION_KEYS = [
  "ssl",
  "serverHostname",
  "family",
  "sock",
  "localAddr",
  "sslHandshakeTimeout",
  "sslShutdownTimeout",
  "happyEyeballsDelay",
  "keepAlive",
] as const satisfies readonly (keyof CreateConnectionOptions)[];
/** @internal The keys of {@link CreateUnixConnectionOptions}. */
export const CREATE_UNIX_CONNECTION_KEYS = [
  "ssl",
  "serverHostname",
  "sock",
  "sslHandshakeTimeout",
  "sslShutdownTimeout",
] as const satisfies readonly (keyof CreateUnixConnectionOptions)[];
const CONNECT_ACCEPTED_SOCKET_KEYS = [
  "ssl",
  "sslHandshakeTimeout",
  "sslShutdownTimeout",
] as const satisfies readonly (keyof ConnectAcceptedSocketOptions)[];
const START_TLS_KEYS = [
  "serverSide",
  "serverHostname",
  "sslHandshakeTimeout",
  "sslShutdownTimeout",
] as const satisfies readonly (keyof StartTlsOptions)[];

function checkSslOnly(options: { ssl?: unknown; serverHostname?: unknown; sslHandshakeTimeout?: unknown; sslShutdownTimeout?: unknown }): void {
  if (options.ssl) return;
  if (options.serverHostname !== undefined && options.serverHostname !== null) {
    throw new RangeError("serverHostname is only meaningful with ssl");
  }
  if (options.sslHandshakeTimeout !== undefined && options.sslHandshakeTimeout !== null) {
    throw new RangeError("sslHandshakeTimeout is only meaningful with ssl");
  }
  if (options.sslShutdownTimeout !== undefined && options.sslShutdownTimeout !== null) {
    throw new RangeError("sslShutdownTimeout is only meaningful with ssl");
  }
}

/** TLS client options from a setup and the `serverHostname` rule. */
function tlsClientOptions(setup: TlsSetup, serverHostname: string | null | undefined): tls.ConnectionOptions {
  const options: tls.ConnectionOptions = { ...setup.options, secureContext: setup.secureContext };
  if (serverHostname === "") options.checkServerIdentity = () => undefined;
  else if (serverHostname !== undefined && serverHostname !== null) options.servername = serverHostname;
  return options;
}

/**
 * An already connected socket given as `sock`, wrapped in TLS when `setup` says so (the
 * handshake waited for, up to `handshakeTimeout` seconds).
 */
async function adoptSocket(
  loop: EventLoop,
  sock: net.Socket,
  setup: ReturnType<typeof clientTls>,
  serverHostname: string | null | undefined,
  handshakeTimeout: number | null,
): Promise<net.Socket> {
  if (setup === null) return sock;
  let socket!: net.Socket;
  _runOutsideFrame(() => {
    socket = tls.connect({ ...tlsClientOptions(setup, serverHostname), socket: sock });
  });
  await waitForSocket(loop, socket, "secureConnect", handshakeTimeout);
  return socket;
}

/**
 * @internal Waits until `socket` emits `readyEvent` (connected, or TLS handshake done); an
 * 'error' first, a timeout or a cancellation destroys the socket and rejects.
 */
export async function waitForSocket(
  loop: EventLoop,
  socket: net.Socket,
  readyEvent: string,
  timeout: number | null,
): Promise<void> {
  const future = loop.createFuture<void>();
  const onError = (err: Error): void => {
    if (!future.done()) future.setException(explainConnectError(err));
  };
  const onReady = (): void => {
    if (!future.done()) future.setResult(undefined);
  };
  const onClose = (): void => {
    if (!future.done()) future.setException(new Error(`the connection closed before '${readyEvent}'`));
  };
  socket.on("error", onError);
  socket.once(readyEvent, onReady);
  socket.once("close", onClose);
  const timer =
    timeout === null
      ? null
      : loop.callLater(timeout, () => {
          if (!future.done()) {
            future.setException(
              new TimeoutError(`SSL handshake is taking longer than ${timeout} seconds: aborting the connection`),
            );
          }
        });
  try {
    await future;
  } catch (error) {
    socket.on("error", () => {});
    socket.destroy();
    throw error;
  } finally {
    timer?.cancel();
    socket.off("error", onError);
    socket.off(readyEvent, onReady);
    socket.off("close", onClose);
  }
}

/**
 * @internal Steps 2 and 3: the protocol, the transport, `connectionMade`; resolves once it
 * ran. Destroys the socket when the factory throws or the wait is cancelled. A TLS transport
 * aborts a `close()` still unfinished after `shutdownTimeout` seconds.
 */
export async function makeConnection<P extends BaseProtocol>(
  loop: EventLoop,
  socket: net.Socket,
  protocolFactory: () => P,
  secureContext: tls.SecureContext | null,
  unixPath: string | null,
  shutdownTimeout: number | null = null,
): Promise<[Transport, P]> {
  let protocol: P;
  try {
    protocol = protocolFactory();
    checkMadeProtocol(protocol);
  } catch (error) {
    socket.destroy();
    throw error;
  }
  const transport = new SocketTransport(loop, socket, protocol, { secureContext, unixPath, shutdownTimeout });
  const waiter = loop.createFuture<void>();
  transport._start(waiter);
  try {
    await waiter;
  } catch (error) {
    transport.abort();
    throw error;
  }
  return [transport, protocol];
}

function checkConnectedSocket(sock: unknown): net.Socket {
  if (!(sock instanceof net.Socket)) {
    throw new TypeError(`\`sock\` must be a connected net.Socket, got ${describe(sock)}`);
  }
  if (sock.destroyed || sock.connecting) {
    throw new RangeError(`\`sock\` must be a connected net.Socket, got one that is ${sock.destroyed ? "destroyed" : "still connecting"}`);
  }
  return sock;
}

/** `loop.createConnection(...)`: see the declaration on `EventLoop`. */
export async function createConnection<P extends BaseProtocol>(
  loop: EventLoop,
  protocolFactory: () => P,
  host: string | null | undefined,
  port: number | string | null | undefined,
  options: CreateConnectionOptions = {},
): Promise<[Transport, P]> {
  checkFunction("protocolFactory", protocolFactory);
  checkOptions("loop.createConnection()", options, CREATE_CONNECTION_KEYS);
  checkSslOnly(options);
  const setup = clientTls(options.ssl);
  const handshakeTimeout = setup === null ? null : checkTimeout("sslHandshakeTimeout", options.sslHandshakeTimeout, SSL_HANDSHAKE_TIMEOUT);
  const shutdownTimeout = setup === null ? null : checkTimeout("sslShutdownTimeout", options.sslShutdownTimeout, SSL_SHUTDOWN_TIMEOUT);
  const hasHost = host !== undefined && host !== null;
  const hasPort = port !== undefined && port !== null;
  let socket: net.Socket;
  if (options.sock !== undefined && options.sock !== null) {
    if (hasHost || hasPort) throw new RangeError("host/port and sock can not be specified at the same time");
    socket = await adoptSocket(loop, checkConnectedSocket(options.sock), setup, options.serverHostname, handshakeTimeout);
  } else {
    if (!hasHost || !hasPort) throw new RangeError("host and port was not specified and no sock specified");
    if (typeof host !== "string") throw new TypeError(`\`host\` must be a string, got ${describe(host)}`);
    const portNumber = checkPort(port);
    const family = options.family ?? 0;
    if (family !== 0 && family !== 4 && family !== 6) {
      throw new RangeError(`\`family\` must be 0, 4 or 6, got ${describe(family)}`);
    }
    const connectOptions: net.TcpNetConnectOpts = { host, port: portNumber, allowHalfOpen: true, noDelay: true };
    if (family !== 0) connectOptions.family = family;
    if (options.keepAlive) connectOptions.keepAlive = true;
    if (options.localAddr !== undefined && options.localAddr !== null) {
      const [localHost, localPort] = options.localAddr;
      connectOptions.localAddress = localHost;
      connectOptions.localPort = checkPort(localPort, "localAddr[1]");
    }
    if (options.happyEyeballsDelay !== undefined && options.happyEyeballsDelay !== null) {
      const delay = checkTimeout("happyEyeballsDelay", options.happyEyeballsDelay, 0.25);
      connectOptions.autoSelectFamily = true;
      connectOptions.autoSelectFamilyAttemptTimeout = Math.max(10, Math.round(delay * 1000));
    }
    if (setup === null) {
      _runOutsideFrame(() => {
        socket = net.connect(connectOptions);
      });
      await waitForSocket(loop, socket!, "connect", null);
    } else {
      _runOutsideFrame(() => {
        socket = tls.connect({ ...connectOptions, ...tlsClientOptions(setup, options.serverHostname) });
      });
      await waitForSocket(loop, socket!, "secureConnect", handshakeTimeout);
    }
  }
  return makeConnection(loop, socket!, protocolFactory, setup?.secureContext ?? null, null, shutdownTimeout);
}

/** `loop.createUnixConnection(...)`: see the declaration on `EventLoop`. */
export async function createUnixConnection<P extends BaseProtocol>(
  loop: EventLoop,
  protocolFactory: () => P,
  path: string | null | undefined,
  options: CreateUnixConnectionOptions = {},
): Promise<[Transport, P]> {
  checkFunction("protocolFactory", protocolFactory);
  checkOptions("loop.createUnixConnection()", options, CREATE_UNIX_CONNECTION_KEYS);
  checkSslOnly(options);
  const setup = clientTls(options.ssl);
  const handshakeTimeout = setup === null ? null : checkTimeout("sslHandshakeTimeout", options.sslHandshakeTimeout, SSL_HANDSHAKE_TIMEOUT);
  const shutdownTimeout = setup === null ? null : checkTimeout("sslShutdownTimeout", options.sslShutdownTimeout, SSL_SHUTDOWN_TIMEOUT);
  let socket: net.Socket;
  let unixPath = "";
  if (options.sock !== undefined && options.sock !== null) {
    if (path !== undefined && path !== null) throw new RangeError("path and sock can not be specified at the same time");
    socket = await adoptSocket(loop, checkConnectedSocket(options.sock), setup, options.serverHostname, handshakeTimeout);
  } else {
    if (typeof path !== "string" || path === "") {
      throw new TypeError(`\`path\` must be a non-empty string, got ${describe(path)}`);
    }
    checkUnixPath(path, "connect");
    unixPath = path;
    if (setup === null) {
      _runOutsideFrame(() => {
        socket = net.connect({ path, allowHalfOpen: true });
      });
      await waitForSocket(loop, socket!, "connect", null);
    } else {
      _runOutsideFrame(() => {
        socket = tls.connect({ path, ...tlsClientOptions(setup, options.serverHostname) });
      });
      await waitForSocket(loop, socket!, "secureConnect", handshakeTimeout);
    }
  }
  return makeConnection(loop, socket!, protocolFactory, setup?.secureContext ?? null, unixPath, shutdownTimeout);
}

/** `loop.connectAcceptedSocket(...)`: see the declaration on `EventLoop`. */
export async function connectAcceptedSocket<P extends BaseProtocol>(
  loop: EventLoop,
  protocolFactory: () => P,
  sock: net.Socket,
  options: ConnectAcceptedSocketOptions = {},
): Promise<[Transport, P]> {
  checkFunction("protocolFactory", protocolFactory);
  checkOptions("loop.connectAcceptedSocket()", options, CONNECT_ACCEPTED_SOCKET_KEYS);
  checkSslOnly(options);
  const raw = checkConnectedSocket(sock);
  const setup = serverTls(options.ssl);
  let socket: net.Socket = raw;
  const shutdownTimeout = setup === null ? null : checkTimeout("sslShutdownTimeout", options.sslShutdownTimeout, SSL_SHUTDOWN_TIMEOUT);
  if (setup !== null) {
    const timeout = checkTimeout("sslHandshakeTimeout", options.sslHandshakeTimeout, SSL_HANDSHAKE_TIMEOUT);
    _runOutsideFrame(() => {
      socket = new tls.TLSSocket(raw, { ...setup.options, isServer: true, secureContext: setup.secureContext });
    });
    await waitForSocket(loop, socket, "secure", timeout);
  }
  return makeConnection(loop, socket, protocolFactory, setup?.secureContext ?? null, null, shutdownTimeout);
}

/** `loop.startTls(...)`: see the declaration on `EventLoop`. */
export async function startTls(
  loop: EventLoop,
  transport: Transport,
  protocol: BaseProtocol,
  sslcontext: SslOption,
  options: StartTlsOptions = {},
): Promise<Transport> {
  checkOptions("loop.startTls()", options, START_TLS_KEYS);
  if (!(transport instanceof SocketTransport) || !transport._startTlsCompatible) {
    throw new TypeError(`transport ${String(transport)} is not supported by startTls()`);
  }
  const serverSide = options.serverSide === true;
  if (serverSide && options.serverHostname !== undefined && options.serverHostname !== null) {
    throw new RangeError("serverHostname is only meaningful for the client side (serverSide: false)");
  }
  const setup = serverSide ? serverTls(sslcontext) : clientTls(sslcontext);
  if (setup === null) throw new TypeError(`\`sslcontext\` must be given to startTls(), got ${describe(sslcontext)}`);
  const timeout = checkTimeout("sslHandshakeTimeout", options.sslHandshakeTimeout, SSL_HANDSHAKE_TIMEOUT);
  const shutdownTimeout = checkTimeout("sslShutdownTimeout", options.sslShutdownTimeout, SSL_SHUTDOWN_TIMEOUT);
  const raw = transport._detachForUpgrade();
  let socket!: tls.TLSSocket;
  try {
    _runOutsideFrame(() => {
      socket = serverSide
        ? new tls.TLSSocket(raw, { ...setup.options, isServer: true, secureContext: setup.secureContext })
        : tls.connect({ ...tlsClientOptions(setup, options.serverHostname), socket: raw });
    });
    await waitForSocket(loop, socket, serverSide ? "secure" : "secureConnect", timeout);
  } catch (error) {
    raw.destroy();
    transport._releaseServer();
    transport._upgradeFailed(error instanceof Error ? error : new RuntimeError(String(error)));
    throw error;
  }
  const unix = transport._unix;
  const owner: ConnectionOwner | null = transport._server;
  const upgraded = new SocketTransport(loop, socket, protocol, {
    secureContext: setup.secureContext,
    server: owner,
    unixPath: unix.path,
    serverSide: unix.serverSide,
    shutdownTimeout,
  });
  transport._releaseServer();
  upgraded._start(null, false);
  return upgraded;
}
