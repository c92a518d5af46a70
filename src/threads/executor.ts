/**
 * `ThreadPoolExecutor`: a pool of Node worker threads, the executor behind `toThread` and
 * `loop.runInExecutor(null, …)`.
 *
 * HOW a job runs:
 *   1. `submit(fn, ...args)` checks that `fn` can be rebuilt in a worker (`transfer.ts`) and
 *      returns a {@link ConcurrentFuture}.
 *   2. The job goes to an idle worker, else to a new worker while there are fewer than
 *      `maxWorkers`, else to a FIFO queue. Arguments are structured-cloned at once in every case
 *      (by `postMessage`, or by `structuredClone` for a queued job), so later changes by the
 *      caller are never seen, and a value that cannot be cloned fails at the call.
 *   3. The worker compiles `fn` from its source once (or imports its module once), runs it,
 *      awaits it if it returns a promise, lets its console output reach the main thread, and
 *      replies. Its future settles; the worker takes the next queued job or goes idle.
 *   4. A worker that dies (`process.exit()`, an uncaught error, out of memory) fails the job it
 *      ran with a {@link RuntimeError} saying so; the pool forgets it, and a new worker takes the
 *      queued jobs.
 *
 * WHY our own pool rather than piscina or tinypool: both take a worker *file*, which would bring
 * back the file-location problem that `worker.ts` avoids, and a runtime dependency the package
 * does not otherwise have; their cancellation aborts a running task by terminating its worker,
 * where asyncio lets running work finish; and the semantics to match are Python's
 * (`shutdown(wait, cancelFutures)`, lazy spawning, `RuntimeError` after shutdown), which take
 * little code on top of `worker_threads`.
 *
 * Idle workers are `unref()`'d, so a pool never keeps the process alive by itself; a busy one is
 * `ref()`'d, so the process waits for work that was submitted (as Python joins its threads).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { RuntimeError } from "../errors.js";
import { _setDefaultExecutorFactory, type Executor } from "../events/loop.js";
import { Deque } from "../internal/deque.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { checkFunction, checkInteger, checkOptions, describe } from "../internal/validate.js";
import { ConcurrentFuture } from "./concurrent-future.js";
import { _describeRef, _functionRef, _reviveThrown } from "./transfer.js";
import { type FunctionRef, type Reply, type RunMessage, workerSource } from "./worker.js";

/** Options of {@link ThreadPoolExecutor}. */
export interface ThreadPoolExecutorOptions {
  /**
   * Names the worker threads `<prefix>_<n>` (shown in debuggers and `--cpu-prof` output);
   * default `ThreadPoolExecutor-<pool number>`.
   */
  threadNamePrefix?: string;
}

const EXECUTOR_KEYS = ["threadNamePrefix"] as const satisfies readonly (keyof ThreadPoolExecutorOptions)[];

/** Options of {@link ThreadPoolExecutor.shutdown}. */
export interface ShutdownOptions {
  /** Cancel the jobs that have not started (their futures end cancelled); default `false`. */
  cancelFutures?: boolean;
}

const SHUTDOWN_KEYS = ["cancelFutures"] as const satisfies readonly (keyof ShutdownOptions)[];

/** Pool states: taking jobs; shut down but finishing its jobs; every worker gone. */
type PoolState = "open" | "shutdown" | "closed";

interface Job {
  readonly id: number;
  readonly fn: FunctionRef;
  /** Cloned already when the job waits in the queue; dropped once sent or cancelled. */
  args: readonly unknown[] | null;
  future: ConcurrentFuture<unknown>;
}

interface PoolWorker {
  readonly thread: Worker;
  readonly threadId: number;
  /** The job it runs now; `null` when idle. */
  job: Job | null;
  /** Keys of the function sources this worker has compiled (they are not sent again). */
  readonly known: Set<number>;
  /** `terminate()` was called: its exit is expected. */
  retiring: boolean;
  /** The uncaught error that is killing it, reported before its exit. */
  error: unknown;
}

let poolCounter = 0;
let jobCounter = 0;
let liveThreads = 0;

/** @internal How many pool worker threads exist now, across all pools (for tests). */
export function _liveWorkerThreads(): number {
  return liveThreads;
}

function cloneError(error: unknown, what: string): TypeError {
  return new TypeError(
    `${what} cannot be sent to a worker thread: ${(error as Error).message}. Pass plain data ` +
      "(what structuredClone accepts: no functions, class instances lose their prototype)",
    { cause: error },
  );
}

/** Jobs running in a worker thread now, over every pool (Node does not list busy workers). */
let jobsRunning = 0;

/** @internal How many jobs run in worker threads now: work that may still wake a task. */
export function _threadJobsRunning(): number {
  return jobsRunning;
}

/**
 * A pool of worker threads that runs self-contained functions: `submit(fn, ...args)`.
 *
 * Each worker thread has its own heap: `fn` is sent as source text and rebuilt there, so it must
 * not use variables of its enclosing scope; its arguments and result are structured-cloned (see
 * `toThread` for the full rules, and `moduleFunction` for code that lives in a module). Workers
 * are started when jobs need them, up to `maxWorkers`, and reused; jobs beyond wait in FIFO
 * order. Idle workers never keep the process alive.
 *
 * Errors thrown in a worker reach the caller rebuilt: same built-in class (`TypeError`,
 * `RangeError`, … or `Error` for the worker's own classes), same `name`, `message`, `cause`,
 * and own data properties such as `code`; the `stack` is the worker's. `instanceof` a class of
 * your own is false, since the error object is new.
 *
 * **Cancellation**: `submit` returns a {@link ConcurrentFuture}: its `cancel()` drops a job that
 * has not started; a running job always finishes. `shutdown(wait, { cancelFutures })` cancels
 * every job not started.
 *
 * @param maxWorkers the most threads at once; default `min(32, cpus + 4)`, as Python's.
 * @throws {RangeError} when `maxWorkers` is below 1.
 *
 * @example
 * await using pool = new ThreadPoolExecutor(4);
 * const hashes = await Promise.all(files.map((f) => pool.submit(hashFile, f)));
 *
 * asyncio: `concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix)`.
 */
export class ThreadPoolExecutor implements Executor {
  /** The most worker threads this pool runs at once. */
  readonly maxWorkers: number;
  readonly #prefix: string;
  #state: PoolState = "open";
  #workers = new Set<PoolWorker>();
  /** Idle workers, the most recently used last (reused first: its caches are warm). */
  #idle: PoolWorker[] = [];
  #queue = new Deque<Job>();
  #threadCounter = 0;
  #allExited: Promise<void> | null = null;
  #resolveAllExited: (() => void) | null = null;

  constructor(maxWorkers: number | null = null, options: ThreadPoolExecutorOptions = {}) {
    checkOptions("new ThreadPoolExecutor()", options, EXECUTOR_KEYS);
    this.maxWorkers =
      maxWorkers === null || maxWorkers === undefined
        ? Math.min(32, availableParallelism() + 4)
        : checkInteger("maxWorkers", maxWorkers, 1);
    const prefix = options.threadNamePrefix;
    if (prefix !== undefined && typeof prefix !== "string") {
      throw new TypeError(`\`threadNamePrefix\` must be a string, got ${describe(prefix)}`);
    }
    this.#prefix = prefix || `ThreadPoolExecutor-${++poolCounter}`;
  }

  /**
   * Runs `fn(...args)` in a worker thread; the returned future settles with its result.
   *
   * **Cancellation**: `cancel()` on the returned future drops the job while it waits in the
   * queue; once a worker runs it, it finishes. Awaiting the future from a task is awaiting a
   * foreign promise (see {@link ConcurrentFuture}); `loop.runInExecutor(pool, fn, ...args)`
   * gives a loop {@link Future} instead.
   *
   * @throws {RuntimeError} after `shutdown()`.
   * @throws {TypeError} when `fn` cannot run in a worker thread (native, bound, a class, a
   * method, a generator), or an argument cannot be structured-cloned.
   *
   * asyncio: `Executor.submit(fn, /, *args)`.
   */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): ConcurrentFuture<Awaited<R>> {
    if (this.#state !== "open") {
      throw new RuntimeError("cannot schedule new futures after shutdown");
    }
    checkFunction("fn", fn);
    const ref = _functionRef(fn);
    const job: Job = { id: ++jobCounter, fn: ref, args, future: null as never };
    // A job cancelled in the queue lets go of its (cloned) arguments at once.
    const future = new ConcurrentFuture<Awaited<R>>(() => {
      job.args = null;
    });
    job.future = future as ConcurrentFuture<unknown>;
    const worker = this.#queue.length === 0 ? this.#takeWorker() : null;
    if (worker !== null) {
      try {
        this.#dispatch(worker, job);
      } catch (error) {
        this.#makeIdle(worker);
        throw cloneError(error, `an argument of ${_describeRef(ref)}`);
      }
    } else {
      try {
        job.args = structuredClone(args);
      } catch (error) {
        throw cloneError(error, `an argument of ${_describeRef(ref)}`);
      }
      this.#queue.push(job);
    }
    return future;
  }

  /**
   * Stops taking jobs (`submit` then throws {@link RuntimeError}) and lets the workers go once
   * the jobs already submitted are done. With `wait` (the default), resolves when every job has
   * finished and every worker thread has exited; without, resolves at once, and the jobs still
   * run. Calling it again is allowed.
   *
   * **Cancellation**: with `cancelFutures: true`, the jobs that have not started are cancelled;
   * running jobs always finish. The returned promise is a plain promise: cancelling a task that
   * awaits it stops nothing.
   *
   * asyncio: `Executor.shutdown(wait=True, *, cancel_futures=False)`.
   */
  async shutdown(wait = true, options: ShutdownOptions = {}): Promise<void> {
    checkOptions("ThreadPoolExecutor.shutdown()", options, SHUTDOWN_KEYS);
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
    if (!wait || this.#state === "closed") return;
    this.#allExited ??= new Promise<void>((resolve) => {
      this.#resolveAllExited = resolve;
    });
    await this.#allExited;
  }

  /** `await using pool = new ThreadPoolExecutor()` shuts it down (waiting) at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown(true);
  }

  /** @internal Worker threads alive now, busy ones and idle ones (for tests). */
  get _workerCount(): number {
    return this.#workers.size;
  }

  /** @internal Jobs waiting for a worker (for tests). */
  get _queued(): number {
    return this.#queue.length;
  }

  toString(): string {
    const busy = this.#workers.size - this.#idle.length;
    const parts: string[] = [this.#state, `maxWorkers=${this.maxWorkers}`];
    parts.push(`busy=${busy}`, `idle=${this.#idle.length}`, `queued=${this.#queue.length}`);
    return formatRepr("ThreadPoolExecutor", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }

  // ---------------------------------------------------------------- workers

  /** An idle worker, or a new one while under `maxWorkers`, or `null`. */
  #takeWorker(): PoolWorker | null {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    if (this.#workers.size < this.maxWorkers) return this.#spawn();
    return null;
  }

  #spawn(): PoolWorker {
    const n = this.#threadCounter++;
    const thread = new Worker(workerSource(), { eval: true, name: `${this.#prefix}_${n}` });
    liveThreads++;
    const worker: PoolWorker = {
      thread,
      threadId: thread.threadId,
      job: null,
      known: new Set(),
      retiring: false,
      error: undefined,
    };
    this.#workers.add(worker);
    thread.on("message", (reply: Reply) => this.#onReply(worker, reply));
    thread.on("messageerror", (error: Error) => this.#onMessageError(worker, error));
    thread.on("error", (error: Error) => {
      worker.error = error;
    });
    thread.on("exit", (code: number) => this.#onExit(worker, code));
    return worker;
  }

  /** Sends `job` to `worker`. Throws (and sends nothing) when the arguments cannot be cloned. */
  #dispatch(worker: PoolWorker, job: Job): void {
    const ref = job.fn;
    const fn: FunctionRef =
      ref.kind === "source" && worker.known.has(ref.key)
        ? { kind: "source", key: ref.key, name: ref.name }
        : ref;
    const message: RunMessage = { id: job.id, fn, args: job.args ?? [] };
    worker.thread.postMessage(message);
    if (ref.kind === "source") worker.known.add(ref.key);
    job.args = null;
    job.future._setRunning();
    worker.job = job;
    jobsRunning++;
    worker.thread.ref();
  }

  #makeIdle(worker: PoolWorker): void {
    if (worker.job !== null) jobsRunning--;
    worker.job = null;
    worker.thread.unref();
    this.#idle.push(worker);
  }

  /** Gives queued jobs to free workers; after shutdown, lets idle workers go. */
  #pump(): void {
    const queue = this.#queue;
    while (queue.length > 0) {
      const job = queue.peekFirst() as Job;
      if (job.future.cancelled()) {
        queue.shift();
        continue;
      }
      const worker = this.#takeWorker();
      if (worker === null) break;
      queue.shift();
      try {
        this.#dispatch(worker, job);
      } catch (error) {
        // Cloned once already, so this is unexpected; fail the job, keep the worker.
        this.#makeIdle(worker);
        job.future._setException(error);
      }
    }
    if (this.#state === "open") return;
    for (const worker of this.#idle.splice(0)) this.#retire(worker);
    this.#checkClosed();
  }

  #retire(worker: PoolWorker): void {
    worker.retiring = true;
    void worker.thread.terminate();
  }

  #checkClosed(): void {
    if (this.#state !== "shutdown" || this.#workers.size > 0 || this.#queue.length > 0) return;
    this.#state = "closed";
    const resolve = this.#resolveAllExited;
    this.#resolveAllExited = null;
    resolve?.();
  }

  #onReply(worker: PoolWorker, reply: Reply): void {
    const job = worker.job;
    if (job === null || job.id !== reply.id) return;
    this.#makeIdle(worker);
    this.#pump();
    if (reply.ok) job.future._setResult(reply.value);
    else job.future._setException(_reviveThrown(reply.error));
  }

  #onMessageError(worker: PoolWorker, error: Error): void {
    const job = worker.job;
    if (job === null) return;
    this.#makeIdle(worker);
    this.#pump();
    job.future._setException(
      new TypeError(
        `the result of ${_describeRef(job.fn)} could not be read in the main thread: ${error.message}`,
        { cause: error },
      ),
    );
  }

  #onExit(worker: PoolWorker, code: number): void {
    liveThreads--;
    this.#workers.delete(worker);
    const idleAt = this.#idle.indexOf(worker);
    if (idleAt >= 0) this.#idle.splice(idleAt, 1);
    const job = worker.job;
    worker.job = null;
    if (job !== null) jobsRunning--;
    const error = worker.error;
    const why =
      error !== undefined
        ? `an uncaught ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`
        : `process.exit(${code}) or a fatal error (exit code ${code})`;
    if (job !== null) {
      job.future._setException(
        new RuntimeError(
          `the worker thread ${worker.threadId} running ${_describeRef(job.fn)} died of ${why} ` +
            "before the function returned; the pool replaces it",
          error === undefined ? undefined : { cause: error },
        ),
      );
    } else if (!worker.retiring && error !== undefined) {
      // Something the last job left behind (a timer, a promise) threw after it returned.
      process.emitWarning(
        `an idle worker thread ${worker.threadId} of ${this.toString()} died of ${why}; ` +
          "a job left work running after it returned",
        { type: "RuntimeWarning" },
      );
    }
    this.#pump();
    this.#checkClosed();
  }
}

/** The loop's default executor: a pool named like Python's (`asyncio_0`, `asyncio_1`, …). */
_setDefaultExecutorFactory(() => new ThreadPoolExecutor(null, { threadNamePrefix: "asyncio" }));
