// `gatherAll(iterable, options?)`: gather for a collection of any size. Spread arguments
// (`gather(...list)`) overflow the stack at a few hundred thousand; gatherAll takes the list.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CancelledError, type Future, gather, gatherAll, getRunningLoop, sleep } from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { unsupportedOn } from "../support/runtime.js";

describe("gatherAll", () => {
  it("resolves 300,000 futures to an array of their results, in order", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const futures: Future<number>[] = [];
      for (let i = 0; i < 300_000; i++) futures.push(loop.createFuture<number>());
      const all = gatherAll(futures);
      for (let i = futures.length - 1; i >= 0; i--) (futures[i] as Future<number>).setResult(i);
      const results: number[] = await all;
      assert.equal(results.length, 300_000);
      assert.equal(results[0], 0);
      assert.equal(results[299_999], 299_999);
    });
  });

  it("where gather(...list) of the same size overflows the stack", { skip: unsupportedOn({ bun: "JavaScriptCore takes 300 000 spread arguments: the overflow shown here is V8's limit" }) }, async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const futures = Array.from({ length: 300_000 }, () => loop.createFuture<number>());
      assert.throws(() => gather(...futures), RangeError);
      for (const f of futures) f.cancel();
    });
  });

  it("takes any iterable (a generator of thunks, a Set); thunks become tasks", async () => {
    await runTest(async () => {
      function* works(): Generator<() => Promise<string>> {
        for (const name of ["a", "b", "c"]) {
          yield async () => {
            await sleep(name === "a" ? 0.3 : 0.1);
            return name;
          };
        }
      }
      assert.deepEqual(await gatherAll(works()), ["a", "b", "c"]);
      const loop = getRunningLoop();
      const f = loop.createFuture<number>();
      f.setResult(7);
      assert.deepEqual(await gatherAll(new Set([f])), [7]);
      assert.deepEqual(await gatherAll([]), []);
    });
  });

  it("fails with the first error, or puts errors in the results with returnExceptions", async () => {
    await runTest(async () => {
      const boom = new Error("boom");
      const failing = async (): Promise<number> => {
        await sleep(0.1);
        throw boom;
      };
      const ok = async (): Promise<number> => {
        await sleep(0.2);
        return 1;
      };
      await assert.rejects(async () => gatherAll([ok, failing]), (e) => e === boom);
      const settled: (number | Error)[] = await gatherAll([ok, failing], { returnExceptions: true });
      assert.deepEqual(settled, [1, boom]);
    });
  });

  it("cancelling it cancels the children not yet done", async () => {
    await runTest(async () => {
      const loop = getRunningLoop();
      const pending = loop.createFuture<number>();
      const done = loop.createFuture<number>();
      done.setResult(1);
      const all = gatherAll([pending, done]);
      await sleep(0);
      assert.equal(all.cancel(), true);
      await assert.rejects(async () => all, CancelledError);
      assert.equal(pending.cancelled(), true);
    });
  });

  it("refuses what is not an iterable of awaitables, and unknown options", async () => {
    await runTest(async () => {
      assert.throws(() => gatherAll(42 as never), /gatherAll\(\): `aws` must be an iterable/);
      assert.throws(() => gatherAll("ab" as never), TypeError);
      assert.throws(() => gatherAll([1] as never), /gatherAll\(\): entry 0 must be an awaitable or a thunk/);
      assert.throws(() => gatherAll([], { returnException: true } as never), /unknown option `returnException` \(did you mean `returnExceptions`\?\)/);
    });
  });
});
