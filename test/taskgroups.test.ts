// Task groups, ported from CPython 3.14's Lib/test/test_asyncio/test_taskgroups.py. As CPython
// runs BaseTestTaskGroup twice (TestTaskGroup and TestEagerTaskTaskGroup), every test here runs
// with the default task factory and with eagerTaskFactory. Virtual time throughout.
//
// `async with TaskGroup() as g:` is `await taskGroup(async (g) => …)` here.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  Coroutine,
  ContextVar,
  ExceptionGroup,
  RuntimeError,
  type Task,
  TaskGroup,
  TimeoutError,
  copyContext,
  coroutine,
  createTask,
  currentTask,
  eagerTaskFactory,
  getRunningLoop,
  isCancelledError,
  sleep,
  taskGroup,
  timeout,
} from "../src/index.js";
import { runTest } from "../src/testing.js";
import { ValueError, ZeroDivisionError, caught } from "./support/errors.js";
import { COLLECTOR_CHECK, unsupportedOn } from "./support/runtime.js";

class MyExc extends Error {
  override name = "MyExc";
}
class TypeErrorLike extends Error {
  override name = "TypeErrorLike";
}

/** The classes of the errors in a group (CPython's get_error_types). */
function errorTypes(eg: unknown): Set<unknown> {
  assert.ok(eg instanceof ExceptionGroup, `expected an ExceptionGroup, got ${String(eg)}`);
  return new Set(eg.errors.map((e) => (e as object).constructor));
}

function divideByZero(): never {
  throw new ZeroDivisionError("division by zero");
}

/** How many tasks the group holds, read from its repr (`<TaskGroup tasks=3 entered>`). */
function groupSize(tg: TaskGroup): number {
  return Number(/tasks=(\d+)/.exec(String(tg))?.[1] ?? 0);
}

type Variant = "lazy" | "eager";

/** Declares `name` for both task factories, as CPython's two TestCase classes do. */
function both(name: string, body: (variant: Variant) => Promise<void>): void {
  for (const variant of ["lazy", "eager"] as const) {
    it(`${name} [${variant} tasks]`, () =>
      runTest(async () => {
        if (variant === "eager") getRunningLoop().setTaskFactory(eagerTaskFactory);
        await body(variant);
      }));
  }
}

describe("taskGroup()", () => {
  both("waits for every task and leaves their results on them", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_01
    const foo1 = async (): Promise<number> => {
      await sleep(0.1);
      return 42;
    };
    const foo2 = async (): Promise<number> => {
      await sleep(0.2);
      return 11;
    };
    let t1!: Task<number>, t2!: Task<number>;
    await taskGroup((g) => {
      t1 = g.createTask(foo1);
      t2 = g.createTask(foo2);
    });
    assert.equal(t1.result(), 42);
    assert.equal(t2.result(), 11);
    assert.equal(getRunningLoop().time(), 0.2);
  });

  both("cancels the tasks still running in the order they were created, after tasks left from the middle and both ends", async () => {
    // The group keeps its live tasks in a list that tasks leave as they end: the abort must
    // reach every task left, each once, in creation order.
    const cancelled: number[] = [];
    const sizes: number[] = [];
    const err = await caught(() =>
      taskGroup(async (g) => {
        for (let i = 0; i < 7; i++) {
          g.createTask(async () => {
            if (i === 0 || i === 3 || i === 6) return; // leave from the first, the middle, the last place
            try {
              await sleep(10);
            } catch (error) {
              if (isCancelledError(error)) cancelled.push(i);
              throw error;
            }
          });
        }
        await sleep(1);
        sizes.push(groupSize(g));
        g.createTask(async () => {
          divideByZero();
        });
        await sleep(0);
      }),
    );
    assert.deepEqual(errorTypes(err), new Set([ZeroDivisionError]));
    assert.deepEqual(sizes, [4]);
    assert.deepEqual(cancelled, [1, 2, 4, 5]);
    assert.equal(getRunningLoop().time(), 1);
  });

  both("takes tasks created while the body awaits", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_02
    let t1!: Task<number>, t2!: Task<number>;
    await taskGroup(async (g) => {
      t1 = g.createTask(async () => {
        await sleep(0.1);
        return 42;
      });
      await sleep(0.15);
      t2 = g.createTask(async () => {
        await sleep(0.2);
        return 11;
      });
    });
    assert.equal(t1.result(), 42);
    assert.equal(t2.result(), 11);
    assert.equal(getRunningLoop().time(), 0.35);
  });

  both("carries on when a task of the group is cancelled explicitly", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_03
    let t1!: Task<number>, t2!: Task<number>;
    await taskGroup(async (g) => {
      t1 = g.createTask(async () => {
        await sleep(1);
        return 42;
      });
      await sleep(0.15);
      t1.cancel();
      t2 = g.createTask(async () => {
        await sleep(0.2);
        return 11;
      });
    });
    assert.equal(t1.cancelled(), true);
    assert.equal(t2.result(), 11);
  });

  both("cancels the other tasks on a failure and raises an ExceptionGroup", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_04
    let num = 0;
    let t2Cancel = false;
    let t2!: Task<void>;
    const runner = async (): Promise<void> => {
      await taskGroup((g) => {
        g.createTask(async () => {
          await sleep(0.1);
          divideByZero();
        });
        t2 = g.createTask(async () => {
          try {
            await sleep(1);
          } catch (e) {
            t2Cancel = isCancelledError(e);
            throw e;
          }
          num += 1;
        });
      });
      num += 10;
    };
    const eg = await caught(() => createTask(runner));
    assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
    assert.equal(num, 0);
    assert.equal(t2Cancel, true);
    assert.equal(t2.cancelled(), true);
  });

  both("cancels the rest of the children and the body when a child fails", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_cancel_children_on_child_error
    let num = 0;
    let t2Cancel = false;
    let runnerCancel = false;
    const foo1 = async (): Promise<void> => {
      await sleep(0.1);
      divideByZero();
    };
    const runner = async (): Promise<void> => {
      await taskGroup(async (g) => {
        g.createTask(foo1);
        g.createTask(foo1);
        g.createTask(foo1);
        g.createTask(async () => {
          try {
            await sleep(5);
          } catch (e) {
            t2Cancel = isCancelledError(e);
            throw e;
          }
          num += 1;
        });
        try {
          await sleep(10);
        } catch (e) {
          runnerCancel = isCancelledError(e);
          throw e;
        }
      });
      num += 10;
    };
    const eg = await caught(() => createTask(runner));
    assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
    // The three foo1 fail at the same time: all three errors are in the group.
    assert.equal((eg as ExceptionGroup).errors.length, 3);
    assert.equal(num, 0);
    assert.equal(t2Cancel, true);
    assert.equal(runnerCancel, true);
  });

  both("cancels every task when the task running the group is cancelled", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_cancellation
    let num = 0;
    const foo = async (): Promise<void> => {
      try {
        await sleep(5);
      } catch (e) {
        num += 1;
        throw e;
      }
    };
    const r = createTask(() =>
      taskGroup((g) => {
        for (let i = 0; i < 5; i++) g.createTask(foo);
      }),
    );
    await sleep(0.1);
    assert.equal(r.done(), false);
    r.cancel("test");
    const error = await caught(() => r);
    assert.ok(error instanceof CancelledError);
    assert.equal(error.message, "test");
    assert.equal(num, 5);
  });

  both("cancels the body and the tasks when the task running the group is cancelled", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_07
    let num = 0;
    const foo = async (): Promise<void> => {
      try {
        await sleep(5);
      } catch (e) {
        num += 1;
        throw e;
      }
    };
    const r = createTask(() =>
      taskGroup(async (g) => {
        for (let i = 0; i < 5; i++) g.createTask(foo);
        try {
          await sleep(10);
        } catch (e) {
          num += 10;
          throw e;
        }
      }),
    );
    await sleep(0.1);
    assert.equal(r.done(), false);
    r.cancel();
    assert.ok((await caught(() => r)) instanceof CancelledError);
    assert.equal(num, 15);
  });

  both("raises the errors of tasks that fail while being cancelled, not the cancellation", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_08 (3.12+: errors win)
    const foo = async (): Promise<void> => {
      try {
        await sleep(10);
      } finally {
        divideByZero();
      }
    };
    const r = createTask(() =>
      taskGroup(async (g) => {
        for (let i = 0; i < 5; i++) g.createTask(foo);
        await sleep(10);
      }),
    );
    await sleep(0.1);
    assert.equal(r.done(), false);
    r.cancel();
    const eg = await caught(() => r);
    assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
    // The cancel is not lost: the task that ran the group still has it pending.
    assert.equal(r.cancelling(), 1);
  });

  both("lets a cancel of the running task through when only the body was waiting", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_cancellation_in_body
    const foo = async (): Promise<void> => {
      await sleep(0.1);
      divideByZero();
    };
    const r = createTask(() =>
      taskGroup(async (g) => {
        for (let i = 0; i < 5; i++) g.createTask(foo);
        await sleep(10);
      }),
    );
    // CPython sleeps 0.1 here too, but on a real clock the tasks' deadlines come a little
    // later than this one; on the virtual clock they would be equal, so cancel just before.
    await sleep(0.05);
    assert.equal(r.done(), false);
    r.cancel("test");
    const error = await caught(() => r);
    assert.ok(error instanceof CancelledError);
    assert.equal(error.message, "test");
  });

  both("cancels the tasks when the body fails after an await", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_09
    let t1!: Task<number>, t2!: Task<number>;
    const eg = await caught(() =>
      taskGroup(async (g) => {
        t1 = g.createTask(async () => {
          await sleep(1);
          return 42;
        });
        t2 = g.createTask(async () => {
          await sleep(2);
          return 11;
        });
        await sleep(0.1);
        divideByZero();
      }),
    );
    assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
    assert.equal(t1.cancelled(), true);
    assert.equal(t2.cancelled(), true);
  });

  both("cancels the tasks when the body fails at once", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_10
    let t1!: Task<number>, t2!: Task<number>;
    const eg = await caught(() =>
      taskGroup((g) => {
        t1 = g.createTask(async () => {
          await sleep(1);
          return 42;
        });
        t2 = g.createTask(async () => {
          await sleep(2);
          return 11;
        });
        divideByZero();
      }),
    );
    assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
    assert.equal(t1.cancelled(), true);
    assert.equal(t2.cancelled(), true);
  });

  both("nests the ExceptionGroup of an inner group in the outer one", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_11
    const foo = async (): Promise<void> => {
      try {
        await sleep(10);
      } finally {
        divideByZero();
      }
    };
    const r = createTask(() =>
      taskGroup(() =>
        taskGroup(async (g2) => {
          for (let i = 0; i < 5; i++) g2.createTask(foo);
          await sleep(10);
        }),
      ),
    );
    await sleep(0.1);
    assert.equal(r.done(), false);
    r.cancel();
    const eg = await caught(() => r);
    assert.deepEqual(errorTypes(eg), new Set([ExceptionGroup]));
    assert.deepEqual(errorTypes((eg as ExceptionGroup).errors[0]), new Set([ZeroDivisionError]));
  });

  both("nests the inner group's errors when the outer group also has tasks", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_12
    const foo = async (): Promise<void> => {
      try {
        await sleep(10);
      } finally {
        divideByZero();
      }
    };
    const r = createTask(() =>
      taskGroup((g1) => {
        g1.createTask(() => sleep(10));
        return taskGroup(async (g2) => {
          for (let i = 0; i < 5; i++) g2.createTask(foo);
          await sleep(10);
        });
      }),
    );
    await sleep(0.1);
    assert.equal(r.done(), false);
    r.cancel();
    const eg = await caught(() => r);
    assert.deepEqual(errorTypes(eg), new Set([ExceptionGroup]));
    assert.deepEqual(errorTypes((eg as ExceptionGroup).errors[0]), new Set([ZeroDivisionError]));
  });

  const crashAfter = (t: number) => async (): Promise<never> => {
    await sleep(t);
    throw new ValueError(String(t));
  };

  both("raises the outer task's error when it fails while an inner group runs", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_13
    const eg = await caught(() =>
      createTask(() =>
        taskGroup((g1) => {
          g1.createTask(crashAfter(0.1));
          return taskGroup((g2) => {
            g2.createTask(crashAfter(10));
          });
        }),
      ),
    );
    assert.deepEqual(errorTypes(eg), new Set([ValueError]));
  });

  both("wraps the inner group's ExceptionGroup when an inner task fails first", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_14
    const eg = await caught(() =>
      createTask(() =>
        taskGroup((g1) => {
          g1.createTask(crashAfter(10));
          return taskGroup((g2) => {
            g2.createTask(crashAfter(0.1));
          });
        }),
      ),
    );
    assert.deepEqual(errorTypes(eg), new Set([ExceptionGroup]));
    assert.deepEqual(errorTypes((eg as ExceptionGroup).errors[0]), new Set([ValueError]));
  });

  both("raises a task error that comes while the body handles an outside cancel", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_15 (3.12+: errors win)
    const crashSoon = async (): Promise<void> => {
      await sleep(0.3);
      divideByZero();
    };
    const r = createTask(() =>
      taskGroup(async (g1) => {
        g1.createTask(crashSoon);
        try {
          await sleep(10);
        } catch (e) {
          await sleep(0.5);
          throw e;
        }
      }),
    );
    await sleep(0.1);
    assert.equal(r.done(), false);
    r.cancel();
    const eg = await caught(() => r);
    assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
  });

  both("raises a task error through a task awaiting the group's task", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_16
    const crashSoon = async (): Promise<void> => {
      await sleep(0.3);
      divideByZero();
    };
    const nestedRunner = (): Promise<void> =>
      taskGroup(async (g1) => {
        g1.createTask(crashSoon);
        try {
          await sleep(10);
        } catch (e) {
          await sleep(0.5);
          throw e;
        }
      });
    const r = createTask(async () => {
      const t = createTask(nestedRunner);
      await t;
    });
    await sleep(0.1);
    assert.equal(r.done(), false);
    r.cancel();
    const eg = await caught(() => r);
    assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
  });

  both("propagates the cancellation of a group with no tasks", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_17
    let num = 0;
    const r = createTask(() =>
      taskGroup(async () => {
        try {
          await sleep(10);
        } catch (e) {
          num += 10;
          throw e;
        }
      }),
    );
    await sleep(0.1);
    assert.equal(r.done(), false);
    r.cancel();
    assert.ok((await caught(() => r)) instanceof CancelledError);
    assert.equal(num, 10);
  });

  both("raises an error the body threw instead of its cancellation", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_18
    let num = 0;
    const r = createTask(() =>
      taskGroup(async () => {
        try {
          await sleep(10);
        } catch {
          num += 10;
          // This isn't a good idea, but we have to support this weird case.
          throw new MyExc();
        }
      }),
    );
    await sleep(0.1);
    assert.equal(r.done(), false);
    r.cancel();
    const eg = await caught(() => r);
    assert.deepEqual(errorTypes(eg), new Set([MyExc]));
    assert.equal(num, 10);
  });

  both("collects the body's error and the tasks' errors in one group", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_19
    const crashSoon = async (): Promise<void> => {
      await sleep(0.1);
      divideByZero();
    };
    const nested = async (): Promise<void> => {
      try {
        await sleep(10);
      } finally {
        // eslint-disable-next-line no-unsafe-finally
        throw new MyExc();
      }
    };
    const eg = await caught(() =>
      createTask(() =>
        taskGroup(async (g) => {
          g.createTask(crashSoon);
          await nested();
        }),
      ),
    );
    assert.deepEqual(errorTypes(eg), new Set([MyExc, ZeroDivisionError]));
  });

  both("collects a body error raised in cleanup with the task error that caused it", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_21a, with an ordinary
    // error (JS has no BaseException; test_taskgroup_20/20a/21 are about KeyboardInterrupt and
    // BaseExceptionGroup, which have no JS counterpart).
    const crashSoon = async (): Promise<void> => {
      await sleep(0.1);
      throw new MyExc();
    };
    const nested = async (): Promise<void> => {
      try {
        await sleep(10);
      } finally {
        // eslint-disable-next-line no-unsafe-finally
        throw new TypeErrorLike();
      }
    };
    const eg = await caught(() =>
      taskGroup(async (g) => {
        g.createTask(crashSoon);
        await nested();
      }),
    );
    assert.deepEqual(errorTypes(eg), new Set([MyExc, TypeErrorLike]));
  });

  both("is cancelled while its tasks still run", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_22
    const r = createTask(() =>
      taskGroup((g) => {
        g.createTask(() => sleep(1, 42));
        g.createTask(() => sleep(2, 11));
      }),
    );
    await sleep(0.05);
    r.cancel();
    assert.ok((await caught(() => r)) instanceof CancelledError);
  });

  both("forgets tasks as they finish", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_23
    await taskGroup(async (g) => {
      for (let count = 0; count < 10; count++) {
        await sleep(0.1);
        g.createTask(() => sleep(0.3));
        if (count === 5) assert.ok(groupSize(g) < 5);
      }
      await sleep(1.35);
      assert.equal(groupSize(g), 0);
    });
  });

  both("takes tasks created by its own tasks", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_24
    const coro1 = (delay: number) => () => sleep(delay);
    const done: number[] = [];
    await taskGroup((g) => {
      g.createTask(async () => {
        await sleep(0.1);
        g.createTask(coro1(0.1)).addDoneCallback(() => done.push(0.1));
        g.createTask(coro1(0.2)).addDoneCallback(() => done.push(0.2));
      });
    });
    assert.deepEqual(done, [0.1, 0.2]);
    assert.equal(getRunningLoop().time(), 0.30000000000000004);
  });

  both("stops tasks that keep creating tasks when one fails", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_25
    let nhydras = 0;
    const hydra = (g: TaskGroup) => async (): Promise<void> => {
      nhydras += 1;
      await sleep(0.01);
      g.createTask(hydra(g));
      g.createTask(hydra(g));
    };
    const hercules = async (): Promise<void> => {
      while (nhydras < 10) await sleep(0.015);
      divideByZero();
    };
    const eg = await caught(() =>
      taskGroup((g) => {
        g.createTask(hydra(g));
        g.createTask(hercules);
      }),
    );
    assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
    assert.ok(nhydras >= 10);
  });

  both("names its tasks as asked", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_task_name and test_name
    let name: string | undefined;
    await taskGroup((g) => {
      const t = g.createTask(
        async () => {
          name = currentTask()?.getName();
          await sleep(0);
        },
        { name: "yolo" },
      );
      assert.equal(t.getName(), "yolo");
    });
    assert.equal(name, "yolo");
  });

  both("runs a task in the context it is given", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_task_context
    const cvar = new ContextVar<number>("cvar");
    const coro = (val: number) => async (): Promise<void> => {
      await sleep(0);
      cvar.set(val);
    };
    await taskGroup(async (g) => {
      const ctx = copyContext();
      assert.equal(ctx.get(cvar), undefined);
      const t1 = g.createTask(coro(1), { context: ctx });
      await t1;
      assert.equal(ctx.get(cvar), 1);
      const t2 = g.createTask(coro(2), { context: ctx });
      await t2;
      assert.equal(ctx.get(cvar), 2);
    });
  });

  both("refuses new tasks once a task failed", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_no_create_task_after_failure
    let refused: unknown = null;
    const coro1 = async (): Promise<void> => {
      await sleep(0.001);
      divideByZero();
    };
    const eg = await caught(() =>
      taskGroup((g) => {
        g.createTask(coro1);
        g.createTask(async () => {
          try {
            await sleep(1);
          } catch (e) {
            assert.ok(isCancelledError(e));
            const late = coroutine(coro1)();
            try {
              g.createTask(late);
            } catch (err) {
              refused = err;
            }
            assert.equal(late.state, "closed", "the refused coroutine is closed, never run");
          }
        });
      }),
    );
    assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
    assert.ok(refused instanceof RuntimeError);
    assert.match((refused as Error).message, /is shutting down/);
  });

  both("collects an error thrown by cleanup around the body with a task's error", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_context_manager_exit_raises
    // (The asynccontextmanager whose exit raises becomes a finally block in the body.)
    class CustomException extends Error {}
    const main = async (): Promise<void> => {
      const task = currentTask() as Task<unknown>;
      const eg = await caught(() =>
        taskGroup(async (tg) => {
          try {
            tg.createTask(async () => {
              throw new CustomException();
            });
            await sleep(1);
          } finally {
            // eslint-disable-next-line no-unsafe-finally
            throw new CustomException();
          }
        }),
      );
      assert.ok(eg instanceof ExceptionGroup);
      const [match, rest] = eg.split(CustomException);
      assert.equal(rest, null);
      assert.equal(match?.errors.length, 2);
      assert.equal(task.cancelling(), 0);
    };
    await createTask(main);
  });

  both("refuses tasks once it finished, closing the coroutine given", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_finished and
    // test_coro_closed_when_tg_closed
    let group!: TaskGroup;
    await taskGroup((tg) => {
      group = tg;
    });
    const coro = coroutine(async function late() {})();
    assert.throws(() => group.createTask(coro), (e) => e instanceof RuntimeError && /is finished/.test(e.message));
    assert.equal(coro.state, "closed");
    assert.throws(() => group.createTask(() => sleep(0)), /is finished/);
  });

  it("refuses tasks before it is entered", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_not_entered
    await runTest(async () => {
      const tg = new TaskGroup();
      const coro = coroutine(async function c() {})();
      assert.throws(() => tg.createTask(coro), (e) => e instanceof RuntimeError && /has not been entered/.test(e.message));
      assert.equal(coro.state, "closed");
    });
  });

  it("rejects with RuntimeError outside a task", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_taskgroup_without_parent_task
    await runTest(async () => {
      const loop = getRunningLoop();
      const outcome = loop.createFuture<unknown>();
      let ran = false;
      loop.callSoon(() => {
        taskGroup(() => {
          ran = true;
        }).then(
          () => outcome.setResult("resolved"),
          (e: unknown) => outcome.setResult(e),
        );
      });
      const error = await outcome;
      assert.ok(error instanceof RuntimeError);
      assert.match(error.message, /parent task/);
      assert.equal(ran, false);
    });
  });

  both("leaves the cancel count of its task as it was after raising task errors", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_cancelling_level_preserved
    const raiseAfter = (t: number, E: new () => Error) => async (): Promise<never> => {
      await sleep(t);
      throw new E();
    };
    const eg = await caught(() =>
      taskGroup((tg) => {
        tg.createTask(raiseAfter(0, RuntimeError));
      }),
    );
    assert.deepEqual(errorTypes(eg), new Set([RuntimeError]));
    assert.equal(currentTask()?.cancelling(), 0);
  });

  both("keeps the cancel counts right when nested groups both fail", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_nested_groups_both_cancelled
    const raiseAfter = (t: number, E: new () => Error) => async (): Promise<never> => {
      await sleep(t);
      throw new E();
    };
    const outerError = await caught(() =>
      taskGroup(async (outerTg) => {
        const innerError = await caught(() =>
          taskGroup((innerTg) => {
            innerTg.createTask(raiseAfter(0, RuntimeError));
            outerTg.createTask(raiseAfter(0, ValueError));
          }),
        );
        assert.deepEqual(errorTypes(innerError), new Set([RuntimeError]));
        // The outer group's own cancel of this task is still pending.
        assert.equal(currentTask()?.cancelling(), 1);
      }),
    );
    assert.deepEqual(errorTypes(outerError), new Set([ValueError]));
    assert.equal(currentTask()?.cancelling(), 0);
  });

  both("keeps an outside cancel that collided with a task error", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_error_and_cancel
    const loop = getRunningLoop();
    const started = loop.createFuture<void>(); // CPython uses an Event
    let afterGroup = false;
    const inner = async (): Promise<void> => {
      const eg = await caught(() =>
        taskGroup(async (tg) => {
          tg.createTask(async () => {
            started.setResult(undefined);
            await sleep(0);
            throw new RuntimeError();
          });
          await sleep(1);
          assert.fail("Sleep in group should have been cancelled");
        }),
      );
      assert.deepEqual(errorTypes(eg), new Set([RuntimeError]));
      assert.equal(currentTask()?.cancelling(), 1);
      afterGroup = true;
      await sleep(1);
      assert.fail("Sleep after group should have been cancelled");
    };
    const t = createTask(inner);
    await started;
    assert.equal(t.cancelling(), 0);
    t.cancel();
    assert.equal(t.cancelling(), 1);
    assert.ok((await caught(() => t)) instanceof CancelledError);
    assert.equal(t.cancelled(), true);
    assert.equal(afterGroup, true);
  });

  both("cancels a task that is still being created when a task it made fails", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_cancels_task_if_created_during_creation
    // (regression test for gh-128550)
    let ran = false;
    let error: unknown = null;
    try {
      await taskGroup((tg) => {
        const thirdTask = async (): Promise<never> => {
          throw new MyExc("third task failed");
        };
        tg.createTask(async () => {
          tg.createTask(thirdTask);
          const e = await caught(async () => {
            await sleep(0); // eager tasks cancel here
            await sleep(0); // lazy tasks cancel here
          });
          assert.ok(e instanceof CancelledError);
          ran = true;
        });
      });
    } catch (eg) {
      assert.ok(eg instanceof ExceptionGroup);
      error = eg.errors[0];
    }
    assert.equal(ran, true);
    assert.ok(error instanceof MyExc);
  });

  both("does not let its own cancel of the task leak out after it raised", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_cancellation_does_not_leak_out_of_tg
    const eg = await caught(() =>
      taskGroup((tg) => {
        tg.createTask(async () => {
          throw new MyExc();
        });
      }),
    );
    assert.deepEqual(errorTypes(eg), new Set([MyExc]));
    // If the group's cancel leaked, this task would be cancelled here.
    await sleep(0);
    assert.equal(currentTask()?.cancelling(), 0);
  });

  both("lets a timeout around it turn its cancellation into TimeoutError", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_exception_refcycles_propagate_cancellation_error
    // (its reference-cycle check is CPython-specific; the behaviour it runs through is kept).
    const error = await caught(() =>
      timeout(-1, () =>
        taskGroup(async () => {
          await sleep(0);
        }),
      ),
    );
    assert.ok(error instanceof TimeoutError);
    assert.ok(error.cause instanceof CancelledError);
  });

  both("resolves to what the body resolves to", async () => {
    const value = await taskGroup(async (tg) => {
      const t = tg.createTask(() => sleep(0.1, 7));
      return { t };
    });
    assert.equal(value.t.result(), 7);
    assert.equal(await taskGroup(() => "sync"), "sync");
  });

  both("raises a plain error of the body with no tasks as an ExceptionGroup", async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_exception_refcycles_direct (the
    // behaviour: the body's own error comes out in a group).
    const boom = new MyExc();
    const eg = await caught(() =>
      taskGroup(() => {
        throw boom;
      }),
    );
    assert.ok(eg instanceof ExceptionGroup);
    assert.ok(eg instanceof AggregateError);
    assert.deepEqual(eg.errors, [boom]);
    assert.deepEqual(eg.exceptions, [boom]);
    assert.equal(eg.name, "ExceptionGroup");
    assert.match(eg.message, /unhandled errors in a TaskGroup/);
  });

  both("supports split() and subgroup() on the errors it raises", async () => {
    const eg = await caught(() =>
      taskGroup((tg) => {
        tg.createTask(async () => {
          throw new ValueError("v");
        });
        tg.createTask(async () => {
          throw new MyExc("m");
        });
      }),
    );
    assert.ok(eg instanceof ExceptionGroup);
    assert.equal(eg.errors.length, 2);
    const [values, rest] = eg.split(ValueError);
    assert.deepEqual(values?.errors.map((e) => (e as Error).message), ["v"]);
    assert.deepEqual(rest?.errors.map((e) => (e as Error).message), ["m"]);
    assert.equal(eg.subgroup(TypeErrorLike), null);
    assert.deepEqual(eg.subgroup((e) => e instanceof MyExc)?.errors.map((e) => (e as Error).message), ["m"]);
  });

  both("reports a task error that comes after its parent task is done", async () => {
    // The branch of CPython's TaskGroup._on_task_done for a parent already completed ("Not
    // sure if this case is possible"). In JS it is: a task that starts a group without
    // awaiting it, and returns.
    const loop = getRunningLoop();
    const seen: { message: string; exception?: unknown }[] = [];
    loop.setExceptionHandler((_l, ctx) => seen.push(ctx));
    let outcome: unknown = null;
    const parent = createTask(async () => {
      taskGroup((tg) => {
        tg.createTask(async () => {
          await sleep(1);
          throw new MyExc("late");
        });
      }).then(
        () => undefined,
        (e: unknown) => {
          outcome = e;
        },
      );
      return "parent returned";
    });
    assert.equal(await parent, "parent returned");
    await sleep(2);
    assert.equal(seen.length, 1);
    assert.match(seen[0]?.message ?? "", /has errored out but its parent task .* is already completed/);
    assert.ok(seen[0]?.exception instanceof MyExc);
    assert.deepEqual(errorTypes(outcome), new Set([MyExc]));
  });

  it("prints its state as CPython's repr does", async () => {
    await runTest(async () => {
      const tg = new TaskGroup();
      assert.equal(String(tg), "<TaskGroup>");
      let group!: TaskGroup;
      await taskGroup(async (g) => {
        group = g;
        const task = g.createTask(() => sleep(1), { name: "child" });
        assert.equal(String(g), "<TaskGroup tasks=1 entered>");
        // A task of a group names the group's callback, as asyncio's repr does.
        assert.match(String(task), /cb=\[TaskGroup\._on_task_done\(\)\]>$/);
      });
      assert.equal(String(group), "<TaskGroup entered>");
      await taskGroup(async (g) => {
        g.createTask(() => sleep(1));
        g.cancel();
        assert.equal(String(g), "<TaskGroup tasks=1 cancelling>");
      });
    });
  });

  it("lets go of its parent task and its errors once it ended", { skip: unsupportedOn(COLLECTOR_CHECK) }, async () => {
    // CPython: test_taskgroups.py BaseTestTaskGroup.test_exception_refcycles_parent_task_wr and
    // test_exception_refcycles_errors (their refcount checks become a WeakRef check).
    await runTest(async () => {
      let group!: TaskGroup;
      let parentRef!: WeakRef<object>;
      let errorRef!: WeakRef<object>;
      await (async () => {
        const parent = createTask(async () => {
          await taskGroup((tg) => {
            group = tg;
            tg.createTask(async () => {
              const error = new MyExc();
              errorRef = new WeakRef(error);
              throw error;
            });
          });
        });
        parentRef = new WeakRef(parent);
        await parent.then(
          () => undefined,
          () => undefined,
        );
      })();
      const gc = (globalThis as { gc?: () => void }).gc as () => void;
      for (let i = 0; i < 5 && (parentRef.deref() !== undefined || errorRef.deref() !== undefined); i++) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        gc();
      }
      assert.ok(String(group).startsWith("<TaskGroup"), "the group itself is still alive");
      assert.equal(parentRef.deref(), undefined, "the parent task was collected");
      assert.equal(errorRef.deref(), undefined, "the error was collected");
    });
  });

  it("refuses a body that is not a function, synchronously", async () => {
    await runTest(async () => {
      assert.throws(() => taskGroup(42 as never), (e) => e instanceof TypeError && /`body`/.test(e.message));
    });
  });

  it("refuses a non-awaitable given to createTask, synchronously", async () => {
    await runTest(async () => {
      await taskGroup((tg) => {
        assert.throws(() => tg.createTask(42 as never), TypeError);
        assert.throws(() => tg.createTask(() => sleep(0), { name: 5 as never }), (e) => e instanceof TypeError && /`name`/.test(e.message));
      });
    });
  });
});

// CPython 3.15 adds TaskGroup.cancel() (gh-108951): "cancel() will be called on any tasks in
// the group that aren't yet done, as well as the parent (body) of the group. This will cause
// the task group context manager to exit *without* CancelledError being raised."
describe("TaskGroup.cancel()", () => {
  both("cancels the tasks and the body, and the group ends without raising", async () => {
    let bodyCancelled = false;
    let t1!: Task<void>, t2!: Task<void>;
    const result = await taskGroup(async (tg) => {
      t1 = tg.createTask(() => sleep(10));
      t2 = tg.createTask(() => sleep(20));
      await sleep(1);
      tg.cancel();
      try {
        await sleep(10);
      } catch (e) {
        bodyCancelled = isCancelledError(e);
        throw e;
      }
      return "not reached";
    });
    assert.equal(result, undefined, "an interrupted body has no result");
    assert.equal(bodyCancelled, true);
    assert.equal(t1.cancelled(), true);
    assert.equal(t2.cancelled(), true);
    assert.equal(currentTask()?.cancelling(), 0);
    assert.equal(getRunningLoop().time(), 1);
    await sleep(0); // no cancel is left pending on this task
  });

  both("can be called from one of the group's tasks", async () => {
    let other!: Task<void>;
    await taskGroup(async (tg) => {
      other = tg.createTask(() => sleep(10));
      tg.createTask(async () => {
        await sleep(0.5);
        tg.cancel();
      });
      await sleep(10);
    });
    assert.equal(other.cancelled(), true);
    assert.equal(getRunningLoop().time(), 0.5);
  });

  both("picks a winner: the first task to finish cancels the others", async () => {
    const results: string[] = [];
    await taskGroup((tg) => {
      for (const [name, delay] of [["slow", 3], ["fast", 1], ["medium", 2]] as const) {
        tg.createTask(async () => {
          await sleep(delay);
          results.push(name);
          tg.cancel();
        });
      }
    });
    assert.deepEqual(results, ["fast"]);
    assert.equal(getRunningLoop().time(), 1);
  });

  both("lets the body finish when it is called while the group waits for its tasks", async () => {
    let task!: Task<void>;
    const result = await taskGroup((tg) => {
      task = tg.createTask(async () => {
        await sleep(1);
        tg.cancel();
        await sleep(10);
      });
      return "body done";
    });
    assert.equal(result, "body done");
    assert.equal(task.cancelled(), true);
  });

  both("is idempotent", async () => {
    await taskGroup(async (tg) => {
      tg.createTask(() => sleep(10));
      tg.cancel();
      tg.cancel();
      await sleep(0).then(undefined, () => undefined);
    });
    assert.equal(currentTask()?.cancelling(), 0);
  });

  both("does nothing after the group ended", async () => {
    let group!: TaskGroup;
    await taskGroup((tg) => {
      group = tg;
      tg.createTask(() => sleep(0.1));
    });
    group.cancel();
    await sleep(0);
    assert.equal(currentTask()?.cancelling(), 0);
  });

  both("makes the group refuse new tasks", async () => {
    await taskGroup(async (tg) => {
      tg.cancel();
      assert.throws(() => tg.createTask(() => sleep(0)), (e) => e instanceof RuntimeError && /is shutting down/.test(e.message));
    });
  });

  both("still raises the errors of tasks that fail while being cancelled", async () => {
    const eg = await caught(() =>
      taskGroup(async (tg) => {
        tg.createTask(async () => {
          try {
            await sleep(10);
          } finally {
            divideByZero();
          }
        });
        await sleep(1);
        tg.cancel();
        await sleep(10);
      }),
    );
    assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
    assert.equal(currentTask()?.cancelling(), 0);
  });

  both("changes nothing once a task failed", async () => {
    const eg = await caught(() =>
      taskGroup(async (tg) => {
        tg.createTask(async () => {
          await sleep(1);
          throw new MyExc();
        });
        try {
          await sleep(10);
        } finally {
          tg.cancel();
        }
      }),
    );
    assert.deepEqual(errorTypes(eg), new Set([MyExc]));
    assert.equal(currentTask()?.cancelling(), 0);
  });

  both("does not swallow a cancel of the running task from outside", async () => {
    const r = createTask(() =>
      taskGroup(async (tg) => {
        tg.createTask(() => sleep(10));
        try {
          await sleep(10);
        } finally {
          tg.cancel();
        }
      }),
    );
    await sleep(1);
    r.cancel();
    assert.ok((await caught(() => r)) instanceof CancelledError);
    assert.equal(r.cancelled(), true);
  });

  both("does not swallow an outside cancel that comes after it", async () => {
    const r = createTask(() =>
      taskGroup(async (tg) => {
        tg.createTask(async () => {
          try {
            await sleep(10);
          } catch (e) {
            await sleep(1); // slow cleanup: the outside cancel comes meanwhile
            throw e;
          }
        });
        await sleep(0); // let the task start
        tg.cancel();
        await sleep(10);
      }),
    );
    await sleep(0.5);
    r.cancel();
    assert.ok((await caught(() => r)) instanceof CancelledError);
    assert.equal(r.cancelled(), true);
  });

  both("does not swallow an outside cancel that comes after the body returned", async () => {
    // Deliberate difference: in CPython 3.15's __aexit__, a cancel from outside that arrives
    // while the group waits for its tasks after cancel() (the body having returned normally)
    // is caught and dropped: the group exits quietly with cancelling() still 1. Here the
    // group passes it on, as it does when the body was interrupted ("a parent cancel is
    // never lost").
    const r = createTask(() =>
      taskGroup((tg) => {
        tg.createTask(async () => {
          try {
            await sleep(10);
          } catch (e) {
            await sleep(1); // slow cleanup
            throw e;
          }
        });
        tg.createTask(async () => {
          await sleep(0.1);
          tg.cancel();
        });
        return "body returned";
      }),
    );
    await sleep(0.5);
    r.cancel();
    assert.ok((await caught(() => r)) instanceof CancelledError);
    assert.equal(r.cancelled(), true);
    assert.equal(getRunningLoop().time(), 1.1);
  });

  both("called before the body's first await, still ends the group quietly", async () => {
    let ran = false;
    await taskGroup((tg) => {
      tg.createTask(async () => {
        ran = true;
      });
      tg.cancel();
    });
    // A task cancelled before it started never runs (an eager one has already run).
    assert.equal(ran, getRunningLoop().getTaskFactory() === eagerTaskFactory);
    assert.equal(currentTask()?.cancelling(), 0);
  });
});

describe("taskGroup() and coroutine objects", () => {
  it("runs a lazy coroutine object as a task", async () => {
    await runTest(async () => {
      const work = coroutine(async function work(n: number) {
        await sleep(n);
        return n * 2;
      });
      const c = work(1);
      assert.ok(c instanceof Coroutine);
      let t!: Task<number>;
      await taskGroup((tg) => {
        t = tg.createTask(c);
      });
      assert.equal(t.result(), 2);
      assert.equal(t.getCoro(), c);
    });
  });
});
