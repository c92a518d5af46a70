// Running, stopping and closing a loop: runUntilComplete, runForever, stop, close, and how the
// loop sits on Node's loop (an idle loop lets the process exit; a pending timer keeps it).
// Ported from CPython's Lib/test/test_asyncio/test_base_events.py (BaseEventLoopTests),
// test_events.py (EventLoopTestsMixin) and test_tasks.py (test_stop_while_run_in_complete).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  EventLoop,
  RuntimeError,
  coroutine,
  createTask,
  getRunningLoop,
  sleep,
} from "../../src/index.js";
import { TestLoop } from "../../src/testing.js";
import { runOnce, runScenario } from "../support/core.js";

function counts(loop: EventLoop): { ready: number; timers: number } {
  const s = loop.toString();
  return {
    ready: Number(/ready=(\d+)/.exec(s)?.[1]),
    timers: Number(/timers=(\d+)/.exec(s)?.[1]),
  };
}

describe("runUntilComplete", () => {
  // CPython: test_events.py EventLoopTestsMixin.test_run_until_complete
  it("resolves to the result once the awaitable is done", async () => {
    const loop = new TestLoop({ autojump: true });
    assert.equal(await loop.runUntilComplete(() => sleep(0.1, "done")), "done");
    assert.equal(loop.time(), 0.1);
    assert.equal(loop.isRunning(), false);
  });

  it("accepts a thunk, a coroutine, a future, a task and a promise", async () => {
    const loop = new TestLoop();
    assert.equal(await loop.runUntilComplete(async () => 1), 1);
    assert.equal(await loop.runUntilComplete(coroutine(async () => 2)()), 2);
    const fut = loop.createFuture<number>();
    loop.callSoon(() => fut.setResult(3));
    assert.equal(await loop.runUntilComplete(fut), 3);
    assert.equal(await loop.runUntilComplete(loop.createTask(async () => 4)), 4);
    assert.equal(await loop.runUntilComplete(Promise.resolve(5)), 5);
    const done = loop.createFuture<number>();
    done.setResult(6);
    assert.equal(await loop.runUntilComplete(done), 6);
  });

  it("rejects with the error of the awaitable", async () => {
    const loop = new TestLoop();
    const boom = new Error("failed");
    await assert.rejects(
      loop.runUntilComplete(async () => {
        throw boom;
      }),
      (e: unknown) => e === boom,
    );
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_run_until_complete_type_error
  it("rejects something that is not awaitable with a TypeError", async () => {
    const loop = new TestLoop();
    await assert.rejects(loop.runUntilComplete("blah" as never), TypeError);
    assert.equal(loop.isRunning(), false);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_run_until_complete_loop
  it("rejects a future of another loop with a RangeError", async () => {
    const loop = new TestLoop();
    const other = new TestLoop();
    await assert.rejects(other.runUntilComplete(loop.createFuture()), RangeError);
  });

  // CPython: test_events.py EventLoopTestsMixin.test_run_until_complete_nesting
  it("rejects with RuntimeError when the loop is already running", async () => {
    const loop = new TestLoop();
    await assert.rejects(
      loop.runUntilComplete(async () => {
        await loop.runUntilComplete(async () => 1);
      }),
      (e: unknown) => {
        assert.ok(e instanceof RuntimeError);
        assert.equal((e as Error).message, "This event loop is already running");
        return true;
      },
    );
  });

  // CPython: test_tasks.py BaseTaskTests.test_stop_while_run_in_complete;
  // test_events.py EventLoopTestsMixin.test_run_until_complete_stopped
  it("rejects with RuntimeError when stop() comes before the future is done", async () => {
    const loop = new TestLoop({ autojump: true });
    let x = 0;
    const t = loop.createTask(async () => {
      while (x < 10) {
        await sleep(0.1);
        x += 1;
        if (x === 2) loop.stop();
      }
    });
    await assert.rejects(loop.runUntilComplete(t), (e: unknown) => {
      assert.ok(e instanceof RuntimeError);
      assert.equal((e as Error).message, "Event loop stopped before Future completed.");
      return true;
    });
    assert.equal(t.done(), false);
    assert.equal(x, 2);
    assert.ok(Math.abs(loop.time() - 0.2) < 1e-9);
    t.cancel();
    await assert.rejects(loop.runUntilComplete(t), CancelledError);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_run_until_complete_loop_orphan_future_close_loop
  it("leaves no stop behind: a future it gave up on does not stop a later run", async () => {
    const loop = new TestLoop({ autojump: true });
    const first = loop.createTask(() => sleep(0.1));
    loop.callSoon(() => loop.stop());
    await assert.rejects(loop.runUntilComplete(first), /Event loop stopped before Future completed/);
    // `first` completes during this run; the second run must not stop with it.
    assert.equal(await loop.runUntilComplete(() => sleep(0.2, "second")), "second");
    assert.equal(first.done(), true);
    assert.ok(Math.abs(loop.time() - 0.2) < 1e-9);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_run_until_complete_baseexception
  it("leaves no stop behind after the awaitable failed", async () => {
    const loop = new TestLoop();
    await assert.rejects(
      loop.runUntilComplete(async () => {
        throw new Error("interrupt");
      }),
    );
    let called = false;
    loop.callSoon(() =>
      loop.callSoon(() => {
        called = true;
        loop.stop();
      }),
    );
    await loop.runForever();
    assert.equal(called, true);
  });
});

describe("runForever and stop", () => {
  // CPython: test_base_events.py BaseEventLoopTests.test_run_once
  it("runs until stop() and resolves then", async () => {
    const loop = new TestLoop();
    let count = 0;
    loop.callSoon(() => count++);
    await runOnce(loop);
    assert.equal(count, 1);
    assert.equal(loop.isRunning(), false);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_run_forever_pre_stopped
  it("runs one iteration when stop() was called before", async () => {
    const loop = new TestLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      log.push("ready before");
      loop.callSoon(() => log.push("scheduled during"));
    });
    loop.stop();
    await loop.runForever();
    assert.deepEqual(log, ["ready before"]);
    await runOnce(loop);
    assert.deepEqual(log, ["ready before", "scheduled during"]);
  });

  it("stop() in a callback finishes the iteration's other callbacks, then stops", async () => {
    const loop = new TestLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      log.push("a");
      loop.stop();
      loop.callSoon(() => log.push("next iteration"));
    });
    loop.callSoon(() => log.push("b"));
    await loop.runForever();
    assert.deepEqual(log, ["a", "b"]);
  });

  it("stop() in a task stops the loop at the end of the iteration", async () => {
    const loop = new TestLoop();
    const log: string[] = [];
    loop.createTask(async () => {
      log.push("task");
      loop.stop();
      loop.callSoon(() => log.push("next iteration"));
      await sleep(0);
      log.push("task resumed");
    });
    loop.callSoon(() => log.push("same iteration"));
    await loop.runForever();
    assert.deepEqual(log, ["task", "same iteration"]);
  });

  it("stop() in a task resumed by the iteration's last callback stops the loop after it", async () => {
    const loop = new TestLoop();
    const log: string[] = [];
    const fut = loop.createFuture<void>();
    loop.createTask(async () => {
      await fut;
      log.push("A");
      loop.stop();
    });
    await runOnce(loop); // the task now waits for fut
    loop.callSoon(() => {
      loop.callSoon(() => {
        log.push("cbX");
        loop.callSoon(() => log.push("cbY"));
      });
      fut.setResult(); // A's wake-up comes after cbX, as the iteration's last item
    });
    await loop.runForever();
    assert.deepEqual(log, ["cbX", "A"]);
  });

  it("a task woken in the final iteration runs while the loop still runs", async () => {
    const loop = new TestLoop({ autojump: true });
    const fut = loop.createFuture<void>();
    const log: string[] = [];
    const worker = loop.createTask(async () => {
      await fut;
      log.push(`resumed, loop running: ${loop.isRunning()}`);
      try {
        await sleep(1);
        log.push("slept");
      } catch (e) {
        log.push(`sleep threw: ${(e as Error).message}`);
      }
    });
    const done = loop.createFuture<string>();
    // One callback finishes what runUntilComplete waits for, then wakes the worker: the
    // next iteration runs the stop callback, then the worker's wake-up, last.
    loop.callSoon(() => {
      done.setResult("finished");
      fut.setResult();
    });
    assert.equal(await loop.runUntilComplete(done), "finished");
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(log, ["resumed, loop running: true"]);
    assert.equal(worker.done(), false, "the worker sleeps, waiting for the next run");
    await loop.runUntilComplete(worker);
    assert.deepEqual(log, ["resumed, loop running: true", "slept"]);
  });

  it("can be run again after stopping, and goes on with pending work", async () => {
    const loop = new TestLoop({ autojump: true });
    const t = loop.createTask(async () => {
      await sleep(1);
      loop.stop();
      await sleep(1);
      return "second half";
    });
    await loop.runForever();
    assert.equal(t.done(), false);
    assert.equal(await loop.runUntilComplete(t), "second half");
    assert.equal(loop.time(), 2);
  });

  it("stop() from outside wakes a loop that waits for a far timer", async () => {
    const loop = new EventLoop();
    loop.callLater(3600, () => {});
    const stopped = loop.runForever();
    const started = performance.now();
    setTimeout(() => loop.stop(), 5);
    await stopped;
    assert.ok(performance.now() - started < 1000);
    loop.close();
  });

  it("refuses to run a loop that runs: RuntimeError", async () => {
    const loop = new TestLoop();
    const first = loop.runForever();
    await assert.rejects(loop.runForever(), (e: unknown) => {
      assert.ok(e instanceof RuntimeError);
      assert.equal((e as Error).message, "This event loop is already running");
      return true;
    });
    loop.stop();
    await first;
  });

  it("isRunning is true while it runs", async () => {
    const loop = new TestLoop();
    assert.equal(loop.isRunning(), false);
    assert.equal(await loop.runUntilComplete(async () => getRunningLoop().isRunning()), true);
    assert.equal(loop.isRunning(), false);
  });
});

describe("close", () => {
  // CPython: test_base_events.py BaseEventLoopTests.test_close
  it("closes once; closing again does nothing; running a closed loop is a RuntimeError", async () => {
    const loop = new TestLoop();
    assert.equal(loop.isClosed(), false);
    loop.close();
    assert.equal(loop.isClosed(), true);
    loop.close();
    loop.close();
    await assert.rejects(loop.runForever(), { name: "RuntimeError", message: "Event loop is closed" });
    await assert.rejects(loop.runUntilComplete(async () => 1), RuntimeError);
    assert.throws(() => loop.createTask(async () => 1), RuntimeError);
  });

  // CPython: test_events.py EventLoopTestsMixin.test_close_running_event_loop
  it("refuses to close a running loop with RuntimeError", async () => {
    const loop = new TestLoop();
    await loop.runUntilComplete(async () => {
      assert.throws(() => loop.close(), (e: unknown) => {
        assert.ok(e instanceof RuntimeError);
        assert.equal((e as Error).message, "Cannot close a running event loop");
        return true;
      });
      createTask(async () => {}).cancel();
    });
    assert.equal(loop.isClosed(), false);
    loop.close();
  });

  it("drops the callbacks and timers still scheduled", () => {
    const loop = new TestLoop();
    loop.callSoon(() => {});
    loop.callLater(5, () => {});
    assert.deepEqual(counts(loop), { ready: 1, timers: 1 });
    loop.close();
    assert.deepEqual(counts(loop), { ready: 0, timers: 0 });
  });
});

describe("the loop on Node's loop (child processes, real time)", () => {
  it("an idle running loop lets the process exit", () => {
    const child = runScenario("idle-exit");
    assert.deepEqual(child.stdout, ["callback ran", "exit, loop running: true"]);
    assert.equal(child.status, 0, child.stderr);
  });

  it("a timer cancelled outside an iteration leaves nothing armed: the process exits", () => {
    const child = runScenario("timer-cancelled-outside");
    assert.deepEqual(child.stdout, ["exit within 5 s: true"]);
    assert.equal(child.status, 0, child.stderr);
  });

  it("timeout scopes closed in a task's last step leave nothing armed: the process exits", () => {
    const child = runScenario("scopes-in-last-step");
    assert.deepEqual(child.stdout, ["scopes done: 499500", "exit within 5 s: true"]);
    assert.equal(child.status, 0, child.stderr);
  });

  it("a pending timer keeps the process alive until it fires", () => {
    const child = runScenario("pending-timer");
    assert.deepEqual(child.stdout, ["timer fired after at least 150 ms: true", "runForever resolved"]);
    assert.equal(child.status, 0, child.stderr);
  });

  it("a sleeping task keeps the process alive until it wakes", () => {
    const child = runScenario("pending-sleep");
    assert.deepEqual(child.stdout, ["result: slept"]);
    assert.equal(child.status, 0, child.stderr);
  });
});
