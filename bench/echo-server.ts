/**
 * The Node echo servers of the TCP echo workload: `node bench/out/bench/echo-server.js KIND`
 * with KIND one of
 * - `raw`: a plain `net` server that writes back each chunk it reads (the floor);
 * - `asyncio-ts-streams`: `startServer`, and per connection `read(65536)` → `write` → `drain`;
 * - `asyncio-ts-protocol`: `loop.createServer` with a `Protocol` whose `dataReceived` writes
 *   the data back to its transport.
 * Each listens on 127.0.0.1 on a free port, prints `@@READY {"port": N}` and serves until it is
 * killed. While asyncio-ts does not export the streams or protocols yet, it prints
 * `@@RESULT {"status":"unavailable",…}` and exits. TCP_NODELAY is on everywhere, as asyncio sets
 * it on every TCP transport.
 */
import { createServer } from "node:net";
import {
  type BaseTransport,
  Protocol,
  type Server,
  type Transport,
  getRunningLoop,
  run,
  startServer,
} from "../src/index.js";

function ready(port: number): void {
  process.stdout.write(`@@READY ${JSON.stringify({ port })}\n`);
}

function portOf(server: { sockets: readonly { getsockname(): unknown }[] }): number {
  const name = server.sockets[0]?.getsockname();
  if (Array.isArray(name) && typeof name[1] === "number") return name[1];
  throw new Error(`unexpected getsockname(): ${String(name)}`);
}

function rawServer(): void {
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on("data", (data) => socket.write(data));
    socket.on("error", () => socket.destroy());
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    ready(address.port);
  });
}

async function asyncioServer(kind: "streams" | "protocol"): Promise<void> {
  await run(async () => {
    let server: Server;
    if (kind === "streams") {
      server = await startServer(async (reader, writer) => {
        try {
          while (true) {
            const data = await reader.read(65536);
            if (data.length === 0) break;
            writer.write(data);
            await writer.drain();
          }
        } finally {
          writer.close();
        }
      }, "127.0.0.1", 0);
    } else {
      class EchoProtocol extends Protocol {
        transport: Transport | null = null;
        override connectionMade(transport: BaseTransport): void {
          this.transport = transport as Transport;
        }
        override dataReceived(data: Buffer): void {
          this.transport?.write(data);
        }
      }
      server = await getRunningLoop().createServer(() => new EchoProtocol(), "127.0.0.1", 0);
    }
    ready(portOf(server));
    await server.serveForever();
  });
}

// Exit cleanly when the harness stops the server, so `--cpu-prof` can write its profile.
process.on("SIGTERM", () => process.exit(0));

const kind = process.argv[2];
if (kind === "raw") rawServer();
else if (kind === "asyncio-ts-streams") await asyncioServer("streams");
else if (kind === "asyncio-ts-protocol") await asyncioServer("protocol");
else {
  process.stderr.write(`unknown server kind ${String(kind)}\n`);
  process.exit(2);
}
