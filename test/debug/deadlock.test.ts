// Stuck programs: runTest rejects at once with a report when every task is blocked and nothing
// can wake them, never while outside work may still wake one; debug mode reports a stall once.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import {
  Event,
  type ExceptionContext,
  Future,
  Lock,
  Queue,
  RuntimeError,
  type Task,
  createTask,
  getRunningLoop,
  openConnection,
  run,
  sleep,
  taskGroup,
  toThread,
} from "../../src/index.js";
import { _watchedResources } from "../../src/debug/blocked.js";
import { runTest } from "../../src/testing.js";
import { unsupportedOn } from "../support/runtime.js";

/** The tests that expect a deadlock report: Bun's runTest makes none (see `_outsideWorkVisible`). */
const REPORTS = {
  skip: unsupportedOn({
    bun: "runTest's deadlock report needs async_hooks.createHook to see the timers, sockets and requests a test's code makes, and Bun's never calls its hooks",
  }),
};

/** The rejection of `p`, which must reject. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  assert.fail("expected a rejection");
}

describe("runTest deadlock report", () => {
  it("names each blocked task and the primitive it awaits", REPORTS, async () => {
    const error = await rejection(
      runTest(async function main() {
        const lock = new Lock();
        const ready = new Event();
        await taskGroup(async (tg) => {
          tg.createTask(async () => {
            await lock.acquire();
            await ready.wait();
          }, { name: "holder" });
          tg.createTask(async () => {
            await sleep(1);
            await lock.acquire();
          }, { name: "waiter" });
          tg.createTask(async () => {
            await new Queue<number>().get();
          }, { name: "consumer" });
        });
      }),
    );
    assert.ok(error instanceof RuntimeError);
    const report = error.message;
    assert.match(report, /^runTest\(\): deadlock: every task is blocked and nothing can wake them/);
    assert.match(report, /Task 'holder' \(id \d+\), created by 'Task-\d+' \(id \d+\), in <TaskGroup tasks=3 entered>, awaits <Event \[unset, waiters:1\]>/);
    assert.match(report, /Task 'waiter' .* awaits <Lock \[locked, waiters:1\]>/);
    assert.match(report, /Task 'consumer' .* awaits <Queue maxsize=0 .*getters\[1\].*>/);
    assert.match(report, /Task 'Task-\d+' \(id \d+\) awaits <TaskGroup tasks=3 entered>/);
  });

  it("names every cycle of tasks awaiting tasks", REPORTS, async () => {
    const error = await rejection(
      runTest(async () => {
        let b: Task<void> | null = null;
        const a = createTask(async () => {
          await sleep(1);
          await (b as Task<void>);
        }, { name: "a" });
        b = createTask(async () => {
          await sleep(1);
          await a;
        }, { name: "b" });
        await a;
      }),
    );
    assert.match(error.message, /cycle: 'a' \(id (\d+)\) awaits 'b' \(id \d+\) awaits 'a' \(id \1\)/);
  });

  it("runs the blocked tasks' finally blocks before rejecting", REPORTS, async () => {
    const cleaned: string[] = [];
    await rejection(
      runTest(async () => {
        try {
          await new Future<void>();
        } finally {
          cleaned.push("main");
        }
      }),
    );
    assert.deepEqual(cleaned, ["main"]);
  });

  it("says where each task suspended in debug mode", REPORTS, async () => {
    const error = await rejection(
      runTest(
        async () => {
          await createTask(async function parkedHere() {
            await new Event().wait();
          });
        },
        { debug: true },
      ),
    );
    assert.match(error.message, /suspended at parkedHere \(.*deadlock\.test\.ts:\d+:\d+\)/);
  });

  it("waits while a real timer the test made may still wake a task", async () => {
    const result = await runTest(async () => {
      const started = getRunningLoop().time();
      await delay(30); // Node's own timer: real time, not the loop's
      return getRunningLoop().time() - started;
    });
    assert.equal(result, 0);
  });

  it("waits while a socket may still wake a task", async () => {
    const server = createServer((socket) => {
      setTimeout(() => socket.end("late\n"), 50);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as { port: number };
    try {
      const line = await runTest(async () => {
        const [reader, writer] = await openConnection("127.0.0.1", port);
        const data = await reader.readline();
        writer.close();
        await writer.waitClosed();
        return data.toString();
      });
      assert.equal(line, "late\n");
    } finally {
      server.close();
    }
  });

  it("waits while a job runs in a worker thread", async () => {
    const value = await runTest(async () =>
      toThread(() => {
        const end = Date.now() + 50;
        while (Date.now() < end);
        return 7;
      }),
    );
    assert.equal(value, 7);
  });

  // The timeouts turn a report that never comes into a failure instead of a hang.
  it("reports once the real timers the test made have fired or been cleared", { ...REPORTS, timeout: 20_000 }, async () => {
    const timers: NodeJS.Timeout[] = [];
    const error = await rejection(
      runTest(async () => {
        await new Promise<void>((resolve) => timers.push(setTimeout(resolve, 5)));
        timers.push(setTimeout(() => {}, 60_000));
        clearTimeout(timers[1]);
        await new Event().wait();
      }),
    );
    assert.match(error.message, /deadlock/);
    assert.equal(timers.length, 2, "both timers stay referenced, so only their state says they are done");
  });

  it("keeps its list of what a test made short: 10,000 immediates that ran leave few", { ...REPORTS, timeout: 20_000 }, async () => {
    let noted = -1;
    await runTest(async () => {
      // A task that keeps a callback ready: the loop is never stuck, so no deadlock check
      // prunes the list; only its growth does.
      let busy = true;
      const spinner = createTask(async () => {
        while (busy) await sleep(0);
      });
      for (let i = 0; i < 100; i++) {
        await Promise.all(Array.from({ length: 100 }, () => new Promise<void>((resolve) => setImmediate(resolve))));
      }
      noted = _watchedResources(getRunningLoop());
      busy = false;
      await spinner;
    });
    assert.ok(noted >= 0 && noted < 500, `${noted} resources still noted`);
  });

  it("ignores an unreferenced timer (it would not keep Node alive either)", REPORTS, async () => {
    const error = await rejection(
      runTest(async () => {
        setTimeout(() => {}, 60_000).unref();
        await new Event().wait();
      }),
    );
    assert.match(error.message, /deadlock/);
  });

  it("does not fire for a test that ends normally", async () => {
    assert.equal(await runTest(async () => {
      await sleep(5);
      return "done";
    }), "done");
  });
});

describe("debug mode stall report", () => {
  it("reports once what the blocked tasks await when the loop makes no progress", async () => {
    const reports: ExceptionContext[] = [];
    await run(
      async () => {
        const loop = getRunningLoop();
        loop.stallReportDelay = 0.05;
        loop.setExceptionHandler((_loop, context) => reports.push(context));
        const gate = new Event();
        const stuck = createTask(async function waitsForGate() {
          await gate.wait();
        }, { name: "stuck" });
        // Outside work that the loop does not know of wakes it later (a real timer).
        await new Promise<void>((resolve) => setTimeout(resolve, 300));
        gate.set();
        await stuck;
      },
      { debug: true },
    );
    assert.equal(reports.length, 1, reports.map((r) => r.message).join("\n"));
    const message = (reports[0] as ExceptionContext).message;
    assert.match(message, /made no progress for 0\.05 s/);
    assert.match(message, /Task 'stuck' .* awaits <Event \[unset, waiters:1\]>/);
  });

  it("refuses a stallReportDelay that is not seconds >= 0 or null", async () => {
    await run(async () => {
      const loop = getRunningLoop();
      assert.throws(() => {
        loop.stallReportDelay = -1;
      }, RangeError);
      assert.throws(() => {
        loop.stallReportDelay = "10" as never;
      }, /`stallReportDelay` must be a number of seconds >= 0 or null/);
      assert.equal(loop.stallReportDelay, 10);
    });
  });

  it("is off with stallReportDelay = null, and off outside debug mode", async () => {
    for (const debug of [true, false]) {
      const reports: ExceptionContext[] = [];
      await run(
        async () => {
          const loop = getRunningLoop();
          loop.stallReportDelay = debug ? null : 0.01;
          loop.setExceptionHandler((_loop, context) => reports.push(context));
          await new Promise<void>((resolve) => setTimeout(resolve, 80));
        },
        { debug },
      );
      assert.deepEqual(reports, []);
    }
  });
});
