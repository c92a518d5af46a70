/**
 * Tutorial: a networking server with streams. Several clients talk to one server at once; the
 * server handles each connection in a task of its own, reads lines with `for await`, answers
 * each, and shuts down cleanly with `await using`.
 *
 * The protocol is one command per line: `ADD <n>` adds n to a counter shared by every client,
 * `GET` returns it, `BYE` ends the session.
 *
 * HOWTO outline: "Tutorials: High-level networking server".
 */
import { type StreamReader, type StreamWriter, gather, openConnection, run, sleep, startServer } from "../src/index.js";

let counter = 0;

/** One client's session: runs in its own task, concurrently with the others. */
async function session(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for await (const raw of reader) {
    const [command, arg] = raw.toString().trim().split(" ");
    if (command === "ADD") {
      counter += Number(arg);
      writer.write("OK\n");
    } else if (command === "GET") {
      writer.write(`${counter}\n`);
    } else if (command === "BYE") {
      writer.write("BYE\n");
      break;
    } else {
      writer.write(`ERROR unknown command ${JSON.stringify(command)}\n`);
    }
    // Backpressure: wait while the client is slow to read what we wrote.
    await writer.drain();
  }
  writer.close();
  await writer.waitClosed();
}

/** A client: sends its commands one by one and collects the answers. */
async function client(port: number, name: string, commands: string[]): Promise<string> {
  const [reader, writer] = await openConnection("127.0.0.1", port);
  const answers: string[] = [];
  for (const command of commands) {
    writer.write(`${command}\n`);
    await writer.drain();
    answers.push((await reader.readline()).toString().trim());
    await sleep(0.01); // let the other clients take turns
  }
  writer.close();
  await writer.waitClosed();
  return `${name}: ${answers.join(", ")}`;
}

async function main(): Promise<void> {
  // `await using` closes the server and waits for its connections when main returns.
  await using server = await startServer(session, "127.0.0.1", 0);
  const port = (server.sockets[0]?.getsockname() as [string, number])[1];
  console.log("server started");

  const results = await gather(
    () => client(port, "alice", ["ADD 1", "ADD 2", "BYE"]),
    () => client(port, "bob", ["ADD 10", "HELLO", "BYE"]),
    () => client(port, "carol", ["ADD 100", "BYE"]),
  );
  for (const line of results) console.log(line);

  const [total] = await gather(() => client(port, "dave", ["GET", "BYE"]));
  console.log(total);
}

await run(main);
console.log("server closed");

// Expected output:
// server started
// alice: OK, OK, BYE
// bob: OK, ERROR unknown command "HELLO", BYE
// carol: OK, BYE
// dave: 113, BYE
// server closed
