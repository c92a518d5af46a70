// Which errors a transport reports to the loop's exception handler: whatever a protocol
// callback throws — a Node API error with a string `code` included — always; the socket's own
// I/O errors (a peer's reset) only in debug mode, as asyncio reports no `OSError`.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import net from "node:net";
import { describe, it } from "node:test";
import { DatagramProtocol, Protocol, type Transport, getRunningLoop, sleep } from "../../src/index.js";
import { runNet, until } from "../streams/support.js";

const HOST = "127.0.0.1";

/** A real Node API error: `RangeError [ERR_OUT_OF_RANGE]`, with a string `code`. */
function nodeApiError(): Error {
  try {
    Buffer.alloc(-1);
  } catch (error) {
    return error as Error;
  }
  throw new Error("Buffer.alloc(-1) did not throw");
}

describe("errors thrown by protocol callbacks are reported", () => {
  it("a Node API error (string `code`) thrown in dataReceived reaches the exception handler", async () => {
    const thrown = nodeApiError();
    assert.equal((thrown as { code?: string }).code, "ERR_OUT_OF_RANGE");
    await runNet(async (messages) => {
      const lost: (Error | null)[] = [];
      class Throwing extends Protocol {
        override dataReceived(): void {
          throw thrown;
        }
        override connectionLost(exc: Error | null): void {
          lost.push(exc);
        }
      }
      const server = await getRunningLoop().createServer(() => new Throwing(), HOST, 0);
      const port = (server.sockets[0]?.getsockname() as [string, number])[1];
      const client = net.connect(port, HOST, () => client.write("x"));
      client.on("error", () => {});
      await until(() => lost.length === 1);
      assert.equal(messages.length, 1);
      assert.equal(messages[0]?.message, "Fatal error: protocol.dataReceived() call failed.");
      assert.equal(messages[0]?.exception, thrown);
      assert.equal(lost[0], thrown);
      client.destroy();
      server.close();
    });
  });

  it("a Node API error thrown in datagramReceived reaches the exception handler", async () => {
    const thrown = nodeApiError();
    await runNet(async (messages) => {
      class Throwing extends DatagramProtocol {
        override datagramReceived(): void {
          throw thrown;
        }
      }
      const [transport] = await getRunningLoop().createDatagramEndpoint(() => new Throwing(), { localAddr: [HOST, 0] });
      const [, port] = transport.getExtraInfo("sockname") as [string, number];
      const sender = dgram.createSocket("udp4");
      sender.send("x", port, HOST, () => sender.close());
      await until(() => messages.length === 1);
      assert.equal(messages[0]?.message, "Fatal error: protocol.datagramReceived() call failed.");
      assert.equal(messages[0]?.exception, thrown);
      assert.equal(transport.isClosing(), true);
    });
  });

  it("a peer's reset is the transport's own I/O error: connectionLost gets it, the handler does not", async () => {
    await runNet(async (messages) => {
      const lost: (Error | null)[] = [];
      class Quiet extends Protocol {
        override connectionMade(_transport: Transport): void {}
        override connectionLost(exc: Error | null): void {
          lost.push(exc);
        }
      }
      const server = await getRunningLoop().createServer(() => new Quiet(), HOST, 0);
      const port = (server.sockets[0]?.getsockname() as [string, number])[1];
      const client = net.connect(port, HOST);
      await new Promise((resolve) => client.on("connect", resolve));
      await sleep(0.02);
      client.resetAndDestroy();
      await until(() => lost.length === 1);
      assert.equal((lost[0] as { code?: string } | null)?.code, "ECONNRESET");
      assert.deepEqual(messages, []);
      server.close();
    });
  });
});
