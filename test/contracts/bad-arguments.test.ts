// The contract of a wrong argument: a TypeError or RangeError that names it (or one of the
// library's own errors for a wrong state), thrown or rejected at once, never an engine error
// from deep inside ("Cannot read properties of undefined") and never a crash of the loop later.
// First the cases a sweep found, each pinned with its message; then the sweep itself, kept as a
// guard: every public function and method of the primitives, called with wrong values.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import * as api from "../../src/index.js";
import {
  EventLoop,
  type Task,
  allTasks,
  asCompleted,
  createEagerTaskFactory,
  createTask,
  currentTask,
  eagerTaskFactory,
  getRunningLoop,
  openConnection,
  run,
  sleep,
  startServer,
  wait,
  waitFor,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";

/** What the engine says when code reads a wrong value without checking it first. */
const ENGINE_ERROR =
  /Cannot read propert|Cannot set propert|is not a function|is not iterable|Cannot convert|is not a constructor|Invalid array length|Maximum call stack/;

describe("wrong arguments (contract)", () => {
  it("allTasks and currentTask: a `loop` that is not an event loop is a TypeError naming it", async () => {
    await runTest(async () => {
      for (const loop of [1, {}, "loop", null]) {
        assert.throws(() => allTasks(loop as never), /^TypeError: `loop` must be an EventLoop, got /);
        assert.throws(() => currentTask(loop as never), /^TypeError: `loop` must be an EventLoop, got /);
      }
      assert.equal(currentTask(getRunningLoop()), currentTask());
      assert.equal(allTasks(getRunningLoop()).has(currentTask() as Task<unknown>), true);
    });
  });

  it("wait and asCompleted with no iterable at all name `aws`, as they do for null", async () => {
    await runTest(async () => {
      for (const aws of [undefined, null, 1]) {
        assert.throws(() => wait(aws as never), { name: "TypeError", message: /^`aws` must be an iterable of awaitables, got / });
        assert.throws(() => asCompleted(aws as never), { name: "TypeError", message: /^`aws` must be an iterable of awaitables, got / });
      }
    });
  });

  it("eagerTaskFactory takes its options as optional, and checks its loop and option keys", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const task = eagerTaskFactory(loop, async () => "eager");
      assert.equal(await task, "eager");
      assert.throws(() => eagerTaskFactory(1 as never, async () => 1), /^TypeError: `loop` must be an EventLoop, got 1/);
      assert.throws(() => eagerTaskFactory(loop, async () => 1, { nme: "x" } as never), /eagerTaskFactory\(\) got unknown option `nme`/);
      const factory = createEagerTaskFactory(api.Task);
      assert.equal(await factory(loop, async () => "custom"), "custom");
      assert.throws(() => factory({} as never, async () => 1), /^TypeError: `loop` must be an EventLoop/);
      assert.throws(() => createEagerTaskFactory(1 as never), /^TypeError: `TaskClass` must be a Task subclass, got 1/);
    });
  });

  it("a task factory that returns something else than a task: createTask says so, the loop does not crash later", async () => {
    let caught: unknown = null;
    await assert.rejects(
      run(async () => {
        const loop = getRunningLoop();
        loop.setTaskFactory((() => 1) as never);
        try {
          createTask(async () => 1);
        } catch (error) {
          caught = error;
        }
      }),
      // run() closes the loop through createTask too: the same error, and the loop is closed.
      /^TypeError: the task factory returned 1; a task factory must return a Task/,
    );
    assert.match(String(caught), /^TypeError: the task factory returned 1; a task factory must return a Task/);
  });

  it("setName converts as asyncio's str() does, and names `value` when there is no string form", async () => {
    await runTest(async () => {
      const task = createTask(() => sleep(0));
      task.setName(42 as never);
      assert.equal(task.getName(), "42");
      assert.throws(() => task.setName(Object.create(null) as never), /^TypeError: `value` must be a string or have a string form/);
      assert.equal(task.getName(), "42", "a refused name leaves the old one");
      await task;
    });
  });

  it("callExceptionHandler and defaultExceptionHandler refuse a `context` that is not an object", () => {
    const loop = new EventLoop();
    try {
      for (const context of [undefined, null, "boom", ["boom"]]) {
        assert.throws(() => loop.callExceptionHandler(context as never), /^TypeError: callExceptionHandler\(\): `context` must be an object/);
        assert.throws(() => loop.defaultExceptionHandler(context as never), /^TypeError: defaultExceptionHandler\(\): `context` must be an object/);
      }
    } finally {
      loop.close();
    }
  });

  it("runInExecutor and setDefaultExecutor check the executor; undefined is the default one, as null", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const ran: string[] = [];
      const fake = {
        submit: <A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>> => {
          ran.push("fake");
          return Promise.resolve(fn(...args) as Awaited<R>);
        },
        shutdown: async (): Promise<void> => {},
      };
      loop.setDefaultExecutor(fake);
      assert.equal(await loop.runInExecutor(undefined, (x: number) => x + 1, 1), 2);
      assert.equal(await loop.runInExecutor(null, (x: number) => x * 3, 2), 6);
      assert.deepEqual(ran, ["fake", "fake"]);
      for (const executor of [1, {}, "pool", { submit: () => Promise.resolve(1) }]) {
        assert.throws(() => loop.runInExecutor(executor as never, () => 1), /^TypeError: `executor` must be an executor \(an object with submit\(\) and shutdown\(\)\) or null/);
        assert.throws(() => loop.setDefaultExecutor(executor as never), /^TypeError: `executor` must be an executor \(an object with submit\(\) and shutdown\(\)\), got/);
      }
      const broken = { submit: () => 1, shutdown: async () => {} };
      assert.throws(() => loop.runInExecutor(broken as never, () => 1), /^TypeError: the executor's submit\(\) returned 1; it must return a promise/);
    });
  });

  it("a protocol factory that returns no protocol: a TypeError that says so, from every transport", async () => {
    await run(async () => {
      const loop = getRunningLoop();
      const notProtocol = /^TypeError: the protocol factory returned (1|null|an object), not a protocol \(an object with connectionMade\(\)/;
      // The client side: the caller gets the error, and nothing is left open.
      const listener = net.createServer((socket) => socket.end());
      await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
      const port = (listener.address() as net.AddressInfo).port;
      try {
        await assert.rejects(loop.createConnection((() => 1) as never, "127.0.0.1", port), notProtocol);
      } finally {
        listener.close();
      }
      await assert.rejects(loop.createDatagramEndpoint((() => null) as never, { localAddr: ["127.0.0.1", 0] }), notProtocol);
      await assert.rejects(loop.subprocessExec((() => ({})) as never, process.execPath, ["-e", "process.exit(3)"]), notProtocol);
      // The server side: the connection is closed and the error reported, every time (a factory
      // that throws is reported in debug mode only, as asyncio does).
      const reports: unknown[] = [];
      loop.setExceptionHandler((_loop, context) => reports.push(context.exception));
      const server = await loop.createServer((() => ({ dataReceived() {} })) as never, "127.0.0.1", 0);
      const address = server.sockets[0]?.getsockname() as [string, number];
      const client = net.connect(address[1], "127.0.0.1");
      client.resume();
      const closed = new Promise<void>((resolve) => client.on("close", () => resolve()));
      await waitFor(closed, 5);
      server.close();
      await server.waitClosed();
      assert.equal(reports.length, 1);
      assert.match(String(reports[0]), notProtocol);
    });
  });

  it("writelines names what is wrong, and writes nothing of a list with a wrong element", async () => {
    await run(async () => {
      const server = await startServer(async (reader, writer) => {
        writer.write(await reader.read(100));
        writer.close();
      }, "127.0.0.1", 0);
      const port = (server.sockets[0]?.getsockname() as [string, number])[1];
      const [reader, writer] = await openConnection("127.0.0.1", port);
      for (const list of [undefined, 1, "ab", Buffer.from("ab"), {}]) {
        assert.throws(() => writer.writelines(list as never), /^TypeError: writelines\(\) takes an iterable of Buffers, Uint8Arrays or strings, got /);
      }
      assert.throws(() => writer.writelines(["a", 1] as never), /^TypeError: writelines\(\): element 1: data must be a Buffer, a Uint8Array or a string, got 1/);
      writer.writelines(["o", Buffer.from("k")]);
      assert.equal((await reader.read(100)).toString(), "ok", "the refused list wrote nothing");
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
    });
  });

  it("an `ssl` that is an array or a buffer is refused as one, not taken for tls options", async () => {
    await run(async () => {
      for (const ssl of [[], ["cert"], new Uint8Array(4)]) {
        await assert.rejects(openConnection("127.0.0.1", 9, { ssl } as never), /^TypeError: `ssl` must be true, a SecureContext or an object of tls options, got /);
        await assert.rejects(startServer(() => {}, "127.0.0.1", 0, { ssl } as never), /^TypeError: `ssl` must be a SecureContext or an object of tls options, got /);
      }
    });
  });

  it("the sweep: no public function or method answers a wrong value with an engine error", async () => {
    const wrong: unknown[] = [
      undefined, null, 0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "", "x", {}, [], [1, 2],
      () => 1, Symbol("s"), 1n, { foo: 1 }, Object.create(null), new Map(),
    ];
    const shapes = (value: unknown): unknown[][] => [[value], [value, value], [() => 1, value], [1, value]];
    const found: string[] = [];
    const show = (args: unknown[]): string =>
      args.map((a) => (typeof a === "symbol" || typeof a === "bigint" ? a.toString() : Array.isArray(a) ? `[${a.join(",")}]` : typeof a === "function" ? "fn" : a !== null && typeof a === "object" ? "object" : String(a))).join(", ");
    const judge = (label: string, error: unknown): void => {
      const message = error instanceof Error ? error.message : String(error);
      const name = error instanceof Error ? error.constructor.name : typeof error;
      // The library's own errors (RuntimeError, QueueEmpty, InvalidStateError…) answer a
      // wrong state; a plain Error or an engine error answers nothing.
      const named = error instanceof TypeError || error instanceof RangeError || (error instanceof Error && name !== "Error" && !["SyntaxError", "ReferenceError"].includes(name));
      if (ENGINE_ERROR.test(message) || !named) found.push(`${label} -> ${name}: ${message.slice(0, 100)}`);
    };
    // Functions that open sockets, start processes or threads, or run a loop of their own are
    // covered by their own argument tests; the sweep calls only what stays in this process.
    const skip = /^(open|start|run$|create(Subprocess|Server|Connection)|toThread|runCoroutineThreadsafe|printCallGraph|newEventLoop)/;
    await runTest(async () => {
      const loop = getRunningLoop();
      // Reports of what was never retrieved are expected (`setException(1)` keeps any value, as
      // a JS throw does); an engine error among them would be a crash inside the library.
      loop.setExceptionHandler((_loop, context) => {
        const error = context.exception;
        if (error instanceof Error && ENGINE_ERROR.test(error.message)) found.push(`reported: ${context.message}: ${error.message}`);
      });
      const calls: [string, () => unknown][] = [];
      for (const [name, value] of Object.entries(api)) {
        if (typeof value !== "function" || /^[A-Z]/.test(name) || skip.test(name)) continue;
        for (const value2 of wrong) for (const args of shapes(value2)) calls.push([`${name}(${show(args)})`, () => (value as (...a: unknown[]) => unknown)(...args)]);
      }
      const makers: Record<string, () => object> = {
        Event: () => new api.Event(),
        Lock: () => new api.Lock(),
        Semaphore: () => new api.Semaphore(1),
        BoundedSemaphore: () => new api.BoundedSemaphore(1),
        Condition: () => new api.Condition(),
        Barrier: () => new api.Barrier(2),
        Queue: () => new api.Queue(),
        PriorityQueue: () => new api.PriorityQueue(),
        LifoQueue: () => new api.LifoQueue(),
        Future: () => new api.Future(),
        Task: () => createTask(() => sleep(3600)),
        ContextVar: () => new api.ContextVar("v"),
        Context: () => api.copyContext(),
        CapacityLimiter: () => new api.CapacityLimiter(1),
        StreamReader: () => new api.StreamReader(),
        RateLimiter: () => new api.RateLimiter({ rate: 1, per: 1 }),
        TaskGroup: () => new api.TaskGroup(),
        Timeout: () => new api.Timeout(null),
        // The running loop, but for what would stop it, reconfigure it for the rest of the
        // sweep, or reach outside the process.
        EventLoop: () => loop,
      };
      const loopSkip =
        /^(run|stop|close|set|shutdown|sock|create|connect|start|subprocess|getaddrinfo|getnameinfo|sendfile|add|remove)|Executor/;
      for (const [className, make] of Object.entries(makers)) {
        for (const value2 of className === "EventLoop" ? [] : wrong) {
          calls.push([`new ${className}(${show([value2])})`, () => new (api[className as keyof typeof api] as new (...a: unknown[]) => unknown)(value2)]);
        }
        const methods = new Set<string>();
        for (let proto = Object.getPrototypeOf(make()); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
          for (const key of Object.getOwnPropertyNames(proto)) {
            if (key !== "constructor" && !key.startsWith("_") && typeof Object.getOwnPropertyDescriptor(proto, key)?.value === "function") methods.add(key);
          }
        }
        for (const method of methods) {
          if (className === "EventLoop" && loopSkip.test(method)) continue;
          for (const value2 of wrong) {
            for (const args of shapes(value2)) {
              calls.push([`${className}.${method}(${show(args)})`, () => {
                const target = make() as Record<string, (...a: unknown[]) => unknown>;
                return (target[method] as (...a: unknown[]) => unknown).apply(target, args);
              }]);
            }
          }
        }
      }
      for (const [label, call] of calls) {
        try {
          const result = call();
          if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
            // Judged when it rejects; one that stays pending (a wait) ends with the test loop.
            void Promise.resolve(result as PromiseLike<unknown>).then(undefined, (error: unknown) => judge(`${label} (rejected)`, error));
          }
        } catch (error) {
          judge(label, error);
        }
      }
      // What rejects at once (checks inside an async function) has done so after a few passes.
      for (let i = 0; i < 5; i++) await sleep(0);
      assert.ok(calls.length > 2000, `the sweep made ${calls.length} calls`);
      for (const task of allTasks()) if (task !== currentTask()) task.cancel();
      await sleep(0);
    });
    assert.deepEqual(found, []);
  });
});
