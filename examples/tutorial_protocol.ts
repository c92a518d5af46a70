/**
 * Tutorial: a line protocol written with transports and protocols, the low-level API. A
 * `LineProtocol` base class turns the byte stream into lines; a server protocol evaluates
 * `ADD a b` / `MUL a b` commands; a client protocol sends commands and resolves a future per
 * answer. No streams, no tasks on the server side: callbacks only.
 *
 * HOWTO outline: "Tutorials: Low-level protocol implementation using Transports".
 */
import { type Future, Protocol, type Transport, getRunningLoop, run } from "../src/index.js";

/** Buffers incoming bytes and calls `lineReceived` for each complete line. */
abstract class LineProtocol extends Protocol {
  protected transport: Transport | null = null;
  #pending = Buffer.alloc(0);

  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }

  override dataReceived(data: Buffer): void {
    this.#pending = Buffer.concat([this.#pending, data]);
    for (let i = this.#pending.indexOf(10); i !== -1; i = this.#pending.indexOf(10)) {
      const line = this.#pending.subarray(0, i).toString();
      this.#pending = this.#pending.subarray(i + 1);
      this.lineReceived(line);
    }
  }

  sendLine(line: string): void {
    this.transport?.write(`${line}\n`);
  }

  abstract lineReceived(line: string): void;
}

/** The server side: one instance per connection, made by the factory given to createServer. */
class CalculatorProtocol extends LineProtocol {
  override connectionMade(transport: Transport): void {
    super.connectionMade(transport);
    console.log(`server: connection from ${JSON.stringify(transport.getExtraInfo("peername")?.[0])}`);
  }

  lineReceived(line: string): void {
    const [op, a, b] = line.split(" ");
    if (op === "QUIT") {
      this.sendLine("BYE");
      this.transport?.close();
      return;
    }
    const x = Number(a);
    const y = Number(b);
    if (op === "ADD") this.sendLine(String(x + y));
    else if (op === "MUL") this.sendLine(String(x * y));
    else this.sendLine(`ERROR ${op}`);
  }

  override connectionLost(exc: Error | null): void {
    console.log(`server: connection lost (${exc === null ? "clean close" : exc.message})`);
  }
}

/** The client side: each request gets a future that the matching answer settles. */
class CalculatorClient extends LineProtocol {
  readonly #answers: Future<string>[] = [];
  readonly closed: Future<void> = getRunningLoop().createFuture<void>();

  request(line: string): Future<string> {
    const answer = getRunningLoop().createFuture<string>();
    this.#answers.push(answer);
    this.sendLine(line);
    return answer;
  }

  lineReceived(line: string): void {
    this.#answers.shift()?.setResult(line);
  }

  override connectionLost(): void {
    this.closed.setResult(undefined);
  }
}

async function main(): Promise<void> {
  const loop = getRunningLoop();
  const server = await loop.createServer(() => new CalculatorProtocol(), "127.0.0.1", 0);
  const port = (server.sockets[0]?.getsockname() as [string, number])[1];

  const [, client] = await loop.createConnection(() => new CalculatorClient(), "127.0.0.1", port);
  console.log(`ADD 2 3 = ${await client.request("ADD 2 3")}`);
  console.log(`MUL 6 7 = ${await client.request("MUL 6 7")}`);
  // Pipelined: three requests written before any answer arrives.
  const answers = await Promise.all([client.request("ADD 1 1"), client.request("MUL 2 2"), client.request("POW 2 8")]);
  console.log(`pipelined: ${answers.join(", ")}`);
  console.log(`QUIT -> ${await client.request("QUIT")}`);
  await client.closed;

  server.close();
  await server.waitClosed();
}

await run(main);

// Expected output:
// server: connection from "127.0.0.1"
// ADD 2 3 = 5
// MUL 6 7 = 42
// pipelined: 2, 4, ERROR POW
// server: connection lost (clean close)
// QUIT -> BYE
