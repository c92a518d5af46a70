// Queue, LifoQueue, PriorityQueue: what is particular to each. Ported from CPython's
// Lib/test/test_asyncio/test_queues.py (QueueBasicTests, QueueGetTests, QueuePutTests,
// LifoQueueTests, PriorityQueueTests); what every queue shares (join, task_done, shutdown) is in
// test/contracts/queues.test.ts. QueueBasicTests.test_generic_alias has no counterpart
// (`Queue<number>` is a type, not a runtime object).
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, it } from "node:test";
import {
  CancelledError,
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  TimeoutError,
  createTask,
  getRunningLoop,
  sleep,
  taskGroup,
  waitFor,
} from "../src/index.js";
import { pythonOrder } from "../src/queues.js";
import { runTest } from "../src/testing.js";
import { errorOf, settlesWithoutALoopIteration, ticks } from "./locks/support.js";

describe("Queue", () => {
  // CPython: test_queues.py QueueBasicTests.test_repr, test_str
  it("prints its size, waiters and unfinished count as asyncio's _format does", async () => {
    await runTest(async () => {
      assert.equal(new Queue().toString(), "<Queue maxsize=0>");

      const q = new Queue<number>();
      await taskGroup(async (tg) => {
        const getter = tg.createTask(() => q.get());
        await ticks();
        assert.equal(String(q), "<Queue maxsize=0 getters[1]>");
        q.putNowait(0);
        assert.equal(await getter, 0);
      });

      const bounded = new Queue<number>(1);
      await taskGroup(async (tg) => {
        bounded.putNowait(1);
        const putter = tg.createTask(() => bounded.put(2));
        await ticks();
        assert.equal(inspect(bounded), "<Queue maxsize=1 size=1 putters[1] tasks=1>");
        bounded.getNowait();
        await putter;
      });

      const withItem = new Queue<number>(10);
      withItem.putNowait(1);
      assert.equal(String(withItem), "<Queue maxsize=10 size=1 tasks=1>");
      assert.equal(String(new LifoQueue(3)), "<LifoQueue maxsize=3>");
      assert.equal(String(new PriorityQueue()), "<PriorityQueue maxsize=0>");
    });
  });

  it("refuses a maxsize that is not a number", () => {
    assert.throws(() => new Queue("10" as never), { name: "TypeError", message: /`maxsize` must be a number/ });
    assert.throws(() => new Queue(Number.NaN), { name: "RangeError", message: /NaN/ });
    assert.equal(new Queue(Infinity).full(), false);
    assert.equal(new Queue(-3).maxsize, -3);
  });

  // CPython: test_queues.py QueueBasicTests.test_empty
  it("empty() is true until an item is put", async () => {
    await runTest(async () => {
      const q = new Queue<number>();
      assert.equal(q.empty(), true);
      await q.put(1);
      assert.equal(q.empty(), false);
      assert.equal(await q.get(), 1);
      assert.equal(q.empty(), true);
    });
  });

  // CPython: test_queues.py QueueBasicTests.test_full
  it("full() is never true when unbounded, and true at maxsize", async () => {
    await runTest(async () => {
      assert.equal(new Queue().full(), false);
      const q = new Queue<number>(1);
      await q.put(1);
      assert.equal(q.full(), true);
    });
  });

  // CPython: test_queues.py QueueBasicTests.test_order
  it("gives items back first in, first out", async () => {
    await runTest(async () => {
      const q = new Queue<number>();
      for (const i of [1, 3, 2]) await q.put(i);
      const items = [await q.get(), await q.get(), await q.get()];
      assert.deepEqual(items, [1, 3, 2]);
    });
  });

  // CPython: test_queues.py QueueBasicTests.test_maxsize
  it("blocks a putter at maxsize until an item is taken", async () => {
    await runTest(async () => {
      const q = new Queue<number>(2);
      assert.equal(q.maxsize, 2);
      const havePut: number[] = [];
      const t = createTask(async () => {
        for (let i = 0; i < 3; i++) {
          await q.put(i);
          havePut.push(i);
        }
        return true;
      });
      await ticks(2);
      assert.deepEqual(havePut, [0, 1], "blocked after two items");
      assert.equal(await q.get(), 0);
      await ticks();
      assert.deepEqual(havePut, [0, 1, 2]);
      assert.equal(await q.get(), 1);
      assert.equal(await q.get(), 2);
      assert.equal(t.result(), true);
    });
  });

  // CPython: test_queues.py QueueGetTests.test_blocking_get, test_nonblocking_get
  it("gets a queued item at once, without a loop iteration", async () => {
    await runTest(async () => {
      const q = new Queue<number>();
      q.putNowait(1);
      assert.equal(await q.get(), 1);
      q.putNowait(2);
      assert.equal(q.getNowait(), 2);
      q.putNowait(3);
      assert.equal(await settlesWithoutALoopIteration(q.get()), true);
      assert.equal(await settlesWithoutALoopIteration(q.put(4)), true);
    });
  });

  // CPython: test_queues.py QueueGetTests.test_get_with_putters
  it("wakes a blocked putter when an item is taken", async () => {
    await runTest(async () => {
      const q = new Queue<number>(1);
      await q.put(1);
      const putter = createTask(() => q.put(2));
      await ticks();
      assert.equal(await q.get(), 1);
      await putter;
      assert.equal(q.getNowait(), 2);
    });
  });

  // CPython: test_queues.py QueueGetTests.test_blocking_get_wait
  it("blocks a getter until an item is put", async () => {
    await runTest(async () => {
      const q = new Queue<number>();
      let finished = false;
      const started = createTask(async () => {
        const res = await q.get();
        finished = true;
        return res;
      });
      await ticks();
      assert.equal(finished, false);
      getRunningLoop().callLater(0.01, () => q.putNowait(1));
      assert.equal(await started, 1);
      assert.equal(finished, true);
    });
  });

  // CPython: test_queues.py QueueGetTests.test_nonblocking_get_exception
  it("getNowait() on an empty queue throws QueueEmpty", () => {
    const q = new Queue();
    assert.throws(() => q.getNowait(), { name: "QueueEmpty", message: "getNowait() on an empty <Queue maxsize=0>" });
    assert.ok(new QueueEmpty() instanceof Error);
  });

  // CPython: test_queues.py QueueGetTests.test_get_cancelled_race
  it("gives the item to the next getter when the first was cancelled", async () => {
    await runTest(async () => {
      const q = new Queue<string>();
      const t1 = createTask(() => q.get());
      const t2 = createTask(() => q.get());
      await ticks();
      t1.cancel();
      await ticks();
      assert.equal(t1.done(), true);
      await q.put("a");
      await ticks();
      assert.equal(await t2, "a");
    });
  });

  // CPython: test_queues.py QueueGetTests.test_get_with_waiting_putters
  it("takes items from blocked putters in the order they put", async () => {
    await runTest(async () => {
      const q = new Queue<string>(1);
      createTask(() => q.put("a"));
      createTask(() => q.put("b"));
      assert.equal(await q.get(), "a");
      assert.equal(await q.get(), "b");
    });
  });

  // CPython: test_queues.py QueueGetTests.test_why_are_getters_waiting
  it("never strands a consumer of a bounded queue", async () => {
    await runTest(async () => {
      const q = new Queue<number>(1);
      const n = 5;
      await taskGroup(async (tg) => {
        tg.createTask(async () => {
          for (let i = 0; i < n; i++) await q.put(i);
        });
        tg.createTask(async () => {
          for (let i = 0; i < n; i++) await q.get();
        });
      });
    });
  });

  // CPython: test_queues.py QueueGetTests.test_cancelled_getters_not_being_held_in_self_getters
  it("keeps no getter whose wait timed out", async () => {
    await runTest(async () => {
      const q = new Queue(5);
      await assert.rejects(waitFor(() => q.get(), 0.1), TimeoutError);
      assert.equal(q.toString(), "<Queue maxsize=5>");
      // The promise form works too: the getter's waiter belongs to this task and is cancelled.
      await assert.rejects(waitFor(q.get(), 0.1), TimeoutError);
      await ticks();
      assert.equal(q.toString(), "<Queue maxsize=5>");
    });
  });

  // CPython: test_queues.py QueuePutTests.test_blocking_put, test_nonblocking_put
  it("never blocks a put into an unbounded queue", async () => {
    await runTest(async () => {
      const q = new Queue<number>();
      await q.put(1);
      assert.equal(await q.get(), 1);
      q.putNowait(2);
      assert.equal(q.getNowait(), 2);
    });
  });

  // CPython: test_queues.py QueuePutTests.test_blocking_put_wait
  it("blocks a putter of a full queue until an item is taken", async () => {
    await runTest(async () => {
      const q = new Queue<number>(1);
      let finished = false;
      getRunningLoop().callLater(0.01, () => q.getNowait());
      const task = createTask(async () => {
        await q.put(1);
        await q.put(2);
        finished = true;
      });
      await ticks();
      assert.equal(finished, false);
      await task;
      assert.equal(finished, true);
    });
  });

  // CPython: test_queues.py QueuePutTests.test_get_cancel_drop_one_pending_reader
  it("loses no item when a woken getter is cancelled before it runs", async () => {
    await runTest(async () => {
      const q = new Queue<number>();
      let reader = createTask(() => q.get());
      await ticks();
      q.putNowait(1);
      q.putNowait(2);
      reader.cancel();
      try {
        await reader;
      } catch (error) {
        assert.ok(error instanceof CancelledError);
        reader = createTask(() => q.get());
        await reader;
      }
      assert.equal(reader.result(), 1, "getting 2 would mean 1 was dropped");
    });
  });

  // CPython: test_queues.py QueuePutTests.test_get_cancel_drop_many_pending_readers
  it("passes a cancelled getter's wake-up on to the next getter", async () => {
    await runTest(async () => {
      const q = new Queue<number>();
      let reader2: ReturnType<typeof createTask<number>> | null = null;
      let reader3: ReturnType<typeof createTask<number>> | null = null;
      await taskGroup(async (tg) => {
        const reader1 = tg.createTask(() => q.get());
        reader2 = tg.createTask(() => q.get());
        reader3 = tg.createTask(() => q.get());
        await ticks();
        q.putNowait(1);
        q.putNowait(2);
        reader1.cancel();
        assert.ok((await errorOf(reader1)) instanceof CancelledError);
        await reader3;
      });
      const results = new Set([reader2!.result(), reader3!.result()]);
      assert.deepEqual(results, new Set([1, 2]));
    });
  });

  // CPython: test_queues.py QueuePutTests.test_put_cancel_drop
  it("does not enqueue the item of a putter cancelled after it was woken", async () => {
    await runTest(async () => {
      const q = new Queue<number>(1);
      q.putNowait(1);
      let writer = createTask(() => q.put(2));
      await ticks();
      assert.equal(q.getNowait(), 1);
      writer.cancel();
      try {
        await writer;
      } catch (error) {
        assert.ok(error instanceof CancelledError);
        writer = createTask(() => q.put(2));
        await writer;
      }
      assert.equal(q.getNowait(), 2);
      assert.equal(q.qsize(), 0);
    });
  });

  // CPython: test_queues.py QueuePutTests.test_nonblocking_put_exception
  it("putNowait() on a full queue throws QueueFull", () => {
    const q = new Queue<number>(1);
    q.putNowait(1);
    assert.throws(() => q.putNowait(2), { name: "QueueFull", message: /full <Queue maxsize=1 size=1 tasks=1>/ });
    assert.ok(new QueueFull() instanceof Error);
  });

  // CPython: test_queues.py QueuePutTests.test_float_maxsize
  it("takes a fractional maxsize: full once qsize >= maxsize", async () => {
    await runTest(async () => {
      const q = new Queue<number>(1.3);
      q.putNowait(1);
      q.putNowait(2);
      assert.equal(q.full(), true);
      assert.throws(() => q.putNowait(3), QueueFull);
      const q2 = new Queue<number>(1.3);
      await q2.put(1);
      await q2.put(2);
      assert.equal(q2.full(), true);
    });
  });

  // CPython: test_queues.py QueuePutTests.test_put_cancelled
  it("completes a put whose item is taken", async () => {
    await runTest(async () => {
      const q = new Queue<number>();
      const t = createTask(async () => {
        await q.put(1);
        return true;
      });
      assert.equal(await q.get(), 1);
      assert.equal(t.done(), true);
      assert.equal(t.result(), true);
    });
  });

  // CPython: test_queues.py QueuePutTests.test_put_cancelled_race
  it("skips a cancelled putter when a slot frees up", async () => {
    await runTest(async () => {
      const q = new Queue<string>(1);
      const putA = createTask(() => q.put("a"));
      const putB = createTask(() => q.put("b"));
      const putC = createTask(() => q.put("X"));
      await ticks();
      assert.equal(putA.done(), true);
      assert.equal(putB.done(), false);
      putC.cancel();
      await ticks();
      assert.equal(putC.done(), true);
      assert.equal(q.getNowait(), "a");
      await ticks();
      assert.equal(q.getNowait(), "b");
      await putB;
    });
  });

  // CPython: test_queues.py QueuePutTests.test_put_with_waiting_getters
  it("hands a put item to a waiting getter", async () => {
    await runTest(async () => {
      const q = new Queue<string>();
      const t = createTask(() => q.get());
      await ticks();
      await q.put("a");
      assert.equal(await t, "a");
    });
  });

  // CPython: test_queues.py QueuePutTests.test_why_are_putters_waiting
  it("never strands putters of a queue drained by getNowait()", async () => {
    await runTest(async () => {
      const q = new Queue<number>(2);
      await taskGroup(async (tg) => {
        tg.createTask(async () => {
          await sleep(0);
          const n = q.qsize();
          for (let i = 0; i < n; i++) q.getNowait();
        });
        for (let i = 0; i < 4; i++) tg.createTask(() => q.put(i));
      });
    });
  });

  // CPython: test_queues.py QueuePutTests.test_cancelled_puts_not_being_held_in_self_putters
  it("keeps no putter that was cancelled", async () => {
    await runTest(async () => {
      const q = new Queue<number>(1);
      q.putNowait(1);
      const putTask = createTask(() => q.put(1));
      await ticks();
      assert.match(String(q), /putters\[1\]/);
      putTask.cancel();
      assert.ok((await errorOf(putTask)) instanceof CancelledError);
      assert.doesNotMatch(String(q), /putters/);
    });
  });

  // CPython: test_queues.py QueuePutTests.test_cancelled_put_silence_value_error_exception
  it("ends a putter cancelled after it was woken with CancelledError, nothing else", async () => {
    await runTest(async () => {
      const q = new Queue<number>(1);
      q.putNowait(1);
      const putTask = createTask(() => q.put(1));
      await ticks();
      q.getNowait(); // wakes the putter...
      putTask.cancel(); // ...which is cancelled before it runs
      assert.ok((await errorOf(putTask)) instanceof CancelledError);
      assert.equal(q.qsize(), 0);
    });
  });
});

describe("LifoQueue", () => {
  // CPython: test_queues.py LifoQueueTests.test_order
  it("gives back the most recent item first", async () => {
    await runTest(async () => {
      const q = new LifoQueue<number>();
      for (const i of [1, 3, 2]) await q.put(i);
      assert.deepEqual([await q.get(), await q.get(), await q.get()], [2, 3, 1]);
    });
  });
});

describe("PriorityQueue", () => {
  // CPython: test_queues.py PriorityQueueTests.test_order
  it("gives back the lowest item first", async () => {
    await runTest(async () => {
      const q = new PriorityQueue<number>();
      for (const i of [1, 3, 2]) await q.put(i);
      assert.deepEqual([await q.get(), await q.get(), await q.get()], [1, 2, 3]);
    });
  });

  it("orders [priority, data] pairs element by element, as Python's tuples", async () => {
    await runTest(async () => {
      const q = new PriorityQueue<[number, string]>();
      for (const item of [[5, "later"], [1, "urgent"], [3, "b"], [3, "a"], [1, "also urgent"]] as [number, string][]) {
        q.putNowait(item);
      }
      const out: [number, string][] = [];
      while (!q.empty()) out.push(await q.get());
      assert.deepEqual(out, [[1, "also urgent"], [1, "urgent"], [3, "a"], [3, "b"], [5, "later"]]);
    });
  });

  it("orders by Python's rules: numbers by value, strings by code point, shorter tuples first", () => {
    assert.equal(pythonOrder(2, 10), -1);
    assert.equal(pythonOrder(10n, 2), 1);
    assert.equal(pythonOrder(true, 0.5), 1);
    assert.equal(pythonOrder("b", "ab"), 1);
    assert.equal(pythonOrder("\u{10000}", "\uffff"), 1, "by code point, not UTF-16 unit");
    assert.equal(pythonOrder([1, 2], [1, 2, 0]), -1);
    assert.equal(pythonOrder([1, [2, "x"]], [1, [2, "y"]]), -1);
    const shared = {};
    assert.equal(pythonOrder([1, shared], [1, shared]), 0, "identical elements are equal, never ordered");
    assert.throws(() => pythonOrder(1, "1"), { name: "TypeError", message: /cannot order 1 against "1"/ });
    assert.throws(() => pythonOrder([1, {}], [1, {}]), TypeError);
    assert.throws(() => pythonOrder(null, null), TypeError);
  });

  it("keeps heap order over many random items", async () => {
    await runTest(async () => {
      const q = new PriorityQueue<number>();
      let seed = 7;
      const values: number[] = [];
      for (let i = 0; i < 500; i++) {
        seed = (seed * 48271) % 2147483647; // Park–Miller: a fixed pseudo-random sequence
        values.push(seed % 1000);
        q.putNowait(seed % 1000);
        if (i % 7 === 0) {
          values.sort((a, b) => a - b);
          assert.equal(q.getNowait(), values.shift(), "the lowest item comes first");
        }
      }
      values.sort((a, b) => a - b);
      const out: number[] = [];
      while (!q.empty()) out.push(q.getNowait());
      assert.deepEqual(out, values);
    });
  });

  it("rejects an item it cannot order, leaving the queue unchanged", async () => {
    await runTest(async () => {
      const q = new PriorityQueue<unknown>();
      await q.put([1, "a"]);
      await q.put([2, "b"]);
      const error = await errorOf(q.put([1, { not: "comparable" }]));
      assert.ok(error instanceof TypeError);
      assert.match((error as Error).message, /pass a `compare` option/);
      assert.equal(q.qsize(), 2);
      assert.throws(() => q.putNowait("text"), TypeError);
      assert.deepEqual([await q.get(), await q.get()], [[1, "a"], [2, "b"]]);
    });
  });

  it("orders by the compare option when given", async () => {
    await runTest(async () => {
      const q = new PriorityQueue<{ due: number; name: string }>(0, { compare: (a, b) => b.due - a.due });
      for (const due of [3, 9, 1]) q.putNowait({ due, name: `job${due}` });
      assert.deepEqual([q.getNowait().due, q.getNowait().due, q.getNowait().due], [9, 3, 1]);
      assert.throws(() => new PriorityQueue(0, { compare: 1 as never }), { name: "TypeError", message: /`compare`/ });
      assert.throws(() => new PriorityQueue(0, 5 as never), { name: "TypeError", message: /`options`/ });
    });
  });
});
