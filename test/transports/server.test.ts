// Server: sockets, close, waitClosed, serveForever, startServing, closeClients, abortClients,
// await using; createServer's host forms and errors. Ported from CPython's
// Lib/test/test_asyncio/test_server.py and the server parts of test_events.py.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import net from "node:net";
import { describe, it } from "node:test";
import {
  CancelledError,
  Protocol,
  RuntimeError,
  type StreamReader,
  type StreamWriter,
  createTask,
  getRunningLoop,
  openConnection,
  openUnixConnection,
  sleep,
  startServer,
  startUnixServer,
} from "../../src/index.js";
import { errorOf, portOf, runNet, unixPath, until } from "../streams/support.js";

const HOST = "127.0.0.1";

/** CPython's `serve` of test_wait_closed_basic: read to EOF, then close. */
async function readThenClose(r: StreamReader, w: StreamWriter): Promise<void> {
  try {
    await r.read();
  } finally {
    w.close();
    await w.waitClosed();
  }
}

describe("Server", () => {
  // CPython: test_events.py test_create_server, test_server_close
  it("lists its sockets with getsockname(), and refuses connections once closed", async () => {
    await runNet(async () => {
      const server = await startServer(readThenClose, "0.0.0.0", 0);
      assert.equal(server.sockets.length, 1);
      const [host, port] = server.sockets[0]?.getsockname() as [string, number];
      assert.equal(host, "0.0.0.0");
      assert.equal(server.sockets[0]?.family, "IPv4");
      assert.equal(server.isServing(), true);
      assert.equal(server.getLoop(), getRunningLoop());
      server.close();
      assert.deepEqual(server.sockets, []);
      assert.equal(server.isServing(), false);
      server.close();
      const error = (await errorOf(openConnection(HOST, port))) as Error & { code?: string };
      assert.equal(error.code, "ECONNREFUSED");
      await server.waitClosed();
    });
  });

  // CPython: test_server.py TestServer2.test_wait_closed_basic
  it("waitClosed waits until the server is closed and its connections are gone", async () => {
    await runNet(async () => {
      const server = await startServer(readThenClose, HOST, 0);
      const task1 = createTask(() => server.waitClosed());
      await sleep(0);
      assert.equal(task1.done(), false);
      const [, writer] = await openConnection(HOST, portOf(server));
      const task2 = createTask(() => server.waitClosed());
      await sleep(0);
      assert.equal(task1.done() || task2.done(), false);
      server.close();
      await sleep(0);
      const task3 = createTask(() => server.waitClosed());
      await sleep(0);
      assert.equal(task1.done() || task2.done() || task3.done(), false);
      writer.close();
      await writer.waitClosed();
      await task1;
      await task2;
      await task3;
      await server.waitClosed();
    });
  });

  // CPython: test_server.py TestServer2.test_wait_closed_race
  it("waitClosed returns when close() and the last connection's end come together", async () => {
    await runNet(async () => {
      const server = await startServer(readThenClose, HOST, 0);
      const task = createTask(() => server.waitClosed());
      await sleep(0);
      assert.equal(task.done(), false);
      const [, writer] = await openConnection(HOST, portOf(server));
      const loop = getRunningLoop();
      loop.callSoon(() => server.close());
      loop.callSoon(() => writer.close());
      await server.waitClosed();
      await task;
    });
  });

  // CPython: test_server.py TestServer2.test_close_clients
  it("closeClients closes the connections it accepted (3.13)", async () => {
    await runNet(async () => {
      const server = await startServer(readThenClose, HOST, 0);
      const [reader, writer] = await openConnection(HOST, portOf(server));
      await until(() => server.toString().includes("clients=1"));
      const task = createTask(() => server.waitClosed());
      await sleep(0);
      assert.equal(task.done(), false);
      server.close();
      server.closeClients();
      await task;
      assert.deepEqual(await reader.read(), Buffer.alloc(0));
      writer.close();
    });
  });

  // CPython: test_server.py TestServer2.test_abort_clients
  it("abortClients aborts connections even with a full write buffer (3.13)", async () => {
    await runNet(async () => {
      const peer = getRunningLoop().createFuture<StreamWriter>();
      const server = await startServer(async (_r, w) => {
        peer.setResult(w);
        await w.waitClosed().catch(() => {});
      }, HOST, 0);
      const [clientReader, clientWriter] = await openConnection(HOST, portOf(server), { limit: 4096 });
      const serverWriter = await peer;
      // The client does not read: fill the server's buffers until its transport holds data.
      for (let i = 0; i < 64 && serverWriter.transport.getWriteBufferSize() === 0; i++) {
        serverWriter.write(Buffer.alloc(1 << 20));
      }
      await until(() => !clientWriter.transport.isReading());
      // The kernel may still take what was buffered (Deno's sockets hold more): write on.
      for (let i = 0; i < 64 && serverWriter.transport.getWriteBufferSize() === 0; i++) {
        serverWriter.write(Buffer.alloc(1 << 20));
        await sleep(0.01);
      }
      assert.notEqual(serverWriter.transport.getWriteBufferSize(), 0);
      const task = createTask(() => server.waitClosed());
      await sleep(0);
      assert.equal(task.done(), false);
      server.close();
      server.abortClients();
      await sleep(0);
      await sleep(0);
      assert.equal(task.done(), true);
      void clientReader;
      clientWriter.close();
    });
  });

  // CPython: test_server.py test_start_server_1
  it("serveForever ends cancelled when the server is closed from elsewhere; then it is closed for good", async () => {
    await runNet(async () => {
      const server = await startServer(async (r, w) => {
        await r.readline();
        server.close();
        w.write("1");
        w.close();
      }, HOST, 0, { startServing: false });
      assert.equal(server.isServing(), false);
      const port = portOf(server);
      const main = createTask(async () => {
        await using _ = server;
        await server.serveForever();
      });
      await until(() => server.isServing());
      const [reader, writer] = await openConnection(HOST, port);
      writer.write("1".repeat(5 * 1024) + "\n");
      assert.deepEqual(await reader.read(), Buffer.from("1"));
      writer.close();
      assert.ok((await errorOf(main)) instanceof CancelledError);
      assert.ok(main.cancelled());
      assert.deepEqual(server.sockets, []);
      assert.equal(server.isServing(), false);
      const again = (await errorOf(server.serveForever())) as Error;
      assert.ok(again instanceof RuntimeError);
      assert.match(again.message, /is closed/);
    });
  });

  it("serveForever twice at once is a RuntimeError; cancelling it closes the server", async () => {
    await runNet(async () => {
      const server = await startServer(readThenClose, HOST, 0);
      const forever = createTask(() => server.serveForever());
      await sleep(0);
      const second = (await errorOf(server.serveForever())) as Error;
      assert.match(second.message, /already being awaited on serveForever\(\)/);
      forever.cancel();
      assert.ok((await errorOf(forever)) instanceof CancelledError);
      assert.deepEqual(server.sockets, []);
    });
  });

  // CPython: test_server.py test_start_unix_server_1
  it("holds connections until startServing() when made with startServing: false", async () => {
    await runNet(async () => {
      const path = unixPath();
      let served = 0;
      const server = await startUnixServer(async (_r, w) => {
        served++;
        w.write("hi");
        w.close();
      }, path, { startServing: false });
      assert.equal(server.isServing(), false);
      const [reader, writer] = await openUnixConnection(path);
      await sleep(0.02);
      assert.equal(served, 0);
      await server.startServing();
      assert.equal(server.isServing(), true);
      assert.deepEqual(await reader.read(), Buffer.from("hi"));
      writer.close();
      server.close();
      await server.waitClosed();
    });
  });

  // CPython: test_server.py UnixServerCleanupTests.test_unix_server_addr_cleanup
  it("removes a Unix server's socket file when it closes (3.13)", async () => {
    await runNet(async () => {
      const path = unixPath();
      const server = await startUnixServer(() => {}, path);
      assert.equal(existsSync(path), true);
      server.close();
      assert.equal(existsSync(path), false);
    });
  });

  it("await using closes and waits", async () => {
    await runNet(async () => {
      let port: number;
      {
        await using server = await startServer(readThenClose, HOST, 0);
        port = portOf(server);
      }
      assert.equal((await errorOf(openConnection(HOST, port)) as { code?: string }).code, "ECONNREFUSED");
    });
  });

  // CPython: test_events.py test_create_server_addr_in_use
  it("a port in use is EADDRINUSE", async () => {
    await runNet(async () => {
      const server = await startServer(readThenClose, HOST, 0);
      const error = (await errorOf(startServer(readThenClose, HOST, portOf(server)))) as Error & { code?: string };
      assert.equal(error.code, "EADDRINUSE");
      server.close();
    });
  });

  // CPython: test_events.py test_create_server_multiple_hosts_ipv4 / test_create_server_dual_stack
  it("listens once per host, and on every interface with a null host", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const server = await loop.createServer(() => new Protocol(), [HOST, "::1", HOST], 0);
      const hosts = server.sockets.map((s) => (s.getsockname() as [string, number])[0]).sort();
      assert.deepEqual(hosts, ["127.0.0.1", "::1"]);
      server.close();
      const any = await startServer(readThenClose, null, 0);
      const port = portOf(any);
      for (const host of [HOST, "::1"]) {
        const [, w] = await openConnection(host, port);
        w.close();
      }
      any.close();
      await any.waitClosed();
    });
  });

  // CPython: test_events.py test_create_server_sock
  it("serves a listening net.Server given as sock", async () => {
    await runNet(async () => {
      const sock = net.createServer();
      await new Promise<void>((resolve) => sock.listen(0, HOST, resolve));
      const server = await startServer(async (_r, w) => {
        w.write("from sock");
        w.close();
      }, null, null, { sock });
      assert.equal(server.sockets[0]?.nodeSocket, sock);
      const [reader, writer] = await openConnection(HOST, portOf(server));
      assert.deepEqual(await reader.read(), Buffer.from("from sock"));
      writer.close();
      server.close();
      await server.waitClosed();
    });
  });

  it("keepAlive is accepted, reusePort refused on old Node, bad options are clear", async () => {
    await runNet(async () => {
      const major = Number(process.versions.node.split(".")[0]);
      if (major < 22) {
        const error = (await errorOf(startServer(readThenClose, HOST, 0, { reusePort: true }))) as Error;
        assert.match(error.message, /reusePort is not supported/);
      }
      assert.ok((await errorOf(startServer(readThenClose, HOST, -1))) instanceof RangeError);
      assert.ok((await errorOf(startServer(readThenClose, HOST, 0, { sslHandshakeTimeout: 1 }))) instanceof RangeError);
      const server = await startServer(readThenClose, HOST, 0, { keepAlive: true });
      server.close();
    });
  });
});
