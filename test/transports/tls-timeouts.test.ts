// TLS timeouts over real loopback sockets: a TLS server disconnects clients that do not finish
// their handshake within `sslHandshakeTimeout` (Node's own `handshakeTimeout` only reports
// them), and a TLS close that the peer holds up is aborted after `sslShutdownTimeout`, with
// `TimeoutError`, as asyncio's `_check_shutdown_timeout` does. Nothing here asserts how long
// anything took: the checks are about what happened, with generous overall bounds.
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { describe, it } from "node:test";
import {
  type Future,
  type StreamReader,
  type StreamWriter,
  gather,
  getRunningLoop,
  openConnection,
  sleep,
  startServer,
  startUnixServer,
  timeout,
} from "../../src/index.js";
import { DENO_TLS_BUFFER, clientTlsOptions, errorOf, portOf, runNet, serverTlsOptions, unixPath } from "../streams/support.js";
import { unsupportedOn } from "../support/runtime.js";

const HOST = "127.0.0.1";

/** More than the socket buffers of a loopback connection hold: a peer that never reads stalls it. */
const BIG = Buffer.alloc(32 * 1024 * 1024, 0x61);

/** Echoes one line, then closes. */
async function echoLine(r: StreamReader, w: StreamWriter): Promise<void> {
  const line = await r.readline();
  w.write(line);
  await w.drain();
  w.close();
  await w.waitClosed();
}

/**
 * A future done when `socket` emits 'close' (its errors are expected and ignored). A future,
 * not a promise, so that `timeout()` can stop a wait for it.
 */
function closed(socket: net.Socket): Future<void> {
  const future = getRunningLoop().createFuture<void>();
  socket.on("error", () => {});
  socket.once("close", () => {
    if (!future.done()) future.setResult(undefined);
  });
  return future;
}

/** A future done with the first `event` of `emitter`. */
function once(emitter: net.Socket, event: string): Future<void> {
  const future = getRunningLoop().createFuture<void>();
  emitter.once(event, () => {
    if (!future.done()) future.setResult(undefined);
  });
  return future;
}

/** Resolves once the TLS listener `server` has a port. */
function listening(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, HOST, () => resolve((server.address() as net.AddressInfo).port)));
}

/** The start of a TLS handshake record (type 22, TLS 1.0, 80 bytes), cut short. */
const PARTIAL_CLIENT_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x50, 0x01, 0x00]);

describe("TLS server: sslHandshakeTimeout", () => {
  it("disconnects each of 200 clients that never finish their handshake", async () => {
    await runNet(async (messages) => {
      const server = await startServer(echoLine, HOST, 0, { ssl: serverTlsOptions(), sslHandshakeTimeout: 0.3 });
      const port = portOf(server);
      const clients: net.Socket[] = [];
      const done: Future<void>[] = [];
      for (let i = 0; i < 200; i++) {
        const client = net.connect(port, HOST);
        // Half stay silent, half send the first bytes of a ClientHello and stall.
        if (i % 2 === 1) client.once("connect", () => client.write(PARTIAL_CLIENT_HELLO));
        clients.push(client);
        done.push(closed(client));
      }
      await timeout(20, () => gather(...done));
      assert.ok(clients.every((c) => c.destroyed));
      server.close();
      await timeout(10, () => server.waitClosed());
      // Outside debug mode a failed handshake is not reported (asyncio only logs it in debug).
      assert.deepEqual(messages, []);
    });
  });

  it("leaves alone a client that finished its handshake, however long it then stays quiet", async () => {
    await runNet(async (messages) => {
      const server = await startServer(echoLine, HOST, 0, { ssl: serverTlsOptions(), sslHandshakeTimeout: 0.2 });
      const [reader, writer] = await openConnection(HOST, portOf(server), { ssl: clientTlsOptions() });
      await sleep(0.6);
      writer.write("still here\n");
      assert.deepEqual(await reader.readline(), Buffer.from("still here\n"));
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  it("a Unix TLS server disconnects a client that never sends a ClientHello", async () => {
    await runNet(async () => {
      const path = unixPath();
      const server = await startUnixServer(echoLine, path, { ssl: serverTlsOptions(), sslHandshakeTimeout: 0.2 });
      const client = net.connect(path);
      await timeout(20, () => closed(client));
      server.close();
      await server.waitClosed();
    });
  });

  it("in debug mode, reports the timed-out handshake to the exception handler", { skip: unsupportedOn({ deno: "the error a TLS handshake timeout raises is Deno's own, without Node's code ERR_TLS_HANDSHAKE_TIMEOUT" }) }, async () => {
    await runNet(async (messages) => {
      getRunningLoop().setDebug(true);
      const server = await startServer(echoLine, HOST, 0, { ssl: serverTlsOptions(), sslHandshakeTimeout: 0.2 });
      await timeout(20, () => closed(net.connect(portOf(server), HOST)));
      server.close();
      await server.waitClosed();
      const reports = messages.filter((m) => m.message === "SSL handshake failed on a server connection");
      assert.equal(reports.length, 1);
      assert.equal((reports[0]?.exception as { code?: string }).code, "ERR_TLS_HANDSHAKE_TIMEOUT");
    });
  });
});

describe("TLS: sslShutdownTimeout", () => {
  it("a server connection whose client does not read is aborted with TimeoutError", { skip: unsupportedOn({ deno: `${DENO_TLS_BUFFER}, and the close ends without waiting for the peer: sslShutdownTimeout never aborts it` }) }, async () => {
    await runNet(async (messages) => {
      const outcome = getRunningLoop().createFuture<unknown>();
      const server = await startServer(
        async (_r, w) => {
          w.write(BIG);
          w.close();
          outcome.setResult(await errorOf(w.waitClosed()));
        },
        HOST,
        0,
        { ssl: serverTlsOptions(), sslShutdownTimeout: 0.2 },
      );
      // A client that completes the handshake, then never reads a byte.
      const client = tls.connect({ port: portOf(server), host: HOST, ...clientTlsOptions(), servername: "localhost" });
      client.pause();
      const error = (await timeout(20, () => outcome)) as Error;
      assert.equal(error.name, "TimeoutError");
      assert.match(error.message, /SSL shutdown timed out/);
      // The server let go of the socket: once the client reads again, it sees the end.
      const clientClosed = closed(client);
      client.resume();
      await timeout(20, () => clientClosed);
      server.close();
      await timeout(20, () => server.waitClosed());
      assert.deepEqual(messages, []);
    });
  });

  it("a client connection whose server never answers close_notify is aborted with TimeoutError", async () => {
    await runNet(async (messages) => {
      // The peer reads everything but keeps its side open: it never sends its close_notify.
      let received = 0;
      const peerSockets: tls.TLSSocket[] = [];
      const peerGotEnd: Future<void>[] = [];
      const peer = tls.createServer({ ...serverTlsOptions(), allowHalfOpen: true }, (socket) => {
        socket.on("error", () => {});
        socket.on("data", (chunk: Buffer) => (received += chunk.length));
        peerSockets.push(socket);
        peerGotEnd.push(once(socket, "end"));
      });
      const port = await listening(peer);
      const [, writer] = await openConnection(HOST, port, { ssl: clientTlsOptions(), sslShutdownTimeout: 0.2 });
      writer.write("bye\n");
      writer.close();
      const error = (await timeout(20, () => errorOf(writer.waitClosed()))) as Error;
      assert.equal(error.name, "TimeoutError");
      assert.match(error.message, /SSL shutdown timed out/);
      // The peer got everything, then our close_notify; its own side is still open.
      await timeout(20, () => gather(...peerGotEnd));
      assert.equal(received, 4);
      for (const socket of peerSockets) socket.destroy();
      peer.close();
      assert.deepEqual(messages, []);
    });
  });

  it("a close the peer answers completes without the timeout", async () => {
    await runNet(async (messages) => {
      const server = await startServer(echoLine, HOST, 0, { ssl: serverTlsOptions(), sslShutdownTimeout: 20 });
      const [reader, writer] = await openConnection(HOST, portOf(server), { ssl: clientTlsOptions(), sslShutdownTimeout: 20 });
      writer.write("hello\n");
      assert.deepEqual(await reader.readline(), Buffer.from("hello\n"));
      writer.close();
      await writer.waitClosed(); // no TimeoutError: the server answered
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  it("a connection upgraded with startTls is aborted when its peer does not read", { skip: unsupportedOn({ deno: `${DENO_TLS_BUFFER}, and the close ends without waiting for the peer: sslShutdownTimeout never aborts it` }) }, async () => {
    await runNet(async (messages) => {
      const outcome = getRunningLoop().createFuture<unknown>();
      const server = await startServer(
        async (r, w) => {
          await r.readline();
          w.write("OK\n");
          await w.drain();
          await w.startTls(serverTlsOptions(), { sslShutdownTimeout: 0.2 });
          w.write(BIG);
          w.close();
          outcome.setResult(await errorOf(w.waitClosed()));
        },
        HOST,
        0,
      );
      const raw = net.connect(portOf(server), HOST);
      raw.write("STARTTLS\n");
      await timeout(20, () => once(raw, "data"));
      const client = tls.connect({ socket: raw, ...clientTlsOptions(), servername: "localhost" });
      client.pause();
      const error = (await timeout(20, () => outcome)) as Error;
      assert.equal(error.name, "TimeoutError");
      const clientClosed = closed(client);
      client.resume();
      await timeout(20, () => clientClosed);
      server.close();
      await timeout(20, () => server.waitClosed());
      assert.deepEqual(messages, []);
    });
  });

  it("must be a positive number of seconds", async () => {
    await runNet(async () => {
      const ssl = serverTlsOptions();
      assert.ok((await errorOf(startServer(echoLine, HOST, 0, { ssl, sslShutdownTimeout: 0 }))) instanceof RangeError);
      assert.ok((await errorOf(openConnection(HOST, 1, { ssl: clientTlsOptions(), sslShutdownTimeout: -1 }))) instanceof RangeError);
    });
  });
});
