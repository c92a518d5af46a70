// The indexed binary heap under the loop's timers: ordered by deadline, then insertion order;
// any entry removable in O(log n).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Heap, type HeapEntry } from "../../src/internal/heap.js";

interface Entry extends HeapEntry {
  name: string;
}

let seq = 0;
function entry(when: number, name = String(when)): Entry {
  return { _when: when, _seq: seq++, _heapIndex: -1, name };
}

function drain(h: Heap<Entry>): string[] {
  const out: string[] = [];
  for (let e = h.pop(); e !== undefined; e = h.pop()) out.push(e.name);
  return out;
}

describe("Heap", () => {
  it("pops entries by deadline, then in insertion order", () => {
    const h = new Heap<Entry>();
    assert.equal(h.peek(), undefined);
    assert.equal(h.pop(), undefined);
    h.push(entry(5, "5a"));
    h.push(entry(3, "3"));
    h.push(entry(5, "5b"));
    h.push(entry(1, "1"));
    h.push(entry(5, "5c"));
    assert.equal(h.size, 5);
    assert.equal(h.peek()?.name, "1");
    assert.deepEqual(drain(h), ["1", "3", "5a", "5b", "5c"]);
    assert.equal(h.size, 0);
  });

  it("keeps each entry's index, -1 once it left the heap", () => {
    const h = new Heap<Entry>();
    const es = [4, 2, 8, 6, 1].map((w) => entry(w));
    for (const e of es) h.push(e);
    for (const e of es) assert.ok(e._heapIndex >= 0 && e._heapIndex < h.size);
    const top = h.pop()!;
    assert.equal(top._heapIndex, -1);
    assert.equal(h.remove(top), false, "not in the heap any more");
    h.clear();
    for (const e of es) assert.equal(e._heapIndex, -1);
  });

  it("removes any entry and keeps the order of the rest", () => {
    const h = new Heap<Entry>();
    const es = Array.from({ length: 20 }, (_, i) => entry((i * 7) % 20));
    for (const e of es) h.push(e);
    for (const e of es.filter((_, i) => i % 3 === 0)) assert.equal(h.remove(e), true);
    const expected = es
      .filter((_, i) => i % 3 !== 0)
      .sort((a, b) => a._when - b._when || a._seq - b._seq)
      .map((e) => e.name);
    assert.deepEqual(drain(h), expected);
  });

  it("refuses to remove an entry of another heap", () => {
    const a = new Heap<Entry>();
    const b = new Heap<Entry>();
    const e = entry(1);
    const f = entry(2);
    a.push(e);
    b.push(f);
    assert.equal(a.remove(f), false);
    assert.equal(a.size, 1);
    assert.equal(b.size, 1);
  });

  it("agrees with a sorted list under random pushes, pops and removals", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("push" as const), when: fc.integer({ min: 0, max: 10 }) }),
            fc.record({ op: fc.constant("pop" as const) }),
            fc.record({ op: fc.constant("remove" as const), index: fc.nat() }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const h = new Heap<Entry>();
          let model: Entry[] = [];
          const byOrder = (a: Entry, b: Entry) => a._when - b._when || a._seq - b._seq;
          for (const o of ops) {
            if (o.op === "push") {
              const e = entry(o.when);
              h.push(e);
              model.push(e);
            } else if (o.op === "pop") {
              model.sort(byOrder);
              assert.equal(h.pop(), model.shift());
            } else if (model.length > 0) {
              const victim = model[o.index % model.length]!;
              assert.equal(h.remove(victim), true);
              model = model.filter((e) => e !== victim);
            }
            assert.equal(h.size, model.length);
            assert.equal(h.peek(), [...model].sort(byOrder)[0]);
          }
          assert.deepEqual(drain(h), model.sort(byOrder).map((e) => e.name));
        },
      ),
    );
  });
});
