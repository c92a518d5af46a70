// Pins the public names of each entry point, as Trio's test_exports.py does: adding or
// removing a name is a deliberate change to this list.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as api from "../src/index.js";
import * as bullmq from "../src/bullmq.js";
import * as testing from "../src/testing.js";
import pkg from "../package.json" with { type: "json" };

const INDEX = [
  "Barrier",
  "BoundedSemaphore",
  "Condition",
  "Event",
  "LifoQueue",
  "Lock",
  "PriorityQueue",
  "Queue",
  "Semaphore",
  "ALL_COMPLETED",
  "BrokenBarrierError",
  "BrokenProcessPool",
  "CancelledError",
  "ConcurrentFuture",
  "Context",
  "ContextVar",
  "Coroutine",
  "EventLoop",
  "ExceptionGroup",
  "FIRST_COMPLETED",
  "FIRST_EXCEPTION",
  "FrameCallGraphEntry",
  "Future",
  "FutureCallGraph",
  "GatheringFuture",
  "Handle",
  "IncompleteReadError",
  "InvalidStateError",
  "KeyboardInterrupt",
  "LimitOverrunError",
  "LookupError",
  "ProcessPoolExecutor",
  "QueueEmpty",
  "QueueFull",
  "QueueShutDown",
  "Runner",
  "RuntimeError",
  "Task",
  "TaskGroup",
  "ThreadPoolExecutor",
  "Timeout",
  "TimeoutError",
  "TimerHandle",
  "Token",
  "allTasks",
  "any",
  "asCompleted",
  "cancellationOf",
  "copyContext",
  "coroutine",
  "createEagerTaskFactory",
  "createTask",
  "currentTask",
  "eagerTaskFactory",
  "ensureFuture",
  "gather",
  "gatherAll",
  "getRunningLoop",
  "isCancellation",
  "isCancelledError",
  "isCoroutine",
  "isCoroutineFunction",
  "isFuture",
  "isTimeoutError",
  "moduleFunction",
  "newEventLoop",
  "race",
  "run",
  "runCoroutineThreadsafe",
  "shield",
  "sleep",
  "taskGroup",
  "taskPerCall",
  "timeout",
  "timeoutAt",
  "toThread",
  "wait",
  "waitFor",
  // Introspection
  "captureCallGraph",
  "formatCallGraph",
  "futureAddToAwaitedBy",
  "futureDiscardFromAwaitedBy",
  "printCallGraph",
  // Streams, transports and protocols
  "StreamReaderProtocol",
  "StreamReader",
  "StreamWriter",
  "openConnection",
  "openUnixConnection",
  "startServer",
  "startUnixServer",
  "BaseProtocol",
  "BufferedProtocol",
  "DatagramProtocol",
  "Protocol",
  "SubprocessProtocol",
  "BaseTransport",
  "DatagramTransport",
  "ReadTransport",
  "SubprocessTransport",
  "Transport",
  "WriteTransport",
  "Server",
  // Subprocesses
  "DEVNULL",
  "PIPE",
  "STDOUT",
  "Process",
  "createSubprocessExec",
  "createSubprocessShell",
  // Additions from Trio, AnyIO and the p-* libraries
  "CapacityLimiter",
  "RateLimiter",
  "RetryError",
  "SignalInterrupt",
  "currentEffectiveDeadline",
  "moveOnAfter",
  "moveOnAt",
  "retry",
];

const BULLMQ = ["BullMQExecutor", "runWorker"];

const TESTING = [
  "ExplorationError",
  "TestLoop",
  "VirtualClock",
  "advance",
  "exploreCancellation",
  "exploreSchedules",
  "runBriefly",
  "runTest",
  "waitAllTasksBlocked",
  "withTestLoop",
];

describe("public exports", () => {
  it("asyncio-ts exports exactly the pinned names", () => {
    assert.deepEqual(Object.keys(api).sort(), [...INDEX].sort());
  });

  it("asyncio-ts/bullmq exports exactly the pinned names", () => {
    assert.deepEqual(Object.keys(bullmq).sort(), [...BULLMQ].sort());
  });

  it("asyncio-ts/testing exports exactly the pinned names", () => {
    assert.deepEqual(Object.keys(testing).sort(), [...TESTING].sort());
  });

  it("package.json exposes only the three entry points (deep imports are blocked)", () => {
    assert.deepEqual(Object.keys(pkg.exports).sort(), [".", "./bullmq", "./package.json", "./testing"]);
  });

  it("every exported function and class has a name", () => {
    for (const [name, value] of Object.entries(api)) {
      if (typeof value === "function") assert.ok(value.name.length > 0, name);
    }
  });
});
