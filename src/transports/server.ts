/**
 * The server that `loop.createServer`, `startServer` and their Unix twins return.
 *
 * HOW it maps onto Node: one `net.Server` (or `tls.Server`) per listening address. Node binds
 * and listens in one step, so a server made with `startServing: false` listens at once (its
 * port is known) but holds the connections it accepts until `startServing()`, as the kernel's
 * backlog would. Each accepted connection becomes a transport attached to this server, so
 * `waitClosed()` can wait until the server is closed and every connection is gone (3.12).
 *
 * Invariant: `#servers` is `null` exactly when the server is closed; `#waiters` is `null`
 * exactly when it is closed and has no connection left (then `waitClosed()` returns at once).
 */
import type { Server as NetServer, Socket } from "node:net";
import { RuntimeError, isCancellation } from "../errors.js";
import type { EventLoop } from "../events/loop.js";
import type { Future } from "../futures.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { currentTask, sleep } from "../tasks.js";
import type { Transport } from "./transports.js";
import { TransportSocket } from "./trsock.js";

/** Keeps a held connection's error (a reset before it is served) from crashing the process. */
function ignoreError(): void {}

/**
 * Seconds a shutting-down server gives its connections to close cleanly (handlers ending,
 * buffered data sent) before it aborts those still open.
 */
const CLIENT_CLOSE_GRACE = 1;

/** @internal A protocol that runs a task per connection (the streams' client-connected callback). */
interface HandlerOwner {
  readonly _handler?: Future<unknown> | null;
}

/**
 * A listening server: its sockets, and the connections it accepted.
 *
 * @example
 * const server = await startServer(handle, "127.0.0.1", 8888);
 * await using _ = server;            // closes and waits on the way out
 * await server.serveForever();
 *
 * asyncio: `asyncio.Server`.
 */
export class Server {
  readonly #loop: EventLoop;
  #servers: NetServer[] | null;
  #sockets: TransportSocket[];
  readonly #clients = new Set<Transport>();
  #waiters: Future<void>[] | null = [];
  #serving = false;
  #servingForever: Future<void> | null = null;
  #held: Socket[] = [];
  readonly #accept: (socket: Socket) => void;

  /** @internal Made by the event loop's `createServer` / `createUnixServer`. */
  constructor(loop: EventLoop, servers: NetServer[], accept: (socket: Socket) => void, unixPath: string | null = null) {
    this.#loop = loop;
    this.#servers = servers;
    this.#sockets = servers.map((s) => new TransportSocket(s, unixPath));
    this.#accept = accept;
    loop._track(this);
  }

  /** @internal The loop closes: stop listening; its connections are the loop's to close. */
  _closeForLoop(): boolean {
    const leftOpen = this.#servers !== null;
    this.close();
    return leftOpen;
  }

  /**
   * @internal A Node server accepted `socket`: hand it on, or hold it until `startServing()`,
   * or drop it when the server is closed.
   */
  _onConnection(socket: Socket): void {
    if (this.#servers === null) {
      socket.destroy();
    } else if (!this.#serving) {
      socket.on("error", ignoreError);
      this.#held.push(socket);
    } else {
      this.#accept(socket);
    }
  }

  /** @internal A connection of this server was made. */
  _attach(transport: Transport): void {
    this.#clients.add(transport);
  }

  /** @internal A connection of this server was lost. */
  _detach(transport: Transport): void {
    this.#clients.delete(transport);
    if (this.#clients.size === 0 && this.#servers === null) this.#wakeup();
  }

  #wakeup(): void {
    const waiters = this.#waiters;
    this.#waiters = null;
    if (waiters === null) return;
    for (const waiter of waiters) if (!waiter.done()) waiter.setResult(undefined);
  }

  /** @internal Starts accepting (idempotent). */
  _startServing(): void {
    if (this.#serving || this.#servers === null) return;
    this.#serving = true;
    const held = this.#held;
    this.#held = [];
    for (const socket of held) {
      socket.off("error", ignoreError);
      if (socket.destroyed) continue;
      this.#accept(socket);
    }
  }

  /** The loop the server runs on. */
  getLoop(): EventLoop {
    return this.#loop;
  }

  /** Whether the server accepts connections (after `startServing()`, until `close()`). */
  isServing(): boolean {
    return this.#serving;
  }

  /**
   * The listening sockets (a new array each time; empty once closed). `getsockname()` gives
   * `[host, port]` for TCP, the path for a Unix socket.
   */
  get sockets(): TransportSocket[] {
    return this.#servers === null ? [] : [...this.#sockets];
  }

  /**
   * Stops listening: the sockets close (a Unix socket's file is removed) and no connection is
   * accepted any more. Connections already made stay open (see {@link Server.closeClients}).
   * A running {@link Server.serveForever} ends. Closing twice does nothing.
   */
  close(): void {
    const servers = this.#servers;
    if (servers === null) return;
    this.#servers = null;
    this.#loop._untrack(this);
    for (const server of servers) server.close();
    for (const socket of this.#held) socket.destroy();
    this.#held = [];
    this.#serving = false;
    const forever = this.#servingForever;
    if (forever !== null && !forever.done()) {
      forever.cancel();
      this.#servingForever = null;
    }
    if (this.#clients.size === 0) this.#wakeup();
  }

  /** Closes every connection the server accepted (their buffered data is still sent). 3.13. */
  closeClients(): void {
    for (const transport of [...this.#clients]) transport.close();
  }

  /** Aborts every connection the server accepted (buffered data is dropped). 3.13. */
  abortClients(): void {
    for (const transport of [...this.#clients]) transport.abort();
  }

  /**
   * Starts accepting connections, when the server was made with `startServing: false`; does
   * nothing if it already serves.
   *
   * **Cancellation**: it only yields once to the loop; cancelling it leaves the server serving.
   */
  async startServing(): Promise<void> {
    this._startServing();
    await sleep(0);
  }

  /**
   * Serves until the server is closed or the awaiting task is cancelled.
   *
   * **Cancellation**: cancelling the task (Ctrl-C, a deadline, a task group) shuts the server
   * down as `await using` does — stops listening, cancels the connections' handler tasks,
   * closes the connections and aborts those still open after a second — then rethrows the
   * `CancelledError`. Unlike asyncio's, it does not wait for clients to leave by themselves: a
   * connected client would hold Ctrl-C up for as long as it stays. A `close()` from elsewhere
   * ends it with a `CancelledError` after `waitClosed()`, as in asyncio (the connections stay
   * open until they end).
   *
   * @throws {RuntimeError} when it is already being awaited, or the server is closed.
   */
  async serveForever(): Promise<void> {
    if (this.#servingForever !== null) {
      throw new RuntimeError(`server ${this.toString()} is already being awaited on serveForever()`);
    }
    if (this.#servers === null) throw new RuntimeError(`server ${this.toString()} is closed`);
    this._startServing();
    const forever = this.#loop.createFuture<void>();
    this.#servingForever = forever;
    try {
      await forever;
    } catch (error) {
      if (isCancellation(error)) {
        try {
          // close() from elsewhere let go of `forever`: asyncio's path. Else this task was
          // cancelled: shut the connections down too.
          if (this.#servingForever !== forever) await this.waitClosed();
          else await this._shutdown();
        } catch {
          // The first CancelledError is the one that goes on.
        }
      }
      throw error;
    } finally {
      if (this.#servingForever === forever) this.#servingForever = null;
    }
  }

  /**
   * Waits until the server is closed and every connection it accepted is gone, in either
   * order; returns at once when both are already true. Can be awaited any number of times.
   *
   * **Cancellation**: cancelling the awaiting task stops the waiting; the server is untouched.
   *
   * asyncio: `Server.wait_closed()` (3.12.1 semantics).
   */
  async waitClosed(): Promise<void> {
    const waiters = this.#waiters;
    if (waiters === null) return;
    const waiter = this.#loop.createFuture<void>();
    waiters.push(waiter);
    try {
      await waiter;
    } finally {
      const list = this.#waiters;
      if (list !== null) {
        const i = list.indexOf(waiter);
        if (i >= 0) list.splice(i, 1);
      }
    }
  }

  /**
   * `await using server = await startServer(…)`: shuts the server down and waits until it is
   * closed — stops listening, cancels the handler tasks of its stream connections, closes
   * every connection (buffered data is still sent), and aborts those still open after a
   * second. So leaving the block, normally or by an exception, never waits on a client.
   *
   * asyncio: `async with server:`, which only closes the server and waits for
   * `wait_closed()`, that is for every client to leave by itself.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this._shutdown();
  }

  /**
   * @internal The shutdown of {@link Server.serveForever}'s cancellation and of
   * `Symbol.asyncDispose`: `close()`, then each connection is closed once its handler task
   * (cancelled now) has ended, and what is still open after {@link CLIENT_CLOSE_GRACE}
   * seconds is aborted. Cancelling the wait aborts them at once.
   */
  async _shutdown(): Promise<void> {
    this.close();
    if (this.#clients.size === 0) return;
    const current = currentTask();
    for (const transport of this.#clients) {
      const handler = (transport.getProtocol() as HandlerOwner)._handler ?? null;
      if (handler === null || handler.done() || handler === current) {
        transport.close();
      } else {
        handler.addDoneCallback(() => transport.close());
        handler.cancel();
      }
    }
    const timer = this.#loop.callLater(CLIENT_CLOSE_GRACE, () => this.abortClients());
    try {
      await this.waitClosed();
    } catch (error) {
      this.abortClients();
      throw error;
    } finally {
      timer.cancel();
    }
  }

  /** The state of the server, as asyncio's repr shows it. */
  toString(): string {
    const parts = [`sockets=[${this.sockets.map((s) => s.toString()).join(", ")}]`];
    if (this.#serving) parts.push("serving");
    if (this.#clients.size > 0) parts.push(`clients=${this.#clients.size}`);
    return formatRepr("Server", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
