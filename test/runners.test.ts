// `run()` and `Runner`, ported from CPython 3.14's Lib/test/test_asyncio/test_runners.py.
// Ctrl-C and SIGTERM are tested in child processes (test/fixtures/sigint.ts, signals.ts) that
// send themselves the signal: the only tests of the suite that take real time, a few hundred
// milliseconds each.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import {
  CancelledError,
  ContextVar,
  EventLoop,
  type ExceptionContext,
  KeyboardInterrupt,
  Future,
  Runner,
  RuntimeError,
  SignalInterrupt,
  type Task,
  allTasks,
  copyContext,
  createTask,
  currentTask,
  getRunningLoop,
  run,
  sleep,
} from "../src/index.js";
import { TestLoop, runTest } from "../src/testing.js";
import { type ScenarioRun, runFixture } from "./support/core.js";
import { unsupportedOn } from "./support/runtime.js";
import { ValueError, ZeroDivisionError } from "./support/errors.js";

/** A loop that records the shutdown steps `close()` takes (CPython's BaseTest.new_loop). */
class RecordingLoop extends TestLoop {
  readonly steps: string[] = [];

  constructor() {
    super({ autojump: true });
  }

  override async shutdownAsyncgens(): Promise<void> {
    this.steps.push("shutdownAsyncgens");
  }

  override async shutdownDefaultExecutor(timeout: number | null = null): Promise<void> {
    this.steps.push(`shutdownDefaultExecutor(${timeout})`);
  }

  override close(): void {
    this.steps.push("close");
    super.close();
  }
}

describe("run()", () => {
  it("resolves to what main resolves to", async () => {
    // CPython: test_runners.py RunTests.test_asyncio_run_return
    const result = await run(async () => {
      await sleep(0);
      return 42;
    });
    assert.equal(result, 42);
  });

  it("rejects with main's error", async () => {
    // CPython: test_runners.py RunTests.test_asyncio_run_raises
    await assert.rejects(
      run(async () => {
        await sleep(0);
        throw new ValueError("spam");
      }),
      (e) => e instanceof ValueError && e.message === "spam",
    );
  });

  it("refuses what is not an awaitable or a thunk, synchronously", async () => {
    // CPython: test_runners.py RunTests.test_asyncio_run_only_coro. A thunk is the normal
    // form here (Python refuses a lambda); a thunk that returns no awaitable fails main.
    assert.throws(() => run(1 as never), (e) => e instanceof TypeError && /`main`/.test(e.message));
    assert.throws(() => run(null as never), TypeError);
    await assert.rejects(run((() => 1) as never), (e) => e instanceof TypeError && /must return an awaitable/.test(e.message));
    assert.throws(() => run(() => sleep(0), 5 as never), (e) => e instanceof TypeError && /`options`/.test(e.message));
  });

  it("runs the loop in debug mode only when asked", async () => {
    // CPython: test_runners.py RunTests.test_asyncio_run_debug
    const debugOf = async (): Promise<boolean> => getRunningLoop().getDebug();
    assert.equal(await run(debugOf), false);
    assert.equal(await run(debugOf, { debug: false }), false);
    assert.equal(await run(debugOf, { debug: true }), true);
  });

  it("refuses to run from a running loop, without starting main", async () => {
    // CPython: test_runners.py RunTests.test_asyncio_run_from_running_loop
    let started = false;
    await run(async () => {
      await assert.rejects(
        run(async () => {
          started = true;
        }),
        (e) => e instanceof RuntimeError && /cannot be called from a running/.test(e.message),
      );
    });
    assert.equal(started, false);
  });

  it("cancels the tasks main left running", async () => {
    // CPython: test_runners.py RunTests.test_asyncio_run_cancels_hanging_tasks
    let leftover!: ReturnType<typeof createTask<void>>;
    const result = await run(async () => {
      leftover = createTask(() => sleep(0.1));
      return 123;
    });
    assert.equal(result, 123);
    assert.equal(leftover.done(), true);
    assert.equal(leftover.cancelled(), true);
  });

  it("cancels a few hundred thousand left-over tasks (no spread of them onto the stack)", async () => {
    // 200k arguments spread into one call overflow Node's default stack: the shutdown must not.
    const n = 200_000;
    const tasks: Task<unknown>[] = [];
    await run(async () => {
      const never = new Future();
      for (let i = 0; i < n; i++) tasks.push(createTask(() => never));
    });
    assert.equal(tasks.length, n);
    assert.equal(tasks.every((task) => task.cancelled()), true);
  });

  it("reports the errors of left-over tasks to the exception handler", async () => {
    // CPython: test_runners.py RunTests.test_asyncio_run_reports_hanging_tasks_errors
    const calls: ExceptionContext[] = [];
    let leftover!: ReturnType<typeof createTask<void>>;
    const result = await run(async () => {
      getRunningLoop().setExceptionHandler((_loop, context) => calls.push(context));
      leftover = createTask(async () => {
        try {
          await sleep(0.1);
        } catch {
          throw new ZeroDivisionError();
        }
      });
      return 123;
    });
    assert.equal(result, 123);
    assert.equal(leftover.done(), true);
    assert.equal(calls.length, 1);
    assert.match(calls[0]?.message ?? "", /asyncio\.run.*shutdown/);
    assert.equal(calls[0]?.task, leftover);
    assert.ok(calls[0]?.exception instanceof ZeroDivisionError);
  });

  it("rejects with main's error after cleaning up the tasks it left", async () => {
    // CPython: test_runners.py RunTests.test_asyncio_run_closes_gens_after_hanging_tasks_errors
    // (JS gives a library no hook on async generators: their shutdown is not ported.)
    class FancyExit extends Error {}
    let lazyboy!: ReturnType<typeof createTask<void>>;
    await assert.rejects(
      run(async () => {
        getRunningLoop().setExceptionHandler(() => undefined);
        lazyboy = createTask(async () => {
          try {
            while (true) await sleep(1);
          } catch {
            throw new ZeroDivisionError();
          }
        });
        await sleep(0);
        throw new FancyExit();
      }),
      FancyExit,
    );
    assert.equal(lazyboy.done(), true);
  });

  it("runs main on the loop its loopFactory makes, made once", async () => {
    // CPython: test_runners.py RunTests.test_asyncio_run_loop_factory
    const loop = new RecordingLoop();
    let calls = 0;
    await run(
      async () => {
        assert.equal(getRunningLoop(), loop);
      },
      {
        loopFactory: () => {
          calls++;
          return loop;
        },
      },
    );
    assert.equal(calls, 1);
  });

  it("shuts async generators and the default executor down, then closes the loop", async () => {
    // CPython: test_runners.py BaseTest.tearDown's checks (loop closed, shutdown_asyncgens run).
    const loop = new RecordingLoop();
    await run(() => sleep(0), { loopFactory: () => loop });
    assert.deepEqual(loop.steps, ["shutdownAsyncgens", "shutdownDefaultExecutor(300)", "close"]);
    assert.equal(loop.isClosed(), true);
  });

  it("closes the loop even when main fails", async () => {
    let loop!: EventLoop;
    await assert.rejects(
      run(async () => {
        loop = getRunningLoop();
        throw new ValueError();
      }),
      ValueError,
    );
    assert.equal(loop.isClosed(), true);
    assert.equal(loop.isRunning(), false);
  });

  it("makes exactly one task, for main", async () => {
    await run(async () => {
      assert.deepEqual(allTasks(), new Set([currentTask()]));
    });
  });

  it("runs main in a copy of the caller's context", async () => {
    const cvar = new ContextVar<string>("cvar", { default: "default" });
    const token = cvar.set("outside");
    try {
      const seen = await run(async () => {
        const before = cvar.get();
        cvar.set("inside");
        return before;
      });
      assert.equal(seen, "outside");
      assert.equal(cvar.get(), "outside", "main's changes stay in its copy");
    } finally {
      cvar.reset(token);
    }
  });

  it("does not look at main's result", async () => {
    // CPython: test_runners.py RunnerTests.test_no_repr_is_call_on_the_task_result
    let reprCount = 0;
    class MyResult {
      toString(): string {
        reprCount++;
        return "MyResult";
      }
    }
    const result = await run(async () => new MyResult());
    assert.ok(result instanceof MyResult);
    assert.equal(reprCount, 0);
  });
});

describe("Runner", () => {
  it("makes a loop without debug mode unless asked", async () => {
    // CPython: test_runners.py RunnerTests.test_non_debug and test_debug
    await using plain = new Runner({ debug: false });
    assert.equal(plain.getLoop().getDebug(), false);
    await using debug = new Runner({ debug: true });
    assert.equal(debug.getLoop().getDebug(), true);
  });

  it("uses the loop its loopFactory makes", async () => {
    // CPython: test_runners.py RunnerTests.test_custom_factory
    const loop = new RecordingLoop();
    await using runner = new Runner({ loopFactory: () => loop });
    assert.equal(runner.getLoop(), loop);
    assert.equal(runner.getLoop(), loop, "made once");
  });

  it("runs main, and after the block is closed with its loop", async () => {
    // CPython: test_runners.py RunnerTests.test_run
    let runner!: Runner;
    let loop!: EventLoop;
    {
      await using r = new Runner();
      runner = r;
      assert.equal(
        await runner.run(async () => {
          await sleep(0);
          return "done";
        }),
        "done",
      );
      loop = runner.getLoop();
    }
    assert.throws(() => runner.getLoop(), (e) => e instanceof RuntimeError && /Runner is closed/.test(e.message));
    assert.equal(loop.isClosed(), true);
  });

  it("refuses what is not an awaitable or a thunk, synchronously", async () => {
    // CPython: test_runners.py RunnerTests.test_run_non_coro
    await using runner = new Runner();
    assert.throws(() => runner.run(123 as never), (e) => e instanceof TypeError && /`coro`/.test(e.message));
  });

  it("runs a future of its loop", async () => {
    // CPython: test_runners.py RunnerTests.test_run_future
    await using runner = new Runner();
    const fut = runner.getLoop().createFuture<string>();
    fut.setResult("done");
    assert.equal(await runner.run(fut), "done");
  });

  it("runs any awaitable", async () => {
    // CPython: test_runners.py RunnerTests.test_run_awaitable
    await using runner = new Runner();
    const awaitable: PromiseLike<string> = {
      then(onOk, onErr) {
        return Promise.resolve("done").then(onOk, onErr);
      },
    };
    assert.equal(await runner.run(awaitable), "done");
  });

  it("closes its loop with close(), after which getLoop() is refused", async () => {
    // CPython: test_runners.py RunnerTests.test_explicit_close
    const runner = new Runner();
    const loop = runner.getLoop();
    await runner.close();
    assert.throws(() => runner.getLoop(), (e) => e instanceof RuntimeError && /Runner is closed/.test(e.message));
    assert.equal(loop.isClosed(), true);
  });

  it("does nothing when closed a second time", async () => {
    // CPython: test_runners.py RunnerTests.test_double_close
    const runner = new Runner();
    const loop = runner.getLoop();
    await runner.close();
    assert.equal(loop.isClosed(), true);
    await runner.close(); // the second call is a no-op
    assert.equal(loop.isClosed(), true);
  });

  it("refuses to run once closed", async () => {
    // CPython: test_runners.py RunnerTests.test_second_with_block_raises
    const ret: number[] = [];
    const f = (arg: number) => async (): Promise<void> => {
      ret.push(arg);
    };
    const runner = new Runner();
    {
      await using r = runner;
      await r.run(f(1));
    }
    await assert.rejects(runner.run(f(2)), (e) => e instanceof RuntimeError && /Runner is closed/.test(e.message));
    assert.deepEqual(ret, [1]);
  });

  it("runs each main in its one context, so values persist between runs", async () => {
    // CPython: test_runners.py RunnerTests.test_run_keeps_context
    const cvar = new ContextVar<number>("cvar", { default: -1 });
    const f = (val: number) => async (): Promise<number> => {
      const old = cvar.get();
      await sleep(0);
      cvar.set(val);
      return old;
    };
    await using runner = new Runner();
    assert.equal(await runner.run(f(1)), -1);
    assert.equal(await runner.run(f(2)), 1);
    const ctx = await runner.run(async () => copyContext());
    assert.equal(ctx.get(cvar), 2);
    assert.equal(cvar.get(), -1, "the caller's context is untouched");
  });

  it("runs main in the context it is given", async () => {
    const cvar = new ContextVar<string>("cvar", { default: "none" });
    const ctx = copyContext();
    await using runner = new Runner();
    await runner.run(
      async () => {
        cvar.set("set in main");
      },
      { context: ctx },
    );
    assert.equal(ctx.get(cvar), "set in main");
    assert.equal(await runner.run(async () => cvar.get()), "none");
  });

  it("refuses to run from inside its own loop", async () => {
    // CPython: test_runners.py RunnerTests.test_recursive_run
    await using runner = new Runner();
    let started = false;
    await runner.run(async () => {
      await assert.rejects(
        runner.run(async () => {
          started = true;
        }),
        (e) => e instanceof RuntimeError && e.message === "Runner.run() cannot be called from a running event loop",
      );
    });
    assert.equal(started, false);
  });

  it("cancels the tasks still running when closed", async () => {
    const runner = new Runner();
    let leftover!: ReturnType<typeof createTask<void>>;
    await runner.run(async () => {
      leftover = createTask(() => sleep(3600));
    });
    assert.equal(leftover.done(), false);
    await runner.close();
    assert.equal(leftover.cancelled(), true);
  });

  it("leaves SIGINT alone when the program handles it itself", async () => {
    // CPython: test_runners.py RunnerTests.test_signal_install_not_supported_ok: when the
    // runner cannot (or should not) take SIGINT, it runs main all the same.
    const mine = (): void => undefined;
    process.on("SIGINT", mine);
    try {
      await using runner = new Runner();
      const during = await runner.run(async () => process.listenerCount("SIGINT"));
      assert.equal(during, 1);
      assert.deepEqual(process.listeners("SIGINT"), [mine]);
    } finally {
      process.removeListener("SIGINT", mine);
    }
  });

  it("listens for SIGINT only while it runs", async () => {
    await using runner = new Runner();
    assert.equal(process.listenerCount("SIGINT"), 0);
    assert.equal(await runner.run(async () => process.listenerCount("SIGINT")), 1);
    assert.equal(process.listenerCount("SIGINT"), 0);
  });

  it("refuses bad options synchronously, naming them", () => {
    assert.throws(() => new Runner(5 as never), (e) => e instanceof TypeError && /`options`/.test(e.message));
    assert.throws(
      () => new Runner({ loopFactory: 5 as never }),
      (e) => e instanceof TypeError && /`loopFactory`/.test(e.message),
    );
    assert.throws(
      () => new Runner({ loopFactory: () => ({}) as never }).getLoop(),
      (e) => e instanceof TypeError && /`loopFactory` must return an EventLoop/.test(e.message),
    );
  });

  it("prints its state", async () => {
    const runner = new Runner();
    assert.equal(String(runner), "<Runner created>");
    runner.getLoop();
    assert.equal(String(runner), "<Runner initialized>");
    await runner.close();
    assert.equal(String(runner), "<Runner closed>");
  });
});

describe("Ctrl-C (SIGINT) while run() runs", () => {

  interface Outcome {
    status: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
  }

  /** Runs the fixture with `scenarios` in a child process (at most 20 s); it must be quiet on stderr. */
  async function runSigint(scenarios: string[]): Promise<Outcome> {
    const run = await runFixture("sigint.ts", scenarios);
    if (run.stderr !== "") throw new Error(`the fixture wrote to stderr:\n${run.stderr}`);
    return { status: run.status, signal: run.signal, stdout: run.stdout.join("\n") };
  }

  // Two processes, started together: one runs the scenarios that end normally, one after the
  // other (each run() takes SIGINT afresh); the second Ctrl-C kills its process, so that
  // scenario runs alone.
  const SEQUENCE = ["busy-loop", "wait-future", "cancelled-task", "foreign-code", "quiet", "cancel-main"];
  let sequence: Promise<Outcome> | null = null;
  let twice: Promise<Outcome> | null = null;

  /** The lines `scenario` printed after its `== scenario` header, and its process's outcome. */
  async function spawn(scenario: string): Promise<{ lines: string[]; outcome: Outcome }> {
    if (sequence === null || twice === null) {
      sequence = runSigint(SEQUENCE);
      twice = runSigint(["twice"]);
      sequence.catch(() => undefined); // reported by the tests that await them
      twice.catch(() => undefined);
    }
    const outcome = await (scenario === "twice" ? twice : sequence);
    const all = outcome.stdout.trim().split("\n");
    const from = all.indexOf(`== ${scenario}`);
    assert.notEqual(from, -1, `no output for ${scenario}:\n${outcome.stdout}`);
    let to = from + 1;
    while (to < all.length && !(all[to] as string).startsWith("== ")) to++;
    return { lines: all.slice(from + 1, to), outcome };
  }

  it("cancels main, runs its finally blocks, and rejects with KeyboardInterrupt", async () => {
    // CPython: runners.Runner._on_sigint; the first Ctrl-C cancels the main task.
    const { lines, outcome } = await spawn("cancel-main");
    assert.deepEqual(lines, [
      "main started",
      "finally ran",
      "run rejected: KeyboardInterrupt (cause: CancelledError)",
      "listeners after run: 0",
      "exit code 3",
    ]);
    // The last scenario of its process: the process exits with its code.
    assert.equal(outcome.status, 3);
    assert.equal(outcome.signal, null);
  });

  it("interrupts a main that only yields with sleep(0)", async () => {
    // CPython: test_runners.py RunnerTests.test_interrupt_call_soon
    const { lines } = await spawn("busy-loop");
    assert.deepEqual(lines, [
      "caught CancelledError",
      "run rejected: KeyboardInterrupt (cause: CancelledError)",
      "listeners after run: 0",
      "exit code 3",
    ]);
  });

  it("cancels the future main waits on, with main", async () => {
    // CPython: test_runners.py RunnerTests.test_interrupt_wait
    const { lines } = await spawn("wait-future");
    assert.deepEqual(lines, [
      "caught CancelledError",
      "future cancelled: true",
      "run rejected: KeyboardInterrupt (cause: CancelledError)",
      "listeners after run: 0",
      "exit code 3",
    ]);
  });

  it("rejects with CancelledError, not KeyboardInterrupt, when main was already cancelled", async () => {
    // CPython: test_runners.py RunnerTests.test_interrupt_cancelled_task
    const { lines } = await spawn("cancelled-task");
    assert.deepEqual(lines, [
      "first cancel: true",
      "run rejected: CancelledError",
      "listeners after run: 0",
      "exit code 4",
    ]);
  });

  it("stops main in foreign code through the task's AbortSignal", async () => {
    const { lines } = await spawn("foreign-code");
    assert.deepEqual(lines, [
      "caught cancellation: true",
      "run rejected: KeyboardInterrupt (cause: CancelledError)",
      "listeners after run: 0",
      "exit code 3",
    ]);
  });

  it("removes its listener when run() ends without a Ctrl-C", async () => {
    const { lines } = await spawn("quiet");
    assert.deepEqual(lines, ["listeners during run: 1", "run resolved: done", "listeners after run: 0", "exit code 0"]);
  });

  it("ends the process at once on a second Ctrl-C", async () => {
    // CPython: runners.Runner._on_sigint raises KeyboardInterrupt on the second SIGINT.
    const { lines, outcome } = await spawn("twice");
    assert.deepEqual(lines, ["first interrupt: true"], "no finally block ran, no line after");
    assert.equal(outcome.signal, "SIGINT");
    assert.equal(outcome.status, null);
  });

  it("is not swallowed by a cancelled error of main itself", async () => {
    // In-process companion: without a Ctrl-C, a main that is cancelled rejects run() with
    // CancelledError (never KeyboardInterrupt).
    await assert.rejects(
      run(async () => {
        currentTask()?.cancel();
        await sleep(1);
      }, { loopFactory: () => new TestLoop({ autojump: true }) }),
      (e) => e instanceof CancelledError && e.name === "CancelledError",
    );
  });
});

describe("SIGTERM and the signals option", () => {
  it("listens for SIGINT and SIGTERM by default, only while it runs", async () => {
    await using runner = new Runner();
    const during = await runner.run(async () => [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")]);
    assert.deepEqual(during, [1, 1]);
    assert.equal(process.listenerCount("SIGTERM"), 0);
  });

  it("listens for exactly the signals asked for; [] for none", async () => {
    const count = async (): Promise<number[]> =>
      ["SIGINT", "SIGTERM", "SIGHUP"].map((signal) => process.listenerCount(signal));
    assert.deepEqual(await run(count, { signals: [] }), [0, 0, 0]);
    assert.deepEqual(await run(count, { signals: ["SIGHUP"] }), [0, 0, 1]);
    assert.deepEqual(await run(count, { signals: ["SIGTERM", "SIGTERM"] }), [0, 1, 0]);
    await using runner = new Runner({ signals: ["SIGINT"] });
    assert.deepEqual(await runner.run(count), [1, 0, 0]);
    assert.deepEqual(await runTest(count, { signals: [] }), [0, 0, 0]);
    assert.deepEqual(await count(), [0, 0, 0]);
  });

  it("leaves SIGTERM alone when the program handles it itself", async () => {
    const mine = (): void => undefined;
    process.on("SIGTERM", mine);
    try {
      const during = await run(async () => [process.listenerCount("SIGINT"), process.listeners("SIGTERM")]);
      assert.deepEqual(during, [1, [mine]]);
    } finally {
      process.removeListener("SIGTERM", mine);
    }
  });

  it("refuses a bad signals option synchronously, naming it", () => {
    const main = async (): Promise<void> => undefined;
    assert.throws(() => run(main, { signals: "SIGTERM" as never }), (e) => e instanceof TypeError && /`signals` must be an array/.test(e.message));
    assert.throws(() => run(main, { signals: ["SIGFOO" as never] }), (e) => e instanceof TypeError && /signal names/.test(e.message));
    assert.throws(() => new Runner({ signals: ["SIGKILL"] }), (e) => e instanceof RangeError && /SIGKILL cannot be handled/.test(e.message));
  });

  it("has SignalInterrupt carry the signal and the exit status a shell reports for it", () => {
    const term = new SignalInterrupt("SIGTERM");
    assert.equal(term.name, "SignalInterrupt");
    assert.equal(term.signal, "SIGTERM");
    assert.equal(term.exitCode, 143);
    const interrupt = new KeyboardInterrupt();
    assert.ok(interrupt instanceof SignalInterrupt);
    assert.equal(interrupt.name, "KeyboardInterrupt");
    assert.equal(interrupt.message, "");
    assert.equal(interrupt.signal, "SIGINT");
    assert.equal(interrupt.exitCode, 130);
  });

  // Two child processes that send themselves SIGTERM (test/fixtures/signals.ts), started
  // together: one runs three scenarios in turn, the last of which re-raises the signal and so
  // ends its process; the second signal of `twice` kills its process, so it runs alone.
  const SEQUENCE = ["opt-out", "cancel-main", "reraise"];
  let runs: Promise<ScenarioRun>[] | null = null;

  /** The lines `scenario` printed after its `== scenario` header, and how its process ended. */
  async function spawnScenario(scenario: string): Promise<{ lines: string[]; outcome: ScenarioRun }> {
    if (runs === null) {
      runs = [runFixture("signals.ts", SEQUENCE), runFixture("signals.ts", ["twice"])];
      for (const outcome of runs) outcome.catch(() => undefined); // reported by the tests that await them
    }
    const outcome = await (scenario === "twice" ? runs[1] : runs[0]) as ScenarioRun;
    assert.equal(outcome.stderr, "", "the fixture is quiet on stderr");
    const from = outcome.stdout.indexOf(`== ${scenario}`);
    assert.notEqual(from, -1, `no output for ${scenario}:\n${outcome.stdout.join("\n")}`);
    let to = from + 1;
    while (to < outcome.stdout.length && !(outcome.stdout[to] as string).startsWith("== ")) to++;
    return { lines: outcome.stdout.slice(from + 1, to), outcome };
  }

  it("cancels main on SIGTERM, runs its finally blocks, and rejects with SignalInterrupt", async () => {
    const { lines } = await spawnScenario("cancel-main");
    assert.deepEqual(lines, [
      "main started; listening: SIGINT 1, SIGTERM 1",
      "finally ran",
      "run rejected: SignalInterrupt (signal SIGTERM, exitCode 143, cause: CancelledError)",
      "listeners after run: SIGINT 0, SIGTERM 0",
    ]);
  });

  it("lets the program re-raise the signal after cleanup, so that its parent sees it", async () => {
    const { lines, outcome } = await spawnScenario("reraise");
    assert.deepEqual(lines, [
      "finally ran",
      "run rejected: SignalInterrupt (signal SIGTERM, exitCode 143, cause: CancelledError)",
      "listeners after run: SIGINT 0, SIGTERM 0",
    ]);
    assert.equal(outcome.signal, "SIGTERM");
    assert.equal(outcome.status, null);
  });

  it("ends the process at once on a second signal, by that signal", async () => {
    const { lines, outcome } = await spawnScenario("twice");
    assert.deepEqual(lines, ["first SIGTERM: true"], "no finally block ran, no line after");
    assert.equal(outcome.signal, "SIGINT");
    assert.equal(outcome.status, null);
  });

  it("leaves SIGTERM to a worker that opts out and drains by itself", async () => {
    const { lines } = await spawnScenario("opt-out");
    assert.deepEqual(lines, [
      "listening: SIGINT 1, SIGTERM 1",
      "drained",
      "run resolved: done",
      "listeners after run: SIGINT 0, SIGTERM 0",
    ]);
  });
});

describe("a task that fails with nobody awaiting it", () => {
  const fixture = fileURLToPath(new URL("./fixtures/reports.ts", import.meta.url));

  /** Runs `scenario` of the fixture; its stderr lines (the reports and the fixture's own). */
  function scenario(name: string): { lines: string[]; status: number | null } {
    const result = spawnSync(process.execPath, ["--import", "tsx", "--expose-gc", fixture, name], {
      encoding: "utf8",
      timeout: 20_000,
      killSignal: "SIGKILL",
    });
    assert.equal(result.stdout, "");
    return { lines: result.stderr.trim().split("\n"), status: result.status };
  }

  const REPORT = "Task exception was never retrieved";

  it("is reported before run() resolves (name, error, stack), and the exit status stays 0", () => {
    const { lines, status } = scenario("unawaited");
    assert.equal(status, 0, "run() does not change the exit status (as asyncio.run)");
    const at = lines.indexOf(REPORT);
    assert.ok(at > 0, lines.join("\n"));
    assert.ok(at > lines.indexOf("[fixture] main returns") && at < lines.indexOf("[fixture] run resolved"), "reported when the loop closed");
    assert.match(lines[at + 1] ?? "", /^future: <Task finished name='background' coro=background exception=Error\('background failed'\)>$/);
    assert.equal(lines[at + 2], "Error: background failed");
    assert.match(lines[at + 3] ?? "", /^ +at background \(.*reports\.ts:\d+:\d+\)$/);
    assert.equal(lines.filter((l) => l === REPORT).length, 1);
  });

  it("is not reported once retrieved", () => {
    const { lines, status } = scenario("retrieved");
    assert.equal(status, 0);
    assert.deepEqual(lines, [
      "[fixture] retrieved: Error: looked at",
      "[fixture] main returns",
      "[fixture] run resolved",
      "[fixture] exiting",
    ]);
  });

  it("collected before the loop closes, is reported once, by the collector", () => {
    const { lines } = scenario("collected-first");
    assert.equal(lines.filter((l) => l === REPORT).length, 1, lines.join("\n"));
    assert.ok(lines.indexOf(REPORT) < lines.indexOf("[fixture] reported before close: 1"), lines.join("\n"));
  });

  it("collected as the loop closes, is reported once", () => {
    const { lines } = scenario("collected-at-close");
    assert.equal(lines.filter((l) => l === REPORT).length, 1, lines.join("\n"));
    assert.ok(lines.indexOf(REPORT) < lines.indexOf("[fixture] run resolved"), lines.join("\n"));
  });
});

describe("a cancellation that escapes run()", () => {
  const UNCAUGHT = "prints an uncaught error from its name and message, not from the `stack` where the library writes which task was cancelled and what to do";
  it("is printed with the task's name and what to do, though its message is empty", { skip: unsupportedOn({ bun: UNCAUGHT, deno: UNCAUGHT }) }, () => {
    const fixture = fileURLToPath(new URL("./fixtures/reports.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", fixture, "cancelled-main"], {
      encoding: "utf8",
      timeout: 20_000,
      killSignal: "SIGKILL",
    });
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /CancelledError: task 'main' was cancelled \(by cancel\(\), a timeout, or Ctrl-C\); catch it only to clean up and re-throw/,
    );
  });
});
