// Callbacks of Node resources and the task they run as: a request handler of a real `node:http`
// server runs in the async context of the task that created the server, and `taskPerCall`
// gives each call a task of its own. No CPython original: asyncio's servers already run each
// connection's callback as a new task, and Python has no async context that callbacks inherit.
//
// The server tests use real I/O (`run`, a server on 127.0.0.1 port 0, `http.get` without an
// agent) and real time, a few hundred milliseconds at most; every server is closed.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import {
  CancelledError,
  type ExceptionContext,
  ExceptionGroup,
  RuntimeError,
  Task,
  TimeoutError,
  currentTask,
  getRunningLoop,
  isCancellation,
  run,
  sleep,
  taskGroup,
  taskPerCall,
  timeout,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { collectUntil } from "../support/core.js";
import { errorOf } from "../support/errors.js";
import { unsupportedOn } from "../support/runtime.js";

/** What the client got. */
interface Reply {
  status: number;
  body: string;
}

/** Starts `server` on 127.0.0.1, on a port the system picks; resolves to that port. */
async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * One GET with a socket of its own (no agent, so nothing stays open); never rejects: a client
 * error is a reply with status -1 and the error's message as body.
 */
function get(port: number, path = "/"): Promise<Reply> {
  return new Promise<Reply>((resolve) => {
    const request = http.get({ host: "127.0.0.1", port, path, agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", (error) => resolve({ status: -1, body: error.message }));
    });
    request.on("error", (error) => resolve({ status: -1, body: error.message }));
    request.setTimeout(1500, () => request.destroy(new Error("client gave up")));
  });
}

/** Closes `server` and every connection it still has; resolves once it is closed. */
function close(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** `get`, as a future of the running loop: awaiting it is a library await of the caller. */
function getAsFuture(port: number, path = "/"): PromiseLike<Reply> {
  const reply = getRunningLoop().createFuture<Reply>();
  void get(port, path).then((r) => {
    if (!reply.done()) reply.setResult(r);
  });
  return reply;
}

/** Awaits `aw`, failing the test with a clear message if the await is cancelled. */
async function mainMustNotBeCancelled<T>(aw: PromiseLike<T>, by: string): Promise<T> {
  try {
    return await aw;
  } catch (e) {
    if (isCancellation(e)) assert.fail(`the task that created the server was cancelled by ${by}`);
    throw e;
  }
}

describe("a plain handler runs as the task that created the server", {
  skip: unsupportedOn({
    deno: "Deno runs the callbacks of a node:http server outside the AsyncLocalStorage context of the code that called listen(), so a plain handler runs in no task (taskPerCall works)",
  }),
}, () => {
  it("a deadline in a request handler does not cancel the task that created the server", { timeout: 5000 }, async () => {
    const seen = await run(async () => {
      const main = currentTask()!;
      const handler: { task: Task | null; outcome: string }[] = [];
      const server = http.createServer(async (_req, res) => {
        const record = { task: currentTask(), outcome: "" };
        handler.push(record);
        try {
          await timeout(0.2, () => sleep(1));
          record.outcome = "no timeout";
          res.statusCode = 200;
        } catch (e) {
          record.outcome = (e as Error).name;
          res.statusCode = e instanceof TimeoutError ? 504 : 500;
        }
        res.end();
      });
      try {
        const port = await listen(server);
        // Main's own library await, pending across the handler's deadline.
        const reply = await mainMustNotBeCancelled(getAsFuture(port), "the handler's deadline");
        await sleep(0.01); // and main goes on awaiting normally
        return { reply, cancelling: main.cancelling(), main, handler };
      } finally {
        await close(server);
      }
    });
    assert.equal(seen.handler.length, 1);
    assert.equal(seen.handler[0]!.task, seen.main, "the handler ran as the task that created the server");
    assert.equal(seen.handler[0]!.outcome, "TimeoutError");
    assert.equal(seen.reply.status, 504);
    assert.equal(seen.cancelling, 0);
  });

  it("a task group failing in a request handler does not cancel the task that created the server", { timeout: 5000 }, async () => {
    const seen = await run(async () => {
      const main = currentTask()!;
      const outcomes: string[] = [];
      const server = http.createServer(async (_req, res) => {
        try {
          await taskGroup(async (tg) => {
            tg.createTask(async () => {
              await sleep(0.05);
              throw new Error("child failed");
            });
            tg.createTask(() => sleep(1)); // cancelled by its sibling's failure
          });
          outcomes.push("no error");
          res.statusCode = 200;
        } catch (e) {
          outcomes.push(
            e instanceof ExceptionGroup ? `ExceptionGroup: ${e.errors.map((x) => (x as Error).message).join()}` : String(e),
          );
          res.statusCode = e instanceof ExceptionGroup ? 502 : 500;
        }
        res.end();
      });
      try {
        const port = await listen(server);
        const reply = await mainMustNotBeCancelled(getAsFuture(port), "the handler's task group");
        await sleep(0.01);
        return { reply, cancelling: main.cancelling(), outcomes };
      } finally {
        await close(server);
      }
    });
    assert.deepEqual(seen.outcomes, ["ExceptionGroup: child failed"]);
    assert.equal(seen.reply.status, 502);
    assert.equal(seen.cancelling, 0);
  });

  it("a cancellation of the task that created the server reaches the awaits of a plain handler", { timeout: 5000 }, async () => {
    const log: string[] = [];
    let reply: Promise<Reply> | null = null;
    let closed: Promise<void> | null = null;
    const error = await errorOf(
      run(async () => {
        const main = currentTask()!;
        const loop = getRunningLoop();
        const inHandler = loop.createFuture<void>();
        const server = http.createServer(async (_req, res) => {
          inHandler.setResult();
          try {
            await sleep(5); // an await of main
            res.end("done");
          } catch (e) {
            log.push(`handler ${(e as Error).name}`);
            res.statusCode = 503;
            res.end();
          }
        });
        try {
          const port = await listen(server);
          reply = get(port);
          await inHandler;
          loop.callLater(0.05, () => main.cancel("stop"));
          await sleep(5);
        } catch (e) {
          log.push(`main ${(e as Error).name}`);
          throw e;
        } finally {
          closed = new Promise<void>((resolve) => server.close(() => resolve()));
        }
      }),
    );
    assert.ok(error instanceof CancelledError);
    assert.deepEqual(log.sort(), ["handler CancelledError", "main CancelledError"]);
    assert.equal((await reply!).status, 503);
    await closed!;
  });
});

describe("taskPerCall with an http server", () => {
  it("runs each request as a fresh task, neither the one that created the server nor another request's", { timeout: 5000 }, async () => {
    const seen = await run(async () => {
      const main = currentTask()!;
      const tasks: (Task | null)[] = [];
      const server = http.createServer(
        taskPerCall(async (req: http.IncomingMessage, res: http.ServerResponse) => {
          tasks.push(currentTask());
          await sleep(0.01);
          res.end(`${req.url} ${currentTask()!.getName()}`);
        }),
      );
      try {
        const port = await listen(server);
        const replies = await Promise.all([get(port, "/a"), get(port, "/b")]);
        return { main, tasks, replies };
      } finally {
        await close(server);
      }
    });
    assert.equal(seen.tasks.length, 2);
    const [first, second] = seen.tasks;
    assert.ok(first instanceof Task && second instanceof Task);
    assert.notEqual(first, second);
    assert.notEqual(first, seen.main);
    assert.notEqual(second, seen.main);
    assert.notEqual(first.getName(), second.getName());
    assert.deepEqual(
      seen.replies.map((r) => r.status),
      [200, 200],
    );
    assert.deepEqual(
      seen.replies.map((r) => r.body).sort(),
      [`/a ${first.getName()}`, `/b ${second.getName()}`].sort(),
    );
  });

  it("a deadline in a taskPerCall handler cancels that request only", { timeout: 5000 }, async () => {
    const seen = await run(async () => {
      const main = currentTask()!;
      const server = http.createServer(
        taskPerCall(async (req: http.IncomingMessage, res: http.ServerResponse) => {
          // Far apart, so a loaded machine cannot blur them: the fast one only yields once.
          const seconds = req.url === "/slow" ? 30 : 0;
          try {
            await timeout(0.5, () => sleep(seconds));
            res.statusCode = 200;
          } catch (e) {
            res.statusCode = e instanceof TimeoutError ? 504 : 500;
          }
          res.end();
        }),
      );
      try {
        const port = await listen(server);
        const [slow, fast] = await Promise.all([getAsFuture(port, "/slow"), get(port, "/fast")]);
        return { slow: slow.status, fast: fast.status, cancelling: main.cancelling() };
      } finally {
        await close(server);
      }
    });
    assert.deepEqual(seen, { slow: 504, fast: 200, cancelling: 0 });
  });

  it("cancelling the task that created the server leaves requests in progress alone; run() cancels them at its end", { timeout: 5000 }, async () => {
    const log: string[] = [];
    let handlerTask: Task | null = null;
    let reply: Promise<Reply> | null = null;
    let closed: Promise<void> | null = null;
    const started = performance.now();
    const error = await errorOf(
      run(async () => {
        const main = currentTask()!;
        const loop = getRunningLoop();
        const inHandler = loop.createFuture<void>();
        const server = http.createServer(
          taskPerCall(async (_req: http.IncomingMessage, res: http.ServerResponse) => {
            handlerTask = currentTask();
            inHandler.setResult();
            try {
              await sleep(5);
              res.end("done");
            } catch (e) {
              log.push(`handler ${(e as Error).name}`);
              res.statusCode = 503;
              res.end();
              throw e;
            }
          }),
        );
        try {
          const port = await listen(server);
          reply = get(port);
          await inHandler;
          loop.callLater(0.05, () => main.cancel("stop"));
          await sleep(5);
        } finally {
          const task = handlerTask as Task | null;
          log.push(`main finally: handler cancelling ${task?.cancelling()}, done ${task?.done()}`);
          // No closeAllConnections: the request in progress still gets its answer.
          closed = new Promise<void>((resolve) => server.close(() => resolve()));
        }
      }),
    );
    assert.ok(error instanceof CancelledError);
    assert.deepEqual(log, ["main finally: handler cancelling 0, done false", "handler CancelledError"]);
    assert.equal((handlerTask as Task | null)?.cancelled(), true);
    assert.equal((await reply!).status, 503);
    await closed!; // the server closed: nothing keeps the process alive
    assert.ok(performance.now() - started < 2000, "nothing waited for the 5-second sleeps");
  });

  it("an error escaping a taskPerCall handler reaches the loop's exception handler", {
    timeout: 8000,
    skip: unsupportedOn({
      deno: "Deno keeps a task that failed in its first step alive after it is dropped (cause not found), so it is reported as never retrieved only when its loop closes",
    }),
  }, async () => {
    const seen = await run(async () => {
      const contexts: ExceptionContext[] = [];
      getRunningLoop().setExceptionHandler((_loop, context) => {
        contexts.push(context);
      });
      const server = http.createServer(
        taskPerCall(async (_req: http.IncomingMessage, res: http.ServerResponse) => {
          res.statusCode = 500;
          res.end();
          throw new Error("boom");
        }),
      );
      try {
        const port = await listen(server);
        const reply = await get(port);
        const reported = await collectUntil(() => contexts.length > 0);
        return { reply, reported, contexts };
      } finally {
        await close(server);
      }
    });
    assert.equal(seen.reply.status, 500);
    assert.ok(seen.reported, "the error was reported once the task was collected");
    assert.equal(seen.contexts.length, 1);
    assert.equal(seen.contexts[0]!.message, "Task exception was never retrieved");
    assert.equal((seen.contexts[0]!.exception as Error).message, "boom");
  });
});

describe("taskPerCall", () => {
  it("returns the task, which runs fn with the arguments and this of the call", async () => {
    await runTest(async () => {
      const main = currentTask();
      const wrapped = taskPerCall(async function (this: unknown, a: number, b: string) {
        await sleep(1);
        return { sum: `${a}${b}`, self: this, task: currentTask() };
      });
      const receiver = { wrapped };
      const task = receiver.wrapped(1, "x");
      assert.ok(task instanceof Task);
      assert.equal(task.done(), false);
      const result = await task;
      assert.equal(result.sum, "1x");
      assert.equal(result.self, receiver);
      assert.equal(result.task, task);
      assert.notEqual(result.task, main);
    });
  });

  it("names every task it makes with the name given", async () => {
    await runTest(async () => {
      const wrapped = taskPerCall(async () => currentTask()!.getName(), { name: "request" });
      const [a, b] = [wrapped(), wrapped()];
      assert.notEqual(a, b);
      assert.equal(a.getName(), "request");
      assert.deepEqual([await a, await b], ["request", "request"]);
    });
  });

  it("cancelling one call's task cancels that call only", async () => {
    await runTest(async () => {
      const wrapped = taskPerCall((seconds: number) => sleep(seconds, seconds));
      const a = wrapped(10);
      const b = wrapped(10);
      await sleep(1);
      a.cancel();
      assert.ok((await errorOf(a)) instanceof CancelledError);
      assert.equal(await b, 10);
      assert.equal(currentTask()!.cancelling(), 0);
    });
  });

  it("refuses an fn that is not a function, naming `fn`", () => {
    for (const fn of [undefined, null, 42, "handler", Promise.resolve()]) {
      assert.throws(
        () => taskPerCall(fn as never),
        (e: unknown) => e instanceof TypeError && /^`fn` must be a function/.test(e.message),
      );
    }
  });

  it("refuses an unknown option, naming it", () => {
    assert.throws(
      () => taskPerCall(async () => {}, { nmae: "typo" } as never),
      (e: unknown) => e instanceof TypeError && e.message.includes("`nmae`") && e.message.includes("known options: name"),
    );
    assert.throws(
      () => taskPerCall(async () => {}, { context: null, eagerStart: true } as never),
      (e: unknown) => e instanceof TypeError && /unknown options `context`, `eagerStart`/.test(e.message),
    );
  });

  it("refuses options that are not an object, and a name that is not a string", () => {
    assert.throws(
      () => taskPerCall(async () => {}, 5 as never),
      (e: unknown) => e instanceof TypeError && /`options` of taskPerCall\(\) must be an options object/.test(e.message),
    );
    for (const name of [1, null, Symbol("x"), {}]) {
      assert.throws(
        () => taskPerCall(async () => {}, { name } as never),
        (e: unknown) => e instanceof TypeError && /^`name` must be a string/.test(e.message),
      );
    }
  });

  it("throws RuntimeError when the wrapper is called after run() returned", async () => {
    let calls = 0;
    const wrapped = await run(async () =>
      taskPerCall(async function handler() {
        calls++;
      }),
    );
    assert.throws(
      () => wrapped(),
      (e: unknown) =>
        e instanceof RuntimeError &&
        e.message.includes("taskPerCall(handler)") &&
        e.message.includes("outside a running event loop") &&
        e.message.includes("after run() returned"),
    );
    assert.equal(calls, 0, "fn never ran");
  });
});
