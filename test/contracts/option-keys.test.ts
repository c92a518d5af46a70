// The contract every options object of the public API keeps: `undefined` or an object whose
// keys are all the function's own, else a TypeError naming the function, the unknown key (a key
// whose value is `undefined` included), the accepted ones, and for a near miss what to write.
// Above all, a misspelt TLS option never connects or listens in plaintext.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import {
  EventLoop,
  newEventLoop,
  ContextVar,
  Future,
  PriorityQueue,
  RateLimiter,
  Runner,
  StreamReader,
  TaskGroup,
  ThreadPoolExecutor,
  asCompleted,
  createSubprocessExec,
  createSubprocessShell,
  createTask,
  ensureFuture,
  gather,
  getRunningLoop,
  openConnection,
  openUnixConnection,
  retry,
  run,
  sleep,
  startServer,
  startUnixServer,
  taskGroup,
  taskPerCall,
  wait,
} from "../../src/index.js";
import { TestLoop, VirtualClock, runTest } from "../../src/testing.js";
import { portOf, runNet, unixPath } from "../streams/support.js";

const HOST = "127.0.0.1";
/** Anything that is a thunk: what the option checks run before ever calling. */
const work = async (): Promise<number> => 1;
/** A protocol factory for the loop methods, which must refuse before making a protocol. */
const neverCalled = (): never => assert.fail("the protocol factory must not run");

/**
 * A check for `assert.throws`/`assert.rejects`: a TypeError from `fn` naming `key` as an
 * unknown option, listing the accepted options, and suggesting `suggestion` (or nothing).
 */
function unknownOption(fn: string, key: string, suggestion: string | null = null): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${String(error)}`);
    assert.ok(error.message.startsWith(`${fn} got unknown option`), error.message);
    assert.ok(error.message.includes(`\`${key}\``), error.message);
    assert.ok(error.message.includes("known options: "), error.message);
    if (suggestion === null) assert.ok(!error.message.includes("did you mean"), error.message);
    else assert.ok(error.message.includes(`\`${key}\` (did you mean \`${suggestion}\`?)`), error.message);
    return true;
  };
}

/** How many TCP servers (listening or not) this process holds. */
function tcpServers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "TCPServerWrap").length;
}

/** A real node:net server that counts the connections it gets. */
async function countingServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("option keys (contract)", () => {
  it("openConnection refuses tls, SSL and sll before connecting, and says to write ssl", async () => {
    const server = await countingServer();
    try {
      await runNet(async () => {
        for (const options of [{ tls: true }, { SSL: true }, { sll: {} }]) {
          const [key] = Object.keys(options) as [string];
          await assert.rejects(openConnection(HOST, server.port, options as never), unknownOption("openConnection()", key, "ssl"));
        }
        // The loop method it is built on says the same.
        const loop = getRunningLoop();
        await assert.rejects(
          loop.createConnection(neverCalled, HOST, server.port, { tls: true } as never),
          unknownOption("loop.createConnection()", "tls", "ssl"),
        );
        await sleep(0.05);
      });
      assert.equal(server.connections(), 0, "a refused call must not connect");
    } finally {
      await server.close();
    }
  });

  it("startServer refuses tls before listening", async () => {
    await runNet(async () => {
      const before = tcpServers();
      await assert.rejects(startServer(() => {}, HOST, 0, { tls: {} } as never), unknownOption("startServer()", "tls", "ssl"));
      const loop = getRunningLoop();
      await assert.rejects(
        loop.createServer(neverCalled, HOST, 0, { tls: {} } as never),
        unknownOption("loop.createServer()", "tls", "ssl"),
      );
      assert.equal(tcpServers(), before, "a refused call must not make a server");
    });
  });

  it("only our top-level keys are checked: the ssl option's Node TLS options are Node's", async () => {
    await runNet(async () => {
      const { serverTlsOptions } = await import("../streams/support.js");
      const server = await startServer(() => {}, HOST, 0, { ssl: { ...serverTlsOptions(), notANodeOption: 1 } as never, limit: 1024 });
      assert.ok(portOf(server) > 0);
      server.close();
      await server.waitClosed();
    });
  });

  it("every networking function of the loop and of the streams refuses unknown keys", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const factory = neverCalled;
      const path = unixPath();
      await assert.rejects(openUnixConnection(path, { tls: true } as never), unknownOption("openUnixConnection()", "tls", "ssl"));
      await assert.rejects(startUnixServer(() => {}, path, { sll: {} } as never), unknownOption("startUnixServer()", "sll", "ssl"));
      await assert.rejects(loop.createUnixConnection(factory, path, { SSL: true } as never), unknownOption("loop.createUnixConnection()", "SSL", "ssl"));
      await assert.rejects(loop.createUnixServer(factory, path, { cleanup: true } as never), unknownOption("loop.createUnixServer()", "cleanup", "cleanupSocket"));
      await assert.rejects(
        loop.connectAcceptedSocket(factory, new net.Socket(), { tls: {} } as never),
        unknownOption("loop.connectAcceptedSocket()", "tls", "ssl"),
      );
      await assert.rejects(
        loop.startTls(null as never, null as never, true, { server_side: true } as never),
        unknownOption("loop.startTls()", "server_side", "serverSide"),
      );
      await assert.rejects(
        loop.createDatagramEndpoint(factory, { localAddress: [HOST, 0] } as never),
        unknownOption("loop.createDatagramEndpoint()", "localAddress", "localAddr"),
      );
      await assert.rejects(
        openConnection(HOST, 1, { server_hostname: "x", limit: 10 } as never),
        unknownOption("openConnection()", "server_hostname", "serverHostname"),
      );
      assert.throws(() => new StreamReader({ limt: 10 } as never), unknownOption("new StreamReader()", "limt", "limit"));

      // StreamWriter.startTls, on a real connection.
      const server = await startServer((_reader, writer) => writer.close(), HOST, 0);
      const [, writer] = await openConnection(HOST, portOf(server));
      await assert.rejects(writer.startTls(true, { servername: "localhost" } as never), unknownOption("StreamWriter.startTls()", "servername", "serverHostname"));
      writer.close();
      server.close();
      await server.waitClosed();
    });
  });

  it("gather: the last argument is its options only when every key is gather's", async () => {
    await runTest(async () => {
      assert.throws(
        () => gather(work, work, { returnException: true } as never),
        (error: unknown) =>
          unknownOption("gather(): argument 2 (the options)", "returnException", "returnExceptions")(error),
      );
      assert.throws(() => gather(work, { return_exceptions: true } as never), unknownOption("gather(): argument 1 (the options)", "return_exceptions", "returnExceptions"));
      for (const misplaced of [{ x: 1 }, { returnExceptions: true }, {}]) {
        assert.throws(
          () => gather(work, misplaced as never, work),
          (error: unknown) =>
            error instanceof TypeError &&
            error.message.startsWith("gather(): argument 1 is a plain object") &&
            Object.keys(misplaced).every((key) => error.message.includes(`\`${key}\``)),
        );
      }
      assert.deepEqual(await gather(work, work, {}), [1, 1]);
      assert.deepEqual(await gather(work, Object.create(null) as object), [1]);
      const failing = async (): Promise<never> => {
        throw new RangeError("x");
      };
      const [ok, error] = await gather(work, failing, { returnExceptions: true });
      assert.equal(ok, 1);
      assert.ok(error instanceof RangeError);
      // A thenable object literal is an awaitable, never options.
      const thenable = { then: (resolve: (v: number) => void) => resolve(2) } as PromiseLike<number>;
      assert.deepEqual(await gather(work, thenable), [1, 2]);
    });
  });

  it("tasks, futures, task groups, wait and asCompleted refuse unknown keys", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      assert.throws(() => createTask(work, { nmae: "x" } as never), unknownOption("createTask()", "nmae", "name"));
      assert.throws(() => createTask(work, { eager_start: true } as never), unknownOption("createTask()", "eager_start", "eagerStart"));
      // `loop` is for the Task constructor of task factories, not for createTask.
      assert.throws(() => loop.createTask(work, { loop } as never), unknownOption("createTask()", "loop"));
      await taskGroup(async (tg: TaskGroup) => {
        assert.throws(() => tg.createTask(work, { contxt: null } as never), unknownOption("createTask()", "contxt", "context"));
      });
      assert.throws(() => ensureFuture(work, { lopo: loop } as never), unknownOption("ensureFuture()", "lopo", "loop"));
      assert.throws(() => new Future({ loop, name: "x" } as never), unknownOption("new Future()", "name"));
      const fut = new Future<number>({ loop });
      assert.throws(() => fut.addDoneCallback(() => {}, { ctx: null } as never), unknownOption("addDoneCallback()", "ctx"));
      assert.throws(() => wait([work], { return_when: "FIRST_COMPLETED" } as never), unknownOption("wait()", "return_when", "returnWhen"));
      assert.throws(() => asCompleted([work], { timout: 1 } as never), unknownOption("asCompleted()", "timout", "timeout"));
    });
  });

  it("run, Runner, runTest, TestLoop and VirtualClock refuse unknown keys", async () => {
    assert.throws(() => run(work, { Debug: true } as never), unknownOption("run()", "Debug", "debug"));
    assert.throws(() => new Runner({ loop_factory: () => new TestLoop() } as never), unknownOption("new Runner()", "loop_factory", "loopFactory"));
    const runner = new Runner();
    try {
      assert.throws(() => runner.run(work, { context: undefined, name: "x" } as never), unknownOption("Runner.run()", "name"));
    } finally {
      await runner.close();
    }
    assert.throws(() => runTest(work, { autoJump: false } as never), unknownOption("runTest()", "autoJump", "autojump"));
    assert.throws(() => new TestLoop({ stat: 5 } as never), unknownOption("new TestLoop()", "stat", "start"));
    assert.throws(() => new VirtualClock({ debug: true } as never), unknownOption("new VirtualClock()", "debug"));
    assert.throws(() => new EventLoop({ degub: true } as never), unknownOption("new EventLoop()", "degub", "debug"));
    assert.throws(() => newEventLoop({ Clock: null } as never), unknownOption("new EventLoop()", "Clock", "clock"));
  });

  it("the additions from Trio, AnyIO and the p-* libraries refuse unknown keys", async () => {
    await runTest(async () => {
      assert.throws(() => new RateLimiter({ rate: 1, per: 1, interval: 1 } as never), unknownOption("new RateLimiter()", "interval"));
      assert.throws(() => new RateLimiter({ rate: 1, pre: 1 } as never), unknownOption("new RateLimiter()", "pre", "per"));
      assert.throws(() => retry(work, { attempts: 2, backoff: { initial: 1 }, retyOn: () => true } as never), unknownOption("retry()", "retyOn", "retryOn"));
      assert.throws(() => retry(work, { attempts: 2, backoff: { inital: 1 } } as never), unknownOption("retry() `backoff`", "inital", "initial"));
      await taskGroup(async (tg) => {
        assert.throws(() => tg.start((status) => status.started(), { nmae: "x" } as never), unknownOption("createTask()", "nmae", "name"));
      });
    });
    assert.throws(() => run(work, { signal: ["SIGTERM"] } as never), unknownOption("run()", "signal", "signals"));
  });

  it("queues, executors, taskPerCall and ContextVar refuse unknown keys", async () => {
    assert.throws(() => new PriorityQueue(0, { key: (a: number) => a } as never), unknownOption("new PriorityQueue()", "key"));
    assert.throws(() => new ThreadPoolExecutor(1, { thread_name_prefix: "x" } as never), unknownOption("new ThreadPoolExecutor()", "thread_name_prefix", "threadNamePrefix"));
    const pool = new ThreadPoolExecutor(1);
    await assert.rejects(pool.shutdown(true, { cancel_futures: true } as never), unknownOption("ThreadPoolExecutor.shutdown()", "cancel_futures", "cancelFutures"));
    await pool.shutdown();
    assert.throws(() => taskPerCall(work, { nam: "x" } as never), unknownOption("taskPerCall()", "nam", "name"));
    assert.throws(() => new ContextVar("v", { defualt: 1 } as never), unknownOption("new ContextVar()", "defualt", "default"));
  });

  it("the subprocess functions refuse unknown keys before starting anything", async () => {
    await runNet(async () => {
      const loop = getRunningLoop();
      const factory = neverCalled;
      await assert.rejects(createSubprocessExec(process.execPath, [], { stdot: null } as never), unknownOption("createSubprocessExec()", "stdot", "stdout"));
      await assert.rejects(createSubprocessShell("true", { kill_on_cancel: true } as never), unknownOption("createSubprocessShell()", "kill_on_cancel", "killOnCancel"));
      await assert.rejects(loop.subprocessExec(factory, process.execPath, [], { limit: 10 } as never), unknownOption("loop.subprocessExec()", "limit"));
      await assert.rejects(loop.subprocessShell(factory, "true", { argv0: "x" } as never), unknownOption("loop.subprocessShell()", "argv0"));
    });
  });

  it("a key whose value is undefined is still unknown; the value must be an object", async () => {
    await runTest(async () => {
      assert.throws(() => createTask(work, { name: "ok", tls: undefined } as never), unknownOption("createTask()", "tls"));
      assert.throws(() => wait([work], { timeout: 1, bogus: undefined, other: 2 } as never), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /^wait\(\) got unknown options `bogus`, `other`; known options: timeout, returnWhen$/);
        return true;
      });
      for (const bad of [5, "x", null, [], [["name", "x"]]]) {
        assert.throws(() => createTask(work, bad as never), /^TypeError: `options` of createTask\(\) must be an options object/);
      }
      // Known keys with undefined values, and no options at all, are fine.
      assert.equal(await createTask(work, { name: undefined, context: undefined }), 1);
      assert.equal(await createTask(work, undefined), 1);
    });
  });
});

