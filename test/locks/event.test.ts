// Event: a flag tasks wait for. Ported from CPython's Lib/test/test_asyncio/test_locks.py
// (EventTests).
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, it } from "node:test";
import { CancelledError, Event, createTask, getRunningLoop, run } from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { errorOf, settlesWithoutALoopIteration, ticks } from "./support.js";

describe("Event", () => {
  // CPython: test_locks.py EventTests.test_repr
  it("prints its state as asyncio does", async () => {
    await runTest(async () => {
      const ev = new Event();
      assert.equal(ev.toString(), "<Event [unset]>");
      ev.set();
      assert.equal(inspect(ev), "<Event [set]>");
      ev.clear();
      const waiter = createTask(() => ev.wait());
      await ticks();
      assert.equal(String(ev), "<Event [unset, waiters:1]>");
      waiter.cancel();
      await ticks();
      assert.equal(String(ev), "<Event [unset]>");
    });
  });

  it("takes no constructor arguments (no loop parameter)", () => {
    const Ctor = Event as unknown as new (options: unknown) => Event;
    assert.throws(() => new Ctor({ loop: null }), { name: "TypeError", message: /takes no arguments/ });
  });

  // CPython: test_locks.py EventTests.test_wait
  it("wakes every waiter in the order they waited; a newcomer after set() does not wait", async () => {
    await runTest(async () => {
      const ev = new Event();
      assert.equal(ev.isSet(), false);
      const result: number[] = [];
      const waiter = (n: number) => async () => {
        if (await ev.wait()) result.push(n);
      };
      const t1 = createTask(waiter(1));
      const t2 = createTask(waiter(2));
      await ticks();
      assert.deepEqual(result, []);
      const t3 = createTask(waiter(3));
      ev.set();
      await ticks();
      // t3 started after set(): it passes without waiting, before the woken ones run.
      assert.deepEqual(result, [3, 1, 2]);
      for (const t of [t1, t2, t3]) assert.equal(t.result(), undefined);
    });
  });

  // CPython: test_locks.py EventTests.test_wait_on_set
  it("resolves true at once, without a loop iteration, when already set", async () => {
    await runTest(async () => {
      const ev = new Event();
      ev.set();
      assert.equal(await ev.wait(), true);
      assert.equal(await settlesWithoutALoopIteration(ev.wait()), true);
    });
  });

  // CPython: test_locks.py EventTests.test_wait_cancel
  it("leaves no waiter behind when a wait is cancelled", async () => {
    await runTest(async () => {
      const ev = new Event();
      const wait = createTask(() => ev.wait());
      getRunningLoop().callSoon(() => wait.cancel());
      assert.ok((await errorOf(wait)) instanceof CancelledError);
      assert.equal(ev.toString(), "<Event [unset]>");
    });
  });

  // CPython: test_locks.py EventTests.test_clear
  it("clear() lowers the flag", () => {
    const ev = new Event();
    assert.equal(ev.isSet(), false);
    ev.set();
    assert.equal(ev.isSet(), true);
    ev.clear();
    assert.equal(ev.isSet(), false);
  });

  // CPython: test_locks.py EventTests.test_clear_with_waiters
  it("still wakes a waiter when cleared right after set(); setting twice wakes it once", async () => {
    await runTest(async () => {
      const ev = new Event();
      const result: number[] = [];
      const t = createTask(async () => {
        if (await ev.wait()) result.push(1);
        return true;
      });
      await ticks();
      assert.deepEqual(result, []);
      ev.set();
      ev.clear();
      assert.equal(ev.isSet(), false);
      ev.set();
      ev.set();
      assert.equal(ev.toString(), "<Event [set]>", "the woken waiter no longer counts");
      await ticks();
      assert.deepEqual(result, [1]);
      assert.equal(t.result(), true);
    });
  });

  it("refuses to be waited on from a loop other than the one it is bound to", async () => {
    const ev = new Event();
    await runTest(async () => {
      const t = createTask(() => ev.wait());
      await ticks();
      t.cancel();
      await ticks();
    });
    await run(async () => {
      assert.throws(() => ev.wait(), { name: "RuntimeError", message: /bound to a different event loop/ });
    });
  });
});
