// The segmented first-in first-out queue under the loop's ready queue.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Fifo } from "../../src/internal/fifo.js";
import { takenItemIsCollected } from "../support/core.js";
import { COLLECTOR_CHECK, unsupportedOn } from "../support/runtime.js";

describe("Fifo", () => {
  it("is FIFO with push and shift, and empty gives undefined", () => {
    const q = new Fifo<number>();
    assert.equal(q.length, 0);
    assert.equal(q.shift(), undefined);
    for (let i = 0; i < 100; i++) q.push(i);
    assert.equal(q.length, 100);
    for (let i = 0; i < 100; i++) assert.equal(q.shift(), i);
    assert.equal(q.length, 0);
    assert.equal(q.shift(), undefined);
  });

  it("keeps the order across many segments, taken while it grows", () => {
    const q = new Fifo<number>();
    let next = 0;
    let expected = 0;
    // Push 3 for every 1 taken: the queue spans several segments, its head moving through them.
    for (let round = 0; round < 2000; round++) {
      for (let k = 0; k < 3; k++) q.push(next++);
      assert.equal(q.shift(), expected++);
    }
    assert.equal(q.length, 4000);
    while (q.length > 0) assert.equal(q.shift(), expected++);
    assert.equal(expected, 6000);
    assert.equal(q.shift(), undefined);
  });

  it("fills and drains again and again (an emptied segment is reused) without losing an item", () => {
    const q = new Fifo<string>();
    for (let round = 0; round < 5; round++) {
      const size = 1024 * (round + 1) + round; // ends inside a segment, then exactly on one
      for (let i = 0; i < size; i++) q.push(`${round}:${i}`);
      assert.equal(q.length, size);
      for (let i = 0; i < size; i++) assert.equal(q.shift(), `${round}:${i}`);
      assert.equal(q.length, 0);
    }
  });

  it("clear empties it and it stays usable", () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 3000; i++) q.push(i);
    q.clear();
    assert.equal(q.length, 0);
    assert.equal(q.shift(), undefined);
    q.push(7);
    assert.equal(q.shift(), 7);
  });

  it("does not keep references to the items it gave back", { skip: unsupportedOn(COLLECTOR_CHECK) }, async () => {
    assert.equal(await takenItemIsCollected(new Fifo<object>()), true);
  });

  it("behaves as an array model under any sequence of bursts of pushes and shifts", () => {
    type Op = { op: "push" | "shift"; count: number } | { op: "clear" };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 8, arbitrary: fc.record({ op: fc.constantFrom("push" as const, "shift" as const), count: fc.integer({ min: 0, max: 2500 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant("clear" as const) }) },
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const q = new Fifo<number>();
        // The model: what was pushed, from `taken` on (an index, not Array#shift: bursts are long).
        let model: number[] = [];
        let taken = 0;
        let next = 0;
        for (const o of ops) {
          if (o.op === "clear") {
            q.clear();
            model = [];
            taken = 0;
          } else if (o.op === "push") {
            for (let i = 0; i < o.count; i++) {
              q.push(next);
              model.push(next++);
            }
          } else {
            for (let i = 0; i < o.count; i++) assert.equal(q.shift(), taken < model.length ? model[taken++] : undefined);
          }
          assert.equal(q.length, model.length - taken);
        }
        while (taken < model.length) assert.equal(q.shift(), model[taken++]);
        assert.equal(q.shift(), undefined);
      }),
      { numRuns: 200 },
    );
  });
});
