// Handle and TimerHandle: what callSoon, callLater and callAt return.
// Ported from CPython's Lib/test/test_asyncio/test_events.py (HandleTests, TimerTests).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ContextVar, Handle, TimerHandle } from "../../src/index.js";
import { TestLoop } from "../../src/testing.js";
import { captureExceptions, runOnce } from "../support/core.js";

function noop(..._args: unknown[]): void {}

function timerCount(loop: TestLoop): number {
  return Number(/timers=(\d+)/.exec(loop.toString())?.[1]);
}

describe("Handle", () => {
  // CPython: test_events.py HandleTests.test_handle
  it("can be cancelled before it runs, and then does not run", async () => {
    const loop = new TestLoop();
    let calls = 0;
    const h = loop.callSoon(() => calls++);
    assert.equal(h.cancelled(), false);
    h.cancel();
    assert.equal(h.cancelled(), true);
    await runOnce(loop);
    assert.equal(calls, 0);
  });

  it("cancelling twice, or after it ran, is harmless", async () => {
    const loop = new TestLoop();
    let calls = 0;
    const h = loop.callSoon(() => calls++);
    await runOnce(loop);
    assert.equal(calls, 1);
    h.cancel();
    h.cancel();
    assert.equal(h.cancelled(), true);
  });

  it("a callback can cancel a later one of the same iteration", async () => {
    const loop = new TestLoop();
    const log: string[] = [];
    let second: Handle | null = null;
    loop.callSoon(() => {
      log.push("first");
      second!.cancel();
    });
    second = loop.callSoon(() => log.push("second"));
    loop.callSoon(() => log.push("third"));
    await runOnce(loop);
    assert.deepEqual(log, ["first", "third"]);
  });

  it("knows its loop", () => {
    const loop = new TestLoop();
    assert.equal(loop.callSoon(noop).getLoop(), loop);
    assert.equal(loop.callLater(1, noop).getLoop(), loop);
  });

  // CPython: test_events.py HandleTests.test_callback_with_exception
  it("reports an error of its callback to the loop's exception handler", async () => {
    const loop = new TestLoop();
    const seen = captureExceptions(loop);
    const boom = new RangeError("boom");
    const h = loop.callSoon(function failing() {
      throw boom;
    });
    await runOnce(loop);
    assert.equal(seen.length, 1);
    assert.match(seen[0]!.message, /^Exception in callback failing/);
    assert.equal(seen[0]!.exception, boom);
    assert.equal(seen[0]!.handle, h);
  });

  // CPython: test_events.py HandleTests.test_handle_repr
  it("prints the callback, or that it was cancelled", () => {
    const loop = new TestLoop();
    const h = loop.callSoon(noop);
    assert.match(h.toString(), /^<Handle noop\(/);
    h.cancel();
    assert.equal(h.toString(), "<Handle cancelled>");
    const anonymous = loop.callSoon(
      (() => () => {})(), // no name
    );
    assert.match(anonymous.toString(), /^<Handle anonymous\(\)>$/);
  });

  // CPython: test_events.py HandleTests.test_handle_repr ('<Handle noop(1, 2) at …>')
  it("prints the callback's arguments, as CPython does", () => {
    const loop = new TestLoop();
    const h = loop.callSoon(noop, 1, 2);
    assert.match(h.toString(), /^<Handle noop\(1, 2\)/);
  });

  // CPython 3.12: Handle.get_context()
  it("gives the context its callback runs in with getContext()", async () => {
    const loop = new TestLoop();
    const v = new ContextVar<string>("v", { default: "none" });
    let seen = "";
    const h = loop.callSoon(() => {
      v.set("inside");
      seen = v.get();
    });
    await runOnce(loop);
    assert.equal(seen, "inside");
    const context = (h as unknown as { getContext(): { get(x: unknown): unknown } }).getContext();
    assert.equal(context.get(v), "inside");
  });
});

describe("TimerHandle", () => {
  // CPython: test_events.py TimerTests.test_timer
  it("is what callLater and callAt return, and knows when it is due", () => {
    const loop = new TestLoop({ start: 10 });
    const h = loop.callLater(5, noop);
    assert.ok(h instanceof TimerHandle);
    assert.ok(h instanceof Handle);
    assert.equal(h.when(), 15);
    const at = loop.callAt(123, noop);
    assert.equal(at.when(), 123);
    assert.equal(at.cancelled(), false);
    at.cancel();
    assert.equal(at.cancelled(), true);
  });

  // CPython: test_events.py TimerTests.test_timer_repr
  it("prints when it is due and the callback", () => {
    const loop = new TestLoop();
    const h = loop.callAt(123, noop);
    assert.match(h.toString(), /^<TimerHandle when=123 noop\(/);
    h.cancel();
    assert.match(h.toString(), /^<TimerHandle .*cancelled/);
  });

  it("leaves the loop's timers at once when cancelled", () => {
    const loop = new TestLoop();
    const handles = Array.from({ length: 10_000 }, (_, i) => loop.callLater(i + 1, noop));
    assert.equal(timerCount(loop), 10_000);
    const started = performance.now();
    for (const h of handles) h.cancel();
    assert.equal(timerCount(loop), 0);
    // 10k cancels in O(log n) each: far below a second even on a slow machine.
    assert.ok(performance.now() - started < 1000);
  });

  it("a cancelled timer does not run, even when cancelled after it came due", async () => {
    const loop = new TestLoop();
    const log: string[] = [];
    let second: TimerHandle | null = null;
    loop.callAt(1, () => {
      log.push("first");
      second!.cancel();
    });
    second = loop.callAt(1, () => log.push("second"));
    loop.callAt(1, () => log.push("third"));
    loop.advance(1);
    await runOnce(loop);
    assert.deepEqual(log, ["first", "third"]);
  });
});
