/**
 * Tutorial: a small HTTP/1.1 application on streams. The server parses requests with
 * `readuntil("\r\n\r\n")` and `readexactly(contentLength)`, keeps connections alive between
 * requests, and routes to handlers; a client sends three requests over one connection.
 *
 * HOWTO outline: "Tutorials: HTTP application".
 */
import { type StreamReader, type StreamWriter, IncompleteReadError, openConnection, run, startServer } from "../src/index.js";

interface Request {
  method: string;
  path: string;
  headers: Map<string, string>;
  body: Buffer;
}

/** Reads one request, or returns null when the client closed the connection. */
async function readRequest(reader: StreamReader): Promise<Request | null> {
  let head: Buffer;
  try {
    head = await reader.readuntil("\r\n\r\n");
  } catch (error) {
    if (error instanceof IncompleteReadError && error.partial.length === 0) return null;
    throw error;
  }
  const [requestLine = "", ...lines] = head.toString("latin1").trimEnd().split("\r\n");
  const [method = "", path = ""] = requestLine.split(" ");
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const length = Number(headers.get("content-length") ?? 0);
  const body = await reader.readexactly(length);
  return { method, path, headers, body };
}

function respond(writer: StreamWriter, status: string, body: string, close: boolean): void {
  const payload = Buffer.from(body);
  writer.write(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${payload.length}\r\n` +
      `Connection: ${close ? "close" : "keep-alive"}\r\n\r\n`,
  );
  writer.write(payload);
}

/** The application: a few routes. */
function route(request: Request): [string, string] {
  const url = new URL(request.path, "http://localhost");
  if (request.method === "GET" && url.pathname === "/") return ["200 OK", "Welcome!"];
  if (request.method === "GET" && url.pathname === "/hello") {
    return ["200 OK", `Hello, ${url.searchParams.get("name") ?? "world"}!`];
  }
  if (request.method === "POST" && url.pathname === "/echo") return ["200 OK", request.body.toString()];
  return ["404 Not Found", `No route for ${request.method} ${url.pathname}`];
}

/** One connection: requests one after another until the client closes or asks to. */
async function handleConnection(reader: StreamReader, writer: StreamWriter): Promise<void> {
  try {
    for (;;) {
      const request = await readRequest(reader);
      if (request === null) break;
      const close = request.headers.get("connection") === "close";
      const [status, body] = route(request);
      respond(writer, status, body, close);
      await writer.drain();
      if (close) break;
    }
  } finally {
    writer.close();
  }
}

/** A tiny client: sends a request and reads the response on a kept-alive connection. */
async function fetchOn(reader: StreamReader, writer: StreamWriter, method: string, path: string, body = "", close = false): Promise<string> {
  writer.write(
    `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: ${close ? "close" : "keep-alive"}\r\n\r\n${body}`,
  );
  await writer.drain();
  const head = (await reader.readuntil("\r\n\r\n")).toString("latin1");
  const statusLine = head.slice(0, head.indexOf("\r\n"));
  const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
  const responseBody = (await reader.readexactly(length)).toString();
  return `${method} ${path} -> ${statusLine} | ${responseBody}`;
}

async function main(): Promise<void> {
  await using server = await startServer(handleConnection, "127.0.0.1", 0);
  const port = (server.sockets[0]?.getsockname() as [string, number])[1];

  const [reader, writer] = await openConnection("127.0.0.1", port);
  console.log(await fetchOn(reader, writer, "GET", "/"));
  console.log(await fetchOn(reader, writer, "GET", "/hello?name=asyncio"));
  console.log(await fetchOn(reader, writer, "POST", "/echo", "ping"));
  console.log(await fetchOn(reader, writer, "GET", "/missing", "", true));
  console.log(`connection closed by the server: ${(await reader.read()).length === 0}`);
  writer.close();
  await writer.waitClosed();
}

await run(main);

// Expected output:
// GET / -> HTTP/1.1 200 OK | Welcome!
// GET /hello?name=asyncio -> HTTP/1.1 200 OK | Hello, asyncio!
// POST /echo -> HTTP/1.1 200 OK | ping
// GET /missing -> HTTP/1.1 404 Not Found | No route for GET /missing
// connection closed by the server: true
