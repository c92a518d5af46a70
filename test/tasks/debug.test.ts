// Debug mode as it concerns tasks: reports of swallowed cancellations and of promises handed
// over where a lazy coroutine was expected (a promise already runs: cancelling stops only the
// waiting). asyncio-ts additions; the
// CPython side of debug mode (slow callbacks) is in test/events/loop.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay, setImmediate as tick } from "node:timers/promises";
import {
  CancelledError,
  createTask,
  currentTask,
  ensureFuture,
  getRunningLoop,
  run,
  sleep,
} from "../../src/index.js";
import { fileURLToPath } from "node:url";
import { _userCallSite } from "../../src/internal/callsite.js";
import { TestLoop, runTest } from "../../src/testing.js";
import { captureExceptions } from "../support/core.js";

/** Collects process warnings emitted while `body` runs (and one tick after). */
async function warningsDuring(body: () => Promise<void>): Promise<Error[]> {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w);
  };
  process.on("warning", onWarning);
  try {
    await body();
    await tick();
    await tick();
  } finally {
    process.removeListener("warning", onWarning);
  }
  return warnings;
}

describe("debug mode", () => {
  it("is off by default and on with run(main, { debug: true })", async () => {
    assert.equal(new TestLoop().getDebug(), false);
    assert.equal(await run(async () => getRunningLoop().getDebug()), false);
    assert.equal(await run(async () => getRunningLoop().getDebug(), { debug: true }), true);
    assert.equal(await runTest(async () => getRunningLoop().getDebug(), { debug: true }), true);
  });

  it("reports a task that caught its cancellation and returned normally", async () => {
    await runTest(
      async () => {
        const seen = captureExceptions(getRunningLoop());
        const t = createTask(async function swallower() {
          try {
            await sleep(10);
          } catch {
            // swallowed
          }
          return 1;
        });
        await sleep(1);
        t.cancel();
        assert.equal(await t, 1);
        assert.equal(seen.length, 1);
        assert.match(seen[0]!.message, /coro=swallower.* swallowed its cancellation/);
        assert.equal(seen[0]!.task, t);
      },
      { debug: true },
    );
  });

  it("reports a task that swallowed a cancel delivered after foreign code", async () => {
    await runTest(
      async () => {
        const seen = captureExceptions(getRunningLoop());
        const t = createTask(async () => {
          await delay(10);
          try {
            await sleep(10);
          } catch {
            // swallowed
          }
          return 1;
        });
        await sleep(0);
        await sleep(0);
        t.cancel();
        assert.equal(await t, 1);
        // (The virtual clock jumps past slowCallbackDuration during the real delay, so the
        // report of a cancel stuck in foreign code comes too: counted by its own test.)
        assert.equal(seen.filter((c) => /swallowed its cancellation/.test(c.message)).length, 1);
      },
      { debug: true },
    );
  });

  it("does not report a swallowed cancellation that was withdrawn with uncancel()", async () => {
    await runTest(
      async () => {
        const seen = captureExceptions(getRunningLoop());
        const t = createTask(async () => {
          try {
            await sleep(10);
          } catch (e) {
            if (e instanceof CancelledError) currentTask()!.uncancel();
          }
          return 1;
        });
        await sleep(1);
        t.cancel();
        assert.equal(await t, 1);
        assert.deepEqual(seen, []);
      },
      { debug: true },
    );
  });

  it("does not report swallowed cancellations outside debug mode", async () => {
    await runTest(async () => {
      const seen = captureExceptions(getRunningLoop());
      const t = createTask(async () => {
        try {
          await sleep(10);
        } catch {
          // swallowed
        }
      });
      await sleep(1);
      t.cancel();
      await t;
      assert.deepEqual(seen, []);
    });
  });

  it("warns when createTask or ensureFuture gets a promise that already runs", async () => {
    const warnings = await warningsDuring(() =>
      runTest(
        async () => {
          await createTask(Promise.resolve(1));
          await ensureFuture(Promise.resolve(2));
        },
        { debug: true },
      ),
    );
    const mine = warnings.filter((w) => /already running/.test(w.message));
    assert.equal(mine.length, 2, mine.map((w) => w.message).join("\n"));
    assert.equal(mine[0]!.name, "RuntimeWarning");
    assert.match(mine[0]!.message, /^createTask\(\) got a promise/);
    assert.match(mine[1]!.message, /^ensureFuture\(\) got a promise/);
  });

  it("names the caller of ensureFuture in the warning", async () => {
    const warnings = await warningsDuring(() =>
      runTest(
        async () => {
          await ensureFuture(Promise.resolve(2));
        },
        { debug: true },
      ),
    );
    const mine = warnings.filter((w) => /already running/.test(w.message));
    assert.equal(mine.length, 1);
    assert.match(mine[0]!.message, /debug\.test\.ts:\d+/);
  });

  it("names the caller of createTask in the warning", async () => {
    const warnings = await warningsDuring(() =>
      runTest(
        async () => {
          await createTask(Promise.resolve(1));
        },
        { debug: true },
      ),
    );
    const mine = warnings.filter((w) => /already running/.test(w.message));
    assert.equal(mine.length, 1);
    assert.match(mine[0]!.message, /debug\.test\.ts:\d+/);
  });

  it("does not warn about running promises outside debug mode", async () => {
    const warnings = await warningsDuring(() =>
      runTest(async () => {
        await createTask(Promise.resolve(1));
        await ensureFuture(Promise.resolve(2));
      }),
    );
    assert.deepEqual(
      warnings.filter((w) => /already running/.test(w.message)).map((w) => w.message),
      [],
    );
  });
});

describe("the call site a debug report names", () => {
  const root = new URL("../../", import.meta.url);
  const src = fileURLToPath(new URL("src/", root));
  const dist = new URL("dist/", root).href;

  it("is the first frame outside the package's src/ and dist/ (source-mapped frames included) and Node's own", () => {
    const stack = [
      "Error",
      `    at warnWrappedPromise (${src}tasks.ts:80:3)`, // dist's frame, mapped back to src/
      `    at new Task (${dist}tasks.js:120:5)`,
      `    at EventLoop.createTask (${dist}events/loop.js:400:12)`,
      "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
      "    at main (file:///app/job.ts:12:5)",
      "    at file:///app/job.ts:20:1",
    ].join("\n");
    assert.equal(_userCallSite(stack), "main (file:///app/job.ts:12:5)");
  });

  it("is empty when every frame is the library's", () => {
    assert.equal(_userCallSite(`Error\n    at f (${src}tasks.ts:1:1)`), "");
  });

  it("is the caller's line by default", () => {
    assert.match(_userCallSite(), /debug\.test\.ts:\d+:\d+/);
  });
});
