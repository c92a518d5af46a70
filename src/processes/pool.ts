/**
 * `ProcessPoolExecutor`: a pool of Node child processes that run module functions, for work
 * that must not share the main process: native addons that may crash, code whose memory must be
 * bounded (`execArgv: ["--max-old-space-size=…"]`), or code to isolate.
 *
 * HOW a job runs:
 *   1. `submit(fn, ...args)` takes a `moduleFunction` (a child imports its module; a function's
 *      source is not sent) and returns a {@link ConcurrentFuture}.
 *   2. The job goes to an idle child, else to a new child while there are fewer than
 *      `maxWorkers`, else to a FIFO queue (its arguments cloned at once, so later changes by the
 *      caller are not seen and a value that cannot travel fails at the call).
 *   3. The child (`child.ts`) runs an asyncio-ts event loop; the job runs there as a task.
 *      Arguments and results travel with the V8 serializer (`serialization: "advanced"`): what
 *      structured clone keeps, `Map`, `Set`, `Date`, typed arrays, `BigInt`.
 *   4. Cancelling the job's future while it runs sends `cancel`: the job's task gets
 *      `CancelledError`, and the child is free once the task ends. A child that has not
 *      answered within `cancelGrace` seconds is killed (SIGKILL) and replaced on demand.
 *   5. A child that dies mid-job fails that job with a {@link RuntimeError} and is replaced;
 *      after `maxTasksPerChild` jobs a child retires and a new one takes its place.
 *   6. A child that ends before it is ready (it cannot start: bad `execArgv`, an initializer
 *      that throws) breaks the pool: every job not done fails with {@link BrokenProcessPool},
 *      and so does `submit`.
 *
 * Idle children neither keep the process alive nor hold its IPC channel referenced; a busy
 * child does, so the process waits for submitted work (as Python joins its workers).
 */
import { type ChildProcess, fork } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { BrokenProcessPool, CancelledError, RuntimeError } from "../errors.js";
import type { Executor } from "../events/loop.js";
import { Deque } from "../internal/deque.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { checkDelay, checkInteger, checkOptions, describe } from "../internal/validate.js";
import { ConcurrentFuture } from "../threads/concurrent-future.js";
import type { ShutdownOptions } from "../threads/executor.js";
import { type ModuleFunction, _moduleRefOf } from "../threads/module-function.js";
import { _reviveThrown } from "../threads/transfer.js";
import type { ModuleRef } from "../threads/worker.js";
// The child's main module is started by path, never imported: this keeps it in every program
// that compiles the pool (a type-only import emits nothing at run time).
import type {} from "./child.js";
import type { FromChild, ToChild } from "./messages.js";

/**
 * A child's IPC channel, which holds the process alive of its own; Bun's has no `ref`/`unref`
 * (there the child process's own do for both).
 */
function channelOf(child: ChildProcess): { ref?: () => void; unref?: () => void } | undefined {
  return child.channel ?? undefined;
}

/**
 * Whether `child.send()` throws at the call for a value it cannot serialize, as Node's does.
 * Deno's serializes later and reports it as an error of the child (which would break the pool),
 * so there the arguments are cloned first, to throw at `submit` as on Node.
 */
const SEND_THROWS_AT_CALL = process.versions.deno === undefined;

/** Options of {@link ProcessPoolExecutor}. */
export interface ProcessPoolExecutorOptions {
  /** The most child processes at once; default the number of CPUs (`os.availableParallelism()`). */
  maxWorkers?: number | null;
  /** Jobs a child runs before it is replaced by a fresh one; default `null` (no limit). */
  maxTasksPerChild?: number | null;
  /**
   * A `moduleFunction` each child runs (awaited) before its first job, with `initargs`. If it
   * throws, the pool is broken ({@link BrokenProcessPool}), as in Python. Default none.
   */
  initializer?: ModuleFunction<(...args: never[]) => unknown> | null;
  /** Arguments of `initializer`; default `[]`. */
  initargs?: readonly unknown[];
  /**
   * Node options of the children (`["--max-old-space-size=256"]`); default the parent's own
   * (`process.execArgv`, so a TypeScript loader is kept) less the test runner's, the
   * inspector's and `--eval`.
   */
  execArgv?: readonly string[];
  /**
   * Seconds a cancelled job's child has to end the job before it is killed (SIGKILL) and
   * replaced; default 5.
   */
  cancelGrace?: number;
}

const POOL_KEYS = [
  "maxWorkers",
  "maxTasksPerChild",
  "initializer",
  "initargs",
  "execArgv",
  "cancelGrace",
] as const satisfies readonly (keyof ProcessPoolExecutorOptions)[];

const SHUTDOWN_KEYS = ["cancelFutures"] as const satisfies readonly (keyof ShutdownOptions)[];

/** Pool states: taking jobs; shut down but finishing; every child gone; cannot start children. */
type PoolState = "open" | "shutdown" | "closed" | "broken";

interface Job {
  readonly id: number;
  readonly fn: ModuleRef;
  /** Cloned already when the job waits in the queue; dropped once sent or cancelled. */
  args: readonly unknown[] | null;
  readonly future: ConcurrentFuture<unknown>;
  /** The child that runs it, once sent. */
  child: PoolChild | null;
}

interface PoolChild {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The job it runs now (also while a cancel of it is pending); `null` when idle. */
  job: Job | null;
  /** It said `ready`: it started, and its initializer ran. */
  ready: boolean;
  /** Jobs it finished, for `maxTasksPerChild`. */
  tasks: number;
  /** Closed by the pool: its exit is expected. */
  retiring: boolean;
  /** Kills it when a cancelled job has not ended in time. */
  killTimer: ReturnType<typeof setTimeout> | null;
  /** Its `exit` (or spawn `error`) was handled. */
  gone: boolean;
}

const CHILD_MAIN = fileURLToPath(
  new URL(import.meta.url.endsWith(".ts") ? "./child.ts" : "./child.js", import.meta.url),
);

let jobCounter = 0;
/** Jobs a child process runs now, over every pool. */
let jobsRunning = 0;

/** @internal How many jobs run in pool child processes now: work that may still wake a task. */
export function _processJobsRunning(): number {
  return jobsRunning;
}

/** The parent's Node options a child should not get: the test runner's, the inspector's, eval. */
function inheritedExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (/^(-e|--eval|-p|--print|--input-type)$/.test(arg)) {
      i++;
      continue;
    }
    if (/^(--test|--inspect|--experimental-test|--watch|--eval=|--print=|--input-type=)/.test(arg)) continue;
    out.push(arg);
  }
  return out;
}

function cloneError(error: unknown, what: string): TypeError {
  return new TypeError(
    `${what} cannot be sent to a child process: ${(error as Error).message}. Pass what ` +
      "structured clone accepts (no functions; class instances lose their prototype)",
    { cause: error },
  );
}

function describeRef(ref: ModuleRef): string {
  return `${ref.name}() from ${ref.url}`;
}

/**
 * A pool of child processes that runs module functions: `submit(moduleFunction, ...args)`.
 *
 * Each child is a Node process running an asyncio-ts event loop; a job runs there as a task.
 * Children start when jobs need them, up to `maxWorkers`, and are reused; jobs beyond wait in
 * FIFO order. Arguments and results travel as structured clone allows (`Map`, `Set`, `Date`,
 * typed arrays, `BigInt` arrive as they were sent). Errors come back rebuilt as from a worker
 * thread: same built-in class, `name`, `message`, `cause`, data properties, the child's stack.
 *
 * A child that dies (`process.exit()`, a crash, out of memory) fails only the job it ran, with
 * a {@link RuntimeError}, and is replaced. The pool is broken ({@link BrokenProcessPool}) only
 * when a child cannot start at all.
 *
 * **Cancellation**: unlike Python's, a running job can be cancelled. `future.cancel()` (or
 * cancelling the task that awaits `loop.runInExecutor(pool, …)`, directly, by a timeout or by a
 * task group) drops a queued job, and cancels a running one: its task in the child gets
 * `CancelledError`, and the child is killed and replaced if the job has not ended within
 * `cancelGrace` seconds. The future is cancelled at once.
 *
 * @throws {RangeError} when `maxWorkers` or `maxTasksPerChild` is below 1.
 * @throws {TypeError} for an unknown option or one of the wrong type.
 *
 * @example
 * // no-run: work.js is the user's module
 * import type * as Work from "./work.js";
 * const resize = moduleFunction<typeof Work.resize>(new URL("./work.js", import.meta.url), "resize");
 * await using pool = new ProcessPoolExecutor({ maxWorkers: 4, maxTasksPerChild: 100 });
 * const small = await getRunningLoop().runInExecutor(pool, resize, image, 256);
 *
 * asyncio: `concurrent.futures.ProcessPoolExecutor(max_workers, initializer=, initargs=,
 * max_tasks_per_child=)`.
 */
export class ProcessPoolExecutor implements Executor {
  /** The most child processes this pool runs at once. */
  readonly maxWorkers: number;
  /** Jobs a child runs before it is replaced; `null`: no limit. */
  readonly maxTasksPerChild: number | null;
  readonly #initializer: ModuleRef | null;
  readonly #initargs: readonly unknown[];
  readonly #execArgv: string[];
  readonly #cancelGrace: number;
  #state: PoolState = "open";
  /** What broke the pool (the cause of its {@link BrokenProcessPool} errors). */
  #brokenCause: unknown = undefined;
  #children = new Set<PoolChild>();
  /** Idle children, the most recently used last (reused first). */
  #idle: PoolChild[] = [];
  #queue = new Deque<Job>();
  #allExited: Promise<void> | null = null;
  #resolveAllExited: (() => void) | null = null;

  constructor(options: ProcessPoolExecutorOptions = {}) {
    checkOptions("new ProcessPoolExecutor()", options, POOL_KEYS);
    const { maxWorkers, maxTasksPerChild, initializer, initargs, execArgv, cancelGrace } = options;
    this.maxWorkers =
      maxWorkers === null || maxWorkers === undefined
        ? availableParallelism()
        : checkInteger("maxWorkers", maxWorkers, 1);
    this.maxTasksPerChild =
      maxTasksPerChild === null || maxTasksPerChild === undefined
        ? null
        : checkInteger("maxTasksPerChild", maxTasksPerChild, 1);
    if (initializer === null || initializer === undefined) {
      this.#initializer = null;
    } else {
      const ref = _moduleRefOf(initializer);
      if (ref === null) {
        throw new TypeError(`\`initializer\` must be a moduleFunction(), got ${describe(initializer)}`);
      }
      this.#initializer = ref;
    }
    if (initargs !== undefined && !Array.isArray(initargs)) {
      throw new TypeError(`\`initargs\` must be an array, got ${describe(initargs)}`);
    }
    try {
      this.#initargs = structuredClone(initargs ?? []);
    } catch (error) {
      throw cloneError(error, "`initargs`");
    }
    if (execArgv !== undefined && (!Array.isArray(execArgv) || execArgv.some((a) => typeof a !== "string"))) {
      throw new TypeError(`\`execArgv\` must be an array of strings, got ${describe(execArgv)}`);
    }
    this.#execArgv = execArgv === undefined ? inheritedExecArgv() : [...execArgv];
    this.#cancelGrace = cancelGrace === undefined ? 5 : checkDelay("cancelGrace", cancelGrace);
    if (this.#cancelGrace < 0) {
      throw new RangeError(`\`cancelGrace\` must be a non-negative number of seconds, got ${this.#cancelGrace}`);
    }
  }

  /**
   * Runs `fn(...args)` in a child process; the returned future settles with its result.
   *
   * **Cancellation**: `cancel()` on the returned future drops a queued job, and cancels a
   * running one (its task in the child gets `CancelledError`; the child is killed and replaced
   * after `cancelGrace` seconds if the job has not ended). Awaiting the future from a task is
   * awaiting a foreign promise; `loop.runInExecutor(pool, fn, ...args)` gives a loop
   * {@link Future} whose cancellation (by the awaiting task) reaches the job at once.
   *
   * @throws {RuntimeError} after `shutdown()`; {@link BrokenProcessPool} when broken.
   * @throws {TypeError} when `fn` is not a `moduleFunction()`, or an argument cannot be cloned.
   *
   * asyncio: `Executor.submit(fn, /, *args)`.
   */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): ConcurrentFuture<Awaited<R>> {
    if (this.#state === "broken") throw this.#brokenError();
    if (this.#state !== "open") {
      throw new RuntimeError("cannot schedule new futures after shutdown");
    }
    const ref = _moduleRefOf(fn);
    if (ref === null) {
      throw new TypeError(
        `\`fn\` must be a moduleFunction() for a ProcessPoolExecutor, got ${describe(fn)}: a ` +
          "child process imports the function's module, it is not sent its source. Export it " +
          'and pass moduleFunction(new URL("./work.js", import.meta.url), "name")',
      );
    }
    const future = new ConcurrentFuture<Awaited<R>>(
      () => {
        job.args = null;
      },
      () => this.#cancelRunning(job),
    );
    const job: Job = { id: ++jobCounter, fn: ref, args, future: future as ConcurrentFuture<unknown>, child: null };
    const child = this.#queue.length === 0 ? this.#takeChild() : null;
    if (child !== null) {
      try {
        if (!SEND_THROWS_AT_CALL) structuredClone(args);
        this.#dispatch(child, job);
      } catch (error) {
        this.#makeIdle(child);
        throw cloneError(error, `an argument of ${describeRef(ref)}`);
      }
    } else {
      try {
        job.args = structuredClone(args);
      } catch (error) {
        throw cloneError(error, `an argument of ${describeRef(ref)}`);
      }
      this.#queue.push(job);
    }
    return future;
  }

  /**
   * Stops taking jobs (`submit` then throws {@link RuntimeError}) and lets the children go once
   * the jobs already submitted are done. With `wait` (the default), resolves when every job has
   * finished and every child has exited; without, resolves at once. Calling it again is allowed.
   *
   * **Cancellation**: with `cancelFutures: true`, the jobs that have not started are cancelled;
   * running jobs finish (cancel their futures to stop them). The returned promise is a plain
   * promise: cancelling a task that awaits it stops nothing.
   *
   * asyncio: `Executor.shutdown(wait=True, *, cancel_futures=False)`.
   */
  async shutdown(wait = true, options: ShutdownOptions = {}): Promise<void> {
    checkOptions("ProcessPoolExecutor.shutdown()", options, SHUTDOWN_KEYS);
    if (this.#state === "open") this.#state = "shutdown";
    if (options.cancelFutures === true) {
      const queue = this.#queue;
      while (queue.length > 0) {
        const job = queue.shift() as Job;
        job.args = null;
        job.future.cancel();
      }
    }
    this.#pump();
    if (!wait || this.#state === "closed" || (this.#state === "broken" && this.#children.size === 0)) return;
    this.#allExited ??= new Promise<void>((resolve) => {
      this.#resolveAllExited = resolve;
    });
    await this.#allExited;
  }

  /** `await using pool = new ProcessPoolExecutor()` shuts it down (waiting) at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown(true);
  }

  /** @internal Child processes alive now, busy ones and idle ones (for tests). */
  get _childCount(): number {
    return this.#children.size;
  }

  /** @internal The pids of the children alive now (for tests). */
  get _pids(): number[] {
    return [...this.#children].map((c) => c.pid);
  }

  toString(): string {
    const busy = this.#children.size - this.#idle.length;
    const parts: string[] = [this.#state, `maxWorkers=${this.maxWorkers}`];
    parts.push(`busy=${busy}`, `idle=${this.#idle.length}`, `queued=${this.#queue.length}`);
    return formatRepr("ProcessPoolExecutor", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }

  // ---------------------------------------------------------------- children

  #brokenError(): BrokenProcessPool {
    return new BrokenProcessPool(
      "A child process of the ProcessPoolExecutor could not start; the pool is not usable anymore",
      { cause: this.#brokenCause },
    );
  }

  /** An idle child, or a new one while under `maxWorkers`, or `null`. */
  #takeChild(): PoolChild | null {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    if (this.#children.size < this.maxWorkers) return this.#spawn();
    return null;
  }

  #spawn(): PoolChild {
    const proc = fork(CHILD_MAIN, [], {
      execArgv: this.#execArgv,
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const child: PoolChild = {
      process: proc,
      pid: proc.pid ?? -1,
      job: null,
      ready: false,
      tasks: 0,
      retiring: false,
      killTimer: null,
      gone: false,
    };
    this.#children.add(child);
    proc.on("message", (message: FromChild) => this.#onMessage(child, message));
    proc.on("error", (error: Error) => this.#onError(child, error));
    proc.on("exit", (code: number | null, signal: NodeJS.Signals | null) => this.#onExit(child, code, signal));
    const init: ToChild = { type: "init", initializer: this.#initializer, initargs: this.#initargs };
    proc.send(init);
    return child;
  }

  /** Sends `job` to `child`. Throws (and sends nothing) when the arguments cannot be serialized. */
  #dispatch(child: PoolChild, job: Job): void {
    const message: ToChild = { type: "run", id: job.id, fn: job.fn, args: job.args ?? [] };
    child.process.send(message);
    job.args = null;
    job.future._setRunning();
    job.child = child;
    child.job = job;
    jobsRunning++;
    child.process.ref();
    channelOf(child.process)?.ref?.();
  }

  #makeIdle(child: PoolChild): void {
    if (child.job !== null) jobsRunning--;
    child.job = null;
    if (this.maxTasksPerChild !== null && child.tasks >= this.maxTasksPerChild) {
      this.#retire(child);
      return;
    }
    child.process.unref();
    channelOf(child.process)?.unref?.();
    this.#idle.push(child);
  }

  /** Gives queued jobs to free children; after shutdown, lets idle children go. */
  #pump(): void {
    const queue = this.#queue;
    while (queue.length > 0 && this.#state !== "broken") {
      const job = queue.peekFirst() as Job;
      if (job.future.cancelled()) {
        queue.shift();
        continue;
      }
      const child = this.#takeChild();
      if (child === null) break;
      queue.shift();
      try {
        this.#dispatch(child, job);
      } catch (error) {
        // Cloned once already, so this is unexpected; fail the job, keep the child.
        this.#makeIdle(child);
        job.future._setException(error);
      }
    }
    if (this.#state === "open") return;
    for (const child of this.#idle.splice(0)) this.#retire(child);
    this.#checkClosed();
  }

  /** Closes its channel: the child exits (the process waits for that exit, as Python joins). */
  #retire(child: PoolChild): void {
    child.retiring = true;
    child.process.ref();
    if (child.process.connected) child.process.disconnect();
    else if (!child.gone) child.process.kill("SIGKILL");
  }

  #checkClosed(): void {
    if (this.#children.size > 0) return;
    if (this.#state === "shutdown" && this.#queue.length === 0) this.#state = "closed";
    if (this.#state !== "closed" && this.#state !== "broken") return;
    const resolve = this.#resolveAllExited;
    this.#resolveAllExited = null;
    resolve?.();
  }

  #cancelRunning(job: Job): void {
    const child = job.child;
    if (child === null || child.job !== job || child.gone) return;
    try {
      child.process.send({ type: "cancel", id: job.id } satisfies ToChild);
    } catch {
      // The channel is closing: the exit follows.
    }
    child.killTimer = setTimeout(() => {
      child.killTimer = null;
      if (child.job === job && !child.gone) child.process.kill("SIGKILL");
    }, this.#cancelGrace * 1000);
  }

  #onMessage(child: PoolChild, message: FromChild): void {
    switch (message.type) {
      case "ready":
        child.ready = true;
        return;
      case "init-failed":
        this.#break(_reviveThrown(message.error));
        return;
      case "done": {
        const job = child.job;
        if (job === null || job.id !== message.id) return;
        if (child.killTimer !== null) clearTimeout(child.killTimer);
        child.killTimer = null;
        child.tasks++;
        this.#makeIdle(child);
        this.#pump();
        if (message.outcome === "ok") job.future._setResult(message.value);
        else if (message.outcome === "error") job.future._setException(_reviveThrown(message.error));
        else job.future._setCancelled(new CancelledError());
        return;
      }
    }
  }

  #onError(child: PoolChild, error: Error): void {
    // Spawning failed (or a signal could not be sent): a child that never got ready breaks the pool.
    if (!child.ready && !child.retiring) this.#break(error);
  }

  #onExit(child: PoolChild, code: number | null, signal: NodeJS.Signals | null): void {
    if (child.gone) return;
    child.gone = true;
    this.#children.delete(child);
    if (child.killTimer !== null) clearTimeout(child.killTimer);
    const idleAt = this.#idle.indexOf(child);
    if (idleAt >= 0) this.#idle.splice(idleAt, 1);
    const job = child.job;
    child.job = null;
    if (job !== null) jobsRunning--;
    const how = signal !== null ? `signal ${signal}` : `exit code ${code}`;
    if (!child.ready && !child.retiring && this.#state !== "broken") {
      this.#break(new RuntimeError(`a child process (pid ${child.pid}) ended with ${how} before it was ready`));
      if (job !== null) job.future._setException(this.#brokenError());
    } else if (job !== null) {
      job.future._setException(
        new RuntimeError(
          `the child process ${child.pid} running ${describeRef(job.fn)} ended with ${how} ` +
            "before the job did; the pool replaces it",
        ),
      );
    }
    this.#pump();
    this.#checkClosed();
  }

  /** The pool cannot start children: fail every job not done, end every child. */
  #break(cause: unknown): void {
    if (this.#state === "broken") return;
    this.#state = "broken";
    this.#brokenCause = cause;
    const error = this.#brokenError();
    const failed: ConcurrentFuture<unknown>[] = [];
    while (this.#queue.length > 0) failed.push((this.#queue.shift() as Job).future);
    for (const child of this.#children) {
      if (child.job !== null) failed.push(child.job.future);
      child.retiring = true;
      if (!child.gone) child.process.kill("SIGKILL");
    }
    this.#idle = [];
    for (const future of failed) future._setException(error);
    this.#checkClosed();
  }
}
