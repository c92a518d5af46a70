/**
 * `exploreCancellation`: a cancel at every point where a task can receive one.
 *
 * HOW: a task can only be cancelled where its code suspends on a library await (a future, a
 * sleep, a lock or queue wait): that is where `CancelledError` arrives. The explorer runs the
 * test once under `runTest` and counts the suspensions of the chosen task (the loop tells it
 * through a test hook, see `LoopTestHooks`). Then it runs the test again for each point k,
 * and cancels the task the moment it suspends for the k-th time: the first run in which that
 * await raises. After each run the test must have returned or ended with the cancellation,
 * left no task running, and passed `check()`.
 *
 * WHY it replays: on the virtual clock nothing in a run depends on real time, so a run takes
 * the same path every time; the failing point is run once more, noting where each future was
 * made, to name the line of the await the cancel landed at.
 */
import { ExplorationError, RuntimeError, cancellationOf } from "../errors.js";
import type { EventLoop, LoopTestHooks } from "../events/loop.js";
import type { AwaitRecord, Future } from "../futures.js";
import { _userCallSite } from "../internal/callsite.js";
import { checkFunction, checkInteger, checkOptions, describe } from "../internal/validate.js";
import { type Task, allTasks, currentTask } from "../tasks.js";
import { type RunTestOptions, runTest } from "../testing.js";
import { _withTestLoop } from "./loop-setup.js";
import { summary } from "./summary.js";

/** Options of {@link exploreCancellation}. */
export interface ExploreCancellationOptions extends RunTestOptions {
  /**
   * The invariant that must hold after every run, cancelled or not (no lock held, no item
   * lost): throw (or reject) when it does not. Called after the run's loop has closed.
   */
  check?: () => unknown;
  /**
   * The task to cancel: its name, or a predicate; the first task that matches, asked at its
   * first suspension. Default: the test's main task (the one running `test`).
   */
  task?: string | ((task: Task<unknown>) => boolean);
  /** Run only this suspension point (from 1), to replay a failure; default: every point. */
  point?: number;
}

const EXPLORE_CANCELLATION_KEYS = [
  "check",
  "task",
  "point",
  "debug",
  "autojump",
  "start",
  "virtualTimers",
  "signals",
  "trace",
] as const satisfies readonly (keyof ExploreCancellationOptions)[];

/** One explored point: where the cancel landed, and how the test ended. */
export interface CancellationPoint {
  /** Which suspension of the task, from 1. */
  point: number;
  /** What the task was awaiting: a repr of the future. */
  awaiting: string;
  /** The loop's time when the cancel landed, in seconds. */
  time: number;
  /** `"cancelled"`: the test ended with the cancellation; `"returned"`: it handled it. */
  outcome: "cancelled" | "returned";
}

/** What {@link exploreCancellation} resolves with when every point passed. */
export interface CancellationReport {
  /** The name of the task that was cancelled. */
  task: string;
  /** How many suspension points the task has (a run for each was made). */
  points: number;
  /** Each explored point, in order. */
  runs: CancellationPoint[];
}

/** What one run saw. */
interface RunResult {
  /** The target's name, or `null` when no task matched. */
  task: string | null;
  /** The target is the test's main task. */
  isMain: boolean;
  /** How many times the target suspended. */
  suspensions: number;
  /** Where the cancel landed (`null`: no cancel, or the point was never reached). */
  landed: (Omit<CancellationPoint, "outcome"> & { site: string }) | null;
  outcome: "cancelled" | "returned" | "failed";
  error: unknown;
  /** Tasks still running when the test ended. */
  leftover: string[];
}

/**
 * Runs `test` under {@link runTest} once to count the suspensions of a task (the test's main
 * task, or the one `task` names), then once more for each of them, cancelling the task the
 * moment it suspends for the k-th time. After every run, the test must have returned or ended
 * with the cancellation, left no task running, and passed `check()` (the user's invariant).
 *
 * Resolves with a report of the points explored when every run passes; rejects with an
 * {@link ExplorationError} naming the first point that fails, the task, and where the cancel
 * landed (the line that made what it awaited), with the failure as `cause`. Runs are on the
 * virtual clock, so the same point fails the same way again: `{ point }` replays it alone.
 *
 * `test` runs once per point, so it must make its own state (a fresh lock, a fresh queue)
 * for `check()` to read.
 *
 * **Cancellation**: cancelling the awaiting code stops after the current run.
 *
 * @throws {TypeError} synchronously for a `test` that is not a function or bad options.
 * @throws {ExplorationError} (as a rejection) for the first point that fails, or when the
 * test fails before any cancel.
 *
 * @example
 * await exploreCancellation(async () => {
 *   lock = new Lock();
 *   await transfer(lock, 10);
 * }, { check: () => assert.equal(lock.locked(), false) });
 *
 * Not in asyncio: Trio's `assert_checkpoints` checks that a checkpoint exists; this cancels
 * at each one.
 */
export function exploreCancellation(
  test: () => PromiseLike<unknown>,
  options: ExploreCancellationOptions = {},
): Promise<CancellationReport> {
  checkFunction("test", test);
  checkOptions("exploreCancellation()", options, EXPLORE_CANCELLATION_KEYS);
  const { check, task, point, ...runOptions } = options;
  if (check !== undefined) checkFunction("check", check);
  if (task !== undefined && typeof task !== "string" && typeof task !== "function") {
    throw new TypeError(`\`task\` must be a task name or a predicate, got ${describe(task)}`);
  }
  if (point !== undefined) checkInteger("point", point, 1);
  return explore(test, check, task, point, runOptions);
}

async function explore(
  test: () => PromiseLike<unknown>,
  check: (() => unknown) | undefined,
  selector: string | ((task: Task<unknown>) => boolean) | undefined,
  only: number | undefined,
  runOptions: RunTestOptions,
): Promise<CancellationReport> {
  const first = await runOnce(test, selector, null, false, runOptions);
  if (first.task === null) {
    throw new ExplorationError(
      `exploreCancellation: no task matched \`task\` (${describe(selector)}): it must name, or match, a task ` +
        "of the test that suspends at least once",
    );
  }
  const baseline = await failureOf(first, check, false);
  if (baseline !== null) {
    throw new ExplorationError(`exploreCancellation: the test fails before any cancel: ${baseline.what}`, { task: first.task }, {
      cause: baseline.cause,
    });
  }
  const total = first.suspensions;
  if (only !== undefined && only > total) {
    throw new RangeError(`\`point\` must be at most ${total}: task '${first.task}' suspends ${total} times`);
  }
  const runs: CancellationPoint[] = [];
  for (let k = only ?? 1; k <= (only ?? total); k++) {
    const result = await runOnce(test, selector, k, false, runOptions);
    const failure = await failureOf(result, check, true);
    if (failure === null && result.landed !== null && result.outcome !== "failed") {
      runs.push({ ...withoutSite(result.landed), outcome: result.outcome });
      continue;
    }
    // Once more, noting where each future is made: the report names the await's line.
    const replay = await runOnce(test, selector, k, true, runOptions);
    const landed = replay.landed ?? result.landed;
    const where =
      landed === null
        ? `its suspension ${k} of ${total}, which this run never reached (it suspended ${result.suspensions} ` +
          "times): the test does not take the same path every run (real I/O, Math.random?)"
        : `its suspension ${k} of ${total} (t=${landed.time}s, awaiting ${landed.awaiting}` +
          (landed.site === "" ? "" : `, made at ${landed.site}`) +
          ")";
    const what = failure?.what ?? "";
    const who = result.isMain ? "the test's main task" : `task '${result.task}'`;
    throw new ExplorationError(
      `exploreCancellation: cancelling ${who} at ${where}${what === "" ? "" : ` breaks the test: ${what}`}. ` +
        `Replay it alone with { point: ${k} }`,
      { point: k, task: result.task },
      failure === null ? undefined : { cause: failure.cause },
    );
  }
  return { task: first.task, points: total, runs };
}

function withoutSite(landed: NonNullable<RunResult["landed"]>): Omit<CancellationPoint, "outcome"> {
  return { point: landed.point, awaiting: landed.awaiting, time: landed.time };
}

/** What went wrong in a run, or `null`: the test's error, tasks left running, `check()`. */
async function failureOf(
  result: RunResult,
  check: (() => unknown) | undefined,
  cancelled: boolean,
): Promise<{ what: string; cause: unknown } | null> {
  if (result.outcome === "failed" || (result.outcome === "cancelled" && !cancelled)) {
    return { what: `it threw ${summary(result.error)}`, cause: result.error };
  }
  if (result.leftover.length > 0) {
    const error = new RuntimeError(`tasks still running when the test ended: ${result.leftover.join(", ")}`);
    return { what: `it left ${result.leftover.length === 1 ? "a task" : "tasks"} running: ${result.leftover.join(", ")}`, cause: error };
  }
  if (check === undefined) return null;
  try {
    await check();
  } catch (error) {
    return { what: `check() threw ${summary(error)}`, cause: error };
  }
  return null;
}

/** What the library's futures are, by class, for a report. */
const KINDS: Record<string, string> = {
  SleepFuture: "sleep()",
  YieldFuture: "sleep(0)",
  Waiter: "a wait (a lock, event, condition, semaphore or barrier)",
  GetOperation: "a queue's get()",
  PutOperation: "a queue's put()",
  GatheringFuture: "gather()",
};

/** What a task awaits, in words: `sleep()`, `task 'worker'`, `<Future pending>`. */
function describeAwaited(future: Future<unknown>): string {
  if (future._kind() === "Task") return `task ${(future as Task<unknown>)._nameForRepr()}`;
  const kind = KINDS[future.constructor.name];
  if (kind !== undefined) return kind;
  // The callbacks would name this run's tasks, which mean nothing to the reader.
  return future.toString().replace(/ cb=\[.*\]>$/, ">");
}

/**
 * One run of the test. `cancelAt`: the suspension of the target to cancel at (`null`: count
 * only). `sites`: note where each future is made (costly: only to report a failure).
 */
async function runOnce(
  test: () => PromiseLike<unknown>,
  selector: string | ((task: Task<unknown>) => boolean) | undefined,
  cancelAt: number | null,
  sites: boolean,
  runOptions: RunTestOptions,
): Promise<RunResult> {
  const result: RunResult = { task: null, isMain: false, suspensions: 0, landed: null, outcome: "returned", error: undefined, leftover: [] };
  let target: Task<unknown> | null = null;
  let mainTask: Task<unknown> | null = null;
  let loop: EventLoop | null = null;
  const asked = new WeakSet<Task<unknown>>();
  const madeAt = sites ? new WeakMap<Future<unknown>, Error>() : null;

  const matches = (task: Task<unknown>): boolean => {
    if (asked.has(task)) return false;
    asked.add(task);
    return typeof selector === "string" ? task.getName() === selector : (selector as (t: Task<unknown>) => boolean)(task);
  };

  const hooks: LoopTestHooks = {
    suspended(task: Task<unknown>, record: AwaitRecord): void {
      if (target === null) {
        if (selector === undefined || !matches(task)) return;
        target = task;
        result.task = task.getName();
        result.isMain = task === mainTask;
      } else if (task !== target) return;
      // A callback given to `fut.then(cb)` is no suspension: no cancel can arrive there.
      if (!record._isAwait()) return;
      result.suspensions++;
      if (result.suspensions !== cancelAt) return;
      const future = record._future;
      const made = madeAt?.get(future);
      result.landed = {
        point: cancelAt,
        awaiting: describeAwaited(future),
        time: (loop as EventLoop).time(),
        site: made === undefined ? "" : _userCallSite(made.stack),
      };
      task.cancel(`exploreCancellation: cancelled at suspension ${cancelAt}`);
    },
  };
  if (madeAt !== null) {
    hooks.created = (future) => {
      madeAt.set(future, new Error());
    };
  }

  const main = async (): Promise<unknown> => {
    const me = currentTask() as Task<unknown>;
    mainTask = me;
    if (selector === undefined) {
      target = me;
      result.task = me.getName();
      result.isMain = true;
    }
    try {
      return await test();
    } finally {
      (loop as EventLoop)._testHooks = null;
      for (const task of allTasks()) if (task !== me) result.leftover.push(task.toString());
    }
  };

  try {
    await _withTestLoop(
      (testLoop) => {
        loop = testLoop;
        testLoop._testHooks = hooks;
      },
      () => runTest(main, runOptions),
    );
  } catch (error) {
    result.error = error;
    result.outcome = cancellationOf(error) !== null ? "cancelled" : "failed";
  }
  return result;
}
