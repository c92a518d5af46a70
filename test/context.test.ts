// Context variables: ContextVar, Token, Context, copyContext, and how tasks and callbacks use
// them. Ported from CPython's Lib/test/test_context.py (ContextTest),
// Lib/test/test_asyncio/test_tasks.py (test_context_1 … test_context_6) and
// Lib/test/test_asyncio/test_context.py (a task keeps its own context across awaits).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Context,
  ContextVar,
  LookupError,
  RuntimeError,
  Token,
  copyContext,
  createTask,
  gather,
  getRunningLoop,
  run,
  sleep,
} from "../src/index.js";
import { TestLoop, runTest } from "../src/testing.js";

describe("ContextVar", () => {
  // CPython: test_context.py ContextTest.test_context_var_new_1
  it("needs a string name", () => {
    assert.throws(() => new ContextVar(1 as never), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match((e as Error).message, /`name` must be a string/);
      return true;
    });
    assert.throws(() => new (ContextVar as unknown as new () => unknown)(), TypeError);
    const c = new ContextVar("aaa");
    assert.equal(c.name, "aaa");
  });

  // CPython: test_context.py ContextTest.test_context_var_repr_1
  it("prints its name and default; a token prints its variable and whether it was used", () => {
    new Context().run(() => {
      assert.match(new ContextVar("a").toString(), /'a'/);
      const c = new ContextVar("a", { default: 123 });
      assert.match(c.toString(), /123/);
      const t = c.set(1);
      assert.ok(t.toString().includes(c.toString()));
      assert.doesNotMatch(t.toString(), / used /);
      c.reset(t);
      assert.match(t.toString(), /\bused\b/);
    });
  });

  // CPython: test_context.py ContextTest.test_context_getset_1
  it("get, set and reset follow CPython", () => {
    new Context().run(() => {
      const c = new ContextVar<unknown>("c");
      assert.throws(() => c.get(), (e: unknown) => {
        assert.ok(e instanceof LookupError);
        assert.equal((e as Error).name, "LookupError");
        return true;
      });
      assert.equal(c.get(null), null);

      const t0 = c.set(42);
      assert.equal(c.get(), 42);
      assert.equal(c.get(null), 42);
      assert.equal(t0.oldValue, Token.MISSING);
      assert.equal(t0.var, c);

      const t = c.set("spam");
      assert.equal(c.get(), "spam");
      assert.equal(t.oldValue, 42);
      c.reset(t);
      assert.equal(c.get(), 42);

      c.set("spam2");
      assert.throws(() => c.reset(t), (e: unknown) => {
        assert.ok(e instanceof RuntimeError);
        assert.match((e as Error).message, /has already been used/);
        return true;
      });
      assert.equal(c.get(), "spam2");

      const ctx1 = copyContext();
      assert.ok(ctx1.has(c));

      c.reset(t0);
      assert.throws(() => c.reset(t0), /has already been used/);
      assert.equal(c.get(null), null);

      assert.ok(ctx1.has(c));
      assert.equal(ctx1.get(c), "spam2");
      assert.equal(ctx1.get(c, "aa"), "spam2");
      assert.equal(ctx1.size, 1);
      assert.deepEqual([...ctx1.entries()], [[c, "spam2"]]);
      assert.deepEqual([...ctx1.values()], ["spam2"]);
      assert.deepEqual([...ctx1.keys()], [c]);
      assert.deepEqual([...ctx1], [[c, "spam2"]], "a context iterates [variable, value] pairs");

      const ctx2 = copyContext();
      assert.equal(ctx2.has(c), false);
      assert.equal(ctx2.get(c), undefined);
      assert.equal(ctx2.get(c, "aa"), "aa");
      assert.equal(ctx2.size, 0);
      assert.deepEqual([...ctx2], []);
    });
  });

  // CPython: test_context.py ContextTest.test_context_getset_2
  it("refuses a token of another variable with a RangeError (Python's ValueError)", () => {
    new Context().run(() => {
      const v1 = new ContextVar("v1");
      const v2 = new ContextVar("v2");
      const t1 = v1.set(42);
      assert.throws(() => v2.reset(t1 as never), (e: unknown) => {
        assert.ok(e instanceof RangeError);
        assert.match((e as Error).message, /by a different ContextVar/);
        return true;
      });
    });
  });

  // CPython: test_context.py ContextTest.test_context_getset_4
  it("refuses a token made in another context with a RangeError", () => {
    new Context().run(() => {
      const c = new ContextVar("c", { default: 42 });
      const ctx = new Context();
      const tok = ctx.run(() => c.set(1));
      assert.throws(() => c.reset(tok), (e: unknown) => {
        assert.ok(e instanceof RangeError);
        assert.match((e as Error).message, /different Context/);
        return true;
      });
      assert.equal(ctx.get(c), 1, "the refused reset changed nothing");
    });
  });

  it("refuses a reset with something that is not a Token, naming token", () => {
    const c = new ContextVar("c");
    assert.throws(() => c.reset({} as never), /`token` must be a Token/);
  });

  // CPython: test_context.py ContextTest.test_context_getset_5
  it("keeps values per context, even mutable ones", () => {
    new Context().run(() => {
      const c = new ContextVar<number[]>("c", { default: [42] });
      c.set([]);
      copyContext().run(() => {
        c.set([]);
        c.get().push(42);
        assert.deepEqual(c.get(), [42]);
      });
      assert.deepEqual(c.get(), []);
    });
  });

  it("uses the default given to get(), then the variable's default", () => {
    new Context().run(() => {
      const c = new ContextVar<string>("c", { default: "var default" });
      assert.equal(c.get(), "var default");
      assert.equal(c.get("call default"), "call default");
      const undef = new ContextVar<undefined>("u", { default: undefined });
      assert.equal(undef.get(), undefined, "undefined is a default like any other");
    });
  });
});

describe("Context", () => {
  // CPython: test_context.py ContextTest.test_context_get_context_1
  it("copyContext returns a Context", () => {
    assert.ok(copyContext() instanceof Context);
  });

  // CPython: test_context.py ContextTest.test_context_run_1
  it("run needs a function, naming it", () => {
    const ctx = new Context();
    assert.throws(() => (ctx.run as (fn?: unknown) => unknown)(), /`fn` must be a function/);
  });

  // CPython: test_context.py ContextTest.test_context_run_2
  it("run passes the arguments and returns the result", () => {
    const ctx = new Context();
    const func = (...args: unknown[]): unknown[] => [...args, "bar"];
    assert.deepEqual(ctx.run(func), ["bar"]);
    assert.deepEqual(ctx.run(func, 1), [1, "bar"]);
    assert.deepEqual(ctx.run(func, 11, 2), [11, 2, "bar"]);
  });

  // CPython: test_context.py ContextTest.test_context_run_3
  it("run passes errors on", () => {
    const ctx = new Context();
    const boom = new Error("1/0");
    assert.throws(
      () =>
        ctx.run(() => {
          throw boom;
        }),
      (e: unknown) => e === boom,
    );
    assert.throws(
      () =>
        ctx.run(
          (_a: number, _b: number) => {
            throw boom;
          },
          1,
          2,
        ),
      (e: unknown) => e === boom,
    );
  });

  // CPython: test_context.py ContextTest.test_context_run_4
  it("run makes the context current, and nested contexts do not see each other", () => {
    new Context().run(() => {
      const ctx1 = new Context();
      const ctx2 = new Context();
      const v = new ContextVar<string | null>("var");
      const returned = ctx1.run(() => {
        assert.equal(v.get(null), null);
        v.set("spam");
        ctx2.run(() => {
          assert.equal(v.get(null), null);
        });
        assert.equal(v.get(null), "spam");
        const cur = copyContext();
        assert.equal(cur.size, 1);
        assert.equal(cur.get(v), "spam");
        return cur;
      });
      assert.equal(returned.get(v), "spam");
      assert.equal(ctx1.get(v), "spam");
      assert.ok(ctx1.has(v));
      assert.equal(ctx2.has(v), false);
    });
  });

  // CPython: test_context.py ContextTest.test_context_run_5
  it("run keeps what was set even when the function throws, and the caller's context clean", () => {
    const ctx = new Context();
    const v = new ContextVar<string | null>("var");
    assert.throws(() =>
      ctx.run(() => {
        assert.equal(v.get(null), null);
        v.set("spam");
        throw new Error("1/0");
      }),
    );
    assert.equal(v.get(null), null);
    assert.equal(ctx.get(v), "spam");
  });

  // CPython: test_context.py ContextTest.test_context_run_6
  it("get reflects what run's function set", () => {
    const ctx = new Context();
    const c = new ContextVar("a", { default: 0 });
    ctx.run(() => {
      assert.equal(c.get(), 0);
      assert.equal(ctx.get(c), undefined);
      c.set(42);
      assert.equal(c.get(), 42);
      assert.equal(ctx.get(c), 42);
    });
  });

  // CPython: test_context.py ContextTest.test_context_run_7
  it("cannot be entered while it is entered", () => {
    const ctx = new Context();
    ctx.run(() => {
      assert.throws(() => ctx.run(() => {}), (e: unknown) => {
        assert.ok(e instanceof RuntimeError);
        assert.match((e as Error).message, /is already entered/);
        return true;
      });
    });
    ctx.run(() => {}); // and can be entered again afterwards
  });

  // CPython: test_context.py ContextTest.test_context_getset_3
  it("a fresh context starts empty, and reset removes the value", () => {
    new Context().run(() => {
      const c = new ContextVar<unknown>("c", { default: 42 });
      const ctx = new Context();
      ctx.run(() => {
        assert.equal(c.get(), 42);
        assert.equal(ctx.get(c), undefined);
        assert.equal(ctx.get(c, "spam"), "spam");
        assert.equal(ctx.has(c), false);
        assert.deepEqual([...ctx.keys()], []);
        const t = c.set(1);
        assert.deepEqual([...ctx.keys()], [c]);
        assert.equal(ctx.get(c), 1);
        c.reset(t);
        assert.deepEqual([...ctx.keys()], []);
        assert.equal(ctx.has(c), false);
      });
    });
  });

  // CPython: test_context.py ContextTest.test_context_copy_1
  it("copy() makes an independent context with the same values", () => {
    const ctx1 = new Context();
    const c = new ContextVar("c", { default: 42 });
    ctx1.run(() => {
      c.set(10);
      const ctx2 = ctx1.copy();
      assert.equal(ctx2.get(c), 10);
      c.set(20);
      assert.equal(ctx1.get(c), 20);
      assert.equal(ctx2.get(c), 10);
      ctx2.run(() => {
        assert.equal(c.get(), 10);
        c.set(30);
        assert.equal(c.get(), 30);
      });
      assert.equal(ctx1.get(c), 20);
      assert.equal(ctx2.get(c), 30);
    });
  });

  // CPython: test_context.py ContextTest.test_context_typerrors_1
  it("get() of something that is not a ContextVar is a TypeError", () => {
    const ctx = new Context();
    assert.throws(() => ctx.get(1 as never), TypeError);
    assert.throws(() => ctx.has(1 as never), TypeError);
  });

  it("keeps the context across the awaits of an async function run in it", async () => {
    await runTest(async () => {
      const v = new ContextVar<string>("v", { default: "outer" });
      const ctx = new Context();
      const inside = await ctx.run(async () => {
        v.set("inner");
        await sleep(1);
        return v.get();
      });
      assert.equal(inside, "inner");
      assert.equal(v.get(), "outer");
      assert.equal(ctx.get(v), "inner");
    });
  });
});

describe("contexts of tasks", () => {
  // CPython: test_tasks.py BaseTaskTests.test_context_1
  it("a task runs in a copy of its creator's context", async () => {
    const cvar = new ContextVar("cvar", { default: "nope" });
    await run(async () => {
      assert.equal(cvar.get(), "nope");
      const subtask = createTask(async () => {
        await sleep(0.01);
        assert.equal(cvar.get(), "nope", "set after the task was made: not seen");
        cvar.set("something else");
      });
      cvar.set("yes");
      assert.equal(cvar.get(), "yes");
      await subtask;
      assert.equal(cvar.get(), "yes", "what the task set stays its own");
    });
  });

  // CPython: test_tasks.py BaseTaskTests.test_context_2
  it("done callbacks run in a copy and do not change the task's context", async () => {
    const cvar = new ContextVar("cvar", { default: "nope" });
    await runTest(async () => {
      const loop = getRunningLoop();
      function futOnDone(): void {
        cvar.set("something else");
      }
      assert.equal(cvar.get(), "nope");
      for (let j = 0; j < 2; j++) {
        const fut = loop.createFuture<void>();
        fut.addDoneCallback(futOnDone);
        cvar.set(`yes${j}`);
        loop.callSoon(() => fut.setResult());
        await fut;
        assert.equal(cvar.get(), `yes${j}`);
        for (let i = 0; i < 3; i++) {
          cvar.set(`yes${i}-${j}`);
          await sleep(0.001);
          assert.equal(cvar.get(), `yes${i}-${j}`);
        }
      }
    });
    assert.equal(cvar.get(), "nope");
  });

  it("callSoon and callLater callbacks see the values of when they were scheduled, in a copy", async () => {
    const cvar = new ContextVar("cvar", { default: "nope" });
    await runTest(async () => {
      const loop = getRunningLoop();
      const seen: string[] = [];
      cvar.set("at schedule");
      loop.callSoon(() => {
        seen.push(cvar.get());
        cvar.set("set by the callback");
      });
      loop.callLater(1, () => seen.push(cvar.get()));
      cvar.set("changed after");
      await sleep(2);
      assert.deepEqual(seen, ["at schedule", "at schedule"]);
      assert.equal(cvar.get(), "changed after");
    });
  });

  it("an async callback keeps its context copy across its awaits", async () => {
    const v = new ContextVar<string>("asyncCallbackVar", { default: "default" });
    await runTest(async () => {
      const loop = getRunningLoop();
      v.set("main");
      const seen: string[] = [];
      loop.callSoon(async () => {
        seen.push(v.get());
        v.set("set by callback");
        await Promise.resolve();
        seen.push(v.get());
      });
      await sleep(0);
      await sleep(0);
      assert.deepEqual(seen, ["main", "set by callback"]);
    });
    assert.equal(v.get(), "default", "nothing leaked into the outside context");
  });

  // CPython: test_tasks.py BaseTaskTests.test_context_3
  it("many interleaving tasks each keep their own value", async () => {
    const cvar = new ContextVar("cvar", { default: -1 });
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    await runTest(async () => {
      async function sub(num: number): Promise<void> {
        for (let i = 0; i < 10; i++) {
          cvar.set(num + i);
          await sleep(0.001 + random() * 0.05);
          assert.equal(cvar.get(), num + i);
        }
      }
      const tasks = [];
      for (let i = 0; i < 100; i++) tasks.push(createTask(() => sub(Math.floor(random() * 10))));
      await gather(...tasks);
    });
    assert.equal(cvar.get(), -1);
  });

  // CPython: test_tasks.py BaseTaskTests.test_context_4, test_context_5, test_context_6
  it("createTask(coro, { context }) runs in exactly that context", async () => {
    const cvar = new ContextVar<number>("cvar");
    for (const make of ["createTask", "loop.createTask"] as const) {
      const loop = new TestLoop();
      const ret = await loop.runUntilComplete(async () => {
        const create = (fn: () => Promise<void>, context: Context) =>
          make === "createTask" ? createTask(fn, { context }) : loop.createTask(fn, { context });
        async function coro(val: number): Promise<void> {
          await sleep(0);
          cvar.set(val);
        }
        const ret: (number | undefined)[] = [];
        const ctx = copyContext();
        ret.push(ctx.get(cvar));
        const t1 = create(() => coro(1), ctx);
        await t1;
        ret.push(ctx.get(cvar));
        const t2 = create(() => coro(2), ctx);
        await t2;
        ret.push(ctx.get(cvar));
        assert.equal(t1.getContext(), ctx);
        return ret;
      });
      assert.deepEqual(ret, [undefined, 1, 2], make);
      loop.close();
    }
  });

  // CPython: test_context.py (test_asyncio) DecimalContextTest.test_asyncio_task_decimal_context
  it("gives gathered coroutines separate contexts across their sleeps", async () => {
    const precision = new ContextVar<number>("precision", { default: 28 });
    async function fractions(t: number, digits: number, x: number, y: number) {
      precision.set(digits);
      const a = (x / y).toFixed(precision.get());
      await sleep(t);
      const b = (x / y ** 2).toFixed(precision.get());
      return [a, b];
    }
    const [r1, r2] = await runTest(() => gather(() => fractions(0.1, 3, 1, 3), () => fractions(0.2, 6, 1, 3)));
    assert.deepEqual(r1, ["0.333", "0.111"]);
    assert.deepEqual(r2, ["0.333333", "0.111111"]);
  });

  it("code outside any task has its own context, which run() copies for main", async () => {
    const v = new ContextVar<string>("outside", { default: "default" });
    const token = v.set("set outside");
    try {
      const seen = await run(async () => {
        const before = v.get();
        v.set("set by main");
        return before;
      });
      assert.equal(seen, "set outside");
      assert.equal(v.get(), "set outside", "main's set did not leak out");
    } finally {
      v.reset(token);
    }
    assert.equal(v.get(), "default");
  });

  it("a token set in one task cannot reset the variable in another", async () => {
    await runTest(async () => {
      const v = new ContextVar<number>("v", { default: 0 });
      const token = await createTask(async () => [v.set(1)]);
      assert.throws(() => v.reset(token[0]!), /different Context/);
    });
  });
});
