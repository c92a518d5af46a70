/**
 * The TCP echo server of the cheat sheet ("Streams"): `startServer`, one handler per client.
 *
 * Run it, then `node --import tsx examples/tcp_echo_client.ts` in another terminal; with
 * `--forever` it serves until Ctrl-C, as its Python twin does. Run alone (as the demo runner
 * does), it starts its twin client itself in a child process, so that it has someone to serve,
 * and closes once that client is served.
 *
 * asyncio cheat sheet: "Streams" (the server).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type StreamReader, type StreamWriter, getRunningLoop, run, startServer } from "../src/index.js";

/** A Python-style repr of an address: ['127.0.0.1', 8888]. */
function repr(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(repr).join(", ")}]`;
  return typeof value === "string" ? `'${value}'` : String(value);
}

const forever = process.argv.includes("--forever");
const startedByClient = process.argv.includes("--one-client");
let served: (() => void) | null = null;

async function handleEcho(reader: StreamReader, writer: StreamWriter): Promise<void> {
  const data = await reader.read(100);
  const message = data.toString();
  const addr = writer.getExtraInfo("peername");
  console.log(`Received ${repr(message)} from ${repr(addr)}`);
  console.log(`Send: ${repr(message)}`);
  writer.write(data);
  await writer.drain();
  console.log("Close the connection");
  writer.close();
  await writer.waitClosed();
  served?.();
}

async function main(): Promise<void> {
  const server = await startServer(handleEcho, "127.0.0.1", 8888);
  const addr = server.sockets[0]?.getsockname();
  console.log(`Serving on ${repr(addr)}`);
  await using _ = server;
  if (forever) {
    await server.serveForever();
    return;
  }
  // Serve one client, then close (`await using` closes and waits for the connection).
  const done = getRunningLoop().createFuture<void>();
  served = () => done.done() || done.setResult(undefined);
  if (!startedByClient) {
    const client = fileURLToPath(new URL("./tcp_echo_client.ts", import.meta.url));
    spawn(process.execPath, ["--import", "tsx", client, "--no-server"], { stdio: "ignore" });
  }
  await done;
}

await run(main);

// Expected output:
// Serving on ['127.0.0.1', 8888]
// Received 'Hello World!' from ['127.0.0.1', {num}]
// Send: 'Hello World!'
// Close the connection
