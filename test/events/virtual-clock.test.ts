// The virtual clock of asyncio-ts/testing: VirtualClock, TestLoop, advance, autojump,
// waitAllTasksBlocked, runTest. Modelled on Trio's trio.testing (MockClock,
// autojump_threshold, wait_all_tasks_blocked); no CPython original (CPython's own TestLoop is
// test-suite internal).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { RuntimeError, createTask, getRunningLoop, run, sleep } from "../../src/index.js";
import {
  TestLoop,
  VirtualClock,
  advance,
  runTest,
  waitAllTasksBlocked,
} from "../../src/testing.js";
import { runBriefly } from "../support/core.js";

describe("VirtualClock", () => {
  it("starts at 0, or at the given start, and moves only when advanced", async () => {
    const clock = new VirtualClock();
    assert.equal(clock.time(), 0);
    await delay(5);
    assert.equal(clock.time(), 0);
    clock.advance(1.5);
    assert.equal(clock.time(), 1.5);
    assert.equal(new VirtualClock({ start: 50 }).time(), 50);
    assert.equal(clock.resolution, 0);
  });

  it("refuses a negative, NaN or non-number advance and start", () => {
    const clock = new VirtualClock();
    assert.throws(() => clock.advance(-1), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match((e as Error).message, /`seconds` must be >= 0, got -1/);
      return true;
    });
    assert.throws(() => clock.advance(Number.NaN), RangeError);
    assert.throws(() => clock.advance("1" as never), TypeError);
    assert.throws(() => new VirtualClock({ start: Number.NaN }), RangeError);
    assert.throws(() => new VirtualClock(5 as never), TypeError);
    assert.equal(clock.time(), 0);
  });
});

describe("TestLoop without autojump", () => {
  it("runs timers only when the clock is advanced to them", async () => {
    const loop = new TestLoop();
    const log: number[] = [];
    loop.callLater(1, () => log.push(1));
    loop.callLater(2, () => log.push(2));
    await runBriefly(loop);
    assert.deepEqual(log, []);
    loop.advance(1);
    await runBriefly(loop);
    assert.deepEqual(log, [1]);
    loop.advance(5);
    await runBriefly(loop);
    assert.deepEqual(log, [1, 2]);
    assert.equal(loop.time(), 6);
  });

  it("wakes a running loop when advanced from outside", async () => {
    const loop = new TestLoop();
    const done = loop.runUntilComplete(() => sleep(10, "woke"));
    // Wait (in real time) until the task has started and its sleep is on the loop's timers:
    // on a loaded machine Node's own timer may fire before the loop's first iteration.
    for (let i = 0; i < 1000 && loop._nextDeadline() === null; i++) await delay(1);
    await delay(5);
    assert.equal(loop.isRunning(), true, "still waiting: the clock did not move");
    assert.equal(loop._nextDeadline(), 10);
    loop.advance(10);
    assert.equal(await done, "woke");
    assert.equal(loop.time(), 10);
  });

  it("runs a timer that was due before the loop started", async () => {
    const loop = new TestLoop();
    let fired = false;
    loop.callLater(3, () => {
      fired = true;
    });
    loop.advance(3);
    await runBriefly(loop);
    assert.equal(fired, true);
  });
});

describe("autojump", () => {
  it("jumps to the next timer when every task is blocked, so sleeps take no real time", async () => {
    const started = performance.now();
    const elapsed = await runTest(async () => {
      const loop = getRunningLoop();
      const t0 = loop.time();
      await sleep(3600);
      return loop.time() - t0;
    });
    assert.equal(elapsed, 3600);
    assert.ok(performance.now() - started < 1000);
  });

  it("reads exactly as if the sleeps had taken their time", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const log: [string, number][] = [];
      const sleeper = (name: string, seconds: number) =>
        createTask(async () => {
          await sleep(seconds);
          log.push([name, loop.time()]);
        });
      const a = sleeper("a", 2);
      const b = sleeper("b", 1);
      const c = sleeper("c", 3);
      await a;
      await b;
      await c;
      assert.deepEqual(log, [
        ["b", 1],
        ["a", 2],
        ["c", 3],
      ]);
    });
  });

  it("does not jump while a task is still running", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      let timerFiredAt: number | null = null;
      loop.callLater(10, () => {
        timerFiredAt = loop.time();
      });
      for (let i = 0; i < 100; i++) await sleep(0); // busy: never blocked
      assert.equal(loop.time(), 0);
      assert.equal(timerFiredAt, null);
      await sleep(20);
      assert.equal(timerFiredAt, 10);
    });
  });

  it("never jumps to a timer at Infinity", async () => {
    const outcome = await Promise.race([
      runTest(async () => {
        const forever = createTask(async () => {
          await sleep(Number.POSITIVE_INFINITY);
          return "woke";
        });
        await waitAllTasksBlocked();
        await Promise.race([forever, delay(50)]);
        const result = forever.done() ? forever.result() : "still sleeping";
        forever.cancel();
        return [result, getRunningLoop().time()];
      }),
      delay(2000).then(() => "runTest hung"),
    ]);
    assert.deepEqual(outcome, ["still sleeping", 0]);
  });

  it("lets the code a jump resumed run before it jumps again (a timer that re-arms itself cannot run away)", async () => {
    // The jump's timer resolves a promise (nothing on the loop wakes): the task awaiting it
    // must run before the next jump, or the clock would race on without it for ever.
    const outcome = await Promise.race([
      runTest(async () => {
        const loop = getRunningLoop();
        let ticks = 0;
        let reached!: () => void;
        const third = new Promise<void>((resolve) => (reached = resolve));
        const tick = (): void => {
          if (++ticks === 3) reached();
          loop.callLater(1, tick);
        };
        loop.callLater(1, tick);
        await third;
        return [ticks, loop.time()];
      }),
      delay(2000).then(() => "runTest hung"),
    ]);
    assert.deepEqual(outcome, [3, 3]);
  });

  it("can be turned off in runTest", async () => {
    await runTest(
      async () => {
        const loop = getRunningLoop() as TestLoop;
        const t = createTask(() => sleep(5, "done"));
        await waitAllTasksBlocked();
        assert.equal(t.done(), false);
        assert.equal(loop.time(), 0);
        await advance(5);
        assert.equal(t.done(), true);
        assert.equal(await t, "done");
      },
      { autojump: false },
    );
  });
});

describe("advance (in a task)", () => {
  it("moves the clock and waits until what the timers woke has run", async () => {
    await runTest(
      async () => {
        const log: string[] = [];
        createTask(async () => {
          await sleep(1);
          log.push("woke at 1");
          await sleep(0);
          log.push("and ran on");
        });
        await waitAllTasksBlocked(); // the task started and sleeps until 1
        await advance(0.5);
        assert.deepEqual(log, []);
        await advance(0.5);
        assert.deepEqual(log, ["woke at 1", "and ran on"]);
        assert.equal(getRunningLoop().time(), 1);
      },
      { autojump: false },
    );
  });

  it("needs a TestLoop: RuntimeError on a plain loop", async () => {
    await run(async () => {
      await assert.rejects(advance(1), (e: unknown) => {
        assert.ok(e instanceof RuntimeError);
        assert.match((e as Error).message, /advance\(\) needs a TestLoop/);
        return true;
      });
    });
  });
});

describe("waitAllTasksBlocked", () => {
  it("resolves once every other task is blocked", async () => {
    await runTest(
      async () => {
        const log: string[] = [];
        for (const name of ["a", "b"]) {
          createTask(async () => {
            for (let i = 0; i < 3; i++) {
              log.push(`${name}${i}`);
              await sleep(0);
            }
            await sleep(100);
          });
        }
        await waitAllTasksBlocked();
        assert.deepEqual(log.sort(), ["a0", "a1", "a2", "b0", "b1", "b2"]);
        assert.equal(getRunningLoop().time(), 0);
      },
      { autojump: false },
    );
  });

  it("resolves before autojump moves the clock", async () => {
    await runTest(async () => {
      const t = createTask(() => sleep(10, "slept"));
      await waitAllTasksBlocked();
      assert.equal(getRunningLoop().time(), 0);
      assert.equal(t.done(), false);
      assert.equal(await t, "slept");
      assert.equal(getRunningLoop().time(), 10);
    });
  });

  it("throws RuntimeError when no loop is running", () => {
    assert.throws(() => waitAllTasksBlocked(), { name: "RuntimeError", message: /^no running event loop — / });
  });

  it("waits for I/O that arrives on Node's loop first", async () => {
    await runTest(
      async () => {
        let got = false;
        const loop = getRunningLoop();
        setImmediate(() => loop.callSoon(() => (got = true)));
        await waitAllTasksBlocked();
        assert.equal(got, true);
      },
      { autojump: false },
    );
  });
});

describe("runTest", () => {
  it("resolves to main's result and rejects with its error", async () => {
    assert.equal(await runTest(async () => 42), 42);
    const boom = new Error("main failed");
    await assert.rejects(
      runTest(async () => {
        throw boom;
      }),
      (e: unknown) => e === boom,
    );
  });

  it("runs on a TestLoop starting at the given time", async () => {
    const [isTestLoop, t] = await runTest(
      async () => [getRunningLoop() instanceof TestLoop, getRunningLoop().time()] as const,
      { start: 1000 },
    );
    assert.equal(isTestLoop, true);
    assert.equal(t, 1000);
  });

  it("refuses options that are not an object", () => {
    assert.throws(() => runTest(async () => 1, 5 as never), TypeError);
  });
});
