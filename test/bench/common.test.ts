// The bench's own helpers: how a worker turns several measured runs into one measurement, and
// the spawn programs built by hand from a cancellable task's parts (bench/parts.ts) doing the
// whole workload (every child done before they return).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { averageRuns, worseBeyondSpread } from "../../bench/common.js";
import { spawnFrames, spawnParts, spawnPartsUndrained, spawnThenables, stepOrder } from "../../bench/parts.js";

describe("averageRuns", () => {
  it("averages a cost and takes the rate of all the runs' work together for a rate", () => {
    const metrics = averageRuns(
      [
        { us_per_task: 2, items_per_s: 100 },
        { us_per_task: 4, items_per_s: 300 },
      ],
      ["items_per_s"],
    );
    assert.equal(metrics.us_per_task, 3);
    // Two runs of the same work at 100/s and 300/s: 2 units in 1/100 + 1/300 s, 150 per second.
    assert.equal(metrics.items_per_s, 150);
  });

  it("averages a metric only over the runs that have it", () => {
    const metrics = averageRuns([{ a: 1, b: 10 }, { a: 3 }], []);
    assert.deepEqual(metrics, { a: 2, b: 10 });
  });

  it("gives one run back as it is", () => {
    assert.deepEqual(averageRuns([{ us_per_task: 5, acq_per_s: 7 }], ["acq_per_s"]), { us_per_task: 5, acq_per_s: 7 });
  });
});

describe("the spawn workload built by hand", () => {
  it("every part: returns once each of the tasks has returned", async () => {
    const seen: number[] = [];
    await spawnParts(1000, (i) => seen.push(i));
    assert.equal(seen.length, 1000);
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  });

  it("every part but the drain: returns once each of the tasks has returned", async () => {
    const seen: number[] = [];
    await spawnPartsUndrained(1000, (i) => seen.push(i));
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  });

  it("the drain runs each task to its next suspension before the next resumes; without it they interleave", async () => {
    assert.deepEqual(await stepOrder(true), ["a1", "a2", "b1", "b2"]);
    assert.deepEqual(await stepOrder(false), ["a1", "b1", "a2", "b2"]);
  });

  it("a thenable per task: returns once each async function has resumed", async () => {
    const seen: number[] = [];
    await spawnThenables(1000, (i) => seen.push(i));
    assert.equal(seen.length, 1000);
  });

  it("a frame per task: each async function reads its own frame after its await", async () => {
    const seen: number[] = [];
    await spawnFrames(1000, (i) => seen.push(i));
    assert.deepEqual(seen, Array.from({ length: 1000 }, (_, i) => i));
  });
});

describe("worseBeyondSpread", () => {
  it("a cost is worse beyond the spread only when its best run is worse than the other's worst", () => {
    assert.equal(worseBeyondSpread({ median: 3, min: 2.9, max: 3.5 }, { median: 2, min: 1.8, max: 2.8 }, "lower"), true);
    assert.equal(worseBeyondSpread({ median: 3, min: 2.5, max: 3.5 }, { median: 2, min: 1.8, max: 2.8 }, "lower"), false);
    assert.equal(worseBeyondSpread({ median: 2, min: 1.8, max: 2.8 }, { median: 3, min: 2.9, max: 3.5 }, "lower"), false);
  });

  it("a throughput is worse beyond the spread only when its best run is below the other's worst", () => {
    assert.equal(worseBeyondSpread({ median: 400, min: 380, max: 450 }, { median: 500, min: 460, max: 560 }, "higher"), true);
    assert.equal(worseBeyondSpread({ median: 400, min: 380, max: 470 }, { median: 500, min: 460, max: 560 }, "higher"), false);
  });
});
