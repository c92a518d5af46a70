// The contract every queue keeps, run over Queue, LifoQueue and PriorityQueue: sizes, blocking,
// join/taskDone, 3.13's shutdown, async iteration and cancellation safety. CPython runs its
// _QueueJoinTestMixin and _QueueShutdownTestMixin (test_queues.py) over the three classes the
// same way; those tests are ported here.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CancelledError,
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  createTask,
  getRunningLoop,
  taskGroup,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { errorOf, ticks } from "../locks/support.js";

interface QueueKind {
  readonly name: string;
  make<T>(maxsize?: number): Queue<T>;
  /** The order `get()` gives back `items` put in this order. */
  order(items: number[]): number[];
}

const KINDS: QueueKind[] = [
  { name: "Queue", make: (maxsize) => new Queue(maxsize), order: (items) => [...items] },
  { name: "LifoQueue", make: (maxsize) => new LifoQueue(maxsize), order: (items) => [...items].reverse() },
  {
    name: "PriorityQueue",
    make: (maxsize) => new PriorityQueue(maxsize),
    order: (items) => [...items].sort((a, b) => a - b),
  },
];

function assertShutDown(fn: () => unknown): void {
  assert.throws(fn, QueueShutDown);
}

for (const kind of KINDS) {
  describe(`${kind.name} (queue contract)`, () => {
    it("gives back every item put, in its order", async () => {
      await runTest(async () => {
        const q = kind.make<number>();
        const items = [5, 1, 4, 2, 3];
        for (const i of items) await q.put(i);
        assert.equal(q.qsize(), 5);
        const out: number[] = [];
        while (!q.empty()) out.push(await q.get());
        assert.deepEqual(out, kind.order(items));
      });
    });

    it("tracks qsize, empty and full against maxsize", async () => {
      await runTest(async () => {
        const q = kind.make<number>(2);
        assert.equal(q.maxsize, 2);
        assert.equal(q.empty(), true);
        q.putNowait(1);
        assert.equal(q.full(), false);
        q.putNowait(2);
        assert.equal(q.full(), true);
        assert.equal(q.qsize(), 2);
        assert.throws(() => q.putNowait(3), QueueFull);
        q.getNowait();
        q.getNowait();
        assert.throws(() => q.getNowait(), QueueEmpty);
      });
    });

    it("blocks putters while full and getters while empty, waking them in FIFO order", async () => {
      await runTest(async () => {
        const q = kind.make<number>(1);
        const got: number[] = [];
        const getters = [createTask(async () => got.push(await q.get())), createTask(async () => got.push(await q.get()))];
        await ticks();
        assert.match(String(q), /getters\[2\]/);
        await q.put(10);
        await q.put(20); // blocks until the first getter ran
        await Promise.all(getters);
        assert.deepEqual(got, [10, 20]);
      });
    });

    // CPython: test_queues.py _QueueJoinTestMixin.test_task_done_underflow
    it("taskDone() more times than items put is a RangeError", () => {
      const q = kind.make();
      assert.throws(() => q.taskDone(), { name: "RangeError", message: /taskDone\(\) called too many times/ });
    });

    // CPython: test_queues.py _QueueJoinTestMixin.test_task_done
    it("join() resumes once every item is marked done", async () => {
      await runTest(async () => {
        const q = kind.make<number>();
        for (let i = 0; i < 100; i++) q.putNowait(i);
        let accumulator = 0;
        let running = true;
        await taskGroup(async (tg) => {
          for (let w = 0; w < 2; w++) {
            tg.createTask(async () => {
              while (running) {
                accumulator += await q.get();
                q.taskDone();
              }
            });
          }
          await q.join();
          assert.equal(accumulator, (99 * 100) / 2);
          running = false;
          for (let w = 0; w < 2; w++) q.putNowait(0); // let the workers see `running`
        });
      });
    });

    // CPython: test_queues.py _QueueJoinTestMixin.test_join_empty_queue
    it("join() of a queue with nothing unfinished resolves at once", async () => {
      await runTest(async () => {
        const q = kind.make();
        await q.join();
        await q.join();
      });
    });

    it("a cancelled join() leaves the unfinished count intact", async () => {
      await runTest(async () => {
        const q = kind.make<number>();
        q.putNowait(1);
        const joiner = createTask(() => q.join());
        await ticks();
        joiner.cancel();
        assert.ok((await errorOf(joiner)) instanceof CancelledError);
        assert.match(String(q), /tasks=1/);
        const second = createTask(() => q.join());
        await ticks();
        assert.equal(second.done(), false);
        q.getNowait();
        q.taskDone();
        await ticks();
        assert.equal(second.done(), true);
      });
    });

    // CPython: test_queues.py _QueueJoinTestMixin.test_format, _QueueShutdownTestMixin.test_format
    it("prints maxsize, unfinished tasks and shutdown as asyncio's _format", () => {
      const q = kind.make<number>();
      assert.equal(String(q), `<${kind.name} maxsize=0>`);
      q.putNowait(1);
      q.putNowait(2);
      q.getNowait();
      q.getNowait();
      assert.equal(String(q), `<${kind.name} maxsize=0 tasks=2>`);
      const shut = kind.make();
      shut.shutdown();
      assert.equal(String(shut), `<${kind.name} maxsize=0 shutdown>`);
    });

    // CPython: test_queues.py _QueueShutdownTestMixin.test_shutdown_empty
    it("shutdown() of an empty queue fails the blocked getter and every later put and get", async () => {
      await runTest(async () => {
        const q = kind.make<string>();
        const getTask = getRunningLoop().createTask(() => q.get());
        await ticks(); // the get is pending before the shutdown
        q.shutdown(false);
        assert.equal(q.qsize(), 0);
        await q.join();
        await ticks();
        assert.equal(getTask.done(), true);
        assert.ok((await errorOf(getTask)) instanceof QueueShutDown);
        await assert.rejects(q.put("data"), QueueShutDown);
        assertShutDown(() => q.putNowait("data"));
        await assert.rejects(q.get(), QueueShutDown);
        assertShutDown(() => q.getNowait());
      });
    });

    // CPython: test_queues.py _QueueShutdownTestMixin.test_shutdown_nonempty
    it("shutdown() fails blocked putters but leaves queued items to get", async () => {
      await runTest(async () => {
        const loop = getRunningLoop();
        const q = kind.make<string>(1);
        q.putNowait("data");
        const joinTask = loop.createTask(() => q.join());
        const putTask = loop.createTask(() => q.put("data2"));
        await ticks();
        assert.equal(putTask.done(), false);

        q.shutdown(false);
        assert.equal(q.qsize(), 1);
        await ticks();
        assert.equal(putTask.done(), true);
        assert.ok((await errorOf(putTask)) instanceof QueueShutDown);

        assert.equal(await q.get(), "data");
        await ticks();
        assert.equal(joinTask.done(), false);

        await assert.rejects(q.put("data"), QueueShutDown);
        assertShutDown(() => q.putNowait("data"));
        await assert.rejects(q.get(), QueueShutDown);
        assertShutDown(() => q.getNowait());

        q.taskDone();
        await ticks();
        assert.equal(joinTask.done(), true);
        await joinTask;
        assert.throws(() => q.taskDone(), RangeError);
      });
    });

    // CPython: test_queues.py _QueueShutdownTestMixin.test_shutdown_immediate
    it("shutdown(true) drops the items, counting them done, and fails gets at once", async () => {
      await runTest(async () => {
        const q = kind.make<string>();
        q.putNowait("data");
        const joinTask = getRunningLoop().createTask(() => q.join());
        q.shutdown(true);
        assert.equal(q.qsize(), 0);
        await ticks();
        assert.equal(joinTask.done(), true);
        await joinTask;
        await assert.rejects(q.put("data"), QueueShutDown);
        assertShutDown(() => q.putNowait("data"));
        await assert.rejects(q.get(), QueueShutDown);
        assertShutDown(() => q.getNowait());
        assert.throws(() => q.taskDone(), RangeError);
      });
    });

    // CPython: test_queues.py _QueueShutdownTestMixin.test_shutdown_immediate_with_unfinished
    it("shutdown(true) keeps items already got unfinished until taskDone()", async () => {
      await runTest(async () => {
        const q = kind.make<string>();
        q.putNowait("data");
        q.putNowait("data");
        const joinTask = getRunningLoop().createTask(() => q.join());
        assert.equal(await q.get(), "data");
        q.shutdown(true);
        assert.equal(q.qsize(), 0);
        await ticks();
        assert.equal(joinTask.done(), false);
        await assert.rejects(q.put("data"), QueueShutDown);
        assertShutDown(() => q.putNowait("data"));
        await assert.rejects(q.get(), QueueShutDown);
        assertShutDown(() => q.getNowait());
        q.taskDone();
        assert.throws(() => q.taskDone(), RangeError);
        await ticks();
        assert.equal(joinTask.done(), true);
        await joinTask;
      });
    });

    it("shutdown(true) fails blocked putters of a full queue", async () => {
      await runTest(async () => {
        const q = kind.make<number>(1);
        q.putNowait(1);
        const putter = createTask(() => q.put(2));
        await ticks();
        q.shutdown(true);
        assert.ok((await errorOf(putter)) instanceof QueueShutDown);
        assert.equal(q.qsize(), 0);
        assert.throws(() => q.shutdown("yes" as never), TypeError);
      });
    });

    it("ends `for await` cleanly once shut down and drained", async () => {
      await runTest(async () => {
        const q = kind.make<number>(2);
        const seen: number[] = [];
        const consumer = createTask(async () => {
          for await (const item of q) seen.push(item);
          return "ended";
        });
        for (const i of [3, 1, 2]) await q.put(i);
        q.shutdown();
        assert.equal(await consumer, "ended");
        assert.deepEqual([...seen].sort(), [1, 2, 3]);
      });
    });

    it("a getter cancelled while waiting takes nothing; the item goes to the next", async () => {
      await runTest(async () => {
        const q = kind.make<number>();
        const first = createTask(() => q.get());
        const second = createTask(() => q.get());
        await ticks();
        first.cancel();
        await ticks();
        q.putNowait(7);
        assert.equal(await second, 7);
        assert.equal(q.qsize(), 0);
      });
    });

    it("a getter woken then cancelled before it runs leaves the item for the next getter", async () => {
      await runTest(async () => {
        const q = kind.make<number>();
        const first = createTask(() => q.get());
        const second = createTask(() => q.get());
        await ticks();
        q.putNowait(7); // wakes `first`...
        first.cancel(); // ...cancelled before it runs
        assert.ok((await errorOf(first)) instanceof CancelledError);
        assert.equal(await second, 7);
        assert.equal(q.qsize(), 0);
      });
    });

    it("a putter woken then cancelled before it runs does not enqueue, and passes the slot on", async () => {
      await runTest(async () => {
        const q = kind.make<number>(1);
        q.putNowait(1);
        const first = createTask(() => q.put(2));
        const second = createTask(() => q.put(3));
        await ticks();
        q.getNowait(); // frees a slot, wakes `first`...
        first.cancel(); // ...cancelled before it runs
        assert.ok((await errorOf(first)) instanceof CancelledError);
        await second;
        assert.equal(q.qsize(), 1);
        assert.equal(q.getNowait(), 3);
      });
    });
  });
}
