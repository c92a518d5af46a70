// The lifecycle of what the networking API makes: after run() nothing it made keeps the
// process alive or calls into the closed loop, and shutting a server down never waits on its
// clients. The process-level cases run in child processes (test/fixtures/lifecycle.ts) with
// real sockets; each must exit by itself (20 s is only a bound against a hang, not a timing).
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
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
import { type ScenarioRun, runFixture } from "../support/core.js";
import { errorOf, portOf, runNet, until } from "../streams/support.js";

const HOST = "127.0.0.1";

/** The scenario ended by itself (not killed by the 20 s bound) with `status`, and was quiet. */
function assertExited(run: ScenarioRun, status: number, quiet = true): void {
  assert.equal(run.signal, null, `the process did not exit by itself; it printed:\n${run.stdout.join("\n")}`);
  assert.equal(run.status, status, `stdout:\n${run.stdout.join("\n")}\nstderr:\n${run.stderr}`);
  assert.doesNotMatch(run.stderr, /Event loop is closed/);
  if (quiet) assert.equal(run.stderr, "");
}

/** [what the test says, the fixture's scenario, its exit status, the lines it prints]. */
type Case = [title: string, scenario: string, status: number, lines: string[]];

function runCases(cases: Case[]): void {
  for (const [title, name, status, lines] of cases) {
    it(title, async () => {
      const run = await runFixture("lifecycle.ts", [name]);
      assertExited(run, status);
      assert.deepEqual(run.stdout, lines);
    });
  }
}

const done = "run resolved: done";
const handler = ["handler started", "handler ended: cancelled"];

describe("after run() returns, nothing the loop made keeps the process alive", () => {
  runCases([
    ["a server left open is closed: the process exits and nothing accepts on its port", "server-left-open", 0, [done, "after run: refused"]],
    ["a client connection left open is closed", "connection-left-open", 0, [done]],
    ["a connected client's waiting handler is cancelled by the runner's teardown", "handler-blocked", 0, [...handler, done]],
    ["a UDP endpoint left open is closed", "udp-left-open", 0, [done]],
    ["a Unix server left open is closed and its socket file removed", "unix-server-left-open", 0, [done, "socket file exists after run: false"]],
    ["a child process still running is killed, as a subprocess transport's close() does", "subprocess-left-running", 0, [done, "child gone after run: true"]],
  ]);

  it("debug mode reports each leftover with a ResourceWarning, as it was when left", async () => {
    const run = await runFixture("lifecycle.ts", ["debug-leftovers"]);
    assertExited(run, 0, false);
    const warnings = run.stdout.filter((line) => line.startsWith("ResourceWarning: "));
    assert.equal(run.stdout[0], done);
    assert.equal(warnings.length, 4, run.stdout.join("\n"));
    assert.match(warnings.join("\n"), /unclosed <Server sockets=\[<TransportSocket [^\]]*\] serving clients=1>: closed by the event loop's close\(\)/);
    assert.match(warnings.join("\n"), /unclosed <DatagramTransport open laddr=127\.0\.0\.1:\d+>/);
    assert.equal(warnings.filter((w) => /unclosed <SocketTransport open peer=/.test(w)).length, 2);
  });
});

describe("shutting a server down never waits on its clients", () => {
  runCases([
    ["Ctrl-C during serveForever() cancels the handlers and ends the process", "sigint-serve-forever", 3, [...handler, "run rejected: KeyboardInterrupt"]],
    ["an error thrown inside `await using server` comes out, after the handlers were cancelled", "throw-in-await-using", 3, [...handler, "run rejected: Error: boom"]],
    ["the runner's teardown ends a serveForever() task and its handlers", "serve-forever-task-left", 0, [...handler, done]],
    ["a connection that cannot close cleanly (its client reads nothing) is aborted after the grace", "stalled-client-dispose", 0, [...handler, "left the block", done]],
  ]);
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
