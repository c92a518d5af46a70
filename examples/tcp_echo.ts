/**
 * The cheat sheet's TCP echo server and client in one program: the server listens on a free
 * port, the client sends a message, the server echoes it back, both close.
 *
 * asyncio cheat sheet: "Streams" (server and client together).
 */
import { type StreamReader, type StreamWriter, openConnection, run, startServer } from "../src/index.js";

function repr(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(repr).join(", ")}]`;
  return typeof value === "string" ? `'${value}'` : String(value);
}

async function handleEcho(reader: StreamReader, writer: StreamWriter): Promise<void> {
  const data = await reader.read(100);
  const message = data.toString();
  const addr = writer.getExtraInfo("peername");
  console.log(`Server received ${repr(message)} from ${repr(addr)}`);
  console.log(`Server sends: ${repr(message)}`);
  writer.write(data);
  await writer.drain();
  console.log("Server closes the connection");
  writer.close();
  await writer.waitClosed();
}

async function tcpEchoClient(port: number, message: string): Promise<void> {
  const [reader, writer] = await openConnection("127.0.0.1", port);
  console.log(`Send: ${repr(message)}`);
  writer.write(message);
  await writer.drain();
  const data = await reader.read(100);
  console.log(`Received: ${repr(data.toString())}`);
  console.log("Close the connection");
  writer.close();
  await writer.waitClosed();
}

async function main(): Promise<void> {
  // Port 0: the system picks a free port; the socket tells which.
  await using server = await startServer(handleEcho, "127.0.0.1", 0);
  const addr = server.sockets[0]?.getsockname() as [string, number];
  console.log(`Serving on ${repr(addr)}`);
  await tcpEchoClient(addr[1], "Hello World!");
}

await run(main);

// Expected output:
// Serving on ['127.0.0.1', {num}]
// Send: 'Hello World!'
// Server received 'Hello World!' from ['127.0.0.1', {num}]
// Server sends: 'Hello World!'
// Server closes the connection
// Received: 'Hello World!'
// Close the connection
