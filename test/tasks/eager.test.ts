// Eager tasks (3.12): the first step runs inside createTask.
// Ported from CPython's Lib/test/test_asyncio/test_eager_task_factory.py
// (EagerTaskFactoryLoopTests) and test_tasks.py (test_eager_start_true/false).
//
// One difference JavaScript forces: an async function never finishes synchronously (its
// promise settles in a microtask), so an eager task is never done when createTask returns,
// even when its coroutine ran to the end; CPython's can be.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  ContextVar,
  EventLoop,
  Task,
  type TaskOptions,
  allTasks,
  createEagerTaskFactory,
  createTask,
  currentTask,
  eagerTaskFactory,
  getRunningLoop,
  sleep,
} from "../../src/index.js";
import { TestLoop } from "../../src/testing.js";

/** A loop with the eager task factory, as EagerTaskFactoryLoopTests.setUp makes. */
function eagerLoop(): TestLoop {
  const loop = new TestLoop({ autojump: true });
  loop.setTaskFactory(eagerTaskFactory);
  return loop;
}

describe("eagerTaskFactory", () => {
  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests.test_eager_task_factory_set
  it("is installed with setTaskFactory and makes ordinary Tasks", async () => {
    const loop = eagerLoop();
    assert.equal(loop.getTaskFactory(), eagerTaskFactory);
    await loop.runUntilComplete(async () => {
      const t = loop.createTask(async () => {});
      assert.ok(t instanceof Task);
      await t;
    });
  });

  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests.test_eager_completion
  it("runs the coroutine up to its first suspension before createTask returns", async () => {
    const loop = eagerLoop();
    const result = await loop.runUntilComplete(async () => {
      const log: string[] = [];
      const t = loop.createTask(async () => {
        log.push("first step");
        return "hello";
      });
      log.push("createTask returned");
      assert.deepEqual(log, ["first step", "createTask returned"]);
      // CPython: t.done() is true here. JS cannot finish an async function synchronously.
      assert.equal(t.done(), false);
      return await t;
    });
    assert.equal(result, "hello");
  });

  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests.test_await_future_during_eager_step
  it("lets the eager step complete a future that the creator then awaits", async () => {
    const loop = eagerLoop();
    const result = await loop.runUntilComplete(async () => {
      const fut = loop.createFuture<string>();
      loop.createTask(async () => {
        fut.setResult("my message");
      });
      assert.equal(fut.done(), true, "set during the eager step");
      return await fut;
    });
    assert.equal(result, "my message");
  });

  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests.test_block_after_eager_step
  it("continues normally after the task blocks", async () => {
    const loop = eagerLoop();
    const result = await loop.runUntilComplete(async () => {
      const t = loop.createTask(async () => {
        await sleep(0.1);
        return "finished after blocking";
      });
      assert.equal(t.done(), false);
      const r = await t;
      assert.equal(t.done(), true);
      return r;
    });
    assert.equal(result, "finished after blocking");
    assert.equal(loop.time(), 0.1);
  });

  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests.test_cancellation_after_eager_completion
  it("a task whose eager step ran to the end is still cancellable (JS: not done yet)", async () => {
    // CPython: the task is done after its eager step, so cancel() is false and awaiting it
    // gives 'finished without blocking'. Here the coroutine's promise has not settled yet, so
    // the cancel is accepted and, the coroutine having returned, the task ends cancelled.
    const loop = eagerLoop();
    await loop.runUntilComplete(async () => {
      const t = loop.createTask(async () => "finished without blocking");
      assert.equal(t.cancel(), true);
      await assert.rejects((async () => await t)(), CancelledError);
      assert.equal(t.cancelled(), true);
    });
  });

  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests.test_cancellation_after_eager_step_blocks
  it("cancels a task blocked after its eager step, with the message", async () => {
    const loop = eagerLoop();
    await assert.rejects(
      loop.runUntilComplete(async () => {
        const t = loop.createTask(async () => {
          await sleep(0.1);
          return "finished after blocking";
        });
        t.cancel("cancellation message");
        assert.ok(t.cancelling() > 0);
        await t;
      }),
      { name: "CancelledError", message: "cancellation message" },
    );
  });

  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests.test_current_task
  it("makes the new task current during its eager step, and after it blocks", async () => {
    const loop = eagerLoop();
    await loop.runUntilComplete(async () => {
      const creator = currentTask();
      let captured: Task<unknown> | null = null;
      let same: boolean | null = null;
      const t = loop.createTask(async () => {
        captured = currentTask();
        await sleep(0.1);
        same = currentTask() === captured;
      });
      assert.equal(captured, t);
      assert.equal(currentTask(), creator, "the creator is current again after createTask");
      await t;
      assert.equal(same, true);
    });
  });

  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests.test_all_tasks_with_eager_completion
  it("lists the task in allTasks during its eager step, and not once it is done", async () => {
    const loop = eagerLoop();
    await loop.runUntilComplete(async () => {
      let captured: Set<Task<unknown>> | null = null;
      const t = loop.createTask(async () => {
        captured = allTasks();
      });
      assert.ok(captured!.has(t));
      await t;
      assert.equal(allTasks().has(t), false);
    });
  });

  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests.test_all_tasks_with_blocking
  it("lists a blocked eager task in allTasks until it is done", async () => {
    const loop = eagerLoop();
    await loop.runUntilComplete(async () => {
      const fut1 = loop.createFuture<void>();
      const fut2 = loop.createFuture<void>();
      let captured: Set<Task<unknown>> | null = null;
      const t = loop.createTask(async () => {
        captured = allTasks();
        await fut1;
        fut2.setResult();
      });
      assert.ok(captured!.has(t));
      assert.ok(allTasks().has(t));
      fut1.setResult();
      await fut2;
      await t;
      assert.equal(allTasks().has(t), false);
    });
  });

  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests.test_context_vars
  it("runs the eager step in a copy of the creator's context", async () => {
    const loop = eagerLoop();
    const cv = new ContextVar<number>("cv", { default: 0 });
    await loop.runUntilComplete(async () => {
      let firstStepRan = false;
      let secondStepRan = false;
      cv.set(1);
      const t = loop.createTask(async () => {
        assert.equal(cv.get(), 1);
        cv.set(2);
        assert.equal(cv.get(), 2);
        firstStepRan = true;
        await sleep(0.1);
        assert.equal(cv.get(), 2);
        cv.set(3);
        assert.equal(cv.get(), 3);
        secondStepRan = true;
      });
      assert.equal(firstStepRan, true);
      assert.equal(secondStepRan, false);
      assert.equal(cv.get(), 1);
      await t;
      assert.equal(secondStepRan, true);
      assert.equal(cv.get(), 1);
    });
  });

  // CPython: test_eager_task_factory.py CEagerTaskFactoryLoopTests.test_name
  it("gives the task its name before the eager step", async () => {
    const loop = eagerLoop();
    await loop.runUntilComplete(async () => {
      let name: string | undefined;
      const t = loop.createTask(
        async () => {
          name = currentTask()?.getName();
        },
        { name: "test name" },
      );
      assert.equal(name, "test name");
      await t;
    });
  });

  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests.test_eager_start_false
  it("honours eagerStart: false", async () => {
    const loop = eagerLoop();
    await loop.runUntilComplete(async () => {
      let name: string | undefined;
      const t = getRunningLoop().createTask(
        async () => {
          name = currentTask()?.getName();
        },
        { eagerStart: false, name: "example" },
      );
      assert.equal(t.done(), false);
      assert.equal(name, undefined);
      await t;
      assert.equal(name, "example");
    });
  });

  it("schedules normally on a loop that is not running", async () => {
    const loop = eagerLoop();
    let ran = false;
    const t = loop.createTask(async () => {
      ran = true;
    });
    assert.equal(ran, false);
    await loop.runUntilComplete(t);
    assert.equal(ran, true);
  });

  it("keeps a failure of the eager step in the task, not in createTask", async () => {
    const loop = eagerLoop();
    await loop.runUntilComplete(async () => {
      const boom = new Error("eager failure");
      const t = loop.createTask(async () => {
        throw boom;
      });
      await assert.rejects((async () => await t)(), (e: unknown) => e === boom);
    });
  });

  it("makes nested tasks created in an eager step eager too", async () => {
    const loop = eagerLoop();
    await loop.runUntilComplete(async () => {
      const log: string[] = [];
      const outer = createTask(async () => {
        log.push("outer");
        const inner = createTask(async () => {
          log.push("inner");
        });
        log.push("outer after inner");
        await inner;
      });
      log.push("creator");
      assert.deepEqual(log, ["outer", "inner", "outer after inner", "creator"]);
      await outer;
    });
  });
});

describe("createEagerTaskFactory", () => {
  // CPython: test_eager_task_factory.py EagerTaskFactoryLoopTests (Task = a custom class)
  it("makes eager tasks of the given Task class", async () => {
    class MyTask<T> extends Task<T> {}
    const factory = createEagerTaskFactory(MyTask);
    const loop = new TestLoop();
    loop.setTaskFactory(factory);
    await loop.runUntilComplete(async () => {
      let ran = false;
      const t = loop.createTask(async () => {
        ran = true;
      });
      assert.ok(t instanceof MyTask);
      assert.equal(ran, true);
      await t;
    });
  });
});

describe("the eagerStart option", () => {
  // CPython: test_tasks.py BaseTaskTests.test_eager_start_true
  it("runs the first step inside createTask without a factory", async () => {
    const loop = new TestLoop();
    await loop.runUntilComplete(async () => {
      let name: string | undefined;
      const t = createTask(
        async () => {
          name = currentTask()?.getName();
        },
        { eagerStart: true, name: "example" },
      );
      assert.equal(name, "example");
      await t;
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_eager_start_false
  it("is off by default", async () => {
    const loop = new TestLoop();
    await loop.runUntilComplete(async () => {
      let name: string | undefined;
      const t = createTask(
        async () => {
          name = currentTask()?.getName();
        },
        { name: "example" } satisfies TaskOptions,
      );
      assert.equal(t.done(), false);
      assert.equal(name, undefined);
      await t;
      assert.equal(name, "example");
    });
  });

  it("is ignored on a loop that is not running", async () => {
    const loop = new EventLoop();
    let ran = false;
    const t = loop.createTask(
      async () => {
        ran = true;
      },
      { eagerStart: true },
    );
    assert.equal(ran, false);
    await loop.runUntilComplete(t);
    assert.equal(ran, true);
    loop.close();
  });
});
