/**
 * The high-level entry points: `openConnection`, `startServer` and their Unix twins. Each is a
 * thin layer over the loop's networking methods: a {@link StreamReader} and a
 * {@link StreamReaderProtocol} per connection, and a {@link StreamWriter} around the transport.
 *
 * asyncio: `asyncio.streams` (`open_connection`, `start_server`, …).
 */
import type { EventLoop } from "../events/loop.js";
import { getRunningLoop } from "../events/running.js";
import { checkFunction, checkOptions } from "../internal/validate.js";
import {
  CREATE_CONNECTION_KEYS,
  CREATE_UNIX_CONNECTION_KEYS,
  type CreateConnectionOptions,
  type CreateUnixConnectionOptions,
} from "../transports/connections.js";
import {
  CREATE_SERVER_KEYS,
  CREATE_UNIX_SERVER_KEYS,
  type CreateServerOptions,
  type CreateUnixServerOptions,
} from "../transports/listen.js";
import "../transports/loop-methods.js";
import type { Server } from "../transports/server.js";
import { type ClientConnectedCallback, StreamReaderProtocol } from "./protocol.js";
import { DEFAULT_LIMIT, StreamReader } from "./reader.js";
import { StreamWriter } from "./writer.js";

/** The `limit` option the stream functions add: the readers' line length limit. */
export interface StreamLimitOption {
  /** The line length limit of each {@link StreamReader}, in bytes; default 64 KiB. */
  limit?: number;
}

/** Options of {@link openConnection}: `limit` and those of `loop.createConnection`. */
export type OpenConnectionOptions = StreamLimitOption & CreateConnectionOptions;
/** Options of {@link openUnixConnection}. */
export type OpenUnixConnectionOptions = StreamLimitOption & CreateUnixConnectionOptions;
/** Options of {@link startServer}: `limit`, `startServing` and those of `loop.createServer`. */
export type StartServerOptions = StreamLimitOption & CreateServerOptions;
/** Options of {@link startUnixServer}. */
export type StartUnixServerOptions = StreamLimitOption & CreateUnixServerOptions;

const LIMIT_KEYS = ["limit"] as const satisfies readonly (keyof StreamLimitOption)[];
const OPEN_CONNECTION_KEYS = [...LIMIT_KEYS, ...CREATE_CONNECTION_KEYS] as const;
const OPEN_UNIX_CONNECTION_KEYS = [...LIMIT_KEYS, ...CREATE_UNIX_CONNECTION_KEYS] as const;
const START_SERVER_KEYS = [...LIMIT_KEYS, ...CREATE_SERVER_KEYS] as const;
const START_UNIX_SERVER_KEYS = [...LIMIT_KEYS, ...CREATE_UNIX_SERVER_KEYS] as const;

/** `limit`, and the options for the loop's method (checked already). */
function splitLimit<T extends StreamLimitOption>(options: T | undefined): [number, Omit<T, "limit">] {
  const { limit = DEFAULT_LIMIT, ...rest } = options ?? ({} as T);
  return [limit, rest];
}

/**
 * Connects to `host`:`port` (TLS with `ssl`) and resolves `[reader, writer]`.
 *
 * **Cancellation**: cancelling the awaiting task while connecting (or during the TLS
 * handshake) destroys the half-made connection; the task gets `CancelledError`.
 *
 * @throws Node's connection errors with their `code` (`ECONNREFUSED`, `ENOTFOUND`…), TLS
 * errors, `TimeoutError` after `sslHandshakeTimeout` (see `loop.createConnection`).
 * @throws {TypeError} before connecting, for an option this function does not take:
 * `{ tls: true }` is refused ("did you mean `ssl`?"), never a plaintext connection.
 * @throws {RuntimeError} synchronously when no loop runs.
 *
 * @example
 * const [reader, writer] = await openConnection("127.0.0.1", 8888);
 * writer.write(Buffer.from("Hello World!"));
 * await writer.drain();
 * const data = await reader.read(100);
 *
 * asyncio: `asyncio.open_connection(host, port, *, limit, **kwds)`.
 */
export function openConnection(
  host: string | null,
  port: number | string | null,
  options?: OpenConnectionOptions,
): Promise<[StreamReader, StreamWriter]> {
  return connect(getRunningLoop(), host, port, options);
}

async function connect(
  loop: EventLoop,
  host: string | null,
  port: number | string | null,
  options?: OpenConnectionOptions,
): Promise<[StreamReader, StreamWriter]> {
  checkOptions("openConnection()", options, OPEN_CONNECTION_KEYS);
  const [limit, rest] = splitLimit(options);
  const reader = new StreamReader({ limit, loop });
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const [transport] = await loop.createConnection(() => protocol, host, port, rest);
  return [reader, new StreamWriter(transport, protocol, reader, loop)];
}

/** Makes, for each client of a server, a reader and the protocol that hands it to `clientConnected`. */
function clientProtocolFactory(
  clientConnected: ClientConnectedCallback,
  limit: number | undefined,
  loop: EventLoop,
): () => StreamReaderProtocol {
  return () => new StreamReaderProtocol(new StreamReader({ limit, loop }), clientConnected, loop);
}

/**
 * Listens on `host`:`port` and calls `clientConnected(reader, writer)` for each connection.
 * The callback may be sync or async; an async one runs in a task of its own, and when it
 * throws, the loop's exception handler gets "Unhandled exception in client_connected_cb" and
 * the connection is closed. `host` `null` listens on every interface; port 0 picks a free one.
 *
 * **Cancellation**: cancelling while binding closes the sockets.
 *
 * @throws {TypeError} before listening, for an option this function does not take
 * (`{ tls: … }`: "did you mean `ssl`?").
 * @throws {RuntimeError} synchronously when no loop runs.
 *
 * @example
 * const server = await startServer(async (reader, writer) => {
 *   writer.write(await reader.read(100));
 *   writer.close();
 * }, "127.0.0.1", 8888);
 *
 * asyncio: `asyncio.start_server(client_connected_cb, host, port, *, limit, **kwds)`.
 */
export function startServer(
  clientConnected: ClientConnectedCallback,
  host?: string | string[] | null,
  port?: number | string | null,
  options?: StartServerOptions,
): Promise<Server> {
  return serve(getRunningLoop(), clientConnected, host, port, options);
}

async function serve(
  loop: EventLoop,
  clientConnected: ClientConnectedCallback,
  host?: string | string[] | null,
  port?: number | string | null,
  options?: StartServerOptions,
): Promise<Server> {
  checkFunction("clientConnected", clientConnected);
  checkOptions("startServer()", options, START_SERVER_KEYS);
  const [limit, rest] = splitLimit(options);
  return loop.createServer(clientProtocolFactory(clientConnected, limit, loop), host, port, rest);
}

/**
 * Connects to the Unix socket at `path` and resolves `[reader, writer]`.
 *
 * **Cancellation**: as {@link openConnection}.
 *
 * @throws as `loop.createUnixConnection`: `code: "ENAMETOOLONG"` for a path too long for the
 * platform, Node's `ENOENT` or `ECONNREFUSED`.
 * @throws {RuntimeError} synchronously when no loop runs.
 *
 * asyncio: `asyncio.open_unix_connection(path, *, limit, **kwds)`.
 */
export function openUnixConnection(
  path: string | null,
  options?: OpenUnixConnectionOptions,
): Promise<[StreamReader, StreamWriter]> {
  return connectUnix(getRunningLoop(), path, options);
}

async function connectUnix(
  loop: EventLoop,
  path: string | null,
  options?: OpenUnixConnectionOptions,
): Promise<[StreamReader, StreamWriter]> {
  checkOptions("openUnixConnection()", options, OPEN_UNIX_CONNECTION_KEYS);
  const [limit, rest] = splitLimit(options);
  const reader = new StreamReader({ limit, loop });
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const [transport] = await loop.createUnixConnection(() => protocol, path, rest);
  return [reader, new StreamWriter(transport, protocol, reader, loop)];
}

/**
 * Listens on the Unix socket `path` (see {@link startServer}); the socket file is removed when
 * the server closes.
 *
 * **Cancellation**: cancelling while binding closes the socket.
 *
 * @throws as `loop.createUnixServer`: `code: "ENAMETOOLONG"` for a path too long for the
 * platform.
 * @throws {RuntimeError} synchronously when no loop runs.
 *
 * asyncio: `asyncio.start_unix_server(client_connected_cb, path, *, limit, **kwds)`.
 */
export function startUnixServer(
  clientConnected: ClientConnectedCallback,
  path: string | null,
  options?: StartUnixServerOptions,
): Promise<Server> {
  return serveUnix(getRunningLoop(), clientConnected, path, options);
}

async function serveUnix(
  loop: EventLoop,
  clientConnected: ClientConnectedCallback,
  path: string | null,
  options?: StartUnixServerOptions,
): Promise<Server> {
  checkFunction("clientConnected", clientConnected);
  checkOptions("startUnixServer()", options, START_UNIX_SERVER_KEYS);
  const [limit, rest] = splitLimit(options);
  return loop.createUnixServer(clientProtocolFactory(clientConnected, limit, loop), path, rest);
}
