// The waiter queue under every waiting primitive: FIFO wake-ups, O(1) removal of cancelled
// waiters with the order of the others kept, and the woken-then-cancelled hand-on (onLost).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CancelledError, createTask, getRunningLoop } from "../../src/index.js";
import { type Parked, Waiter, WaiterQueue } from "../../src/internal/waiters.js";
import { runTest } from "../../src/testing.js";
import { errorOf, ticks } from "../locks/support.js";

/** A waiter without a loop: records what it was given. */
class Fake implements Parked<number> {
  state: "parked" | "woken" | "failed" | "cancelled" = "parked";
  value: number | null = null;
  error: unknown = null;
  constructor(readonly name: string) {}
  done(): boolean {
    return this.state !== "parked";
  }
  _wake(value: number): void {
    assert.equal(this.state, "parked", `${this.name} woken twice`);
    this.state = "woken";
    this.value = value;
  }
  _fail(error: unknown): void {
    assert.equal(this.state, "parked", `${this.name} failed twice`);
    this.state = "failed";
    this.error = error;
  }
  /** What `Waiter.cancel()` does: done, and the queue is told. */
  cancelIn(queue: WaiterQueue<Fake, number>): void {
    this.state = "cancelled";
    queue._discard();
  }
}

function parked(queue: WaiterQueue<Fake, number>, ...names: string[]): Fake[] {
  return names.map((name) => {
    const w = new Fake(name);
    queue.push(w);
    return w;
  });
}

describe("WaiterQueue", () => {
  it("wakes parked waiters first to last, each once, with the value given", () => {
    const queue = new WaiterQueue<Fake, number>();
    const [a, b, c] = parked(queue, "a", "b", "c") as [Fake, Fake, Fake];
    assert.equal(queue.size, 3);
    assert.equal(queue.wakeFirst(1), true);
    assert.equal(queue.wake(5, 2), 2);
    assert.equal(queue.wakeFirst(3), false);
    assert.deepEqual([a.value, b.value, c.value], [1, 2, 2]);
    assert.equal(queue.size, 0);
  });

  it("skips cancelled waiters and keeps the order of the others", () => {
    const queue = new WaiterQueue<Fake, number>();
    const ws = parked(queue, "a", "b", "c", "d");
    ws[0]?.cancelIn(queue);
    ws[2]?.cancelIn(queue);
    assert.equal(queue.size, 2);
    assert.equal(queue.first()?.name, "b");
    assert.deepEqual([...queue].map((w) => w.name), ["b", "d"]);
    assert.equal(queue.wakeAll(7), 2);
    assert.deepEqual(ws.map((w) => w.state), ["cancelled", "woken", "cancelled", "woken"]);
  });

  it("stays FIFO and counts right through the sweeps of many cancelled waiters", () => {
    const queue = new WaiterQueue<Fake, number>();
    const ws = parked(queue, ...Array.from({ length: 200 }, (_, i) => `w${i}`));
    for (const w of ws) if (Number(w.name.slice(1)) % 3 !== 0) w.cancelIn(queue);
    const alive = ws.filter((w) => w.state === "parked").map((w) => w.name);
    assert.equal(queue.size, alive.length);
    assert.deepEqual([...queue].map((w) => w.name), alive);
    const woken: string[] = [];
    while (queue.size > 0) {
      const first = queue.first() as Fake;
      queue.wakeFirst(0);
      woken.push(first.name);
    }
    assert.deepEqual(woken, alive);
  });

  it("fails every parked waiter, and only those, with failAll", () => {
    const queue = new WaiterQueue<Fake, number>();
    const [a, b, c] = parked(queue, "a", "b", "c") as [Fake, Fake, Fake];
    queue.wakeFirst(1);
    b.cancelIn(queue);
    const boom = new Error("shut down");
    queue.failAll(boom);
    assert.deepEqual([a.state, b.state, c.state], ["woken", "cancelled", "failed"]);
    assert.equal(c.error, boom);
    assert.equal(queue.size, 0);
    assert.equal(queue.first(), undefined);
  });

  describe("with Waiter futures", () => {
    it("takes a waiter whose task is cancelled out of the queue at once", async () => {
      await runTest(async () => {
        const loop = getRunningLoop();
        const queue = new WaiterQueue<Waiter<string>, string>();
        const lost: string[] = [];
        const t1 = createTask(() => new Waiter<string>(loop, queue, (v) => lost.push(v)));
        const t2 = createTask(() => new Waiter<string>(loop, queue, (v) => lost.push(v)));
        await ticks();
        assert.equal(queue.size, 2);
        t1.cancel();
        assert.equal(queue.size, 1, "left at cancel time, not when the task next runs");
        queue.wakeFirst("x");
        assert.equal(await t2, "x");
        assert.ok((await errorOf(t1)) instanceof CancelledError);
        assert.deepEqual(lost, [], "cancelled while parked: nothing to hand on");
      });
    });

    it("hands the wake-up back through onLost when the woken task is cancelled before it runs", async () => {
      await runTest(async () => {
        const loop = getRunningLoop();
        const queue = new WaiterQueue<Waiter<string>, string>();
        const lost: string[] = [];
        const onLost = (v: string): void => {
          lost.push(v);
          queue.wakeFirst(v); // hand it on
        };
        const t1 = createTask(() => new Waiter<string>(loop, queue, onLost));
        const t2 = createTask(() => new Waiter<string>(loop, queue, onLost));
        await ticks();
        queue.wakeFirst("item");
        t1.cancel();
        assert.ok((await errorOf(t1)) instanceof CancelledError);
        assert.deepEqual(lost, ["item"]);
        assert.equal(await t2, "item");
      });
    });

    it("does not call onLost for a woken task that resumes normally", async () => {
      await runTest(async () => {
        const loop = getRunningLoop();
        const queue = new WaiterQueue<Waiter<number>, number>();
        let lost = 0;
        const t = createTask(() => new Waiter<number>(loop, queue, () => lost++));
        await ticks();
        queue.wakeFirst(5);
        assert.equal(await t, 5);
        assert.equal(lost, 0);
      });
    });
  });
});
