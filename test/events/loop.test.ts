// The event loop: callSoon, iterations, time(), task factories, getRunningLoop, debug mode and
// slow callbacks. Ported from CPython's Lib/test/test_asyncio/test_base_events.py
// (BaseEventLoopTests, RunningLoopTests) and test_events.py (EventLoopTestsMixin).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  EventLoop,
  Handle,
  RuntimeError,
  Task,
  type TaskFactory,
  coroutine,
  getRunningLoop,
  newEventLoop,
  run,
  sleep,
} from "../../src/index.js";
import { TestLoop, runTest } from "../../src/testing.js";
import { runBriefly, runOnce } from "../support/core.js";

/** Replaces console.warn while `body` runs and returns what was written to it. */
async function consoleWarnings(body: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  };
  try {
    await body();
  } finally {
    console.warn = original;
  }
  return lines;
}

describe("EventLoop.callSoon", () => {
  // CPython: test_base_events.py BaseEventLoopTests.test_call_soon
  it("returns a Handle and runs the callback in the next iteration", async () => {
    const loop = new TestLoop();
    let calls = 0;
    const h = loop.callSoon(() => calls++);
    assert.ok(h instanceof Handle);
    assert.equal(calls, 0);
    await runOnce(loop);
    assert.equal(calls, 1);
  });

  // CPython: test_events.py EventLoopTestsMixin.test_call_soon
  it("passes the arguments to the callback", async () => {
    const loop = new TestLoop();
    const results: unknown[] = [];
    loop.callSoon((a: string, b: number) => results.push([a, b]), "hello", 42);
    await runOnce(loop);
    assert.deepEqual(results, [["hello", 42]]);
  });

  it("runs callbacks in FIFO order", async () => {
    const loop = new TestLoop();
    const order: number[] = [];
    for (let i = 0; i < 50; i++) loop.callSoon(() => order.push(i));
    await runOnce(loop);
    assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i));
  });

  // CPython: test_base_events.py BaseEventLoopTests.test__run_once_schedule_handle
  it("runs in one iteration what was ready when it began; what it schedules waits", async () => {
    const loop = new TestLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      log.push("a");
      loop.callSoon(() => log.push("scheduled by a"));
    });
    loop.callSoon(() => log.push("b"));
    await runOnce(loop);
    assert.deepEqual(log, ["a", "b"]);
    await runOnce(loop);
    assert.deepEqual(log, ["a", "b", "scheduled by a"]);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_call_soon_non_callable
  it("rejects a callback that is not a function with a TypeError naming it", () => {
    const loop = new TestLoop();
    assert.throws(() => loop.callSoon(1 as never), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match((e as Error).message, /`callback` must be a function, got 1/);
      return true;
    });
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_call_coroutine
  it("rejects a coroutine object with a TypeError", () => {
    const loop = new TestLoop();
    const c = coroutine(async function simple() {})();
    assert.throws(() => loop.callSoon(c as never), TypeError);
    assert.throws(() => loop.callLater(60, c as never), TypeError);
    assert.throws(() => loop.callAt(loop.time() + 60, c as never), TypeError);
    c.close();
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_call_coroutine (the function case)
  it("rejects an async function in debug mode with a TypeError", () => {
    const loop = new TestLoop({ debug: true });
    const fn = async (): Promise<void> => {};
    assert.throws(() => loop.callSoon(fn), TypeError);
    assert.throws(() => loop.callLater(60, fn), TypeError);
    assert.throws(() => loop.callAt(loop.time() + 60, fn), TypeError);
  });

  it("rejects scheduling on a closed loop with RuntimeError", () => {
    const loop = new TestLoop();
    loop.close();
    assert.throws(() => loop.callSoon(() => {}), { name: "RuntimeError", message: "Event loop is closed" });
    assert.throws(() => loop.callLater(1, () => {}), RuntimeError);
    assert.throws(() => loop.callAt(1, () => {}), RuntimeError);
  });

  it("runs a callback scheduled from outside while the loop waits", async () => {
    const loop = new TestLoop();
    const stopped = loop.runForever();
    setTimeout(() => loop.callSoon(() => loop.stop()), 5);
    await stopped;
    assert.equal(loop.isRunning(), false);
  });
});

describe("EventLoop.time", () => {
  it("is monotonic seconds, as a float, on the real clock", async () => {
    const loop = new EventLoop();
    const t0 = loop.time();
    const wall0 = performance.now() / 1000;
    assert.equal(typeof t0, "number");
    assert.ok(Math.abs(t0 - wall0) < 0.05, "seconds, not milliseconds");
    await new Promise((resolve) => setTimeout(resolve, 15));
    const t1 = loop.time();
    assert.ok(t1 > t0);
    assert.ok(t1 - t0 >= 0.01 && t1 - t0 < 1, `${t1 - t0}`);
    loop.close();
  });

  it("is the virtual clock's reading on a TestLoop", () => {
    const loop = new TestLoop({ start: 100 });
    assert.equal(loop.time(), 100);
    loop.advance(2.5);
    assert.equal(loop.time(), 102.5);
  });
});

describe("EventLoop task factory", () => {
  // CPython: test_base_events.py BaseEventLoopTests.test_set_task_factory
  it("is used by createTask until it is reset with null", async () => {
    const loop = new TestLoop();
    class MyTask<T> extends Task<T> {}
    const factory: TaskFactory = (l, coro, options) => new MyTask(coro, { ...options, loop: l });
    assert.equal(loop.getTaskFactory(), null);
    loop.setTaskFactory(factory);
    assert.equal(loop.getTaskFactory(), factory);
    const task = loop.createTask(async () => {});
    assert.ok(task instanceof MyTask);
    await loop.runUntilComplete(task);

    loop.setTaskFactory(null);
    assert.equal(loop.getTaskFactory(), null);
    const plain = loop.createTask(async () => {});
    assert.ok(plain instanceof Task);
    assert.equal(plain instanceof MyTask, false);
    await loop.runUntilComplete(plain);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_set_task_factory_invalid
  it("must be a function or null", () => {
    const loop = new TestLoop();
    assert.throws(() => loop.setTaskFactory(1 as never), /`factory` must be a function or null/);
    assert.equal(loop.getTaskFactory(), null);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_create_named_task_with_default_factory,
  // test_create_named_task_with_custom_factory
  it("receives the createTask options, the name among them", async () => {
    const loop = new TestLoop();
    const t1 = loop.createTask(async () => {}, { name: "test_task" });
    assert.equal(t1.getName(), "test_task");
    await loop.runUntilComplete(t1);
    loop.setTaskFactory((l, coro, options) => new Task(coro, { ...options, loop: l }));
    const t2 = loop.createTask(async () => {}, { name: "test_task" });
    assert.equal(t2.getName(), "test_task");
    await loop.runUntilComplete(t2);
  });
});

describe("getRunningLoop", () => {
  it("throws RuntimeError 'no running event loop' when none runs, saying what to do", () => {
    assert.throws(() => getRunningLoop(), (e: unknown) => {
      assert.ok(e instanceof RuntimeError);
      assert.match((e as Error).message, /^no running event loop — /);
      assert.match((e as Error).message, /Pass the function: run\(main\), not run\(main\(\)\)/);
      return true;
    });
  });

  it("tells run(main()) what to do: main's first sleep() found no loop", async () => {
    async function main(): Promise<void> {
      await sleep(0.01);
    }
    await assert.rejects(run(main()), (e: unknown) => {
      assert.ok(e instanceof RuntimeError);
      assert.match((e as Error).message, /did you call an async function outside run\(\)\? Pass the function: run\(main\), not run\(main\(\)\)/);
      return true;
    });
  });

  it("is the loop, in tasks and in callbacks, while it runs; not after", async () => {
    const loop = new TestLoop();
    const seen: EventLoop[] = [];
    loop.callSoon(() => seen.push(getRunningLoop()));
    await loop.runUntilComplete(async () => {
      seen.push(getRunningLoop());
      await sleep(0);
    });
    assert.deepEqual(seen, [loop, loop]);
    assert.throws(() => getRunningLoop(), RuntimeError);
  });

  // CPython: test_base_events.py RunningLoopTests.test_running_loop_within_a_loop
  it("there is one: running a second loop inside the first is a RuntimeError", async () => {
    const loop = new TestLoop();
    const outer = new TestLoop();
    await assert.rejects(
      outer.runUntilComplete(async () => {
        await loop.runForever();
      }),
      (e: unknown) => {
        assert.ok(e instanceof RuntimeError);
        assert.match((e as Error).message, /while another loop is running/);
        return true;
      },
    );
    await assert.rejects(outer.runUntilComplete(() => loop.runUntilComplete(async () => 1)), RuntimeError);
    assert.equal(loop.isRunning(), false);
    loop.close();
    outer.close();
  });
});

describe("newEventLoop", () => {
  it("makes a loop that is not running", async () => {
    const loop = newEventLoop();
    assert.ok(loop instanceof EventLoop);
    assert.equal(loop.isRunning(), false);
    assert.equal(loop.isClosed(), false);
    assert.equal(loop.getDebug(), false);
    assert.equal(await loop.runUntilComplete(async () => 3), 3);
    loop.close();
    assert.equal(newEventLoop({ debug: true }).getDebug(), true);
  });
});

describe("debug mode and slow callbacks", () => {
  // CPython: test_base_events.py BaseEventLoopTests.test_set_debug
  it("setDebug turns debug mode on and off", () => {
    const loop = new TestLoop();
    assert.equal(loop.getDebug(), false);
    loop.setDebug(true);
    assert.equal(loop.getDebug(), true);
    loop.setDebug(false);
    assert.equal(loop.getDebug(), false);
  });

  it("slowCallbackDuration is 0.1 seconds by default and settable", () => {
    const loop = new TestLoop();
    assert.equal(loop.slowCallbackDuration, 0.1);
    loop.slowCallbackDuration = 1.5;
    assert.equal(loop.slowCallbackDuration, 1.5);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_log_slow_callbacks
  it("logs a callback and a task step slower than slowCallbackDuration", async () => {
    const loop = new TestLoop({ debug: true });
    loop.slowCallbackDuration = 0;
    const warnings = await consoleWarnings(async () => {
      loop.callSoon(function stopLoopCb() {
        loop.stop();
      });
      await loop.runForever();
    });
    assert.ok(
      warnings.some((w) => /^Executing <Handle.*stopLoopCb.*> took .* seconds$/.test(w)),
      warnings.join("\n"),
    );

    const taskWarnings = await consoleWarnings(async () => {
      loop.createTask(async function stopLoopCoro() {
        loop.stop();
      });
      await loop.runForever();
    });
    assert.ok(
      // `…:12:5)` closes the frame's parentheses, when it names a function (Deno's may not).
      taskWarnings.some((w) => /^Executing <Task.*stopLoopCoro.*> \(created at .*loop\.test\.ts:\d+:\d+\)?\) took .* seconds$/.test(w)),
      taskWarnings.join("\n"),
    );
  });

  it("names the task and where its code is when a step after an await is slow", async () => {
    const loop = new TestLoop({ debug: true });
    loop.slowCallbackDuration = 0.01;
    const warnings = await consoleWarnings(async () => {
      await loop.runUntilComplete(
        loop.createTask(
          async function crunch() {
            await sleep(0);
            const end = performance.now() + 20;
            while (performance.now() < end) {
              // block the loop for 20 ms after the await
            }
          },
          { name: "cruncher" },
        ),
      );
    });
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0]!,
      /^Executing <Future finished result=undefined> in task 'cruncher' \(coro crunch, created at .*loop\.test\.ts:\d+:\d+\)?\) took (?:0\.0[1-9]|0\.[1-9]|[1-9])\d*(?:\.\d+)? seconds$/, // at least the 10 ms it blocked (a loaded machine adds more)
    );
  });

  it("does not log fast callbacks, nor anything outside debug mode", async () => {
    const debugLoop = new TestLoop({ debug: true });
    const quiet = await consoleWarnings(async () => {
      debugLoop.callSoon(() => {});
      await runBriefly(debugLoop);
    });
    assert.deepEqual(quiet, []);

    const loop = new TestLoop();
    loop.slowCallbackDuration = 0;
    const off = await consoleWarnings(async () => {
      loop.callSoon(() => {});
      await runBriefly(loop);
    });
    assert.deepEqual(off, []);
  });

  it("logs a callback that blocks longer than the threshold", async () => {
    const loop = new TestLoop({ debug: true });
    loop.slowCallbackDuration = 0.01;
    const warnings = await consoleWarnings(async () => {
      loop.callSoon(function busy() {
        const end = performance.now() + 20;
        while (performance.now() < end) {
          // block the loop for 20 ms
        }
      });
      await runBriefly(loop);
    });
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0]!, /^Executing <Handle busy\(\)> took (?:0\.0[2-9]|0\.[1-9]|[1-9])\d*(?:\.\d+)? seconds$/); // at least the 20 ms it blocked
  });

  it("runs with debug on from runTest and run options", async () => {
    assert.equal(await runTest(async () => getRunningLoop().getDebug(), { debug: true }), true);
  });
});

describe("shutdownAsyncgens and shutdownDefaultExecutor", () => {
  // (JavaScript has no hook telling a library when an async generator starts, so there is
  // nothing for shutdownAsyncgens to close; CPython's asyncgen finalization tests do not apply.)
  it("shutdownAsyncgens resolves, and rejects on a closed loop", async () => {
    const loop = new TestLoop();
    await loop.runUntilComplete(() => loop.shutdownAsyncgens());
    loop.close();
    await assert.rejects(loop.shutdownAsyncgens(), { name: "RuntimeError", message: "Event loop is closed" });
  });

  it("shutdownDefaultExecutor resolves at once when no executor was made", async () => {
    const loop = new TestLoop();
    await loop.runUntilComplete(() => loop.shutdownDefaultExecutor());
    await loop.runUntilComplete(() => loop.shutdownDefaultExecutor(0.1));
    loop.close();
  });
});

describe("iterations and Node's own loop", () => {
  // Real clock: what is measured is how the loop shares Node's event loop.
  it("lets a Node timer fire while a task keeps yielding with sleep(0)", async () => {
    await run(async () => {
      let fired = false;
      setTimeout(() => {
        fired = true;
      }, 1);
      let iterations = 0;
      while (!fired) {
        await sleep(0);
        if (++iterations > 1_000_000) assert.fail("the task starved Node's timer");
      }
    });
  });

  it("runs several iterations per turn of Node's loop, and gives Node a turn at least every 64", async () => {
    await run(async () => {
      let turns = 0;
      let counting = true;
      const tick = (): void => {
        turns++;
        if (counting) setImmediate(tick);
      };
      setImmediate(tick);
      for (let i = 0; i < 640; i++) await sleep(0);
      counting = false;
      assert.ok(turns >= 640 / 64 - 1, `only ${turns} turns of Node's loop in 640 iterations`);
      assert.ok(turns < 320, `${turns} turns of Node's loop in 640 iterations: iterations are not chained`);
    });
  });
});
