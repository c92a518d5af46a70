// Datagram endpoints over loopback. Ported from CPython's Lib/test/test_asyncio/test_events.py
// (test_create_datagram_endpoint*, test_datagram_send_to_non_listening_address).
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { describe, it } from "node:test";
import {
  type DatagramAddress,
  DatagramProtocol,
  DatagramTransport,
  type EventLoop,
  type Future,
  getRunningLoop,
  waitFor,
} from "../../src/index.js";
import { errorOf, runNet, until } from "../streams/support.js";

/** CPython's MyDatagramProto. */
class Recorder extends DatagramProtocol {
  transport: DatagramTransport | null = null;
  state = "INITIAL";
  nbytes = 0;
  received: [string, DatagramAddress][] = [];
  errors: Error[] = [];
  readonly done: Future<void>;

  constructor(loop: EventLoop) {
    super();
    this.done = loop.createFuture<void>();
  }

  override connectionMade(transport: DatagramTransport): void {
    assert.equal(this.state, "INITIAL");
    this.transport = transport;
    this.state = "INITIALIZED";
  }

  override datagramReceived(data: Buffer, addr: DatagramAddress): void {
    assert.equal(this.state, "INITIALIZED");
    this.nbytes += data.length;
    this.received.push([data.toString(), addr]);
  }

  override errorReceived(exc: Error): void {
    this.errors.push(exc);
  }

  override connectionLost(): void {
    assert.equal(this.state, "INITIALIZED");
    this.state = "CLOSED";
    this.done.setResult(undefined);
  }
}

describe("loop.createDatagramEndpoint", () => {
  // CPython: test_create_datagram_endpoint, test_create_datagram_endpoint_ipv6
  for (const host of ["127.0.0.1", "::1"]) {
    it(`serves and answers datagrams on ${host}`, async () => {
      await runNet(async (messages) => {
        const loop = getRunningLoop();
        class Responder extends Recorder {
          override datagramReceived(data: Buffer, addr: DatagramAddress): void {
            super.datagramReceived(data, addr);
            this.transport?.sendto(Buffer.concat([Buffer.from("resp:"), data]), addr);
          }
        }
        const [serverTransport, server] = await loop.createDatagramEndpoint(() => new Responder(loop), { localAddr: [host, 0] });
        assert.ok(serverTransport instanceof DatagramTransport);
        assert.equal(server.state, "INITIALIZED");
        assert.equal(server.transport, serverTransport);
        const [, port] = serverTransport.getExtraInfo("sockname") as [string, number];
        const [transport, client] = await loop.createDatagramEndpoint(() => new Recorder(loop), { remoteAddr: [host, port] });
        assert.deepEqual(transport.getExtraInfo("peername"), [host, port]);
        transport.sendto("xxx");
        await until(() => server.nbytes === 3 && client.nbytes === 8);
        assert.equal(client.received[0]?.[0], "resp:xxx");
        assert.notEqual(transport.getExtraInfo("sockname"), null);
        assert.throws(() => transport.sendto("x", [host, port + 1]), RangeError);
        transport.close();
        await client.done;
        assert.equal(client.state, "CLOSED");
        serverTransport.close();
        await server.done;
        assert.deepEqual(messages, []);
      });
    });
  }

  // CPython: test_create_datagram_endpoint_sock
  it("uses a bound dgram socket given as sock", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const sock = dgram.createSocket("udp4");
      await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
      const [transport, protocol] = await loop.createDatagramEndpoint(() => new Recorder(loop), { sock });
      assert.ok(transport instanceof DatagramTransport);
      transport.close();
      await protocol.done;
    });
  });

  // CPython: test_datagram_send_to_non_listening_address
  it("keeps receiving after sending to an address nobody listens on", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const make = () => loop.createDatagramEndpoint(() => new Recorder(loop), { localAddr: ["127.0.0.1", 0] });
      const [t1, p1] = await make();
      const [t2, p2] = await make();
      const [t3] = await make();
      const addr = (t: DatagramTransport) => t.getExtraInfo("sockname") as [string, number];
      const addr3 = addr(t3);
      t3.abort();
      t1.sendto("a", addr(t2));
      await waitFor(until(() => p2.received.length === 1), 10);
      t1.sendto("c", addr3);
      t2.sendto("d", addr(t1));
      await waitFor(until(() => p1.received.some(([d]) => d === "d")), 10);
      t1.close();
      t2.close();
      await p1.done;
      await p2.done;
    });
  });

  it("refuses bad addresses and missing families with clear errors", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      assert.match(((await errorOf(loop.createDatagramEndpoint(() => new DatagramProtocol()))) as Error).message, /unexpected address family/);
      assert.ok((await errorOf(loop.createDatagramEndpoint(() => new DatagramProtocol(), { localAddr: ["127.0.0.1", 99999] }))) instanceof RangeError);
      const [t] = await loop.createDatagramEndpoint(() => new DatagramProtocol(), { localAddr: ["127.0.0.1", 0] });
      assert.throws(() => t.sendto("x"), TypeError);
      t.close();
    });
  });
});
