// currentTask() and allTasks(), and the loop's strong hold on running tasks.
// Ported from CPython's Lib/test/test_asyncio/test_tasks.py (BaseTaskTests,
// BaseCurrentLoopTests) and test_eager_task_factory.py, plus asyncio-ts's own rules
// (`currentTask()` is null in a plain loop callback; `run()` makes exactly one task for main).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import {
  Context,
  type Task,
  allTasks,
  createTask,
  currentTask,
  getRunningLoop,
  run,
  sleep,
} from "../../src/index.js";
import { TestLoop, runTest } from "../../src/testing.js";
import { schedule } from "../../src/transports/util.js";
import { captureExceptions, collectGarbage } from "../support/core.js";

describe("currentTask", () => {
  // CPython: test_tasks.py BaseTaskTests.test_current_task
  it("is the task whose code runs, and null outside it", async () => {
    const loop = new TestLoop();
    assert.equal(currentTask(loop), null);
    const task: Task<void> = loop.createTask(async () => {
      assert.equal(currentTask(), task);
      assert.equal(currentTask(undefined), task);
      assert.equal(currentTask(loop), task);
    });
    await loop.runUntilComplete(task);
    assert.equal(currentTask(loop), null);
  });

  // CPython: test_tasks.py BaseCurrentLoopTests.test_current_task_no_running_loop_implicit
  // (CPython raises RuntimeError with no running loop; here currentTask() is documented as
  // null outside any task, "code before run()" included)
  it("is null with no loop running", () => {
    assert.equal(currentTask(), null);
  });

  it("is null when asked about another loop", async () => {
    const other = new TestLoop();
    await runTest(async () => {
      assert.notEqual(currentTask(), null);
      assert.equal(currentTask(other), null);
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_current_task_with_interleaving_tasks
  it("follows interleaving tasks across their awaits", async () => {
    const loop = new TestLoop();
    const fut1 = loop.createFuture<boolean>();
    const fut2 = loop.createFuture<boolean>();
    const task1: Task<void> = loop.createTask(async () => {
      assert.equal(currentTask(), task1);
      await fut1;
      assert.equal(currentTask(), task1);
      fut2.setResult(true);
    });
    const task2: Task<void> = loop.createTask(async () => {
      assert.equal(currentTask(), task2);
      fut1.setResult(true);
      await fut2;
      assert.equal(currentTask(), task2);
    });
    await loop.runUntilComplete(async () => {
      await task1;
      await task2;
    });
    assert.equal(currentTask(loop), null);
  });

  it("is the task inside the plain async functions, Promise.all and async generators it runs", async () => {
    await runTest(async () => {
      const me = currentTask();
      assert.notEqual(me, null);
      // (Results are compared, not returned: an async function returning a task awaits it.)
      async function nested(): Promise<boolean> {
        await sleep(0);
        await Promise.resolve();
        return currentTask() === me;
      }
      assert.deepEqual(await Promise.all([nested(), nested()]), [true, true]);
      async function* gen(): AsyncGenerator<boolean> {
        await sleep(0);
        yield currentTask() === me;
      }
      for await (const same of gen()) assert.equal(same, true);
      await delay(1); // a foreign await keeps the task too
      assert.equal(currentTask(), me);
    });
  });

  it("is null in a plain callSoon, callLater and done callback", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const seen: unknown[] = [];
      loop.callSoon(() => seen.push(currentTask()));
      loop.callLater(0.5, () => seen.push(currentTask()));
      const fut = loop.createFuture<void>();
      fut.addDoneCallback(() => seen.push(currentTask()));
      fut.setResult();
      await sleep(1);
      assert.deepEqual(seen, [null, null, null]);
      assert.notEqual(currentTask(), null);
    });
  });

  it("is null in a callSoon made by a task's code between iterations (after a foreign await)", async () => {
    // The task's code resumes from a Node timer, outside any iteration of the loop, and asks for
    // one: the iteration starts from inside the task's frame. A handle enters the context it was
    // made with, so this holds whatever the iteration does; the next test pins the iteration.
    await runTest(async () => {
      const loop = getRunningLoop();
      const me = currentTask();
      const seen: unknown[] = [];
      await delay(1);
      loop.callSoon(() => seen.push(currentTask()));
      await sleep(0.01);
      assert.deepEqual(seen, [null]);
      assert.equal(currentTask(), me);
    });
  });

  it("is null in a transport's scheduled protocol call when a task's code started the iteration", async () => {
    // Transports call protocols through the loop with no context of their own (schedule()); the
    // iteration itself must leave the frame of the code that asked for it.
    await runTest(async () => {
      const loop = getRunningLoop();
      const seen: unknown[] = [];
      await delay(1);
      schedule(loop, () => seen.push(currentTask()));
      await sleep(0.01);
      assert.deepEqual(seen, [null]);
    });
  });

  it("is null in code a task left running after it finished", async () => {
    await runTest(async () => {
      let seen: unknown = "not run";
      const t = createTask(async () => {
        void delay(5).then(() => {
          seen = currentTask();
        });
        return 1;
      });
      await t;
      while (seen === "not run") await delay(1);
      assert.equal(seen, null);
    });
  });

  it("is kept by Context.run inside a task", async () => {
    await runTest(async () => {
      const me = currentTask();
      const same = await new Context().run(async () => {
        await sleep(0);
        return currentTask() === me;
      });
      assert.equal(same, true);
    });
  });
});

describe("allTasks", () => {
  it("holds the tasks not yet done, and not the finished ones", async () => {
    await runTest(async () => {
      const main = currentTask()!;
      const a = createTask(async () => sleep(1));
      const b = createTask(async () => 1);
      assert.deepEqual(allTasks(), new Set([main, a, b]));
      await b;
      assert.deepEqual(allTasks(), new Set([main, a]));
      await a;
      assert.deepEqual(allTasks(), new Set([main]));
    });
  });

  it("can be asked about a loop that is not running", async () => {
    const loop = new TestLoop();
    const t = loop.createTask(async () => 1);
    assert.deepEqual(allTasks(loop), new Set([t]));
    await loop.runUntilComplete(t);
    assert.deepEqual(allTasks(loop), new Set());
  });

  it("throws RuntimeError without a loop argument when no loop runs", () => {
    assert.throws(() => allTasks(), { name: "RuntimeError", message: /^no running event loop — / });
  });

  it("run() makes exactly one task for main", async () => {
    const seen = await run(async () => {
      const tasks = allTasks();
      return [tasks.size, tasks.has(currentTask()!)];
    });
    assert.deepEqual(seen, [1, true]);
  });
});

describe("the loop's hold on tasks", () => {
  // CPython: test_tasks.py BaseTaskTests.test_log_destroyed_pending_task
  // (CPython keeps tasks in a weak set: a pending task nothing refers to is collected and
  // reported as "Task was destroyed but it is pending!". Here the loop holds running tasks
  // strongly, so such a task is never lost.)
  it("keeps a pending task that nothing else refers to", async () => {
    const loop = new TestLoop();
    const seen = captureExceptions(loop);
    let taskRef: WeakRef<Task<void>> | null = null;
    (() => {
      const task = loop.createTask(async () => {
        await loop.createFuture(); // only this task refers to the future
      });
      taskRef = new WeakRef(task);
    })();
    await loop.runUntilComplete(() => sleep(0));
    await collectGarbage();
    assert.notEqual(taskRef!.deref(), undefined);
    assert.equal(allTasks(loop).size, 1);
    assert.deepEqual(seen, []);
  });

  it("lets a task whose only reference is the loop run to completion after a collection", async () => {
    const loop = new TestLoop({ autojump: false });
    let finished = false;
    (() => {
      loop.createTask(async () => {
        await sleep(5);
        finished = true;
      });
    })();
    await loop.runUntilComplete(() => sleep(0));
    await collectGarbage();
    loop.advance(5);
    await loop.runUntilComplete(async () => {
      while (!finished) await sleep(0);
    });
    assert.equal(finished, true);
    assert.equal(allTasks(loop).size, 0);
  });
});
