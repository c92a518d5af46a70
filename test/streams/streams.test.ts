// Streams over real loopback connections: openConnection, startServer, Unix sockets, TLS,
// startTls, drain, waitClosed, the client callback's errors, and faults. Ported from CPython's
// Lib/test/test_asyncio/test_streams.py; each test names its original.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import { describe, it } from "node:test";
import {
  CancelledError,
  IncompleteReadError,
  type StreamReader,
  type StreamWriter,
  createTask,
  currentTask,
  getRunningLoop,
  openConnection,
  openUnixConnection,
  sleep,
  startServer,
  startUnixServer,
  timeout,
} from "../../src/index.js";
import { clientTlsOptions, errorOf, portOf, runNet, serverTlsOptions, unixPath, until } from "./support.js";

const HOST = "127.0.0.1";

/** The server of CPython's MyServer: echoes one line, then closes. */
async function echoLine(reader: StreamReader, writer: StreamWriter): Promise<void> {
  const data = await reader.readline();
  writer.write(data);
  await writer.drain();
  writer.close();
  await writer.waitClosed();
}

async function lineClient(reader: StreamReader, writer: StreamWriter): Promise<Buffer> {
  writer.write("hello world!\n");
  const back = await reader.readline();
  writer.close();
  await writer.waitClosed();
  return back;
}

describe("streams over TCP", () => {
  // CPython: test_start_server (both variants: a coroutine and a plain callback)
  it("startServer serves an async handler and a plain callback alike", async () => {
    await runNet(async (messages) => {
      for (const handler of [
        echoLine,
        (r: StreamReader, w: StreamWriter) => {
          createTask(() => echoLine(r, w));
        },
      ]) {
        const server = await startServer(handler, HOST, 0);
        const [reader, writer] = await openConnection(HOST, portOf(server));
        assert.deepEqual(await lineClient(reader, writer), Buffer.from("hello world!\n"));
        server.close();
        await server.waitClosed();
      }
      assert.deepEqual(messages, []);
    });
  });

  // CPython: test_open_connection, test_wait_closed_on_close, test_async_writer_api
  it("openConnection reads a reply up to EOF; isClosing and waitClosed follow close()", async () => {
    await runNet(async (messages) => {
      const server = await startServer(async (r, w) => {
        // The request first: a socket closed with bytes unread is reset, not ended (Bun's
        // close comes late enough for the request to be there).
        await r.readuntil("\r\n\r\n");
        w.write("HTTP/1.0 200 OK\r\n\r\nTest message");
        w.close();
      }, HOST, 0);
      const [reader, writer] = await openConnection(HOST, portOf(server));
      writer.write("GET / HTTP/1.0\r\n\r\n");
      assert.deepEqual(await reader.readline(), Buffer.from("HTTP/1.0 200 OK\r\n"));
      assert.deepEqual(await reader.read(), Buffer.from("\r\nTest message"));
      assert.equal(writer.isClosing(), false);
      writer.close();
      assert.equal(writer.isClosing(), true);
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  // CPython: test_open_connection_error
  it("a connection lost with an error makes the next read raise it", async () => {
    await runNet(async (messages) => {
      const server = await startServer(async (r, w) => {
        await r.read();
        w.close();
      }, HOST, 0);
      const [reader, writer] = await openConnection(HOST, portOf(server));
      const error = new Error("ZeroDivisionError");
      (writer.transport.getProtocol() as { connectionLost(e: Error): void }).connectionLost(error);
      assert.equal(await errorOf(reader.read()), error);
      writer.close();
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  // CPython: test_wait_closed_on_close_with_unread_data
  it("close() with unread data in the reader still finishes", async () => {
    await runNet(async (messages) => {
      const server = await startServer(async (r, w) => {
        w.write("lots of unread data\n".repeat(100));
        await r.read();
        w.close();
      }, HOST, 0);
      const [reader, writer] = await openConnection(HOST, portOf(server));
      await reader.readline();
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  // CPython: test_eof_feed_when_closing_writer (bpo-35065)
  it("after close() and waitClosed() the reader is at EOF", async () => {
    await runNet(async (messages) => {
      const server = await startServer(async (r, w) => {
        await r.read();
        w.close();
      }, HOST, 0);
      const [reader, writer] = await openConnection(HOST, portOf(server));
      writer.close();
      await writer.waitClosed();
      assert.equal(reader.atEof(), true);
      assert.deepEqual(await reader.read(), Buffer.alloc(0));
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  // CPython: test_async_writer_api_exception_after_close
  it("write() then drain() after close() raises a connection error (ECONNRESET)", async () => {
    await runNet(async (messages) => {
      const server = await startServer(async (r, w) => {
        await r.read();
        w.close();
      }, HOST, 0);
      const [, writer] = await openConnection(HOST, portOf(server));
      writer.close();
      writer.write("data");
      const error = (await errorOf(writer.drain())) as Error & { code?: string };
      assert.equal(error.code, "ECONNRESET");
      assert.match(error.message, /Connection lost/);
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  // CPython: test_drain_raises (bpo-25441): drain() must not spin once the peer is gone
  it("write/drain in a loop ends with the connection's error when the peer closes", async () => {
    await runNet(async (messages) => {
      const raw = net.createServer((s) => s.destroy());
      await new Promise<void>((resolve) => raw.listen(0, HOST, resolve));
      const port = (raw.address() as net.AddressInfo).port;
      const [, writer] = await openConnection(HOST, port);
      const error = (await errorOf((async () => {
        for (;;) {
          writer.write("foo\n");
          await writer.drain();
        }
      })())) as Error & { code?: string };
      assert.ok(["ECONNRESET", "EPIPE"].includes(error.code ?? ""), String(error));
      raw.close();
      assert.deepEqual(messages, []);
    });
  });

  /** A connection whose server side is handed to the test as `[reader, writer]`. */
  async function connectedPair(): Promise<{ server: Awaited<ReturnType<typeof startServer>>; client: [StreamReader, StreamWriter]; peer: [StreamReader, StreamWriter] }> {
    const peer = getRunningLoop().createFuture<[StreamReader, StreamWriter]>();
    const server = await startServer((r, w) => peer.setResult([r, w]), HOST, 0);
    const client = await openConnection(HOST, portOf(server));
    return { server, client, peer: await peer };
  }

  // CPython: test_multiple_drain (gh-74116)
  it("several tasks can wait in drain() at once and all wake when it drains", async () => {
    await runNet(async () => {
      const { server, client: [, writer], peer: [peerReader, peerWriter] } = await connectedPair();
      // The peer does not read: the kernel's buffers fill, then the transport's.
      const chunk = Buffer.alloc(4 << 20);
      let total = 0;
      while (writer.transport.getWriteBufferSize() < 16 << 20) {
        writer.write(chunk);
        total += chunk.length;
      }
      let drained = 0;
      const drainers = Array.from({ length: 10 }, () => createTask(async () => {
        await writer.drain();
        drained++;
      }));
      await sleep(0.02);
      assert.equal(drained, 0);
      assert.equal((await peerReader.readexactly(total)).length, total);
      for (const d of drainers) await d;
      assert.equal(drained, 10);
      writer.close();
      peerWriter.close();
      server.close();
      await server.waitClosed();
    });
  });

  it("drain() waits while the buffer is over the high-water mark (real backpressure)", async () => {
    await runNet(async () => {
      const { server, client: [, writer], peer: [peerReader, peerWriter] } = await connectedPair();
      const big = Buffer.alloc(32 << 20, 7);
      writer.write(big);
      assert.ok(writer.transport.getWriteBufferSize() > 64 * 1024);
      const drain = createTask(() => writer.drain());
      await sleep(0.02);
      assert.equal(drain.done(), false);
      assert.equal((await peerReader.readexactly(big.length)).length, big.length);
      await drain;
      assert.ok(writer.transport.getWriteBufferSize() <= 16 * 1024);
      writer.close();
      peerWriter.close();
      server.close();
      await server.waitClosed();
    });
  });

  // CPython: test_unhandled_exception
  it("an async handler that throws is reported as 'Unhandled exception in client_connected_cb'", async () => {
    await runNet(async (messages) => {
      const boom = new Error("test");
      const server = await startServer(async () => {
        throw boom;
      }, HOST, 0);
      const [reader, writer] = await openConnection(HOST, portOf(server));
      writer.write("test msg");
      await writer.drain();
      // The failed handler's connection was closed with "test msg" unread: the kernel may
      // reset it rather than end it (it does on Bun, whose close comes after the bytes).
      const reset = (e: unknown): boolean => ["ECONNRESET", "EPIPE"].includes((e as { code?: string }).code ?? "");
      const read = await reader.read().catch((e: unknown) => (reset(e) ? null : Promise.reject(e)));
      if (read !== null) assert.deepEqual(read, Buffer.alloc(0));
      writer.close();
      await writer.waitClosed().catch((e: unknown) => (reset(e) ? undefined : Promise.reject(e)));
      server.close();
      await server.waitClosed();
      assert.equal(messages[0]?.message, "Unhandled exception in client_connected_cb");
      assert.equal(messages[0]?.exception, boom);
    });
  });

  it("a plain callback that throws is reported the same way", async () => {
    await runNet(async (messages) => {
      const boom = new Error("sync");
      const server = await startServer(() => {
        throw boom;
      }, HOST, 0);
      const [reader, writer] = await openConnection(HOST, portOf(server));
      assert.deepEqual(await reader.read(), Buffer.alloc(0));
      writer.close();
      server.close();
      await server.waitClosed();
      assert.equal(messages[0]?.message, "Unhandled exception in client_connected_cb");
      assert.equal(messages[0]?.exception, boom);
    });
  });

  // CPython: test_unhandled_cancel
  it("a handler that cancels itself is not reported", async () => {
    await runNet(async (messages) => {
      const server = await startServer(async (_r, w) => {
        w.close();
        currentTask()?.cancel();
        await sleep(0);
      }, HOST, 0);
      const [reader, writer] = await openConnection(HOST, portOf(server));
      assert.deepEqual(await reader.read(), Buffer.alloc(0));
      writer.close();
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  it("the handler runs inside a task of its own", async () => {
    await runNet(async () => {
      const names: (string | null)[] = [];
      const server = await startServer(async (_r, w) => {
        names.push(currentTask()?.getName() ?? null);
        w.close();
      }, HOST, 0);
      const [reader] = await openConnection(HOST, portOf(server));
      await reader.read();
      server.close();
      await server.waitClosed();
      assert.equal(names.length, 1);
      assert.match(names[0] ?? "", /^Task-\d+$/);
    });
  });

  it("a server survives clients that reset mid-request", async () => {
    await runNet(async (messages) => {
      let served = 0;
      const server = await startServer(async (r, w) => {
        try {
          const n = (await r.readexactly(4)).readUInt32BE(0);
          const body = await r.readexactly(n);
          w.write(body);
          await w.drain();
          served++;
        } catch (error) {
          if (!(error instanceof IncompleteReadError) && (error as { code?: string }).code !== "ECONNRESET") throw error;
        } finally {
          w.close();
        }
      }, HOST, 0);
      const port = portOf(server);
      for (let i = 0; i < 20; i++) {
        const s = net.connect(port, HOST);
        await new Promise<void>((resolve) => s.once("connect", resolve));
        s.write(Buffer.from([0, 0, 1, 0, 1, 2, 3]));
        s.resetAndDestroy();
      }
      const [reader, writer] = await openConnection(HOST, port);
      writer.write(Buffer.from([0, 0, 0, 2, 104, 105]));
      assert.deepEqual(await reader.read(), Buffer.from("hi"));
      writer.close();
      server.close();
      await server.waitClosed();
      assert.equal(served, 1);
      assert.deepEqual(messages, []);
    });
  });
});

describe("connection faults", () => {
  it("a refused connection rejects with Node's ECONNREFUSED error", async () => {
    await runNet(async () => {
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, HOST, resolve));
      const port = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const error = (await errorOf(openConnection(HOST, port))) as Error & { code?: string };
      assert.equal(error.code, "ECONNREFUSED");
      assert.match(error.message, /ECONNREFUSED/);
    });
  });

  it("happy eyeballs: a name is tried address by address until one answers", async () => {
    await runNet(async () => {
      const server = await startServer(echoLine, HOST, 0);
      const [reader, writer] = await openConnection("localhost", portOf(server), { happyEyeballsDelay: 0.05 });
      assert.deepEqual(await lineClient(reader, writer), Buffer.from("hello world!\n"));
      server.close();
      await server.waitClosed();
    });
  });

  it("a name that does not resolve rejects with ENOTFOUND", async () => {
    await runNet(async () => {
      const error = (await errorOf(openConnection("no-such-host.invalid", 80))) as Error & { code?: string };
      assert.ok(["ENOTFOUND", "EAI_AGAIN"].includes(error.code ?? ""), String(error));
    });
  });

  it("bad arguments are clear errors", async () => {
    await runNet(async () => {
      assert.ok((await errorOf(openConnection(HOST, 70000))) instanceof RangeError);
      assert.ok((await errorOf(openConnection(null, null))) instanceof RangeError);
      assert.ok((await errorOf(openConnection(HOST, 1, { serverHostname: "x" }))) instanceof RangeError);
    });
  });

  it("cancelling a connect destroys the half-made connection", async () => {
    await runNet(async () => {
      // A listener that never completes the TLS handshake: the client waits in it.
      let accepted: net.Socket | null = null;
      const silent = net.createServer((s) => {
        accepted = s;
        s.resume();
      });
      await new Promise<void>((resolve) => silent.listen(0, HOST, resolve));
      const port = (silent.address() as net.AddressInfo).port;
      const task = createTask(() => openConnection(HOST, port, { ssl: clientTlsOptions() }));
      await until(() => accepted !== null);
      task.cancel();
      assert.ok((await errorOf(task)) instanceof CancelledError);
      await new Promise<void>((resolve) => (accepted as unknown as net.Socket).once("close", () => resolve()));
      silent.close();
    });
  });

  it("a TLS handshake that takes too long fails with TimeoutError", async () => {
    await runNet(async () => {
      const silent = net.createServer((s) => s.resume());
      await new Promise<void>((resolve) => silent.listen(0, HOST, resolve));
      const port = (silent.address() as net.AddressInfo).port;
      const error = (await errorOf(openConnection(HOST, port, { ssl: clientTlsOptions(), sslHandshakeTimeout: 0.05 }))) as Error;
      assert.equal(error.name, "TimeoutError");
      assert.match(error.message, /SSL handshake is taking longer than 0.05 seconds/);
      silent.close();
    });
  });

  it("a read cancelled by a timeout leaves the bytes for the next read", async () => {
    await runNet(async () => {
      const server = await startServer(async (r, w) => {
        w.write("partial");
        await r.read();
        w.close();
      }, HOST, 0);
      const [reader, writer] = await openConnection(HOST, portOf(server));
      const error = await errorOf(timeout(0.05, () => reader.readexactly(100)));
      assert.equal((error as Error).name, "TimeoutError");
      assert.deepEqual(await reader.readexactly(7), Buffer.from("partial"));
      writer.close();
      server.close();
      await server.waitClosed();
    });
  });
});

describe("streams over Unix sockets", () => {
  // CPython: test_start_unix_server, test_open_unix_connection
  it("startUnixServer and openUnixConnection echo a line; the socket file goes on close", async () => {
    await runNet(async (messages) => {
      const path = unixPath();
      const server = await startUnixServer(echoLine, path);
      assert.equal(server.sockets[0]?.getsockname(), path);
      const [reader, writer] = await openUnixConnection(path);
      assert.equal(writer.getExtraInfo("peername"), path);
      assert.deepEqual(await lineClient(reader, writer), Buffer.from("hello world!\n"));
      server.close();
      assert.equal(existsSync(path), false);
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  it("a stale socket file is replaced by a new server", async () => {
    await runNet(async () => {
      const path = unixPath();
      // A server that dies without cleaning up leaves its socket file behind.
      spawnSync(process.execPath, [
        "-e",
        `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
      ]);
      assert.equal(existsSync(path), true);
      const server = await startUnixServer(echoLine, path);
      const [reader, writer] = await openUnixConnection(path);
      assert.deepEqual(await lineClient(reader, writer), Buffer.from("hello world!\n"));
      server.close();
      await server.waitClosed();
    });
  });
});

describe("streams over TLS", () => {
  // CPython: test_open_connection_no_loop_ssl (with the fixture certificate)
  it("openConnection with ssl talks to a TLS server and reports the TLS extra info", async () => {
    await runNet(async (messages) => {
      const server = await startServer(echoLine, HOST, 0, { ssl: serverTlsOptions() });
      const [reader, writer] = await openConnection(HOST, portOf(server), { ssl: clientTlsOptions() });
      assert.notEqual(writer.getExtraInfo("sslcontext"), null);
      assert.equal(writer.canWriteEof(), false);
      const cert = writer.getExtraInfo("peercert");
      assert.equal(cert?.subject.CN, "localhost");
      const cipher = writer.getExtraInfo("cipher");
      assert.equal(typeof cipher?.[0], "string");
      assert.deepEqual(await lineClient(reader, writer), Buffer.from("hello world!\n"));
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  it("an untrusted certificate fails the connection with Node's TLS error", async () => {
    await runNet(async () => {
      const server = await startServer(echoLine, HOST, 0, { ssl: serverTlsOptions() });
      const error = (await errorOf(openConnection(HOST, portOf(server), { ssl: true }))) as Error & { code?: string };
      assert.match(error.code ?? "", /SELF_SIGNED|UNABLE_TO_VERIFY/);
      server.close();
      await server.waitClosed();
    });
  });

  it("serverHostname is checked against the certificate; '' turns the check off", async () => {
    await runNet(async () => {
      const server = await startServer(echoLine, HOST, 0, { ssl: serverTlsOptions() });
      const port = portOf(server);
      const bad = (await errorOf(openConnection(HOST, port, { ssl: clientTlsOptions(), serverHostname: "example.com" }))) as Error & { code?: string };
      assert.equal(bad.code, "ERR_TLS_CERT_ALTNAME_INVALID");
      const [reader, writer] = await openConnection(HOST, port, { ssl: clientTlsOptions(), serverHostname: "" });
      assert.deepEqual(await lineClient(reader, writer), Buffer.from("hello world!\n"));
      server.close();
      await server.waitClosed();
    });
  });

  // CPython: test_start_tls
  it("startTls upgrades a plain connection on both sides (STARTTLS)", async () => {
    await runNet(async (messages) => {
      const server = await startServer(async (r, w) => {
        const first = await r.readline();
        w.write(first);
        await w.drain();
        assert.equal(w.getExtraInfo("sslcontext"), null);
        await w.startTls(serverTlsOptions());
        assert.notEqual(w.getExtraInfo("sslcontext"), null);
        const second = await r.readline();
        w.write(second);
        await w.drain();
        w.close();
        await w.waitClosed();
      }, HOST, 0);
      const [reader, writer] = await openConnection(HOST, portOf(server));
      writer.write("hello world 1!\n");
      await writer.drain();
      const back1 = await reader.readline();
      assert.equal(writer.getExtraInfo("sslcontext"), null);
      await writer.startTls(clientTlsOptions());
      assert.notEqual(writer.getExtraInfo("sslcontext"), null);
      writer.write("hello world 2!\n");
      await writer.drain();
      const back2 = await reader.readline();
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
      assert.deepEqual(back1, Buffer.from("hello world 1!\n"));
      assert.deepEqual(back2, Buffer.from("hello world 2!\n"));
    });
  });
});
