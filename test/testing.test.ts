// The test helpers of `asyncio-ts/testing`: a loop on a virtual clock (Trio's MockClock and
// wait_all_tasks_blocked are the model). The rest of the suite relies on them for every
// timing test, so their own behaviour is pinned here.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RuntimeError, createTask, getRunningLoop, run, sleep } from "../src/index.js";
import { TestLoop, VirtualClock, advance, runTest, waitAllTasksBlocked } from "../src/testing.js";

describe("runTest()", () => {
  it("takes no real time for sleeps, and the clock reads exactly as if it had", async () => {
    const started = performance.now();
    const reading = await runTest(async () => {
      const loop = getRunningLoop();
      assert.equal(loop.time(), 0);
      await sleep(86_400); // a day
      return loop.time();
    });
    assert.equal(reading, 86_400);
    assert.ok(performance.now() - started < 1000, "a virtual day passes in well under a real second");
  });

  it("fires timers in deadline order at their exact times", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const fired: [string, number][] = [];
      loop.callLater(3, () => fired.push(["c", loop.time()]));
      loop.callLater(1, () => fired.push(["a", loop.time()]));
      loop.callLater(2, () => fired.push(["b", loop.time()]));
      loop.callAt(2, () => fired.push(["b2", loop.time()]));
      await sleep(5);
      assert.deepEqual(fired, [["a", 1], ["b", 2], ["b2", 2], ["c", 3]]);
    });
  });

  it("jumps only when every task is blocked", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const seen: number[] = [];
      const busy = createTask(async () => {
        for (let i = 0; i < 50; i++) {
          await sleep(0);
          seen.push(loop.time());
        }
      });
      const sleeper = createTask(async () => {
        await sleep(1);
        return loop.time();
      });
      await busy;
      assert.deepEqual(new Set(seen), new Set([0]), "the clock stood still while a task ran");
      assert.equal(await sleeper, 1);
    });
  });

  it("never jumps to a deadline at Infinity", async () => {
    // Trio's MockClock only jumps to finite deadlines: sleep(Infinity) sleeps for ever.
    await runTest(async () => {
      const loop = getRunningLoop();
      const forever = createTask(() => sleep(Number.POSITIVE_INFINITY, "woke"));
      const finite = createTask(() => sleep(5, "finite"));
      assert.equal(await finite, "finite");
      await waitAllTasksBlocked();
      // Let the idle loop have a few Node turns in which it could (wrongly) jump.
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        await waitAllTasksBlocked();
      }
      assert.equal(forever.done(), false);
      assert.equal(loop.time(), 5);
      forever.cancel();
    });
  });

  it("starts the clock where asked, and sets debug mode as asked", async () => {
    const [start, debug] = await runTest(async () => [getRunningLoop().time(), getRunningLoop().getDebug()], {
      start: 100,
      debug: true,
    });
    assert.equal(start, 100);
    assert.equal(debug, true);
    assert.equal(await runTest(async () => getRunningLoop().getDebug()), false);
  });

  it("rejects with main's error and closes its loop", async () => {
    let loop!: TestLoop;
    await assert.rejects(
      runTest(async () => {
        loop = getRunningLoop() as TestLoop;
        throw new RangeError("boom");
      }),
      /boom/,
    );
    assert.ok(loop instanceof TestLoop);
    assert.equal(loop.isClosed(), true);
  });

  it("refuses bad options synchronously", () => {
    assert.throws(() => runTest(() => sleep(0), 5 as never), (e) => e instanceof TypeError && /`options`/.test(e.message));
    assert.throws(() => runTest(42 as never), TypeError);
  });
});

describe("advance() without autojump", () => {
  it("moves time only when told, then runs what came due", async () => {
    await runTest(
      async () => {
        const loop = getRunningLoop();
        const woke: number[] = [];
        for (const delay of [1, 2, 7]) {
          createTask(async () => {
            await sleep(delay);
            woke.push(loop.time());
          });
        }
        await waitAllTasksBlocked();
        assert.equal(loop.time(), 0);
        assert.deepEqual(woke, []);
        await advance(2);
        assert.equal(loop.time(), 2);
        assert.deepEqual(woke, [2, 2], "timers that came due ran, reading the new time");
        await advance(5);
        assert.deepEqual(woke, [2, 2, 7]);
      },
      { autojump: false },
    );
  });

  it("fires a timer due exactly at the new time", async () => {
    await runTest(
      async () => {
        const loop = getRunningLoop();
        let fired = false;
        loop.callAt(5, () => {
          fired = true;
        });
        await advance(4.999);
        assert.equal(fired, false);
        await advance(0.001);
        assert.equal(fired, true);
      },
      { autojump: false },
    );
  });

  it("refuses a negative or non-numeric step", async () => {
    await runTest(async () => {
      await assert.rejects(advance(-1), (e) => e instanceof RangeError && /`seconds`/.test(e.message));
      await assert.rejects(advance("1" as never), (e) => e instanceof TypeError && /`seconds`/.test(e.message));
      await assert.rejects(advance(Number.NaN), RangeError);
    });
  });

  it("needs a TestLoop", async () => {
    await run(async () => {
      await assert.rejects(advance(1), (e) => e instanceof RuntimeError && /TestLoop/.test(e.message));
    });
  });
});

describe("waitAllTasksBlocked()", () => {
  it("resolves once the other tasks are blocked, before the clock jumps", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      let steps = 0;
      const worker = createTask(async () => {
        for (let i = 0; i < 20; i++) {
          await sleep(0);
          steps++;
        }
        await sleep(10);
      });
      await waitAllTasksBlocked();
      assert.equal(steps, 20);
      assert.equal(loop.time(), 0, "autojump waits for waitAllTasksBlocked callers");
      await worker;
      assert.equal(loop.time(), 10);
    });
  });

  it("waits until a task waiting on Node I/O has had its turn", async () => {
    await runTest(async () => {
      let resumed = false;
      createTask(async () => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        resumed = true;
      });
      await waitAllTasksBlocked();
      assert.equal(resumed, true);
    });
  });

  it("needs a running loop", () => {
    assert.throws(() => waitAllTasksBlocked(), RuntimeError);
  });
});

describe("VirtualClock and TestLoop", () => {
  it("reads its start time and moves by advance()", () => {
    const clock = new VirtualClock({ start: 5 });
    assert.equal(clock.time(), 5);
    clock.advance(2.5);
    assert.equal(clock.time(), 7.5);
    assert.equal(clock.autojump, false);
    assert.equal(new VirtualClock({ autojump: true }).autojump, true);
  });

  it("lets a TestLoop that is not running be advanced", () => {
    const loop = new TestLoop();
    try {
      loop.advance(3);
      assert.equal(loop.time(), 3);
      assert.equal(loop.clock.time(), 3);
    } finally {
      loop.close();
    }
  });

  it("refuses bad arguments, naming them", () => {
    assert.throws(() => new VirtualClock(5 as never), (e) => e instanceof TypeError && /`options`/.test(e.message));
    assert.throws(() => new VirtualClock({ start: "0" as never }), (e) => e instanceof TypeError && /`start`/.test(e.message));
    const clock = new VirtualClock();
    assert.throws(() => clock.advance(-0.5), (e) => e instanceof RangeError && /`seconds`/.test(e.message));
    assert.throws(() => clock.advance(undefined as never), (e) => e instanceof TypeError && /`seconds`/.test(e.message));
  });
});
