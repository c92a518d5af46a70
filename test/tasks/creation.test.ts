// Tasks: what createTask accepts, names, repr, getters.
// Ported from CPython's Lib/test/test_asyncio/test_tasks.py (BaseTaskTests).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Context,
  EventLoop,
  Future,
  RuntimeError,
  Task,
  allTasks,
  copyContext,
  coroutine,
  createTask,
  currentTask,
  getRunningLoop,
  sleep,
} from "../../src/index.js";
import { TestLoop, runTest } from "../../src/testing.js";
import { runBriefly } from "../support/core.js";

describe("createTask", () => {
  // CPython: test_tasks.py BaseTaskTests.test_task_class
  it("runs a thunk as a task of the loop and keeps its result", async () => {
    const loop = new TestLoop();
    const t = loop.createTask(async () => "ok");
    assert.ok(t instanceof Task);
    assert.ok(t instanceof Future);
    assert.equal(t.getLoop(), loop);
    assert.equal(await loop.runUntilComplete(t), "ok");
    assert.equal(t.done(), true);
    assert.equal(t.result(), "ok");

    const other = new TestLoop();
    const t2 = other.createTask(async () => "ok");
    assert.equal(t2.getLoop(), other);
    await other.runUntilComplete(t2);
    other.close();
  });

  // CPython: test_tasks.py BaseTaskTests.test_task_basics
  it("runs plain async functions that the thunk awaits, inline", async () => {
    const loop = new TestLoop();
    async function inner1(): Promise<number> {
      return 42;
    }
    async function inner2(): Promise<number> {
      return 1000;
    }
    async function outer(): Promise<number> {
      const a = await inner1();
      const b = await inner2();
      return a + b;
    }
    assert.equal(await loop.runUntilComplete(outer), 1042);
  });

  // CPython: test_tasks.py BaseTaskTests.test_bare_create_task
  it("makes a task of the running loop when called inside it", async () => {
    await runTest(async () => {
      const task = createTask(async () => 1);
      assert.ok(task instanceof Task);
      assert.equal(task.getLoop(), getRunningLoop());
      assert.equal(await task, 1);
    });
  });

  it("throws RuntimeError when no loop is running", () => {
    assert.throws(() => createTask(async () => 1), {
      name: "RuntimeError",
      message: /^no running event loop — /,
    });
  });

  it("does not start the task before the loop runs its first step", async () => {
    await runTest(async () => {
      let started = false;
      const t = createTask(async () => {
        started = true;
      });
      assert.equal(started, false);
      assert.equal(t.done(), false);
      await sleep(0);
      assert.equal(started, true);
    });
  });

  it("works on a loop that is not running; the task starts when it runs", async () => {
    const loop = new EventLoop();
    let started = false;
    const t = loop.createTask(async () => {
      started = true;
      return 5;
    });
    await Promise.resolve();
    assert.equal(started, false);
    assert.equal(await loop.runUntilComplete(t), 5);
    assert.equal(started, true);
    loop.close();
  });

  it("runs a Coroutine object in the new task", async () => {
    await runTest(async () => {
      const work = coroutine(async function work(n: number) {
        return [n, currentTask()?.getName()];
      });
      const t = createTask(work(3), { name: "w" });
      assert.deepEqual(await t, [3, "w"]);
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_step_result_future
  it("follows a Future that the thunk returns", async () => {
    await runTest(async () => {
      const fut = getRunningLoop().createFuture<string>();
      const t = createTask(() => fut);
      await sleep(0);
      assert.equal(t.done(), false);
      fut.setResult("spam");
      assert.equal(await t, "spam");
    });
  });

  it("follows a sleep() that the thunk returns", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const t = createTask(() => sleep(2, "woke"));
      assert.equal(await t, "woke");
      assert.equal(loop.time(), 2);
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_coroutine_non_gen_function_return_future
  it("waits for a future that an async thunk returns (JS adopts returned thenables)", async () => {
    // CPython's task result would be the future itself: `async def f(): return fut`.
    // A JS async function that returns a thenable resolves to the thenable's result instead.
    await runTest(async () => {
      const fut = getRunningLoop().createFuture<string>();
      const t1 = createTask(async () => fut);
      const t2 = createTask(async () => {
        fut.setResult("test");
      });
      assert.equal(await t1, "test");
      assert.equal(t2.result(), undefined);
    });
  });

  it("wraps a Future given directly, following it", async () => {
    await runTest(async () => {
      const fut = getRunningLoop().createFuture<number>();
      const t = createTask(fut);
      assert.notEqual(t as unknown, fut);
      getRunningLoop().callSoon(() => fut.setResult(3));
      assert.equal(await t, 3);
    });
  });

  it("wraps a promise given directly", async () => {
    await runTest(async () => {
      const t = createTask(Promise.resolve(7));
      assert.equal(await t, 7);
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_create_task_with_asynclike_function
  it("wraps any thenable given directly", async () => {
    await runTest(async () => {
      const thenable: PromiseLike<number> = {
        then(onOk) {
          return Promise.resolve(onOk ? onOk(42) : 42) as never;
        },
      };
      for (let i = 0; i < 2; i++) assert.equal(await createTask(thenable), 42);
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_create_task_with_noncoroutine
  it("throws a TypeError at once for something that is neither awaitable nor a thunk", async () => {
    await runTest(async () => {
      for (let i = 0; i < 2; i++) {
        assert.throws(() => createTask(123 as never), (e: unknown) => {
          assert.ok(e instanceof TypeError);
          assert.match((e as Error).message, /^a coroutine was expected, got 123/);
          return true;
        });
      }
      assert.throws(() => createTask("ok" as never), TypeError);
      assert.throws(() => createTask({} as never), TypeError);
      assert.equal(allTasks().size, 1, "no task was left behind");
    });
  });

  it("fails the task when the thunk returns something that is not awaitable", async () => {
    await runTest(async () => {
      const t = createTask((() => 42) as never);
      await assert.rejects(
        (async () => {
          await t;
        })(),
        (e: unknown) => {
          assert.ok(e instanceof TypeError);
          assert.match((e as Error).message, /a thunk must return an awaitable/);
          return true;
        },
      );
    });
  });

  it("fails the task when the thunk throws synchronously", async () => {
    await runTest(async () => {
      const boom = new Error("sync");
      const t = createTask((): Promise<never> => {
        throw boom;
      });
      await assert.rejects(
        (async () => {
          await t;
        })(),
        (e: unknown) => e === boom,
      );
      assert.equal(t.exception(), boom);
    });
  });

  it("rejects options that are not an object with a TypeError naming them", async () => {
    await runTest(async () => {
      assert.throws(() => createTask(async () => 1, 5 as never), /`options` of createTask\(\) must be an options object/);
    });
  });

  it("rejects a context that is not a Context with a TypeError naming it", async () => {
    await runTest(async () => {
      assert.throws(() => createTask(async () => 1, { context: {} as never }), /`context`/);
    });
  });

  it("rejects createTask on a closed loop with RuntimeError", () => {
    const loop = new EventLoop();
    loop.close();
    assert.throws(() => loop.createTask(async () => 1), {
      name: "RuntimeError",
      message: "Event loop is closed",
    });
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_create_task_error_closes_coro
  it("closes a coroutine that a closed loop refused, so it is not reported as never awaited", () => {
    const loop = new EventLoop();
    loop.close();
    const c = coroutine(async function refused() {})();
    assert.throws(() => loop.createTask(c), RuntimeError);
    assert.equal(c.state, "closed");
  });

  // CPython: test_tasks.py BaseTaskTests.test_task_set_methods
  it("refuses setResult and setException: only its coroutine settles a task", async () => {
    const loop = new TestLoop();
    const t = loop.createTask(async () => "ko");
    assert.throws(() => t.setResult("ok"), { name: "RuntimeError", message: /not support set_result/ });
    assert.throws(() => t.setException(new Error()), {
      name: "RuntimeError",
      message: /not support set_exception/,
    });
    assert.equal(await loop.runUntilComplete(t), "ko");
  });

  // CPython: test_tasks.py BaseTaskTests.test_task_awaits_on_itself
  it("fails a task that awaits itself with RuntimeError", async () => {
    const loop = new TestLoop();
    const task: Task<void> = loop.createTask(async () => {
      await task;
    });
    await assert.rejects(loop.runUntilComplete(task), {
      name: "RuntimeError",
      message: /^Task cannot await on itself/,
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_other_loop_future
  it("fails a task that awaits a future of another loop with RuntimeError", async () => {
    const other = new EventLoop();
    const fut = other.createFuture<void>();
    const loop = new TestLoop({ autojump: true });
    const t = loop.createTask(async () => {
      await fut;
    });
    const outcome = await loop.runUntilComplete(async () => {
      await sleep(1);
      return t.done() ? t.exception() : "still pending";
    });
    other.close();
    assert.ok(outcome instanceof RuntimeError, String(outcome));
    assert.match((outcome as Error).message, /^Task .* got Future .* attached to a different loop/);
  });
});

describe("Task names", () => {
  // CPython: test_tasks.py BaseTaskTests.test_task_repr_autogenerated
  it("are Task-N by default, with increasing numbers", async () => {
    const loop = new TestLoop();
    const t1 = loop.createTask(async () => 123);
    const t2 = loop.createTask(async () => 123);
    const n1 = Number(/^Task-(\d+)$/.exec(t1.getName())?.[1]);
    const n2 = Number(/^Task-(\d+)$/.exec(t2.getName())?.[1]);
    assert.ok(n1 > 0 && n2 > n1, `${t1.getName()} then ${t2.getName()}`);
    assert.match(t1.toString(), /^<Task pending name='Task-\d+'/);
    assert.notEqual(t1.toString(), t2.toString());
    await loop.runUntilComplete(t1);
    await loop.runUntilComplete(t2);
  });

  // CPython: test_tasks.py BaseTaskTests.test_bare_create_named_task
  it("can be given with the name option", async () => {
    await runTest(async () => {
      const task = createTask(async () => currentTask()?.getName(), { name: "No-op" });
      assert.equal(task.getName(), "No-op");
      assert.equal(await task, "No-op");
    });
  });

  it("can be changed with setName", async () => {
    await runTest(async () => {
      const task = createTask(async () => {
        await sleep(0);
        return currentTask()?.getName();
      });
      task.setName("renamed");
      assert.equal(task.getName(), "renamed");
      assert.equal(await task, "renamed");
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_task_repr_name_not_str
  it("setName turns a non-string into a string, as str() does", () => {
    const loop = new TestLoop();
    const t = loop.createTask(async () => 1);
    t.setName(123456789 as never);
    assert.equal(t.getName(), "123456789");
    t.cancel();
  });

  // CPython: test_tasks.py BaseTaskTests.test_task_set_name_pylong
  // (CPython str()s any name given to the constructor; the typed option takes strings only)
  it("rejects a name option that is not a string with a TypeError naming it", async () => {
    await runTest(async () => {
      assert.throws(() => createTask(async () => 1, { name: 987654321 as never }), /`name` must be a string/);
    });
  });
});

describe("Task getters", () => {
  // CPython: test_tasks.py BaseTaskTests.test_get_coro
  it("getCoro returns what was given to createTask", async () => {
    const loop = new TestLoop();
    const thunk = async (): Promise<number> => 1;
    const t = loop.createTask(thunk);
    const c = coroutine(async function c() {})();
    const t2 = loop.createTask(c);
    await loop.runUntilComplete(t);
    await loop.runUntilComplete(t2);
    assert.equal(t.getCoro(), thunk);
    assert.equal(t2.getCoro(), c);
  });

  // CPython: test_tasks.py BaseTaskTests.test_get_context
  it("getContext returns the context given to createTask", async () => {
    const loop = new TestLoop();
    const context = copyContext();
    const t = loop.createTask(async () => 1, { context });
    await loop.runUntilComplete(t);
    assert.equal(t.getContext(), context);
  });

  it("getContext returns a fresh copy of the creator's context by default", async () => {
    await runTest(async () => {
      const mine = copyContext();
      const t = createTask(async () => 1);
      assert.ok(t.getContext() instanceof Context);
      assert.notEqual(t.getContext(), mine);
      await t;
    });
  });
});

describe("Task repr", () => {
  // CPython: test_tasks.py BaseTaskTests.test_task_repr
  it("shows state, name, coroutine, result and callbacks", async () => {
    const loop = new TestLoop();
    async function notmuch(): Promise<string> {
      return "abc";
    }
    const t = loop.createTask(notmuch, { name: "TestTask" });
    t.addDoneCallback(function Dummy() {});
    assert.equal(t.toString(), "<Task pending name='TestTask' coro=notmuch cb=[Dummy()]>");
    t.cancel();
    await assert.rejects(loop.runUntilComplete(t), { name: "CancelledError" });
    assert.equal(t.toString(), "<Task cancelled name='TestTask' coro=notmuch>");

    const t2 = loop.createTask(notmuch, { name: "TestTask" });
    await loop.runUntilComplete(t2);
    assert.equal(t2.toString(), "<Task finished name='TestTask' coro=notmuch result='abc'>");
  });

  // CPython: test_tasks.py BaseTaskTests.test_task_repr (the cancelling Task)
  it("shows 'cancelling' in place of 'pending' once cancel() was called", () => {
    const loop = new TestLoop();
    async function notmuch(): Promise<string> {
      return "abc";
    }
    const t = loop.createTask(notmuch, { name: "TestTask" });
    t.cancel();
    assert.equal(t.toString(), "<Task cancelling name='TestTask' coro=notmuch>");
  });

  // CPython: test_tasks.py BaseTaskTests.test_task_repr_wait_for
  it("shows the future the task waits for", async () => {
    const loop = new TestLoop();
    const fut = loop.createFuture<void>();
    const task = loop.createTask(async function waitFor() {
      await fut;
    });
    await runBriefly(loop);
    assert.ok(
      task.toString().endsWith(` wait_for=${fut.toString()}>`),
      `${task.toString()} does not end with wait_for=${fut.toString()}`,
    );
    fut.setResult();
    await loop.runUntilComplete(task);
    assert.doesNotMatch(task.toString(), /wait_for/);
  });
});
