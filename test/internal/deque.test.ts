// The ring-buffer deque under every waiter queue.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Deque } from "../../src/internal/deque.js";
import { takenItemIsCollected } from "../support/core.js";
import { COLLECTOR_CHECK, unsupportedOn } from "../support/runtime.js";

describe("Deque", () => {
  it("is FIFO with push and shift, and empty gives undefined", () => {
    const d = new Deque<number>();
    assert.equal(d.length, 0);
    assert.equal(d.shift(), undefined);
    assert.equal(d.pop(), undefined);
    assert.equal(d.peekFirst(), undefined);
    assert.equal(d.peekLast(), undefined);
    for (let i = 0; i < 100; i++) d.push(i);
    assert.equal(d.length, 100);
    for (let i = 0; i < 100; i++) assert.equal(d.shift(), i);
    assert.equal(d.length, 0);
  });

  it("works at both ends: unshift, pop, peekFirst, peekLast, at", () => {
    const d = new Deque<string>();
    d.push("b");
    d.unshift("a");
    d.push("c");
    assert.deepEqual([...d], ["a", "b", "c"]);
    assert.equal(d.peekFirst(), "a");
    assert.equal(d.peekLast(), "c");
    assert.equal(d.at(1), "b");
    assert.equal(d.at(3), undefined);
    assert.equal(d.at(-1), undefined);
    assert.equal(d.pop(), "c");
    assert.equal(d.shift(), "a");
    assert.deepEqual([...d], ["b"]);
  });

  it("grows past its capacity while wrapped around, keeping the order", () => {
    const d = new Deque<number>(16);
    for (let i = 0; i < 10; i++) d.push(i);
    for (let i = 0; i < 8; i++) d.shift(); // head moves into the buffer
    for (let i = 10; i < 40; i++) d.push(i); // wraps, then grows
    for (let i = 0; i < 5; i++) d.unshift(-i - 1);
    assert.deepEqual([...d], [-5, -4, -3, -2, -1, 8, 9, ...Array.from({ length: 30 }, (_, i) => i + 10)]);
  });

  it("remove takes out the first occurrence and keeps the order of the rest", () => {
    const d = new Deque<number>();
    for (const x of [1, 2, 3, 2, 4]) d.push(x);
    assert.equal(d.remove(2), true);
    assert.deepEqual([...d], [1, 3, 2, 4]);
    assert.equal(d.remove(9), false);
    assert.equal(d.length, 4);
    assert.equal(d.remove(4), true);
    assert.equal(d.remove(1), true);
    assert.deepEqual([...d], [3, 2]);
  });

  it("clear empties it and it stays usable", () => {
    const d = new Deque<number>();
    for (let i = 0; i < 40; i++) d.push(i);
    d.clear();
    assert.equal(d.length, 0);
    assert.deepEqual([...d], []);
    d.push(7);
    assert.deepEqual([...d], [7]);
  });

  it("does not keep references to the items it gave back", { skip: unsupportedOn(COLLECTOR_CHECK) }, async () => {
    assert.equal(await takenItemIsCollected(new Deque<object>()), true);
  });

  it("behaves as an array model under any sequence of operations", () => {
    type Op =
      | { op: "push" | "unshift"; value: number }
      | { op: "shift" | "pop" | "clear" }
      | { op: "remove" | "at"; value: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constantFrom("push" as const, "unshift" as const), value: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ op: fc.constantFrom("shift" as const, "pop" as const, "clear" as const) }),
      fc.record({ op: fc.constantFrom("remove" as const, "at" as const), value: fc.integer({ min: -1, max: 20 }) }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const d = new Deque<number>();
        const model: number[] = [];
        for (const o of ops) {
          switch (o.op) {
            case "push":
              d.push(o.value);
              model.push(o.value);
              break;
            case "unshift":
              d.unshift(o.value);
              model.unshift(o.value);
              break;
            case "shift":
              assert.equal(d.shift(), model.shift());
              break;
            case "pop":
              assert.equal(d.pop(), model.pop());
              break;
            case "clear":
              d.clear();
              model.length = 0;
              break;
            case "remove": {
              const i = model.indexOf(o.value);
              assert.equal(d.remove(o.value), i >= 0);
              if (i >= 0) model.splice(i, 1);
              break;
            }
            case "at":
              assert.equal(d.at(o.value), o.value >= 0 ? model[o.value] : undefined);
              break;
          }
          assert.equal(d.length, model.length);
          assert.equal(d.peekFirst(), model[0]);
          assert.equal(d.peekLast(), model[model.length - 1]);
        }
        assert.deepEqual([...d], model);
      }),
    );
  });
});
