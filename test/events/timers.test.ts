// Timers: callLater and callAt, their order, and the real clock.
// Ported from CPython's Lib/test/test_asyncio/test_base_events.py (BaseEventLoopTests) and
// test_events.py (EventLoopTestsMixin.test_call_later).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventLoop, getRunningLoop, sleep } from "../../src/index.js";
import { TestLoop, runTest } from "../../src/testing.js";
import { runBriefly, runOnce } from "../support/core.js";

function noop(): void {}

describe("callLater and callAt", () => {
  // CPython: test_base_events.py BaseEventLoopTests.test_call_later
  it("schedule a callback for later, not for the next iteration", async () => {
    const loop = new TestLoop();
    const log: number[] = [];
    const h = loop.callLater(10, (x: number) => log.push(x), 7);
    await runBriefly(loop);
    assert.deepEqual(log, []);
    assert.equal(h.when(), 10);
    loop.advance(9.5);
    await runBriefly(loop);
    assert.deepEqual(log, []);
    loop.advance(0.5);
    await runBriefly(loop);
    assert.deepEqual(log, [7]);
  });

  it("reject a delay or time that is not a number with a TypeError naming it", () => {
    const loop = new TestLoop();
    assert.throws(() => loop.callLater(null as never, noop), /`delay` must be a number of seconds, got null/);
    assert.throws(() => loop.callAt(undefined as never, noop), /`when` must be a number of seconds/);
    assert.throws(() => loop.callLater(Number.NaN, noop), RangeError);
    assert.throws(() => loop.callAt(Number.NaN, noop), RangeError);
    assert.throws(() => loop.callLater(1, "cb" as never), /`callback` must be a function/);
  });

  // CPython: test_base_events.py BaseEventLoopTests.test_call_later_negative_delays
  it("treat a negative delay as now, ordered by how far in the past", async () => {
    const loop = new TestLoop();
    const calls: string[] = [];
    loop.callLater(-1, (arg: string) => calls.push(arg), "a");
    loop.callLater(-2, (arg: string) => calls.push(arg), "b");
    await runBriefly(loop);
    assert.deepEqual(calls, ["b", "a"]);
  });

  it("run due timers in deadline order, then in the order they were scheduled", async () => {
    const loop = new TestLoop();
    const log: string[] = [];
    loop.callAt(5, () => log.push("5a"));
    loop.callAt(3, () => log.push("3"));
    loop.callLater(5, () => log.push("5b"));
    loop.callAt(4, () => log.push("4"));
    loop.callAt(5, () => log.push("5c"));
    loop.advance(10);
    await runOnce(loop);
    assert.deepEqual(log, ["3", "4", "5a", "5b", "5c"]);
  });

  it("run many random timers in deadline order", async () => {
    const loop = new TestLoop();
    const got: number[] = [];
    let seed = 12345;
    const whens: number[] = [];
    for (let i = 0; i < 1000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const when = Math.floor((seed / 2147483648) * 100);
      whens.push(when);
      loop.callAt(when, () => got.push(when));
    }
    loop.advance(100);
    await runOnce(loop);
    assert.deepEqual(got, [...whens].sort((a, b) => a - b));
  });

  it("put due timers after the callbacks already in the ready queue", async () => {
    const loop = new TestLoop();
    const log: string[] = [];
    loop.callLater(0, () => log.push("timer due now"));
    loop.callSoon(() => log.push("callSoon"));
    await runOnce(loop);
    assert.deepEqual(log, ["callSoon", "timer due now"]);
  });

  it("run a timer scheduled by a callback for now in a later iteration", async () => {
    const loop = new TestLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      log.push("callback");
      loop.callLater(0, () => log.push("timer"));
    });
    await runOnce(loop);
    assert.deepEqual(log, ["callback"]);
    await runOnce(loop);
    assert.deepEqual(log, ["callback", "timer"]);
  });

  it("never run a timer at Infinity", async () => {
    const loop = new TestLoop();
    let fired = false;
    loop.callLater(Number.POSITIVE_INFINITY, () => {
      fired = true;
    });
    loop.advance(1e300);
    await runBriefly(loop);
    assert.equal(fired, false);
  });

  it("pass the arguments and run in the order of sleeps and timers due together", async () => {
    await runTest(async () => {
      const log: string[] = [];
      const loop = getRunningLoop();
      loop.callLater(1, (a: string, b: string) => log.push(a + b), "ti", "mer");
      await sleep(1);
      log.push("sleeper");
      await sleep(0);
      assert.deepEqual(log, ["timer", "sleeper"]);
    });
  });
});

describe("timers on the real clock", () => {
  // CPython: test_base_events.py BaseEventLoopTests.test_time_and_call_at;
  // test_events.py EventLoopTestsMixin.test_call_later (real time: a few milliseconds)
  it("fire after their delay, not before", async () => {
    const loop = new EventLoop();
    const delay = 0.02;
    const t0 = loop.time();
    let firedAt = 0;
    loop.callAt(t0 + delay, () => {
      firedAt = loop.time();
      loop.stop();
    });
    await loop.runForever();
    assert.ok(firedAt - t0 >= delay - 1e-6, `fired after ${firedAt - t0}s`);
    assert.ok(firedAt - t0 < 1, `fired after ${firedAt - t0}s`);
    loop.close();
  });

  it("let a task sleep on the real clock", async () => {
    const loop = new EventLoop();
    const t0 = loop.time();
    assert.equal(await loop.runUntilComplete(() => sleep(0.015, "slept")), "slept");
    assert.ok(loop.time() - t0 >= 0.015 - 1e-6);
    loop.close();
  });
});
