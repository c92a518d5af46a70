// The lifecycle of what the networking API makes: after run() nothing it made keeps the
// process alive or calls into the closed loop, and shutting a server down never waits on its
// clients. The process-level cases run in child processes (test/fixtures/lifecycle.ts) with
// real sockets; each must exit by itself (20 s is only a bound against a hang, not a timing).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  CancelledError,
  EventLoop,
  Event,
  Protocol,
  type StreamReader,
  type StreamWriter,
  type Transport,
  createTask,
  openConnection,
  sleep,
  startServer,
} from "../../src/index.js";
import { errorOf, portOf, runNet, until } from "../streams/support.js";

const HOST = "127.0.0.1";
const FIXTURE = fileURLToPath(new URL("../fixtures/lifecycle.ts", import.meta.url));

interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
  stderr: string;
}

/** Runs one fixture scenario in a child process; it is killed (and the test fails) after 20 s. */
function scenario(name: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, name], {
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 20_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status, signal) => {
      resolve({ status, signal, lines: stdout.trim().split("\n"), stderr });
    });
  });
}

/** The scenario ended by itself (not killed by the 20 s bound) with `status`, and was quiet. */
function assertExited(outcome: Outcome, status: number, quiet = true): void {
  assert.equal(outcome.signal, null, `the process did not exit by itself; it printed:\n${outcome.lines.join("\n")}`);
  assert.equal(outcome.status, status, `stdout:\n${outcome.lines.join("\n")}\nstderr:\n${outcome.stderr}`);
  assert.doesNotMatch(outcome.stderr, /Event loop is closed/);
  if (quiet) assert.equal(outcome.stderr, "");
}

describe("after run() returns, nothing the loop made keeps the process alive", () => {
  it("a server left open is closed: the process exits and nothing accepts on its port", async () => {
    const outcome = await scenario("server-left-open");
    assertExited(outcome, 0);
    assert.deepEqual(outcome.lines, ["run resolved: done", "after run: refused"]);
  });

  it("a client connection left open is closed", async () => {
    const outcome = await scenario("connection-left-open");
    assertExited(outcome, 0);
    assert.deepEqual(outcome.lines, ["run resolved: done"]);
  });

  it("a connected client's waiting handler is cancelled by the runner's teardown", async () => {
    const outcome = await scenario("handler-blocked");
    assertExited(outcome, 0);
    assert.deepEqual(outcome.lines, ["handler started", "handler ended: cancelled", "run resolved: done"]);
  });

  it("a UDP endpoint left open is closed", async () => {
    const outcome = await scenario("udp-left-open");
    assertExited(outcome, 0);
    assert.deepEqual(outcome.lines, ["run resolved: done"]);
  });

  it("a Unix server left open is closed and its socket file removed", async () => {
    const outcome = await scenario("unix-server-left-open");
    assertExited(outcome, 0);
    assert.deepEqual(outcome.lines, ["run resolved: done", "socket file exists after run: false"]);
  });

  it("a child process still running is killed, as a subprocess transport's close() does", async () => {
    const outcome = await scenario("subprocess-left-running");
    assertExited(outcome, 0);
    assert.deepEqual(outcome.lines, ["run resolved: done", "child gone after run: true"]);
  });

  it("debug mode reports each leftover with a ResourceWarning, as it was when left", async () => {
    const outcome = await scenario("debug-leftovers");
    assertExited(outcome, 0, false);
    const warnings = outcome.lines.filter((line) => line.startsWith("ResourceWarning: "));
    assert.equal(outcome.lines[0], "run resolved: done");
    assert.equal(warnings.length, 4, outcome.lines.join("\n"));
    assert.match(warnings.join("\n"), /unclosed <Server sockets=\[<TransportSocket [^\]]*\] serving clients=1>: closed by the event loop's close\(\)/);
    assert.match(warnings.join("\n"), /unclosed <DatagramTransport open laddr=127\.0\.0\.1:\d+>/);
    assert.equal(warnings.filter((w) => /unclosed <SocketTransport open peer=/.test(w)).length, 2);
  });
});

describe("shutting a server down never waits on its clients", () => {
  it("Ctrl-C during serveForever() cancels the handlers and ends the process", async () => {
    const outcome = await scenario("sigint-serve-forever");
    assertExited(outcome, 3);
    assert.deepEqual(outcome.lines, ["handler started", "handler ended: cancelled", "run rejected: KeyboardInterrupt"]);
  });

  it("an error thrown inside `await using server` comes out, after the handlers were cancelled", async () => {
    const outcome = await scenario("throw-in-await-using");
    assertExited(outcome, 3);
    assert.deepEqual(outcome.lines, ["handler started", "handler ended: cancelled", "run rejected: Error: boom"]);
  });

  it("the runner's teardown ends a serveForever() task and its handlers", async () => {
    const outcome = await scenario("serve-forever-task-left");
    assertExited(outcome, 0);
    assert.deepEqual(outcome.lines, ["handler started", "handler ended: cancelled", "run resolved: done"]);
  });

  it("a connection that cannot close cleanly (its client reads nothing) is aborted after the grace", async () => {
    const outcome = await scenario("stalled-client-dispose");
    assertExited(outcome, 0);
    assert.deepEqual(outcome.lines, ["handler started", "handler ended: cancelled", "left the block", "run resolved: done"]);
  });
});

class Recording extends Protocol {
  lost: (Error | null)[] = [];
  override connectionLost(exc: Error | null): void {
    this.lost.push(exc);
  }
}

describe("loop.close() closes what the loop made", () => {
  it("servers stop listening and connections are destroyed; protocols hear nothing more", async () => {
    const loop = new EventLoop();
    const protocol = new Recording();
    const { server, transport, port } = await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Recording(), HOST, 0);
      const port = (server.sockets[0]?.getsockname() as [string, number])[1];
      const [transport] = await loop.createConnection(() => protocol, HOST, port);
      return { server, transport: transport as Transport, port };
    });
    loop.close();
    assert.equal(server.isServing(), false);
    assert.deepEqual(server.sockets, []);
    assert.equal(transport.isClosing(), true);
    const refused = await new Promise<string>((resolve) => {
      net.connect(port, HOST).on("connect", () => resolve("accepted")).on("error", (e: NodeJS.ErrnoException) => resolve(String(e.code)));
    });
    assert.equal(refused, "ECONNREFUSED");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(protocol.lost, []);
  });

  it("what was closed before the loop closed is not touched again", async () => {
    const loop = new EventLoop({ debug: true });
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      if (w.name === "ResourceWarning") warnings.push(w);
    };
    process.on("warning", onWarning);
    try {
      await loop.runUntilComplete(async () => {
        const server = await startServer((_r: StreamReader, w: StreamWriter) => w.close(), HOST, 0);
        const [, writer] = await openConnection(HOST, portOf(server));
        writer.close();
        await writer.waitClosed();
        server.close();
        await server.waitClosed();
      });
      loop.close();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("Server shutdown in the process", () => {
  it("await using cancels the handler tasks and closes their connections", async () => {
    await runNet(async () => {
      const started = new Event();
      let handlerCancelled = false;
      let clientReader: StreamReader;
      {
        await using server = await startServer(async (reader: StreamReader) => {
          started.set();
          try {
            await reader.readline();
          } catch (error) {
            handlerCancelled = error instanceof CancelledError;
            throw error;
          }
        }, HOST, 0);
        [clientReader] = await openConnection(HOST, portOf(server));
        await started.wait();
      }
      assert.equal(handlerCancelled, true);
      // The client sees the connection end.
      assert.deepEqual(await clientReader.read(), Buffer.alloc(0));
    });
  });

  it("close() from elsewhere ends serveForever() as asyncio does: the connections stay until they end", async () => {
    await runNet(async () => {
      const started = new Event();
      const release = new Event();
      let handlerCancelled = false;
      const server = await startServer(async (reader: StreamReader, writer: StreamWriter) => {
        started.set();
        try {
          await release.wait();
          writer.write("still here\n");
          await reader.readline();
        } catch (error) {
          handlerCancelled = error instanceof CancelledError;
          throw error;
        } finally {
          writer.close();
        }
      }, HOST, 0);
      const forever = createTask(() => server.serveForever());
      const [reader, writer] = await openConnection(HOST, portOf(server));
      await started.wait();
      server.close();
      await sleep(0.05);
      assert.equal(forever.done(), false); // waitClosed(): the connection is still open
      release.set();
      assert.deepEqual(await reader.readline(), Buffer.from("still here\n"));
      writer.close();
      assert.ok((await errorOf(forever)) instanceof CancelledError);
      assert.equal(handlerCancelled, false);
    });
  });

  it("cancelling the task in serveForever() cancels the handlers instead of waiting for the clients", async () => {
    await runNet(async () => {
      const started = new Event();
      let handlerCancelled = false;
      const server = await startServer(async (reader: StreamReader) => {
        started.set();
        try {
          await reader.readline();
        } catch (error) {
          handlerCancelled = error instanceof CancelledError;
          throw error;
        }
      }, HOST, 0);
      const forever = createTask(() => server.serveForever());
      const [reader] = await openConnection(HOST, portOf(server));
      await started.wait();
      forever.cancel();
      assert.ok((await errorOf(forever)) instanceof CancelledError);
      assert.equal(handlerCancelled, true);
      assert.deepEqual(await reader.read(), Buffer.alloc(0));
      await until(() => server.toString().includes("clients=") === false);
    });
  });
});
