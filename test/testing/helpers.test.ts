// The helpers that fit runTest into test runners (withTestLoop) and asyncio's run_briefly intent
// (runBriefly).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Queue, RuntimeError, getRunningLoop, sleep } from "../../src/index.js";
import { TestLoop, runBriefly, runTest, withTestLoop } from "../../src/testing.js";

describe("withTestLoop()", () => {
  it(
    "runs a node:test body under runTest, handing it the test context",
    withTestLoop(async (t: { name: string }) => {
      assert.equal(t.name, "runs a node:test body under runTest, handing it the test context");
      assert.ok(getRunningLoop() instanceof TestLoop);
      await sleep(3600);
      assert.equal(getRunningLoop().time(), 3600);
    }),
  );

  it(
    "passes runTest's options on",
    withTestLoop(
      async () => {
        // The global: on Bun and Deno the ESM export of node:timers/promises stays real.
        await new Promise((resolve) => setTimeout(resolve, 60_000));
        assert.equal(getRunningLoop().time(), 60);
      },
      { virtualTimers: true, start: 0 },
    ),
  );

  it("returns a function that takes no done callback, and refuses a body that is not a function", async () => {
    const body = withTestLoop(async (..._args: unknown[]) => {});
    assert.equal(body.length, 0, "node:test treats a function of two parameters as callback-style");
    await body("any", "arguments");
    assert.throws(() => withTestLoop(42 as never), TypeError);
    await assert.rejects(withTestLoop(async () => {}, { autojmp: true } as never)(), /autojmp/);
  });
});

describe("runBriefly()", () => {
  it("runs a loop of one's own until every task is blocked, and stops before the clock jumps", async () => {
    const loop = new TestLoop({ autojump: true });
    try {
      const queue = new Queue<string>();
      const steps: string[] = [];
      const consumer = loop.createTask(async () => {
        steps.push("started");
        await sleep(0);
        steps.push("yielded");
        steps.push(await queue.get());
      });
      const sleeper = loop.createTask(() => sleep(10));
      await runBriefly(loop);
      assert.deepEqual(steps, ["started", "yielded"]);
      assert.equal(loop.time(), 0, "the clock did not jump to the sleeper's deadline");
      queue.putNowait("item");
      await runBriefly(loop);
      assert.deepEqual(steps, ["started", "yielded", "item"]);
      assert.equal(consumer.done(), true);
      sleeper.cancel();
      await runBriefly(loop);
      assert.equal(sleeper.cancelled(), true);
    } finally {
      loop.close();
    }
  });

  it("rejects on a closed loop", async () => {
    const loop = new TestLoop();
    loop.close();
    await assert.rejects(runBriefly(loop), RuntimeError);
  });
});

describe("runTest() run concurrently", () => {
  it("refuses the second test with a message that names concurrent tests, and the first runs on", async () => {
    const first = runTest(async () => {
      await sleep(1);
      return "first";
    });
    await assert.rejects(
      runTest(() => sleep(1)),
      (e: unknown) =>
        e instanceof RuntimeError && /runs concurrently in this process/.test(e.message) && /test\.concurrent/.test(e.message),
    );
    assert.equal(await first, "first");
  });

  it(
    "refuses a runTest from inside a test's loop",
    withTestLoop(async () => {
      await assert.rejects(runTest(() => sleep(1)), /called from inside a running loop/);
    }),
  );
});

