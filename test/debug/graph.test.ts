// The call graph (CPython 3.14's test_graph, ported): who awaits a task, through awaits,
// gather, shield, wait, task groups and timeouts, and the current task's live stack.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Future,
  FutureCallGraph,
  RuntimeError,
  Task,
  captureCallGraph,
  createTask,
  formatCallGraph,
  futureAddToAwaitedBy,
  futureDiscardFromAwaitedBy,
  gather,
  printCallGraph,
  run,
  shield,
  sleep,
  taskGroup,
  timeout,
  wait,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";

type Walked = [string, string[], Walked[]];

/** The graph as CPython's test walks it: node kind and name, stack entries, sorted awaiters. */
function walk(graph: FutureCallGraph): Walked {
  const future = graph.future;
  const name = future instanceof Task ? future.getName() : "";
  const node = future instanceof Task ? (name.includes("-") ? "T<anon>" : `T<${name}>`) : "F";
  const stack = graph.callStack.map((entry) => `${entry.isAsync ? "a" : "s"} ${entry.functionName}`);
  const parents = graph.awaitedBy.map(walk).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return [node, stack, parents];
}

/** Captures the current task's graph (walked) and its printed form, from the caller's view. */
function captureTestStack(fut?: Future<unknown>): [Walked, string] {
  const lines: string[] = [];
  printCallGraph(fut, { file: { write: (s: string) => lines.push(s) }, depth: 2 });
  const graph = captureCallGraph(fut, { depth: 2 });
  assert.ok(graph !== null);
  return [walk(graph), lines.join("")];
}

/** Only the user's frames (this file's functions), as CPython's test lists its own coroutines. */
function own(walked: Walked): Walked {
  const names = new Set(["c1", "c2", "c3", "c4", "c5", "deep", "inner", "main", "a1", "a2", "b1"]);
  return [walked[0], walked[1].filter((e) => names.has(e.slice(2))), walked[2].map(own)];
}

describe("call graph (CPython 3.14 test_graph)", () => {
  it("a task group's task is awaited by the group's parent and by the tasks that await it", async () => {
    let stackForC5: [Walked, string] | null = null;
    function c5(): void {
      stackForC5 = captureTestStack();
    }
    async function c4(): Promise<void> {
      await sleep(0);
      c5();
    }
    async function c3(): Promise<void> {
      await c4();
    }
    async function c2(): Promise<void> {
      await c3();
    }
    async function c1(task: Task<void>): Promise<void> {
      await task;
    }
    async function main(): Promise<void> {
      await taskGroup(async (tg) => {
        const task = tg.createTask(c2, { name: "c2_root" });
        tg.createTask(() => c1(task), { name: "sub_main_1" });
        tg.createTask(() => c1(task), { name: "sub_main_2" });
      });
    }
    await runTest(main);
    assert.ok(stackForC5 !== null);
    const [walked, printed] = stackForC5 as [Walked, string];
    // V8 marks the frames of the function running now as plain ones (`s`); those it will come
    // back to are `async` (`a`), as CPython's awaiting coroutines.
    assert.deepEqual(own(walked), [
      "T<c2_root>",
      ["s c5", "s c4", "a c3", "a c2"],
      [
        ["T<anon>", ["a main"], []],
        ["T<sub_main_1>", [], [["T<anon>", ["a main"], []]]],
        ["T<sub_main_2>", [], [["T<anon>", ["a main"], []]]],
      ],
    ]);
    assert.match(printed, /^\* Task\(name='c2_root', id=0x[0-9a-f]+\)\n {2}\+ Call stack:\n/);
    assert.match(printed, / {2}\| {3}File '.*graph\.test\.ts', line \d+, in async c3\(\)/);
    assert.match(printed, /\n {2}\+ Awaited by:\n {4}\* Task\(name='Task-\d+', id=0x[0-9a-f]+\)/);
  });

  it("gather's children are awaited by the task awaiting the gather", async () => {
    let stackForDeep: [Walked, string] | null = null;
    async function deep(): Promise<void> {
      await sleep(0);
      stackForDeep = captureTestStack();
    }
    async function c1(): Promise<void> {
      await sleep(0);
      await deep();
    }
    async function c2(): Promise<void> {
      await sleep(0);
    }
    async function main(): Promise<void> {
      await gather(c1, c2);
    }
    await runTest(main);
    assert.deepEqual(own((stackForDeep as unknown as [Walked, string])[0]), [
      "T<anon>",
      ["s deep", "a c1"],
      [["T<anon>", ["a main"], []]],
    ]);
  });

  it("shield's inner task is awaited by the task awaiting the shield", async () => {
    let stackForShield: [Walked, string] | null = null;
    async function deep(): Promise<void> {
      await sleep(0);
      stackForShield = captureTestStack();
    }
    async function c1(): Promise<void> {
      await sleep(0);
      await deep();
    }
    async function main(): Promise<void> {
      await shield(c1);
    }
    await runTest(main);
    assert.deepEqual(own((stackForShield as unknown as [Walked, string])[0]), [
      "T<anon>",
      ["s deep", "a c1"],
      [["T<anon>", ["a main"], []]],
    ]);
  });

  it("a timeout scope adds no node of its own", async () => {
    let stackForInner: [Walked, string] | null = null;
    async function inner(): Promise<void> {
      await sleep(0);
      stackForInner = captureTestStack();
    }
    async function c1(): Promise<void> {
      await timeout(1, async () => {
        await sleep(0);
        await inner();
      });
    }
    async function main(): Promise<void> {
      await shield(c1);
    }
    await runTest(main);
    const [walked] = stackForInner as unknown as [Walked, string];
    assert.deepEqual(own(walked), ["T<anon>", ["s inner", "a c1"], [["T<anon>", ["a main"], []]]]);
  });

  it("wait()'s futures are awaited by the task awaiting wait()", async () => {
    let stackForInner: [Walked, string] | null = null;
    async function inner(): Promise<void> {
      await sleep(0);
      stackForInner = captureTestStack();
    }
    async function c1(): Promise<void> {
      await timeout(1, async () => {
        await sleep(0);
        await inner();
      });
    }
    async function c2(): Promise<void> {
      for (let i = 0; i < 3; i++) await sleep(0);
    }
    async function main(t1: Task<void>, t2: Task<void>): Promise<void> {
      for (;;) {
        const { pending } = await wait([t1, t2]);
        if (pending.size === 0) break;
      }
    }
    await runTest(async function test() {
      const t1 = createTask(c1);
      const t2 = createTask(c2);
      await main(t1, t2);
    });
    const [walked] = stackForInner as unknown as [Walked, string];
    assert.equal(walked[0], "T<anon>");
    assert.deepEqual(own(walked)[1], ["s inner", "a c1"]);
    assert.equal(walked[2].length, 1);
    assert.equal((walked[2][0] as Walked)[0], "T<anon>");
  });

  it("a task is awaited by the task that awaits it", async () => {
    let stackForInner: [Walked, string] | null = null;
    async function inner(): Promise<void> {
      await sleep(0);
      stackForInner = captureTestStack();
    }
    async function c1(): Promise<void> {
      await inner();
    }
    async function c2(): Promise<void> {
      await createTask(c1, { name: "there there" });
    }
    async function main(): Promise<void> {
      await c2();
    }
    await runTest(main);
    assert.deepEqual(own((stackForInner as unknown as [Walked, string])[0]), [
      "T<there there>",
      ["s inner", "a c1"],
      [["T<anon>", ["a main"], []]],
    ]);
  });

  it("a plain future lists every task awaiting it, and prints as Future(id=…)", async () => {
    let stackForFut: [Walked, string] | null = null;
    async function a2(fut: Future<void>): Promise<void> {
      await fut;
    }
    async function a1(fut: Future<void>): Promise<void> {
      await a2(fut);
    }
    async function b1(fut: Future<void>): Promise<void> {
      await fut;
    }
    async function main(): Promise<void> {
      const fut = new Future<void>();
      await taskGroup(async (g) => {
        g.createTask(() => a1(fut), { name: "task A" });
        g.createTask(() => b1(fut), { name: "task B" });
        for (let i = 0; i < 5; i++) await sleep(0);
        stackForFut = captureTestStack(fut);
        fut.setResult();
      });
    }
    await runTest(main);
    const [walked, printed] = stackForFut as unknown as [Walked, string];
    assert.deepEqual(own(walked), [
      "F",
      [],
      [
        ["T<task A>", [], [["T<anon>", ["a main"], []]]],
        ["T<task B>", [], [["T<anon>", ["a main"], []]]],
      ],
    ]);
    assert.ok(printed.startsWith("* Future(id=0x"), printed);
  });
});

describe("call graph: our rules", () => {
  it("in debug mode, a suspended task's stack is where its code made what it awaits", async () => {
    let graph: FutureCallGraph | null = null;
    async function parked(): Promise<void> {
      await sleep(10);
    }
    async function main(): Promise<void> {
      const task = createTask(parked, { name: "parked" });
      await sleep(1);
      graph = captureCallGraph(task);
      task.cancel();
    }
    await runTest(main, { debug: true });
    const names = (graph as unknown as FutureCallGraph).callStack.map((e) => e.functionName);
    assert.ok(names.includes("parked"), names.join(", "));
  });

  it("limit keeps the innermost frames (negative: the outermost), 0 none", async () => {
    async function c3(): Promise<[string[], string[], string[]]> {
      await sleep(0);
      const of = (limit: number): string[] =>
        (captureCallGraph(undefined, { limit, depth: 2 }) as FutureCallGraph).callStack.map((e) => e.functionName);
      return [of(1), of(-1), of(0)];
    }
    async function c2(): Promise<[string[], string[], string[]]> {
      return await c3();
    }
    const [innermost, outermost, none] = await runTest(c2);
    assert.deepEqual(innermost, ["c3"]);
    assert.deepEqual(outermost, ["c2"]);
    assert.deepEqual(none, []);
  });

  it("edges added by hand show, and go when discarded", async () => {
    await runTest(async () => {
      const fut = new Future<void>();
      const waiter = new Future<void>();
      futureAddToAwaitedBy(fut, waiter);
      let graph = captureCallGraph(fut) as FutureCallGraph;
      assert.deepEqual(graph.awaitedBy.map((g) => g.future), [waiter]);
      futureDiscardFromAwaitedBy(fut, waiter);
      futureDiscardFromAwaitedBy(fut, waiter);
      graph = captureCallGraph(fut) as FutureCallGraph;
      assert.deepEqual(graph.awaitedBy, []);
      assert.throws(() => futureAddToAwaitedBy(fut, {} as Future<void>), /`waiter` must be a Future/);
      assert.throws(() => futureAddToAwaitedBy(null as unknown as Future<void>, waiter), /`fut` must be a Future/);
    });
  });

  it("tasks awaiting each other (a cycle) give a finite graph", async () => {
    await runTest(async () => {
      const gate = new Future<void>();
      let b: Task<void> | null = null;
      const a = createTask(async () => {
        await gate;
        await (b as Task<void>);
      });
      b = createTask(async () => {
        await gate;
        await a;
      });
      gate.setResult();
      await sleep(0);
      await sleep(0);
      const text = formatCallGraph(a);
      assert.equal(text.split("* Task").length - 1, 2, text);
      a.cancel();
      b.cancel();
      await gather(a, b, { returnExceptions: true });
    });
  });

  it("gives null in a loop callback, throws outside a loop without a future, checks options", async () => {
    await runTest(async () => {
      const seen = new Future<FutureCallGraph | null | string>();
      const loop = (await import("../../src/index.js")).getRunningLoop();
      loop.callSoon(() => seen.setResult(captureCallGraph()));
      assert.equal(await seen, null);
      const empty = new Future<string>();
      loop.callSoon(() => empty.setResult(formatCallGraph()));
      assert.equal(await empty, "");
      assert.throws(() => captureCallGraph(undefined, { depht: 1 } as never), /did you mean `depth`/);
      assert.throws(() => captureCallGraph(undefined, { depth: -1 }), RangeError);
      assert.throws(() => captureCallGraph(undefined, { limit: 1.5 }), TypeError);
      assert.throws(() => captureCallGraph({} as Future<void>), /`future` must be a Future/);
      assert.throws(() => printCallGraph(undefined, { file: {} as never }), /write\(s\) method/);
    });
    assert.throws(() => captureCallGraph(), RuntimeError);
    assert.throws(() => formatCallGraph(), /outside a running event loop/);
  });

  it("run() with a named main prints its task", async () => {
    const lines: string[] = [];
    await run(async function main() {
      printCallGraph(undefined, { file: { write: (s: string) => lines.push(s) } });
    });
    assert.match(lines.join(""), /^\* Task\(name='Task-\d+', id=0x[0-9a-f]+\)\n/);
    assert.ok(lines.join("").endsWith("\n"));
  });
});
