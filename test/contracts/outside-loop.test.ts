// The contract of every entry point that needs a running loop: called outside one (before
// run(), after it returned, in a plain Node callback with no loop running) it throws
// RuntimeError synchronously, whatever state its object is in: never a rejected promise, which
// nobody may be there to await (an unhandled rejection ends the process), and never a fast
// path that works only while a lock happens to be free or a queue happens to hold an item.
// The operations that never wait (putNowait, set, release…) work anywhere.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Barrier,
  BoundedSemaphore,
  CapacityLimiter,
  Condition,
  Event,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  RateLimiter,
  RuntimeError,
  Semaphore,
  StreamReader,
  allTasks,
  any,
  asCompleted,
  createSubprocessExec,
  createSubprocessShell,
  createTask,
  currentEffectiveDeadline,
  currentTask,
  ensureFuture,
  gather,
  getRunningLoop,
  moveOnAfter,
  moveOnAt,
  openConnection,
  openUnixConnection,
  race,
  retry,
  run,
  shield,
  sleep,
  startServer,
  startUnixServer,
  taskGroup,
  timeout,
  timeoutAt,
  toThread,
  wait,
  waitFor,
} from "../../src/index.js";
import { Future } from "../../src/index.js";
import { advance, runTest, waitAllTasksBlocked } from "../../src/testing.js";

/** A queue holding one item: `get()` would not have to wait. */
function queueWithItem(): Queue<number> {
  const q = new Queue<number>();
  q.putNowait(1);
  return q;
}

function setEvent(): Event {
  const e = new Event();
  e.set();
  return e;
}

/** Every public entry point that needs a running loop, called in the state most likely to work. */
const NEEDS_A_LOOP: [string, () => unknown][] = [
  // Tasks, futures, sleeping
  ["getRunningLoop()", () => getRunningLoop()],
  ["createTask(thunk)", () => createTask(async () => 1)],
  ["ensureFuture(thunk)", () => ensureFuture(async () => 1)],
  ["ensureFuture(promise)", () => ensureFuture(Promise.resolve(1))],
  ["new Future()", () => new Future()],
  ["allTasks()", () => allTasks()],
  ["sleep(0)", () => sleep(0)],
  ["sleep(1)", () => sleep(1)],
  // Combinators
  ["gather()", () => gather()],
  ["gather(promise)", () => gather(Promise.resolve(1))],
  ["wait([promise])", () => wait([Promise.resolve(1)])],
  ["waitFor(promise, 1)", () => waitFor(Promise.resolve(1), 1)],
  ["waitFor(promise, 0)", () => waitFor(Promise.resolve(1), 0)],
  ["waitFor(promise, null)", () => waitFor(Promise.resolve(1), null)],
  ["asCompleted([promise])", () => asCompleted([Promise.resolve(1)])],
  ["race(promise)", () => race(Promise.resolve(1))],
  ["any(promise)", () => any(Promise.resolve(1))],
  ["shield(promise)", () => shield(Promise.resolve(1))],
  ["shield(thunk)", () => shield(async () => 1)],
  // Timeouts and task groups
  ["timeout(1, body)", () => timeout(1, () => 1)],
  ["timeoutAt(1, body)", () => timeoutAt(1, () => 1)],
  ["taskGroup(body)", () => taskGroup(() => 1)],
  ["moveOnAfter(1, body)", () => moveOnAfter(1, () => 1)],
  ["moveOnAt(1, body)", () => moveOnAt(1, () => 1)],
  ["currentEffectiveDeadline()", () => currentEffectiveDeadline()],
  ["retry(fn, options)", () => retry(async () => 1, { attempts: 2, backoff: { initial: 1 } })],
  // Queues
  ["Queue.get() with an item", () => queueWithItem().get()],
  ["Queue.get() empty", () => new Queue().get()],
  ["Queue.put() with room", () => new Queue().put(1)],
  ["Queue.put() full", () => queueWithItem().put(2)],
  ["Queue.join() with nothing unfinished", () => new Queue().join()],
  ["Queue.join() with an unfinished item", () => queueWithItem().join()],
  ["for await (… of queue): next()", () => queueWithItem()[Symbol.asyncIterator]().next()],
  ["LifoQueue.get()", () => new LifoQueue().get()],
  ["PriorityQueue.put()", () => new PriorityQueue().put(1)],
  // Locks and the other primitives
  ["Lock.acquire() free", () => new Lock().acquire()],
  ["Lock.hold() free", () => new Lock().hold()],
  ["Lock.withLock(fn)", () => new Lock().withLock(() => 1)],
  ["Event.wait() set", () => setEvent().wait()],
  ["Event.wait() unset", () => new Event().wait()],
  ["Condition.acquire()", () => new Condition().acquire()],
  ["Condition.wait()", () => new Condition().wait()],
  ["Condition.waitFor(true)", () => new Condition().waitFor(() => true)],
  ["Condition.withLock(fn)", () => new Condition().withLock(() => 1)],
  ["Semaphore.acquire() with a permit", () => new Semaphore(1).acquire()],
  ["Semaphore.acquire() without", () => new Semaphore(0).acquire()],
  ["Semaphore.hold()", () => new Semaphore(1).hold()],
  ["BoundedSemaphore.acquire()", () => new BoundedSemaphore(1).acquire()],
  ["CapacityLimiter.acquire() with a token", () => new CapacityLimiter(1).acquire()],
  ["CapacityLimiter.acquireOnBehalfOf() without", () => new CapacityLimiter(0).acquireOnBehalfOf("x")],
  ["CapacityLimiter.hold()", () => new CapacityLimiter(1).hold()],
  ["RateLimiter.acquire()", () => new RateLimiter({ rate: 1, per: 1 }).acquire()],
  ["RateLimiter.hold()", () => new RateLimiter({ rate: 1, per: 1 }).hold()],
  ["Barrier.wait() (1 party)", () => new Barrier(1).wait()],
  ["Barrier.reset()", () => new Barrier(2).reset()],
  ["Barrier.abort()", () => new Barrier(2).abort()],
  // Streams and subprocesses
  ["openConnection()", () => openConnection("127.0.0.1", 1)],
  ["startServer()", () => startServer(() => {}, "127.0.0.1", 0)],
  ["openUnixConnection()", () => openUnixConnection("/nonexistent/socket")],
  ["startUnixServer()", () => startUnixServer(() => {}, "/nonexistent/socket")],
  ["StreamReader.read()", () => new StreamReader().read()],
  ["StreamReader.readline()", () => new StreamReader().readline()],
  ["StreamReader.readexactly()", () => new StreamReader().readexactly(1)],
  ["StreamReader.readuntil()", () => new StreamReader().readuntil()],
  ["for await (… of reader)", () => new StreamReader()[Symbol.asyncIterator]()],
  ["createSubprocessExec()", () => createSubprocessExec("true", [])],
  ["createSubprocessShell()", () => createSubprocessShell("true")],
  // Threads
  ["toThread(fn)", () => toThread(() => 1)],
  // asyncio-ts/testing
  ["waitAllTasksBlocked()", () => waitAllTasksBlocked()],
  ["advance(1)", () => advance(1)],
];

/** Operations that never wait: they work with no loop running. */
const WORK_ANYWHERE: [string, () => unknown][] = [
  ["new Queue(), putNowait(), getNowait(), taskDone(), shutdown()", () => {
    const q = new Queue<number>(1);
    q.putNowait(1);
    assert.equal(q.getNowait(), 1);
    q.taskDone();
    q.shutdown();
  }],
  ["new Lock(), locked()", () => assert.equal(new Lock().locked(), false)],
  ["Event.set(), isSet(), clear()", () => {
    const e = new Event();
    e.set();
    assert.equal(e.isSet(), true);
    e.clear();
  }],
  ["Semaphore.release(), locked()", () => {
    const s = new Semaphore(0);
    s.release();
    assert.equal(s.locked(), false);
  }],
  ["new Condition(), new Barrier(2)", () => [new Condition(), new Barrier(2)]],
  ["new CapacityLimiter(), totalTokens, locked()", () => {
    const limiter = new CapacityLimiter(0);
    limiter.totalTokens = 2;
    assert.equal(limiter.locked(), false);
  }],
  ["new RateLimiter(), locked()", () => assert.equal(new RateLimiter({ rate: 1, per: 1 }).locked(), false)],
  ["new StreamReader(), feedData(), feedEof()", () => {
    const reader = new StreamReader();
    reader.feedData(Buffer.from("x"));
    reader.feedEof();
  }],
  ["currentTask() is null", () => assert.equal(currentTask(), null)],
];

function isNoLoopError(error: unknown): boolean {
  return error instanceof RuntimeError && /^no running event loop — /.test(error.message);
}

describe("outside a running loop", () => {
  for (const when of ["before run()", "after run() returned"] as const) {
    describe(when, () => {
      for (const [name, call] of NEEDS_A_LOOP) {
        it(`${name} throws RuntimeError synchronously`, async () => {
          if (when === "after run() returned") await runTest(async () => {});
          const rejections: unknown[] = [];
          const onRejection = (reason: unknown): void => {
            rejections.push(reason);
          };
          process.on("unhandledRejection", onRejection);
          try {
            assert.throws(call, isNoLoopError);
            await new Promise((resolve) => setImmediate(resolve));
          } finally {
            process.removeListener("unhandledRejection", onRejection);
          }
          assert.deepEqual(rejections, [], "no rejected promise was made on the side");
        });
      }
    });
  }

  it("a failed call changes nothing: the lock stays free, the queue keeps its item", () => {
    const lock = new Lock();
    assert.throws(() => lock.acquire(), isNoLoopError);
    assert.equal(lock.locked(), false);
    const q = queueWithItem();
    assert.throws(() => q.get(), isNoLoopError);
    assert.throws(() => q.put(2), isNoLoopError);
    assert.equal(q.qsize(), 1);
    const s = new Semaphore(1);
    assert.throws(() => s.acquire(), isNoLoopError);
    assert.equal(s.locked(), false);
  });

  it("the same calls work inside run()", async () => {
    await run(async () => {
      assert.equal(await queueWithItem().get(), 1);
      assert.equal(await new Lock().acquire(), true);
      assert.equal(await setEvent().wait(), true);
      assert.equal(await new Barrier(1).wait(), 0);
      assert.equal(await waitFor(Promise.resolve(1), 1), 1);
    });
  });

  for (const [name, call] of WORK_ANYWHERE) {
    it(`${name} work anywhere`, () => {
      call();
    });
  }
});
