// tg.start(fn): Trio's nursery.start on asyncio's TaskGroup. The cases follow the intent of
// Trio's test_run.py (test_nursery_start, test_nursery_start_keeps_nursery_open) and AnyIO's
// test_taskgroups.py start tests, in asyncio's terms: a cancel is delivered once, so a start
// cancelled before started() raises CancelledError after the task it cancelled has ended.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  Event,
  ExceptionGroup,
  RuntimeError,
  type Task,
  TaskGroup,
  type TaskStatus,
  createTask,
  currentTask,
  getRunningLoop,
  sleep,
  taskGroup,
} from "../src/index.js";
import { runTest, waitAllTasksBlocked } from "../src/testing.js";
import { caught } from "./support/errors.js";

/** Sleeps `seconds`, reports `seconds` as started, sleeps `seconds` again. */
async function sleepThenStart(status: TaskStatus<number>, seconds: number): Promise<void> {
  await sleep(seconds);
  status.started(seconds);
  await sleep(seconds);
}

describe("TaskGroup.start()", () => {
  it("resolves with the value given to started(), and the group waits for the task", async () => {
    // Trio: test_run.py test_nursery_start (the happy path)
    await runTest(async () => {
      const loop = getRunningLoop();
      for (const seconds of [1, 2]) {
        const t0 = loop.time();
        await taskGroup(async (tg) => {
          assert.equal(await tg.start<number>((status) => sleepThenStart(status, seconds)), seconds);
          assert.equal(loop.time() - t0, seconds);
          assert.match(String(tg), /tasks=1/);
        });
        assert.equal(loop.time() - t0, 2 * seconds);
      }
    });
  });

  it("resolves undefined for a bare started(), and names the task as asked", async () => {
    await runTest(async () => {
      await taskGroup(async (tg) => {
        let name: string | undefined;
        const value = await tg.start(
          async (status) => {
            name = currentTask()?.getName();
            status.started();
          },
          { name: "server" },
        );
        assert.equal(value, undefined);
        assert.equal(name, "server");
      });
    });
  });

  it("rejects with the task's error when it fails before started(), and the group goes on", async () => {
    await runTest(async () => {
      const oops = new Error("oops");
      let sibling = "";
      const result = await taskGroup(async (tg) => {
        tg.createTask(async () => {
          await sleep(2);
          sibling = "finished";
        });
        const error = await caught(() =>
          tg.start(async () => {
            await sleep(1);
            throw oops;
          }),
        );
        assert.equal(error, oops);
        return "group ok";
      });
      assert.equal(result, "group ok");
      assert.equal(sibling, "finished", "the group was not aborted");
    });
  });

  it("rejects with the error a plain (non-async) function throws", async () => {
    await runTest(async () => {
      await taskGroup(async (tg) => {
        const oops = new Error("sync");
        assert.equal(
          await caught(() =>
            tg.start(() => {
              throw oops;
            }),
          ),
          oops,
        );
      });
    });
  });

  it("rejects with RuntimeError when the task returns without calling started()", async () => {
    await runTest(async () => {
      await taskGroup(async (tg) => {
        const error = await caught(() => tg.start(async () => "returned"));
        assert.ok(error instanceof RuntimeError);
        assert.match(error.message, /without calling status\.started\(\)/);
      });
    });
  });

  it("makes the task the group's from started() on: its failure aborts the group", async () => {
    await runTest(async () => {
      const boom = new Error("boom");
      let bodyCancelled = false;
      const error = await caught(() =>
        taskGroup(async (tg) => {
          await tg.start(async (status) => {
            status.started();
            await sleep(1);
            throw boom;
          });
          try {
            await sleep(100);
          } catch (e) {
            bodyCancelled = e instanceof CancelledError;
            throw e;
          }
        }),
      );
      assert.ok(error instanceof ExceptionGroup);
      assert.deepEqual(error.errors, [boom]);
      assert.equal(bodyCancelled, true);
    });
  });

  it("refuses a second started() with RuntimeError, and one after the task ended", async () => {
    // Trio: test_run.py test_nursery_start (double_started)
    await runTest(async () => {
      let leaked: TaskStatus<string> | undefined;
      await taskGroup(async (tg) => {
        const value = await tg.start<string>(async (status) => {
          status.started("first");
          assert.throws(() => status.started("second"), RuntimeError);
        });
        assert.equal(value, "first");
        await caught(() =>
          tg.start<string>(async (status) => {
            leaked = status;
          }),
        );
      });
      assert.throws(() => leaked?.started("late"), (e) => e instanceof RuntimeError && /after the task ended/.test(e.message));
    });
  });

  it("throws RuntimeError synchronously in a group not entered, finished, or shutting down", async () => {
    // Trio: test_run.py test_nursery_start (closed nursery)
    await runTest(async () => {
      const fn = (status: TaskStatus): void => status.started();
      assert.throws(() => new TaskGroup().start(fn), (e) => e instanceof RuntimeError && /not been entered/.test(e.message));
      let finished: TaskGroup | undefined;
      await taskGroup(async (tg) => {
        finished = tg;
      });
      assert.throws(() => finished?.start(fn), (e) => e instanceof RuntimeError && /is finished/.test(e.message));
      await caught(() =>
        taskGroup(async (tg) => {
          tg.createTask(async () => {
            throw new Error("fails");
          });
          await sleep(0);
          await sleep(0);
          assert.throws(() => tg.start(fn), (e) => e instanceof RuntimeError && /shutting down/.test(e.message));
        }),
      );
      await taskGroup(async (tg) => {
        assert.throws(() => tg.start(5 as never), (e) => e instanceof TypeError && /`fn`/.test(e.message));
      });
    });
  });

  it("keeps the group open while a start from another task is pending", async () => {
    // Trio: test_run.py test_nursery_start_keeps_nursery_open
    await runTest(async () => {
      const loop = getRunningLoop();
      const sleepABit = async (status: TaskStatus): Promise<void> => {
        await sleep(2);
        status.started();
        await sleep(3);
      };
      const t0 = loop.time();
      await taskGroup(async (outer) => {
        await taskGroup(async (inner) => {
          outer.createTask(() => inner.start(sleepABit));
          await sleep(1);
          outer.createTask(() => inner.start(sleepABit));
          // The body ends: only the pending starts keep `inner` open.
        });
        assert.equal(loop.time() - t0, 6);
      });

      const t1 = loop.time();
      await taskGroup(async (outer) => {
        await taskGroup(async (inner) => {
          outer.createTask(async () => {
            const error = await caught(() =>
              inner.start(async () => {
                await sleep(7);
                throw new Error("crash");
              }),
            );
            assert.equal((error as Error).message, "crash");
          });
          await waitAllTasksBlocked(); // the start has begun
        });
        assert.equal(loop.time() - t1, 7, "the group waited for the start that crashed");
      });
    });
  });
});

describe("TaskGroup.start() and cancellation", () => {
  it("cancels the task when the caller is cancelled before started(), and waits for it", async () => {
    await runTest(async () => {
      const steps: string[] = [];
      await taskGroup(async (tg) => {
        tg.createTask(() => sleep(3));
        const caller = createTask(() =>
          tg.start(async (status) => {
            try {
              await sleep(10);
              status.started();
            } finally {
              await sleep(0.5); // cleaning up takes time: the caller waits for it
              steps.push("task stopped");
            }
          }),
        );
        await sleep(1);
        caller.cancel("stop");
        const error = await caught(() => caller);
        steps.push("start rejected");
        assert.ok(error instanceof CancelledError);
        assert.equal(error.message, "stop");
        assert.equal(getRunningLoop().time(), 1.5);
      });
      assert.deepEqual(steps, ["task stopped", "start rejected"]);
      assert.equal(getRunningLoop().time(), 3, "the group went on with its other task");
    });
  });

  it("leaves the task in the group when the caller is cancelled after started()", async () => {
    await runTest(async () => {
      let ran = false;
      await taskGroup(async (tg) => {
        const caller = createTask(async () => {
          await tg.start(async (status) => {
            status.started();
            await sleep(2);
            ran = true;
          });
          await sleep(5);
        });
        await sleep(1);
        caller.cancel();
        assert.ok((await caught(() => caller)) instanceof CancelledError);
      });
      assert.equal(ran, true);
      assert.equal(getRunningLoop().time(), 2);
    });
  });

  it("leaves the task in the group when the caller is cancelled as started() wakes it", async () => {
    // The start future completed, then the caller was cancelled before it resumed.
    await runTest(async () => {
      let ran = false;
      await taskGroup(async (tg) => {
        const caller: Task<number> = createTask(() =>
          tg.start<number>(async (status) => {
            await sleep(1);
            status.started(7);
            caller.cancel();
            await sleep(1);
            ran = true;
          }),
        );
        assert.ok((await caught(() => caller)) instanceof CancelledError);
      });
      assert.equal(ran, true, "the task ran on in the group");
    });
  });

  it("ignores a started() that comes after the caller was cancelled: the task stays the caller's", async () => {
    // Trio: test_run.py test_nursery_start (started() in a cancelled start is a no-op, and an
    // error after it still comes out of start())
    await runTest(async () => {
      const whoops = new Error("whoopsiedaisy");
      await taskGroup(async (tg) => {
        const caller = createTask(async () => {
          try {
            await tg.start(async (status) => {
              try {
                await sleep(10);
              } catch {
                status.started(); // while stopping: does not move the task into the group
                await sleep(1);
                throw whoops;
              }
            });
          } catch (e) {
            assert.equal(e, whoops, "errors beat the cancellation");
            assert.equal(currentTask()?.cancelling(), 1);
            // The cancel was requested again: the next await gets it.
            await sleep(5);
            assert.fail("not reached");
          }
        });
        await sleep(1);
        caller.cancel();
        assert.ok((await caught(() => caller)) instanceof CancelledError);
        assert.equal(getRunningLoop().time(), 2);
      });
    });
  });

  it("cancels a starting task when the group aborts", async () => {
    await runTest(async () => {
      const boom = new Error("boom");
      let startError: unknown = null;
      const steps: string[] = [];
      const error = await caught(() =>
        taskGroup(async (tg) => {
          tg.createTask(async () => {
            await sleep(1);
            throw boom;
          });
          try {
            await tg.start(async () => {
              try {
                await sleep(10);
              } finally {
                steps.push("starting task cancelled");
              }
            });
          } catch (e) {
            startError = e;
            throw e;
          }
        }),
      );
      assert.ok(error instanceof ExceptionGroup);
      assert.deepEqual(error.errors, [boom]);
      assert.ok(startError instanceof CancelledError);
      assert.deepEqual(steps, ["starting task cancelled"]);
    });
  });

  // A cancel of the caller at each moment of a start: before the task ran, while it sleeps
  // before started(), as its sleep ends (the cancel's timer was set first, so it comes first),
  // after started(), and after the task ended. Before started() the task is cancelled and the
  // group never sees it; from started() on, it runs to its end in the group.
  for (const at of [0, 0.5, 1, 1.5, 2.5] as const) {
    it(`is cancellation-safe: the caller cancelled at ${at}`, async () => {
      await runTest(async () => {
        const loop = getRunningLoop();
        const log: string[] = [];
        const result = await taskGroup(async (tg) => {
          const caller = createTask(() =>
            tg.start<string>(async (status) => {
              try {
                await sleep(1);
                status.started("ready");
                log.push("started");
                await sleep(1);
                log.push("ran to the end");
              } catch (e) {
                log.push("task cancelled");
                throw e;
              }
            }),
          );
          loop.callAt(at, () => caller.cancel());
          return caller.then(
            (value) => `resolved ${value}`,
            (e: unknown) => (e instanceof CancelledError ? "cancelled" : String(e)),
          );
        });
        if (at === 0) {
          // Cancelled before the task took its first step: its code never ran.
          assert.equal(result, "cancelled");
          assert.deepEqual(log, []);
        } else if (at <= 1) {
          assert.equal(result, "cancelled");
          assert.deepEqual(log, ["task cancelled"]);
        } else {
          assert.equal(result, "resolved ready");
          assert.deepEqual(log, ["started", "ran to the end"]);
        }
        assert.equal(loop.time(), at <= 1 ? Math.max(at, 0) : 2);
      });
    });
  }

  it("serves the common case: start a server, learn its port, then talk to it", async () => {
    await runTest(async () => {
      const requests: string[] = [];
      const ready = new Event();
      await taskGroup(async (tg) => {
        const port = await tg.start<number>(async (status) => {
          // Stands for startServer(…) and server.sockets[0].getsockname()[1].
          await sleep(0.1);
          status.started(8080);
          ready.set();
          for (;;) requests.push(`served at ${await sleep(1, getRunningLoop().time() + 1)}`);
        });
        assert.equal(port, 8080);
        assert.equal(ready.isSet(), true, "the server was ready when start() returned");
        await sleep(2.5);
        tg.cancel();
      });
      assert.deepEqual(requests, ["served at 1.1", "served at 2.1"]);
    });
  });
});
