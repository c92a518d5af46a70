// Lazy coroutine objects, Python's behaviour where JS starts async functions at once:
// coroutine(fn), isCoroutine, isCoroutineFunction.
// Ported in part from CPython's Lib/test/test_asyncio/test_tasks.py (test_iscoroutinefunction,
// test_coroutine_non_gen_function) and test_pep492.py; the rest pins the Python behaviour
// the wrapper reproduces (nothing runs until awaited; a coroutine runs once).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Coroutine,
  RuntimeError,
  coroutine,
  createTask,
  currentTask,
  isCoroutine,
  isCoroutineFunction,
  sleep,
} from "../src/index.js";
import { TestLoop, runTest } from "../src/testing.js";
import { collectGarbage, collectUntil } from "./support/core.js";

/** Collects the RuntimeWarnings emitted until `done()` (or a bounded number of collections). */
async function neverAwaitedWarnings(
  body: () => void,
  done: (warnings: string[]) => boolean,
): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    if (w.name === "RuntimeWarning" && /was never awaited/.test(w.message)) warnings.push(w.message);
  };
  process.on("warning", onWarning);
  try {
    body();
    await collectUntil(() => done(warnings), 40);
  } finally {
    process.removeListener("warning", onWarning);
  }
  return warnings;
}

describe("coroutine", () => {
  it("makes calls return a lazy Coroutine that runs nothing until awaited", async () => {
    await runTest(async () => {
      let runs = 0;
      const work = coroutine(async function work(n: number) {
        runs++;
        await sleep(0);
        return n * 2;
      });
      const c = work(21);
      assert.ok(c instanceof Coroutine);
      assert.ok(isCoroutine(c));
      assert.equal(c.state, "created");
      await sleep(0);
      assert.equal(runs, 0);
      assert.equal(await c, 42);
      assert.equal(runs, 1);
      assert.equal(c.state, "running");
    });
  });

  it("runs an awaited coroutine inline, in the awaiting task", async () => {
    await runTest(async () => {
      const me = currentTask();
      const where = coroutine(async function where() {
        await sleep(0);
        return currentTask() === me;
      });
      assert.equal(await where(), true);
    });
  });

  it("runs a scheduled coroutine in a new task", async () => {
    await runTest(async () => {
      const me = currentTask();
      const where = coroutine(async function where() {
        return currentTask() !== me && currentTask() !== null;
      });
      assert.equal(await createTask(where()), true);
    });
  });

  // CPython: "cannot reuse already awaited coroutine"
  it("runs once: awaiting it again is a RuntimeError", async () => {
    await runTest(async () => {
      const once = coroutine(async function once() {
        return 1;
      });
      const c = once();
      assert.equal(await c, 1);
      await assert.rejects((async () => await c)(), (e: unknown) => {
        assert.ok(e instanceof RuntimeError);
        assert.equal((e as Error).message, "cannot reuse already awaited coroutine 'once'");
        return true;
      });
    });
  });

  it("fails a second task given the same coroutine with RuntimeError", async () => {
    await runTest(async () => {
      const c = coroutine(async function shared() {
        return 1;
      })();
      const t1 = createTask(c);
      const t2 = createTask(c);
      assert.equal(await t1, 1);
      await assert.rejects((async () => await t2)(), RuntimeError);
    });
  });

  it("close() marks a new coroutine closed; awaiting it then is a RuntimeError", async () => {
    await runTest(async () => {
      let ran = false;
      const c = coroutine(async function closed() {
        ran = true;
      })();
      c.close();
      assert.equal(c.state, "closed");
      await assert.rejects((async () => await c)(), RuntimeError);
      assert.equal(ran, false);
    });
  });

  it("passes arguments and this to the wrapped function", async () => {
    const obj = {
      base: 10,
      add: coroutine(async function add(this: { base: number }, a: number, b: number) {
        return this.base + a + b;
      }),
    };
    const loop = new TestLoop();
    assert.equal(await loop.runUntilComplete(obj.add(1, 2)), 13);
  });

  it("keeps the function's name, on the wrapper and the coroutine", () => {
    const fetchUser = coroutine(async function fetchUser() {});
    assert.equal(fetchUser.name, "fetchUser");
    const c = fetchUser();
    assert.equal(c.name, "fetchUser");
    assert.equal(c.toString(), "<coroutine fetchUser created>");
    c.close();
    assert.equal(c.toString(), "<coroutine fetchUser closed>");
  });

  it("rejects a non-function with a TypeError naming fn", () => {
    assert.throws(() => coroutine(42 as never), /`fn` must be a function, got 42/);
  });

  it("passes on an error the function throws synchronously when awaited", async () => {
    await runTest(async () => {
      const boom = new Error("sync");
      const c = coroutine((): Promise<void> => {
        throw boom;
      })();
      await assert.rejects((async () => await c)(), (e: unknown) => e === boom);
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_coroutine_non_gen_function
  it("can be run by loop.runUntilComplete", async () => {
    const loop = new TestLoop();
    const func = coroutine(async function func() {
      return "test";
    });
    assert.ok(isCoroutineFunction(func));
    const c = func();
    assert.ok(isCoroutine(c));
    assert.equal(await loop.runUntilComplete(c), "test");
  });
});

describe("isCoroutine", () => {
  it("is true only for Coroutine objects", () => {
    const c = coroutine(async () => {})();
    assert.equal(isCoroutine(c), true);
    assert.equal(isCoroutine(Promise.resolve()), false);
    assert.equal(isCoroutine((async () => {})()), false);
    assert.equal(isCoroutine(async () => {}), false);
    assert.equal(isCoroutine(null), false);
    assert.equal(isCoroutine({ then() {} }), false);
    c.close();
  });

  it("recognises a coroutine of another copy of the library by its brand", () => {
    const proto = {};
    Object.defineProperty(proto, Symbol.for("asyncio-ts.coroutine"), { value: true });
    assert.equal(isCoroutine(Object.create(proto)), true);
  });
});

describe("isCoroutineFunction", () => {
  // CPython: test_tasks.py BaseTaskTests.test_iscoroutinefunction
  it("is true for async functions and coroutine() wrappers, false otherwise", () => {
    function fn(): void {}
    function* gen(): Generator<number> {
      yield 1;
    }
    async function* agen(): AsyncGenerator<number> {
      yield 1;
    }
    async function fn2(): Promise<void> {}
    assert.equal(isCoroutineFunction(fn), false);
    assert.equal(isCoroutineFunction(gen), false);
    assert.equal(isCoroutineFunction(agen), false);
    assert.equal(isCoroutineFunction(fn2), true);
    assert.equal(isCoroutineFunction(async () => {}), true);
    assert.equal(isCoroutineFunction(coroutine(fn2)), true);
    assert.equal(isCoroutineFunction(coroutine(() => Promise.resolve(1))), true);
    assert.equal(isCoroutineFunction(42), false);
    assert.equal(isCoroutineFunction(null), false);
  });
});

describe("a coroutine that is never awaited", () => {
  it("is reported as a RuntimeWarning when collected", async () => {
    const warnings = await neverAwaitedWarnings(
      () => {
        coroutine(async function lonely() {})();
      },
      (w) => w.length > 0,
    );
    assert.deepEqual(warnings, ["coroutine 'lonely' was never awaited"]);
  });

  it("is not reported once awaited, scheduled or closed", async () => {
    const loop = new TestLoop();
    const make = (name: string) =>
      coroutine({
        [name]: async () => {},
      }[name]!);
    await loop.runUntilComplete(make("awaitedOne")());
    const warnings = await neverAwaitedWarnings(
      () => {
        loop.createTask(make("scheduledOne")());
        make("closedOne")().close();
        make("sentinel")(); // proves the collection happened
      },
      (w) => w.some((m) => m.includes("sentinel")),
    );
    await collectGarbage();
    assert.deepEqual(warnings, ["coroutine 'sentinel' was never awaited"]);
    await loop.runUntilComplete(async () => {});
  });
});
