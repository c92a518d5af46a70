/**
 * The TCP echo client of the cheat sheet ("Streams"): `openConnection`, write, drain, read.
 *
 * Run `node --import tsx examples/tcp_echo_server.ts --forever` first, then this. Run alone (as
 * the demo runner does), it starts its twin server itself in a child process when nothing
 * listens on port 8888.
 *
 * asyncio cheat sheet: "Streams" (the client).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { openConnection, run } from "../src/index.js";

async function tcpEchoClient(message: string): Promise<void> {
  const [reader, writer] = await openConnection("127.0.0.1", 8888);
  console.log(`Send: '${message}'`);
  writer.write(Buffer.from(message));
  await writer.drain();
  const data = await reader.read(100);
  console.log(`Received: '${data.toString()}'`);
  console.log("Close the connection");
  writer.close();
  await writer.waitClosed();
}

/** Starts the twin server (serving one client) and resolves once it listens. */
function startTwinServer(): Promise<ChildProcess> {
  const script = fileURLToPath(new URL("./tcp_echo_server.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script, "--one-client"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("Serving on")) resolve(child);
    });
    child.on("exit", (code) => reject(new Error(`the twin server exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  try {
    await tcpEchoClient("Hello World!");
  } catch (error) {
    const refused = (error as { code?: string }).code === "ECONNREFUSED";
    if (!refused || process.argv.includes("--no-server")) throw error;
    const server = await startTwinServer();
    await tcpEchoClient("Hello World!");
    server.stdout?.resume();
  }
}

await run(main);

// Expected output:
// Send: 'Hello World!'
// Received: 'Hello World!'
// Close the connection
