// The error classes and guards of src/errors.ts: names, messages, data, brands that work
// across copies of the library, and ExceptionGroup's split/subgroup (Python's except*).
// The ExceptionGroup tests follow CPython's Lib/test/test_exception_group.py in spirit.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import {
  BrokenBarrierError,
  CancelledError,
  ExceptionGroup,
  IncompleteReadError,
  InvalidStateError,
  KeyboardInterrupt,
  LimitOverrunError,
  LookupError,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  RuntimeError,
  TimeoutError,
  cancellationOf,
  createTask,
  getRunningLoop,
  sleep,
  timeout,
  isCancellation,
  isCancelledError,
  isTimeoutError,
} from "../src/index.js";
import { runTest } from "../src/testing.js";

const SIMPLE = [
  ["CancelledError", CancelledError],
  ["TimeoutError", TimeoutError],
  ["InvalidStateError", InvalidStateError],
  ["RuntimeError", RuntimeError],
  ["LookupError", LookupError],
  ["KeyboardInterrupt", KeyboardInterrupt],
  ["QueueEmpty", QueueEmpty],
  ["QueueFull", QueueFull],
  ["QueueShutDown", QueueShutDown],
  ["BrokenBarrierError", BrokenBarrierError],
] as const;

/** What another copy of the library would throw: a plain Error carrying the brand. */
function foreignError(name: string, message = ""): Error {
  const e = new Error(message);
  Object.defineProperty(e, Symbol.for("asyncio-ts.error"), { value: name });
  Object.defineProperty(e, "name", { value: name });
  return e;
}

describe("error classes", () => {
  for (const [name, cls] of SIMPLE) {
    it(`${name} is an Error named ${name}, with an empty message by default and a cause`, () => {
      const plain = new cls();
      assert.ok(plain instanceof Error);
      assert.ok(plain instanceof cls);
      assert.equal(plain.name, name);
      assert.equal(plain.message, "");
      assert.match(String(plain), new RegExp(`^${name}`));
      const cause = new Error("cause");
      const withCause = new cls("msg", { cause });
      assert.equal(withCause.message, "msg");
      assert.equal(withCause.cause, cause);
      assert.match(withCause.stack ?? "", new RegExp(`^${name}: msg`));
    });

    it(`${name} recognises an error of another copy of the library with instanceof`, () => {
      assert.ok(foreignError(name) instanceof cls);
      const other = SIMPLE.find(([n]) => n !== name)![0];
      assert.equal(foreignError(other) instanceof cls, false);
      assert.equal(new Error() instanceof cls, false);
    });
  }

  it("keeps instanceof working for subclasses", () => {
    class MyCancel extends CancelledError {}
    const e = new MyCancel("x");
    assert.ok(e instanceof MyCancel);
    assert.ok(e instanceof CancelledError);
    assert.equal(new CancelledError() instanceof MyCancel, false);
    assert.equal(e.name, "CancelledError");
    assert.equal(isCancelledError(e), true);
  });

  it("the classes are distinct: a CancelledError is not a TimeoutError", () => {
    assert.equal(new CancelledError() instanceof TimeoutError, false);
    assert.equal(new TimeoutError() instanceof CancelledError, false);
    assert.equal(new RuntimeError() instanceof InvalidStateError, false);
  });

  // CPython: test_streams.py StreamTests (IncompleteReadError message and attributes)
  it("IncompleteReadError carries partial and expected, with CPython's message", () => {
    const e = new IncompleteReadError(Buffer.from("x".repeat(18)), 36);
    assert.equal(e.name, "IncompleteReadError");
    assert.equal(e.message, "18 bytes read on a total of 36 expected bytes");
    assert.equal(e.partial.toString(), "x".repeat(18));
    assert.equal(e.expected, 36);
    const open = new IncompleteReadError(Buffer.alloc(0), null);
    assert.equal(open.message, "0 bytes read on a total of undefined expected bytes");
    assert.equal(open.expected, null);
    assert.ok(foreignError("IncompleteReadError") instanceof IncompleteReadError);
  });

  it("LimitOverrunError carries consumed", () => {
    const e = new LimitOverrunError("Separator is not found, and chunk exceed the limit", 7);
    assert.equal(e.name, "LimitOverrunError");
    assert.equal(e.consumed, 7);
    assert.match(e.message, /chunk exceed the limit/);
  });
});

describe("error guards", () => {
  it("isCancelledError and isTimeoutError recognise their class, from any copy", () => {
    assert.equal(isCancelledError(new CancelledError()), true);
    assert.equal(isCancelledError(foreignError("CancelledError")), true);
    assert.equal(isCancelledError(new TimeoutError()), false);
    assert.equal(isCancelledError(new Error("CancelledError")), false);
    assert.equal(isCancelledError("CancelledError"), false);
    assert.equal(isCancelledError(null), false);
    assert.equal(isTimeoutError(new TimeoutError()), true);
    assert.equal(isTimeoutError(foreignError("TimeoutError")), true);
    assert.equal(isTimeoutError(new CancelledError()), false);
  });

  it("a plain Error merely named like one is not recognised", () => {
    const impostor = new Error("x");
    impostor.name = "CancelledError";
    assert.equal(isCancelledError(impostor), false);
    assert.equal(impostor instanceof CancelledError, false);
  });

  it("isCancellation is true for a CancelledError and an AbortError it caused", () => {
    const cancel = new CancelledError("stop");
    const abort = new DOMException("The operation was aborted", "AbortError");
    Object.defineProperty(abort, "cause", { value: cancel });
    assert.equal(isCancellation(cancel), true);
    assert.equal(isCancellation(abort), true);
    assert.equal(cancellationOf(abort), cancel);
    assert.equal(cancellationOf(cancel), cancel);
  });

  it("isCancellation is false for other errors, including an AbortError with another cause", () => {
    const abort = new DOMException("aborted", "AbortError");
    assert.equal(isCancellation(abort), false);
    const timeoutAbort = new Error("aborted", { cause: new TimeoutError() });
    timeoutAbort.name = "AbortError";
    assert.equal(isCancellation(timeoutAbort), false);
    assert.equal(isCancellation(new TimeoutError()), false);
    assert.equal(isCancellation(undefined), false);
    assert.equal(cancellationOf(new Error("x")), null);
  });
});

describe("ExceptionGroup", () => {
  it("is an AggregateError with errors, exceptions and CPython's message", () => {
    const a = new TypeError("a");
    const b = new RangeError("b");
    const eg = new ExceptionGroup("many", [a, b]);
    assert.ok(eg instanceof AggregateError);
    assert.ok(eg instanceof Error);
    assert.equal(eg.name, "ExceptionGroup");
    assert.deepEqual(eg.errors, [a, b]);
    assert.deepEqual(eg.exceptions, [a, b]);
    assert.equal(eg.message, "many (2 sub-exceptions)");
    assert.equal(eg.rawMessage, "many");
    assert.equal(new ExceptionGroup("one", [a]).message, "one (1 sub-exception)");
  });

  it("needs a string message and a non-empty list", () => {
    assert.throws(() => new ExceptionGroup(1 as never, [new Error()]), /`message` must be a string/);
    assert.throws(() => new ExceptionGroup("empty", []), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match((e as Error).message, /non-empty/);
      return true;
    });
  });

  it("takes any iterable of errors", () => {
    const errors = new Set([new Error("x"), new Error("y")]);
    assert.equal(new ExceptionGroup("set", errors).errors.length, 2);
  });

  it("split by class returns the matching and the rest, keeping nesting", () => {
    const t1 = new TypeError("t1");
    const r1 = new RangeError("r1");
    const t2 = new TypeError("t2");
    const inner = new ExceptionGroup("inner", [t2, new RangeError("r2")]);
    const cause = new Error("cause");
    const eg = new ExceptionGroup("outer", [t1, r1, inner], { cause });
    const [match, rest] = eg.split(TypeError);
    assert.ok(match instanceof ExceptionGroup);
    assert.equal(match.rawMessage, "outer");
    assert.equal(match.cause, cause);
    assert.equal(match.errors[0], t1);
    assert.ok(match.errors[1] instanceof ExceptionGroup);
    assert.deepEqual((match.errors[1] as ExceptionGroup).errors, [t2]);
    assert.equal((match.errors[1] as ExceptionGroup).rawMessage, "inner");
    assert.ok(rest instanceof ExceptionGroup);
    assert.equal(rest.errors[0], r1);
    assert.equal(((rest.errors[1] as ExceptionGroup).errors[0] as Error).message, "r2");
  });

  it("split by predicate, and with a side empty gives null", () => {
    const eg = new ExceptionGroup("g", [new TypeError("a"), new TypeError("b")]);
    const [all, none] = eg.split((e) => e instanceof TypeError);
    assert.equal(all?.errors.length, 2);
    assert.equal(none, null);
    const [nothing, everything] = eg.split((e) => (e as Error).message === "zzz");
    assert.equal(nothing, null);
    assert.equal(everything?.errors.length, 2);
  });

  it("split matches the whole group when the group itself matches", () => {
    const eg = new ExceptionGroup("g", [new TypeError("a")]);
    assert.deepEqual(eg.split(ExceptionGroup), [eg, null]);
    assert.equal(eg.subgroup(AggregateError), eg);
  });

  it("subgroup returns the matching part or null", () => {
    const eg = new ExceptionGroup("g", [new TypeError("a"), new CancelledError("c")]);
    const cancelled = eg.subgroup(CancelledError);
    assert.equal(cancelled?.errors.length, 1);
    assert.ok(cancelled?.errors[0] instanceof CancelledError);
    assert.equal(eg.subgroup(TimeoutError), null);
  });

  it("refuses a matcher that is not a function", () => {
    const eg = new ExceptionGroup("g", [new Error()]);
    assert.throws(() => eg.split("TypeError" as never), /`matcher` must be an error class or a predicate/);
  });

  it("recognises a group of another copy of the library", () => {
    assert.ok(foreignError("ExceptionGroup") instanceof ExceptionGroup);
  });
});

describe("a CancelledError says which task was cancelled and what to do", () => {
  const HINT = "was cancelled (by cancel(), a timeout, or Ctrl-C); catch it only to clean up and re-throw";

  /** The error a task's code got for `cancel(msg)`. */
  async function cancelledWith(msg?: string, name?: string): Promise<CancelledError> {
    let caught: unknown;
    const task = createTask(async () => {
      try {
        await sleep(10);
      } catch (e) {
        caught = e;
        throw e;
      }
    }, name === undefined ? undefined : { name });
    await sleep(0);
    task.cancel(msg);
    await assert.rejects(async () => {
      await task;
    }, CancelledError);
    assert.ok(caught instanceof CancelledError);
    return caught;
  }

  it("keeps the message cancel() was given (empty without one), and names the task where it is printed", async () => {
    await runTest(async () => {
      const plain = await cancelledWith(undefined, "worker");
      assert.equal(plain.message, "");
      assert.equal(String(plain), "CancelledError");
      assert.equal(inspect(plain), `CancelledError: task 'worker' ${HINT}`);
      const withMsg = await cancelledWith("shutting down");
      assert.equal(withMsg.message, "shutting down");
      assert.match(inspect(withMsg), new RegExp(`^CancelledError: shutting down — task 'Task-\\d+' ${HINT.replace(/[()]/g, "\\$&")}$`));
    });
  });

  it("shows no extra field in a printout or a comparison", async () => {
    await runTest(async () => {
      const error = await cancelledWith();
      assert.deepEqual(Object.keys(error), []);
      // `("")`: the loop makes it with an empty message, which Bun's deepEqual tells from none.
      assert.deepEqual(error, new CancelledError(""));
      assert.doesNotMatch(inspect(error, { customInspect: false }), /\{/);
    });
  });

  it("names the task for a cancel before its first step, and for a deadline's cancel", async () => {
    await runTest(async () => {
      const early = createTask(async () => {}, { name: "never-started" });
      early.cancel();
      const error = await early.then(
        () => null,
        (e: unknown) => e,
      );
      assert.equal(inspect(error), `CancelledError: task 'never-started' ${HINT}`);
      let inner: unknown;
      await createTask(
        () =>
          timeout(0.1, async () => {
            try {
              await sleep(1);
            } catch (e) {
              inner = e;
              throw e;
            }
          }).catch(() => undefined),
        { name: "deadline" },
      );
      assert.equal(inspect(inner), `CancelledError: task 'deadline' ${HINT}`);
    });
  });

  it("a CancelledError made by user code keeps its stack under the hint", () => {
    const error = new CancelledError("mine");
    const printed = inspect(error);
    assert.match(printed, /^CancelledError: mine — the operation was cancelled/);
    assert.match(printed, /\n {4}at /);
  });

  it("leaving run(), the description is in its stack, which Node prints for an uncaught error", async () => {
    const error = await runTest(async () => {
      const main = createTask(async () => {
        await sleep(10);
      }, { name: "inner" });
      getRunningLoop().callSoon(() => main.cancel());
      await main;
    }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(error instanceof CancelledError);
    assert.equal(error.message, "");
    assert.equal(error.stack, `CancelledError: task 'inner' ${HINT}`);
  });

  it("a TimeoutError says which deadline passed", async () => {
    await runTest(async () => {
      await assert.rejects(timeout(0.2, () => sleep(1)), { name: "TimeoutError", message: "timeout of 0.2 s expired" });
    });
  });
});
