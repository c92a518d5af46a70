// The loop's exception handler: errors no code was there to catch.
// Ported from CPython's Lib/test/test_asyncio/test_base_events.py (BaseEventLoopTests) and
// test_futures2.py (FutureTests: the handler runs in the failing code's context).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ContextVar,
  type EventLoop,
  type ExceptionContext,
  Future,
  createTask,
  getRunningLoop,
  sleep,
} from "../../src/index.js";
import { TestLoop, runTest } from "../../src/testing.js";
import { captureExceptions, collectUntil, runOnce, runScenario } from "../support/core.js";

/** Replaces console.error while `body` runs and returns what was written to it. */
async function consoleErrors(body: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  };
  try {
    await body();
  } finally {
    console.error = original;
  }
  return lines;
}

function zeroError(): never {
  throw new RangeError("division by zero");
}

describe("setExceptionHandler and getExceptionHandler", () => {
  it("getExceptionHandler is null until a handler is set; null restores the default", () => {
    const loop = new TestLoop();
    assert.equal(loop.getExceptionHandler(), null);
    const handler = (): void => {};
    loop.setExceptionHandler(handler);
    assert.equal(loop.getExceptionHandler(), handler);
    loop.setExceptionHandler(null);
    assert.equal(loop.getExceptionHandler(), null);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_set_exc_handler_invalid
  it("refuses a handler that is not a function with a TypeError naming it", () => {
    const loop = new TestLoop();
    assert.throws(() => loop.setExceptionHandler("spam" as never), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match((e as Error).message, /`handler` must be a function or null, got "spam"/);
      return true;
    });
    assert.equal(loop.getExceptionHandler(), null);
  });
});

describe("errors in callbacks", () => {
  // CPython: test_base_events.py BaseEventLoopTests.test_set_exc_handler_custom
  it("go to the custom handler with the loop, a message, the error and the handle", async () => {
    const loop = new TestLoop();
    const calls: [EventLoop, ExceptionContext][] = [];
    loop.setExceptionHandler((l, context) => {
      calls.push([l, context]);
    });
    const handle = loop.callSoon(zeroError);
    await runOnce(loop);
    assert.equal(calls.length, 1);
    const [l, context] = calls[0]!;
    assert.equal(l, loop);
    assert.match(context.message, /Exception in callback.*zeroError/);
    assert.ok(context.exception instanceof RangeError);
    assert.equal(context.handle, handle);

    loop.setExceptionHandler(null);
    const logged = await consoleErrors(async () => {
      loop.callSoon(zeroError);
      await runOnce(loop);
    });
    assert.equal(calls.length, 1, "the custom handler is no longer called");
    assert.match(logged.join("\n"), /Exception in callback.*zeroError/);
  });

  it("name the callback as it was called, with its arguments, even when it cancelled its own handle", async () => {
    const loop = new TestLoop();
    const calls: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, context) => {
      calls.push(context);
    });
    const selfCancelling = (n: number, s: string): void => {
      handle.cancel();
      throw new RangeError(`${n} ${s}`);
    };
    const handle = loop.callSoon(selfCancelling, 7, "x");
    const rejecting = async (n: number): Promise<void> => {
      throw new RangeError(String(n));
    };
    loop.callSoon(rejecting, 8);
    await runOnce(loop);
    await runOnce(loop);
    assert.deepEqual(
      calls.map((c) => c.message),
      ["Exception in callback selfCancelling(7, 'x')", "Exception in callback rejecting(8)"],
    );
  });

  it("do not stop the loop: later callbacks, timers and tasks still run", async () => {
    const loop = new TestLoop({ autojump: true });
    const seen = captureExceptions(loop);
    const log: string[] = [];
    loop.callSoon(zeroError);
    loop.callSoon(() => log.push("next callback"));
    loop.callLater(1, zeroError);
    loop.callLater(2, () => log.push("later timer"));
    const result = await loop.runUntilComplete(async () => {
      await sleep(3);
      return "task finished";
    });
    assert.equal(result, "task finished");
    assert.deepEqual(log, ["next callback", "later timer"]);
    assert.equal(seen.length, 2);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_default_exc_handler_callback
  it("are logged by the default handler with the message and the stack", async () => {
    const loop = new TestLoop({ autojump: true });
    const logged = await consoleErrors(async () => {
      loop.callSoon(zeroError);
      loop.callLater(0.01, zeroError);
      await loop.runUntilComplete(() => sleep(0.02));
    });
    assert.equal(logged.length, 2);
    for (const line of logged) {
      assert.match(line, /^Exception in callback zeroError/);
      assert.match(line, /handle: <(Timer)?Handle/);
      assert.match(line, /RangeError: division by zero\n\s+at zeroError/);
    }
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_set_exc_handler_broken
  it("a handler that throws is reported by the default handler, and the loop goes on", async () => {
    const loop = new TestLoop();
    loop.setExceptionHandler(() => {
      throw new TypeError("spam");
    });
    let after = false;
    const logged = await consoleErrors(async () => {
      loop.callSoon(zeroError);
      loop.callSoon(() => {
        after = true;
      });
      await runOnce(loop);
    });
    assert.equal(after, true);
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /^Unhandled error in exception handler/);
    assert.match(logged[0]!, /TypeError: spam/);
    assert.match(logged[0]!, /context: /);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_default_exc_handler_broken
  // (in a child process: the failure takes the whole loop down)
  it("a default handler (overridden) that throws does not take the loop down", () => {
    const child = runScenario("broken-default-handler");
    assert.deepEqual(child.stdout, [
      "default handler called: Exception in callback zeroError()",
      "next callback ran",
      "runForever resolved",
    ]);
    assert.equal(child.status, 0, child.stderr);
  });

  // (in a child process: Node's unhandledRejection ends it)
  it("a callback's rejected promise reaches the exception handler", () => {
    const child = runScenario("async-callback-rejects");
    assert.deepEqual(child.stdout, ["handler: async callback failed", "runForever resolved"]);
    assert.equal(child.status, 0, child.stderr);
  });

  // CPython: test_futures2.py FutureTests.test_handle_exc_handler_correct_context
  it("the handler runs in the failing callback's context", async () => {
    const name = new ContextVar("name", { default: "foo" });
    await runTest(async () => {
      const loop = getRunningLoop();
      let seen: string | null = null;
      loop.setExceptionHandler(() => {
        seen = name.get();
      });
      loop.callSoon(() => {
        name.set("bar");
        zeroError();
      });
      await sleep(0);
      assert.equal(seen, "bar");
    });
  });

  // CPython: test_futures2.py FutureTests.test_task_exc_handler_correct_context
  it("the never-retrieved report runs in the failed task's context", async () => {
    const name = new ContextVar("name", { default: "foo" });
    const loop = new TestLoop();
    let seen: string | null = null;
    loop.setExceptionHandler(() => {
      seen = name.get();
    });
    await loop.runUntilComplete(async () => {
      createTask(async () => {
        name.set("bar");
        await sleep(0);
        zeroError();
      });
      await sleep(0);
      await sleep(0);
    });
    await collectUntil(() => seen !== null, 30);
    assert.equal(seen, "bar");
  });
});

describe("callExceptionHandler and defaultExceptionHandler", () => {
  it("callExceptionHandler passes the context to the custom handler as given", () => {
    const loop = new TestLoop();
    const seen = captureExceptions(loop);
    const context = { message: "custom", exception: new Error("x"), extra: 1 };
    loop.callExceptionHandler(context);
    assert.deepEqual(seen, [context]);
  });

  it("the default handler logs the message, the objects involved and the error's stack", async () => {
    const loop = new TestLoop();
    const fut = new Future<number>(loop);
    fut.setResult(1);
    const exception = new Error("the error");
    const logged = await consoleErrors(async () => {
      loop.defaultExceptionHandler({ message: "Something failed", exception, future: fut });
    });
    assert.equal(logged.length, 1);
    const lines = logged[0]!.split("\n");
    assert.equal(lines[0], "Something failed");
    assert.equal(lines[1], "future: <Future finished result=1>");
    assert.equal(lines[2], "Error: the error");
    assert.match(lines[3]!, /^\s+at /);
  });

  it("the default handler names a missing message", async () => {
    const loop = new TestLoop();
    const logged = await consoleErrors(async () => {
      loop.defaultExceptionHandler({ message: "" });
    });
    assert.deepEqual(logged, ["Unhandled exception in event loop"]);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_default_exc_handler_coro
  it("the default handler logs a task exception that was never retrieved", async () => {
    const loop = new TestLoop({ autojump: true });
    const logged: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => {
      logged.push(args.map(String).join(" "));
    };
    try {
      await loop.runUntilComplete(async () => {
        createTask(async function zeroErrorCoro() {
          await sleep(0.01);
          zeroError();
        });
        await sleep(0.02);
      });
      assert.ok(await collectUntil(() => logged.length > 0));
    } finally {
      console.error = original;
    }
    assert.match(logged[0]!, /^Task exception was never retrieved/);
    // The task is gone by then: `future` is its description (printed quoted, as a string).
    assert.match(logged[0]!, /future: '?<Task finished name='Task-\d+' coro=zeroErrorCoro exception=RangeError/);
    assert.match(logged[0]!, /RangeError: division by zero/);
  });
});
