// Transports and protocols over loopback: the callbacks and their order, half-close, reading
// and writing flow control, extra info, BufferedProtocol, the abstract base classes, TLS and
// startTls at this level, connectAcceptedSocket. Ported from CPython's
// Lib/test/test_asyncio/test_events.py, test_transports.py, test_buffered_proto.py and
// test_sock_lowlevel.py; each test names its original.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import {
  BaseTransport,
  CancelledError,
  BufferedProtocol,
  DatagramTransport,
  type EventLoop,
  type Future,
  Protocol,
  ReadTransport,
  RuntimeError,
  SubprocessTransport,
  Transport,
  createTask,
  openConnection,
  WriteTransport,
  getRunningLoop,
  sleep,
  startServer,
} from "../../src/index.js";
import { clientTlsOptions, errorOf, portOf, runNet, serverTlsOptions, unixPath, until } from "../streams/support.js";

const HOST = "127.0.0.1";

/** CPython's MyBaseProto: checks the order of the callbacks and counts bytes. */
class RecordingProtocol extends Protocol {
  transport: Transport | null = null;
  state = "INITIAL";
  nbytes = 0;
  data: Buffer[] = [];
  events: string[] = [];
  lostWith: Error | null | undefined = undefined;
  keepOpen = false;
  readonly connected: Future<void>;
  readonly done: Future<void>;

  constructor(loop: EventLoop) {
    super();
    this.connected = loop.createFuture<void>();
    this.done = loop.createFuture<void>();
  }

  #expect(...states: string[]): void {
    if (!states.includes(this.state)) throw new Error(`state: ${this.state}, expected: ${states.join(" or ")}`);
  }

  override connectionMade(transport: Transport): void {
    this.#expect("INITIAL");
    this.transport = transport;
    this.state = "CONNECTED";
    this.events.push("made");
    this.connected.setResult(undefined);
  }

  override dataReceived(data: Buffer): void {
    this.#expect("CONNECTED");
    this.nbytes += data.length;
    this.data.push(data);
  }

  override eofReceived(): boolean {
    this.#expect("CONNECTED");
    this.state = "EOF";
    this.events.push("eof");
    return this.keepOpen;
  }

  override connectionLost(exc: Error | null): void {
    this.#expect("CONNECTED", "EOF");
    this.state = "CLOSED";
    this.events.push("lost");
    this.lostWith = exc;
    this.done.setResult(undefined);
  }
}

/** A stream server that echoes, or answers like CPython's test HTTP server. */
async function echoServer() {
  return startServer(async (r, w) => {
    for (;;) {
      const data = await r.read(65536);
      if (data.length === 0) break;
      w.write(data);
    }
    w.close();
  }, HOST, 0);
}

describe("loop.createConnection with a Protocol", () => {
  // CPython: test_events.py test_create_connection, _basetest_create_connection
  it("resolves [transport, protocol] after connectionMade, with sockname and peername", async () => {
    await runNet(async (messages) => {
      const loop = getRunningLoop();
      const server = await echoServer();
      const [transport, protocol] = await loop.createConnection(() => new RecordingProtocol(loop), HOST, portOf(server));
      assert.ok(transport instanceof Transport);
      assert.ok(transport instanceof ReadTransport);
      assert.ok(transport instanceof WriteTransport);
      assert.equal(protocol.transport, transport);
      assert.equal(protocol.state, "CONNECTED");
      assert.deepEqual(transport.getExtraInfo("peername"), [HOST, portOf(server)]);
      const sockname = transport.getExtraInfo("sockname");
      assert.ok(Array.isArray(sockname) && sockname[0] === HOST);
      assert.equal(transport.getExtraInfo("no such key"), null);
      assert.equal(transport.getExtraInfo("no such key", 42), 42);
      assert.equal(transport.getExtraInfo("socket")?.getpeername()?.[1], portOf(server));
      transport.write("GET / HTTP/1.0\r\n\r\n");
      await until(() => protocol.nbytes >= 18);
      transport.close();
      await protocol.done;
      assert.deepEqual(protocol.events, ["made", "lost"]);
      assert.equal(protocol.lostWith, null);
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  it("turns TCP_NODELAY on", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const server = await echoServer();
      const sock = net.connect(portOf(server), HOST);
      await new Promise<void>((resolve) => sock.once("connect", resolve));
      const calls: (boolean | undefined)[] = [];
      const original = sock.setNoDelay.bind(sock);
      sock.setNoDelay = (noDelay?: boolean) => {
        calls.push(noDelay);
        return original(noDelay);
      };
      const [transport, protocol] = await loop.createConnection(() => new RecordingProtocol(loop), null, null, { sock });
      assert.deepEqual(calls, [true]);
      transport.close();
      await protocol.done;
      server.close();
      await server.waitClosed();
    });
  });

  it("an EOF closes the transport when eofReceived() is falsy: eof, then lost(null)", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const server = await startServer(async (_r, w) => {
        w.write("bye");
        w.close();
      }, HOST, 0);
      const [transport, protocol] = await loop.createConnection(() => new RecordingProtocol(loop), HOST, portOf(server));
      await protocol.done;
      assert.deepEqual(protocol.events, ["made", "eof", "lost"]);
      assert.equal(Buffer.concat(protocol.data).toString(), "bye");
      assert.equal(transport.isClosing(), true);
      server.close();
      await server.waitClosed();
    });
  });

  it("eofReceived() returning true keeps the connection half-open and writable", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const server = await startServer(async (r, w) => {
        w.writeEof();
        assert.equal(w.isClosing(), false);
        const got = await r.read();
        assert.equal(got.toString(), "after eof");
        w.close();
      }, HOST, 0);
      const [transport, protocol] = await loop.createConnection(() => {
        const p = new RecordingProtocol(loop);
        p.keepOpen = true;
        return p;
      }, HOST, portOf(server));
      await until(() => protocol.state === "EOF");
      assert.equal(transport.isClosing(), false);
      transport.write("after eof");
      assert.equal(transport.canWriteEof(), true);
      transport.writeEof();
      assert.equal(transport.isClosing(), false);
      assert.throws(() => transport.write("more"), RuntimeError);
      await protocol.done;
      assert.deepEqual(protocol.events, ["made", "eof", "lost"]);
      server.close();
      await server.waitClosed();
    });
  });

  it("pauseReading/resumeReading stop and restart dataReceived, and are idempotent", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const server = await echoServer();
      const [transport, protocol] = await loop.createConnection(() => new RecordingProtocol(loop), HOST, portOf(server));
      assert.equal(transport.isReading(), true);
      transport.pauseReading();
      transport.pauseReading();
      assert.equal(transport.isReading(), false);
      transport.write("ping");
      await sleep(0.05);
      assert.equal(protocol.nbytes, 0);
      transport.resumeReading();
      transport.resumeReading();
      assert.equal(transport.isReading(), true);
      await until(() => protocol.nbytes === 4);
      transport.close();
      assert.equal(transport.isReading(), false);
      await protocol.done;
      server.close();
      await server.waitClosed();
    });
  });

  it("pauseWriting/resumeWriting follow the write buffer across its water marks", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const peer = loop.createFuture<net.Socket>();
      const raw = net.createServer((s) => {
        s.pause();
        peer.setResult(s);
      });
      await new Promise<void>((resolve) => raw.listen(0, HOST, resolve));
      class FlowProtocol extends RecordingProtocol {
        override pauseWriting(): void {
          this.events.push("pause");
        }
        override resumeWriting(): void {
          this.events.push("resume");
        }
      }
      const [transport, protocol] = await loop.createConnection(() => new FlowProtocol(loop), HOST, (raw.address() as net.AddressInfo).port);
      assert.deepEqual(transport.getWriteBufferLimits(), [16384, 65536]);
      transport.setWriteBufferLimits(1000);
      assert.deepEqual(transport.getWriteBufferLimits(), [250, 1000]);
      transport.setWriteBufferLimits(null, 10);
      assert.deepEqual(transport.getWriteBufferLimits(), [10, 40]);
      assert.throws(() => transport.setWriteBufferLimits(1, 2), { name: "RangeError", message: "high (1) must be >= low (2) must be >= 0" });
      transport.setWriteBufferLimits(64 * 1024);
      const socket = await peer;
      const chunk = Buffer.alloc(1 << 20);
      while (transport.getWriteBufferSize() <= 64 * 1024) transport.write(chunk);
      assert.deepEqual(protocol.events, ["made", "pause"]);
      socket.resume();
      await until(() => protocol.events.includes("resume"), 10);
      assert.ok(transport.getWriteBufferSize() <= 16 * 1024);
      transport.close();
      await protocol.done;
      socket.destroy();
      raw.close();
    });
  });

  it("abort() drops the buffer and calls connectionLost(null)", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const peer = loop.createFuture<net.Socket>();
      const raw = net.createServer((s) => {
        s.pause();
        peer.setResult(s);
      });
      await new Promise<void>((resolve) => raw.listen(0, HOST, resolve));
      const [transport, protocol] = await loop.createConnection(() => new RecordingProtocol(loop), HOST, (raw.address() as net.AddressInfo).port);
      const socket = await peer;
      while (transport.getWriteBufferSize() === 0) transport.write(Buffer.alloc(4 << 20));
      transport.abort();
      assert.equal(transport.isClosing(), true);
      await protocol.done;
      assert.equal(protocol.lostWith, null);
      assert.equal(transport.getWriteBufferSize(), 0);
      socket.destroy();
      raw.close();
    });
  });

  it("a reset by the peer calls connectionLost with Node's error (code kept)", async () => {
    await runNet(async (messages) => {
      const loop = getRunningLoop();
      const raw = net.createServer((s) => {
        s.once("data", () => s.resetAndDestroy());
      });
      await new Promise<void>((resolve) => raw.listen(0, HOST, resolve));
      const [transport, protocol] = await loop.createConnection(() => new RecordingProtocol(loop), HOST, (raw.address() as net.AddressInfo).port);
      transport.write("hello");
      await protocol.done;
      assert.equal((protocol.lostWith as Error & { code?: string }).code, "ECONNRESET");
      raw.close();
      assert.deepEqual(messages, []);
    });
  });

  it("an error thrown by dataReceived is reported and closes the transport with it", async () => {
    await runNet(async (messages) => {
      const loop = getRunningLoop();
      const server = await echoServer();
      const boom = new Error("bad protocol");
      class Failing extends RecordingProtocol {
        override dataReceived(): void {
          throw boom;
        }
      }
      const [transport, protocol] = await loop.createConnection(() => new Failing(loop), HOST, portOf(server));
      transport.write("x");
      await protocol.done;
      assert.equal(protocol.lostWith, boom);
      assert.equal(messages[0]?.message, "Fatal error: protocol.dataReceived() call failed.");
      assert.equal(messages[0]?.exception, boom);
      server.close();
      await server.waitClosed();
    });
  });

  // CPython: test_sock_lowlevel.py test_create_connection_sock
  it("wraps a connected net.Socket given as sock", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const server = await echoServer();
      const sock = net.connect(portOf(server), HOST);
      await new Promise<void>((resolve) => sock.once("connect", resolve));
      const [transport, protocol] = await loop.createConnection(() => new RecordingProtocol(loop), null, null, { sock });
      transport.write("abc");
      await until(() => protocol.nbytes === 3);
      assert.ok((await errorOf(loop.createConnection(() => new RecordingProtocol(loop), HOST, 1, { sock }))) instanceof RangeError);
      transport.close();
      await protocol.done;
      server.close();
      await server.waitClosed();
    });
  });

  // CPython: test_events.py test_create_connection_local_addr
  it("binds the local end to localAddr", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const server = await echoServer();
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, HOST, resolve));
      const port = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const [transport, protocol] = await loop.createConnection(() => new RecordingProtocol(loop), HOST, portOf(server), { localAddr: [HOST, port] });
      assert.deepEqual(transport.getExtraInfo("sockname"), [HOST, port]);
      transport.close();
      await protocol.done;
      server.close();
      await server.waitClosed();
    });
  });

  it("cancelling while waiting for connectionMade aborts the transport", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const server = await echoServer();
      let made: RecordingProtocol | null = null;
      const task = loop.createTask(() => loop.createConnection(() => {
        // Runs before connectionMade's callback: the task is cancelled while it waits for it.
        loop.callSoon(() => task.cancel());
        return (made = new RecordingProtocol(loop));
      }, HOST, portOf(server)));
      assert.ok((await errorOf(task)) instanceof CancelledError);
      const protocol = made as unknown as RecordingProtocol;
      await protocol.done;
      assert.deepEqual(protocol.events, ["made", "lost"]);
      server.close();
      await server.waitClosed();
    });
  });
});

describe("BufferedProtocol", () => {
  // CPython: test_buffered_proto.py test_buffered_proto_create_connection
  it("receives the stream through getBuffer/bufferUpdated", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const NOISE = Buffer.from("12345678+".repeat(1024));
      const server = await startServer(async (r, w) => {
        w.write(NOISE);
        await r.readexactly(1);
        w.close();
        await w.waitClosed();
      }, HOST, 0);
      const lost = loop.createFuture<void>();
      const received: Buffer[] = [];
      class Receiver extends BufferedProtocol {
        buffer = Buffer.alloc(100);
        transport!: Transport;
        override connectionMade(t: Transport): void {
          this.transport = t;
        }
        override getBuffer(): Uint8Array {
          return this.buffer;
        }
        override bufferUpdated(n: number): void {
          received.push(Buffer.from(this.buffer.subarray(0, n)));
          if (Buffer.concat(received).equals(NOISE)) this.transport.write("1");
        }
        override connectionLost(exc: Error | null): void {
          if (exc === null) lost.setResult(undefined);
          else lost.setException(exc);
        }
      }
      await loop.createConnection(() => new Receiver(), HOST, portOf(server));
      await lost;
      assert.ok(Buffer.concat(received).equals(NOISE));
      server.close();
      await server.waitClosed();
    });
  });
});

describe("transport base classes", () => {
  // CPython: test_transports.py test_ctor_extra_is_none, test_get_extra_info
  it("keep extra info, with null or the default for unknown keys", () => {
    const transport = new Transport({ extra: "info" });
    assert.equal(transport.getExtraInfo("extra"), "info");
    assert.equal(transport.getExtraInfo("unknown"), null);
    const fallback = {};
    assert.equal(transport.getExtraInfo("unknown", fallback), fallback);
    assert.equal(new BaseTransport().getExtraInfo("x"), null);
  });

  // CPython: test_transports.py test_writelines
  it("writelines joins the items into one write", () => {
    const writes: Buffer[] = [];
    class Capture extends Transport {
      override write(data: Uint8Array | string): void {
        writes.push(Buffer.from(data));
      }
    }
    new Capture().writelines([Buffer.from("line1"), new Uint8Array([108, 105, 110, 101, 50]), "line3"]);
    assert.equal(writes.length, 1);
    assert.equal(writes[0]?.toString(), "line1line2line3");
  });

  // CPython: test_transports.py test_not_implemented, test_dgram_not_implemented,
  // test_subprocess_transport_not_implemented
  it("throw a RuntimeError naming the method a subclass did not implement", () => {
    const transport = new Transport();
    for (const call of [
      () => transport.setWriteBufferLimits(),
      () => transport.getWriteBufferSize(),
      () => transport.write("data"),
      () => transport.writeEof(),
      () => transport.canWriteEof(),
      () => transport.pauseReading(),
      () => transport.resumeReading(),
      () => transport.close(),
      () => transport.abort(),
    ]) {
      assert.throws(call, { name: "RuntimeError", message: /is not implemented by Transport/ });
    }
    const dgram = new DatagramTransport();
    assert.throws(() => dgram.sendto("data"), RuntimeError);
    assert.throws(() => dgram.abort(), RuntimeError);
    const sub = new SubprocessTransport();
    for (const call of [() => sub.getPid(), () => sub.getReturncode(), () => sub.getPipeTransport(1), () => sub.sendSignal(1), () => sub.terminate(), () => sub.kill()]) {
      assert.throws(call, RuntimeError);
    }
  });
});

describe("TLS at the transport level", () => {
  // CPython: test_events.py test_create_server_ssl, check_ssl_extra_info
  it("createServer with ssl and createConnection with ssl exchange data; TLS extra info is there", async () => {
    await runNet(async (messages) => {
      const loop = getRunningLoop();
      let serverProtocol: RecordingProtocol | null = null;
      const server = await loop.createServer(() => (serverProtocol = new RecordingProtocol(loop)), HOST, 0, { ssl: serverTlsOptions() });
      const [client, clientProtocol] = await loop.createConnection(() => new RecordingProtocol(loop), HOST, portOf(server), { ssl: clientTlsOptions() });
      client.write("xxx");
      await until(() => serverProtocol !== null && serverProtocol.nbytes === 3);
      assert.deepEqual(client.getExtraInfo("peername"), [HOST, portOf(server)]);
      assert.equal(client.getExtraInfo("peercert")?.subject.CN, "localhost");
      assert.equal(client.getExtraInfo("compression"), null);
      assert.ok(client.getExtraInfo("ssl_object"));
      assert.equal(client.canWriteEof(), false);
      assert.throws(() => client.writeEof(), RuntimeError);
      (serverProtocol as unknown as RecordingProtocol).transport?.close();
      await clientProtocol.done;
      client.close();
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  it("loop.startTls upgrades both ends of a connection made by protocols", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      let serverSide: RecordingProtocol | null = null;
      const server = await loop.createServer(() => (serverSide = new RecordingProtocol(loop)), HOST, 0);
      const [plain, protocol] = await loop.createConnection(() => new RecordingProtocol(loop), HOST, portOf(server));
      await until(() => serverSide?.transport !== null && serverSide !== null);
      const peer = serverSide as unknown as RecordingProtocol;
      const [secureServer, secureClient] = await Promise.all([
        loop.startTls(peer.transport as Transport, peer, serverTlsOptions(), { serverSide: true }),
        loop.startTls(plain, protocol, clientTlsOptions()),
      ]);
      assert.notEqual(secureClient.getExtraInfo("sslcontext"), null);
      assert.throws(() => plain.write("old"), RuntimeError);
      assert.ok((await errorOf(loop.startTls(secureClient, protocol, clientTlsOptions()))) instanceof TypeError);
      secureClient.write("secret");
      await until(() => peer.nbytes === 6);
      assert.equal(Buffer.concat(peer.data).toString(), "secret");
      secureServer.close();
      await protocol.done;
      secureClient.close();
      server.close();
      await server.waitClosed();
    });
  });
});

describe("loop.connectAcceptedSocket", () => {
  // CPython: test_events.py test_connect_accepted_socket, test_ssl_connect_accepted_socket
  for (const tls of [false, true]) {
    it(`wraps a socket accepted by a plain Node server${tls ? " and serves TLS on it" : ""}`, async () => {
      await runNet(async () => {
        const loop = getRunningLoop();
        const accepted = loop.createFuture<net.Socket>();
        const raw = net.createServer((s) => accepted.setResult(s));
        await new Promise<void>((resolve) => raw.listen(0, HOST, resolve));
        const port = (raw.address() as net.AddressInfo).port;
        class Roger extends RecordingProtocol {
          override dataReceived(data: Buffer): void {
            super.dataReceived(data);
            this.transport?.write("roger");
          }
        }
        const client = createTask(async () => {
          const [r, w] = await openConnection(HOST, port, tls ? { ssl: clientTlsOptions() } : {});
          w.write("test data");
          const response = await r.read(99);
          w.close();
          return response.toString();
        });
        const sock = await accepted;
        const [, protocol] = await loop.connectAcceptedSocket(() => new Roger(loop), sock, tls ? { ssl: serverTlsOptions() } : {});
        assert.equal(await client, "roger");
        await protocol.done;
        assert.equal(protocol.nbytes, "test data".length);
        raw.close();
      });
    });
  }

  // CPython: test_connect_accepted_socket_ssl_timeout_for_plain_socket
  it("refuses sslHandshakeTimeout without ssl", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const sock = new net.Socket();
      const error = (await errorOf(loop.connectAcceptedSocket(() => new Protocol(), sock, { sslHandshakeTimeout: 1 }))) as Error;
      assert.match(error.message, /sslHandshakeTimeout is only meaningful with ssl/);
    });
  });
});

describe("Unix sockets at the transport level", () => {
  // CPython: test_events.py test_create_unix_server, test_create_unix_connection
  it("createUnixServer and createUnixConnection connect; sockname and peername are the path", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const path = unixPath();
      let serverSide: RecordingProtocol | null = null;
      const server = await loop.createUnixServer(() => (serverSide = new RecordingProtocol(loop)), path);
      assert.equal(server.sockets.length, 1);
      const [transport, protocol] = await loop.createUnixConnection(() => new RecordingProtocol(loop), path);
      assert.equal(transport.getExtraInfo("peername"), path);
      transport.write("xxx");
      await until(() => serverSide !== null && serverSide.nbytes === 3);
      assert.equal((serverSide as unknown as RecordingProtocol).transport?.getExtraInfo("sockname"), path);
      transport.close();
      await protocol.done;
      await (serverSide as unknown as RecordingProtocol).done;
      server.close();
      await server.waitClosed();
    });
  });

  // CPython: test_create_unix_server_path_socket_error
  it("refuses a path and a sock together", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const sock = net.createServer();
      await new Promise<void>((resolve) => sock.listen(0, HOST, resolve));
      const error = (await errorOf(loop.createUnixServer(() => new Protocol(), "/test", { sock }))) as Error;
      assert.match(error.message, /path and sock can not be specified at the same time/);
      sock.close();
    });
  });
});

