/**
 * `runWorker`: serves the jobs of a `BullMQExecutor`'s queue in this process.
 *
 * HOW a job runs: BullMQ's `Worker` takes it (at most `concurrency` at once) and calls the
 * processor, which checks the job's module against `allow`, decodes the arguments and runs the
 * function as a new task of the loop (not of `runWorker`'s task: a job's deadline or failure
 * never touches the worker). The processor waits for that task and turns its outcome into
 * BullMQ's: a result, an error (retried as `attempts` allows), or a cancellation (never retried).
 *
 * Cancelling a job: the executor publishes the job's id on BullMQ's `Relay` (Redis streams)
 * to every worker of the queue (BullMQ's own `worker.cancelJob` reaches only its own process).
 * The worker that runs the job cancels its task; a request that arrives before the job started
 * here is remembered for a minute.
 *
 * Shutdown is not cancellation. SIGTERM (a deploy) stops taking jobs and lets the running ones
 * finish for `shutdownGrace` seconds; the jobs still running then are cancelled here and handed
 * back to the queue (moved to waiting, not failed, not counted as a try), to run on another
 * worker; then `runWorker` resolves. Cancelling `runWorker`'s own task does the same at once
 * (or, during a SIGTERM drain, after that drain's grace), then ends cancelled.
 *
 * Lock timings: a worker renews each active job's lock every `lockDuration / 2`; a job whose
 * lock has expired (its worker died: SIGKILL, a lost machine) is moved back to waiting by the
 * stalled-job check of any worker, every `stalledInterval`. So a dead worker's jobs run again
 * elsewhere after about `lockDuration + stalledInterval` seconds (defaults 10 + 5, BullMQ's are
 * 30 + 30). The price of short timings: more Redis traffic (a renewal per active job every
 * `lockDuration / 2`), and a job that blocks the worker's event loop longer than
 * `lockDuration` (synchronous CPU work) loses its lock and may run twice. Put such work in
 * `toThread` or a `ProcessPoolExecutor` inside the job, or raise `lockDuration`.
 */
import type { Job as BullJob, Relay as BullRelay, Worker as BullWorker } from "bullmq";
import { CancelledError } from "../errors.js";
import type { EventLoop } from "../events/loop.js";
import { _runOutsideFrame, getRunningLoop } from "../events/running.js";
import { checkInteger, checkOptions, describe } from "../internal/validate.js";
import type { Task } from "../tasks.js";
import { CANCELLED_REASON, type JobPayload, decodeValue, encodeValue, errorForQueue } from "./codec.js";
import { Relay, UnrecoverableError, WaitingError, Worker } from "./deps.js";
import { _cancelTopic } from "./executor.js";
import { checkAllow, resolveJobModule, toRootUrl } from "./module-id.js";
import { type RedisConnection, toConnection } from "./options.js";

/** Options of {@link runWorker}. */
export interface RunWorkerOptions {
  /** The queue to serve (the executor's `queue`). */
  queue: string;
  /** Redis: a `redis://` URL or connection options. */
  connection: RedisConnection;
  /**
   * The modules this worker may run (required): package names (a package and its subpaths:
   * `"my-jobs"`, `"node:zlib"`) and `./` paths under `root` (a file, or a directory ending in
   * `/`). A job naming anything else fails, unrecoverable, with an error saying so.
   */
  allow: readonly string[];
  /** Where `./` module ids are found (a directory URL or absolute path); default the current directory. */
  root?: URL | string;
  /** Jobs run at once; default 1. */
  concurrency?: number;
  /** Seconds running jobs get to finish after SIGTERM before they are handed back; default 20. */
  shutdownGrace?: number;
  /** Seconds a job's lock lasts without renewal (see above); default 10. */
  lockDuration?: number;
  /** Seconds between checks for jobs whose worker died; default 5. */
  stalledInterval?: number;
  /** BullMQ's key prefix in Redis; default `"bull"`. */
  prefix?: string;
}

const WORKER_KEYS = [
  "queue",
  "connection",
  "allow",
  "root",
  "concurrency",
  "shutdownGrace",
  "lockDuration",
  "stalledInterval",
  "prefix",
] as const satisfies readonly (keyof RunWorkerOptions)[];

function seconds(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new RangeError(`\`${name}\` must be a number of seconds >= ${min}, got ${describe(value)}`);
  }
  return value;
}

/** How long a cancel request for a job not (yet) running here is remembered, in ms. */
const REMEMBER_CANCEL_MS = 60_000;

type AnyFunction = (...args: unknown[]) => unknown;

interface RunningJob {
  readonly task: Task<unknown>;
  /** Why its task was cancelled here: the producer asked, or the worker hands it back. */
  reason: "cancel" | "hand-back" | null;
}

function isConnectionNoise(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ECONNREFUSED" || code === "ECONNRESET" || code === "EPIPE" || /Connection is closed/.test(String(error));
}

/**
 * Serves jobs of `queue` in this process until its task is cancelled, or until SIGTERM has
 * drained it (then it resolves). Each job runs as its own task of the running loop, at most
 * `concurrency` at once, and only when `allow` allows its module.
 *
 * While it runs it handles SIGTERM itself (a drain, see above). Under `run(main)`, which treats
 * SIGTERM as it treats SIGINT by default, run it with `run(main, { signals: ["SIGINT"] })`;
 * even without, a cancellation that follows a SIGTERM waits for the drain, so no job is lost or
 * ended as cancelled by a deploy.
 *
 * **Cancellation**: cancelling the task that awaits `runWorker` stops taking jobs, cancels the
 * running ones here and hands them back to the queue (they run elsewhere), closes the
 * connections, then ends cancelled.
 *
 * @throws {TypeError} when `allow` is missing or empty, or an option is bad.
 *
 * @example
 * // no-run: needs a Redis server
 * await run(() => runWorker({ queue: "images", connection: "redis://127.0.0.1:6379",
 *   allow: ["./jobs/"], root: new URL("./", import.meta.url), concurrency: 4 }));
 *
 * Not in asyncio: the worker side of a distributed executor (a Dask worker, a Celery worker).
 */
export async function runWorker(options: RunWorkerOptions): Promise<void> {
  checkOptions("runWorker()", options, WORKER_KEYS);
  if (typeof options.queue !== "string" || options.queue === "") {
    throw new TypeError(`\`queue\` must be a non-empty string, got ${describe(options.queue)}`);
  }
  const allow = checkAllow(options.allow);
  const connection = toConnection(options.connection);
  const root = toRootUrl(options.root ?? `${process.cwd()}/`, "root");
  const concurrency = options.concurrency === undefined ? 1 : checkInteger("concurrency", options.concurrency, 1);
  const grace = seconds("shutdownGrace", options.shutdownGrace, 20);
  const lockMs = Math.round(seconds("lockDuration", options.lockDuration, 10, 0.1) * 1000);
  const stalledMs = Math.round(seconds("stalledInterval", options.stalledInterval, 5, 0.1) * 1000);
  const prefix = options.prefix === undefined ? {} : { prefix: options.prefix };
  const loop = getRunningLoop();

  const server = new JobServer(loop, allow, root);
  const relay: BullRelay = new Relay({ connection, ...prefix });
  relay.on("error", (error: unknown) => server.reportError("BullMQ relay error", error));
  await relay.subscribe<{ jobId?: unknown }>(_cancelTopic(options.queue), (message) => {
    const id = message.data?.jobId;
    if (typeof id === "string") server.cancelRequested(id);
  });
  const worker: BullWorker = outsideFrame(
    () =>
      new Worker(options.queue, (job, token) => server.process(job, token), {
        connection,
        concurrency,
        autorun: false,
        lockDuration: lockMs,
        stalledInterval: stalledMs,
        maxStalledCount: 1,
        ...prefix,
      }),
  );
  worker.on("error", (error: unknown) => server.reportError("BullMQ worker error", error));
  _runOutsideFrame(() => {
    worker.run().catch((error: unknown) => server.reportError("BullMQ worker stopped", error));
  });

  const stopped = loop.createFuture<void>();
  let draining: Promise<void> | null = null;
  const drain = (graceSeconds: number): Promise<void> => {
    draining ??= (async () => {
      const closing = worker.close();
      const timer = setTimeout(() => server.handBackAll(), graceSeconds * 1000);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
        await relay.close().catch(() => {});
      }
    })();
    return draining;
  };
  const onSigterm = (): void => {
    void drain(grace).then(() => {
      if (!stopped.done()) stopped.setResult(undefined);
    });
  };
  process.on("SIGTERM", onSigterm);
  try {
    await stopped;
  } catch (error) {
    if (draining === null) {
      server.handBackAll();
      await drain(0);
    } else {
      await draining;
    }
    throw error;
  } finally {
    process.removeListener("SIGTERM", onSigterm);
  }
}

/**
 * `_runOutsideFrame` that returns `fn`'s value: BullMQ's background loops (started in its
 * constructor and `run()`) must not run as part of runWorker's task.
 */
function outsideFrame<T>(fn: () => T): T {
  let value: T | undefined;
  _runOutsideFrame(() => {
    value = fn();
  });
  return value as T;
}

/** The jobs this worker runs now, and how each job becomes a task. */
class JobServer {
  readonly #loop: EventLoop;
  readonly #allow: readonly string[];
  readonly #root: string;
  readonly #running = new Map<string, RunningJob>();
  /** Cancel requests for jobs not running here (yet): id → when to forget it. */
  readonly #requested = new Map<string, number>();
  readonly #imported = new Map<string, AnyFunction>();
  #handingBack = false;
  readonly #reported = new Set<string>();

  constructor(loop: EventLoop, allow: readonly string[], root: string) {
    this.#loop = loop;
    this.#allow = allow;
    this.#root = root;
  }

  /** Errors of BullMQ's own loops, each reported once (BullMQ retries what failed, and reports each try). */
  reportError(message: string, error: unknown): void {
    if (isConnectionNoise(error) || this.#loop.isClosed()) return;
    const key = `${message}: ${String(error)}`;
    if (this.#reported.has(key)) return;
    if (this.#reported.size > 1000) this.#reported.clear();
    this.#reported.add(key);
    this.#loop.callExceptionHandler({ message, exception: error });
  }

  cancelRequested(id: string): void {
    const job = this.#running.get(id);
    if (job !== undefined) {
      job.reason ??= "cancel";
      job.task.cancel("cancelled by its producer");
      return;
    }
    const now = Date.now();
    for (const [key, until] of this.#requested) if (until < now) this.#requested.delete(key);
    this.#requested.set(id, now + REMEMBER_CANCEL_MS);
  }

  /** Cancels every running job's task, to hand the jobs back to the queue. */
  handBackAll(): void {
    this.#handingBack = true;
    for (const job of this.#running.values()) {
      job.reason ??= "hand-back";
      job.task.cancel("the worker is shutting down: the job goes back to the queue");
    }
  }

  async #load(url: string, name: string): Promise<AnyFunction> {
    const key = `${url}#${name}`;
    let f = this.#imported.get(key);
    if (f === undefined) {
      const namespace = (await import(url)) as Record<string, unknown>;
      const value = namespace[name];
      if (typeof value !== "function") {
        throw new TypeError(`${url} has no function export named "${name}" (found ${typeof value})`);
      }
      f = value as AnyFunction;
      this.#imported.set(key, f);
    }
    return f;
  }

  /** BullMQ's processor: runs the job as a task and gives BullMQ its outcome. */
  async process(job: BullJob, token: string | undefined): Promise<string> {
    const id = job.id as string;
    let url: string;
    let name: string;
    let args: unknown[];
    try {
      const payload = job.data as Partial<JobPayload> | null;
      if (payload === null || typeof payload !== "object" || payload.v !== 1 || typeof payload.args !== "string") {
        throw new TypeError(`job ${id} was not submitted by a BullMQExecutor (its data is not asyncio-ts's job format)`);
      }
      if (typeof payload.name !== "string" || payload.name === "") throw new TypeError(`job ${id} names no export`);
      name = payload.name;
      url = resolveJobModule(payload.module, this.#allow, this.#root);
      const decoded = decodeValue(payload.args);
      if (!Array.isArray(decoded)) throw new TypeError(`job ${id} has no argument list`);
      args = decoded;
    } catch (error) {
      throw unrecoverable(errorForQueue(error));
    }
    const loaded = this.#imported.get(`${url}#${name}`);
    const task = this.#loop.createTask(
      loaded !== undefined
        ? async () => loaded(...args)
        : async () => (await this.#load(url, name))(...args),
      { name: `job ${id} ${name}` },
    );
    const running: RunningJob = { task, reason: null };
    this.#running.set(id, running);
    if (this.#requested.delete(id)) this.cancelRequested(id);
    else if (this.#handingBack) this.handBackAll();
    try {
      await new Promise<void>((resolve) => task.addDoneCallback(() => resolve()));
    } finally {
      this.#running.delete(id);
    }
    if (task.cancelled()) {
      if (running.reason === "hand-back") {
        await job.moveToWait(token);
        throw new WaitingError();
      }
      let reason = "";
      try {
        task.result();
      } catch (error) {
        reason = error instanceof CancelledError && error.message !== "" ? ` (${error.message})` : "";
      }
      throw new UnrecoverableError(`${CANCELLED_REASON}${reason}`);
    }
    const error = task.exception();
    if (error !== null) throw errorForQueue(error);
    try {
      return encodeValue(task.result(), `the result of ${name}()`);
    } catch (failure) {
      throw unrecoverable(errorForQueue(failure));
    }
  }
}

/** A BullMQ `UnrecoverableError` (not retried) carrying `error`'s message and stack. */
function unrecoverable(error: Error): Error {
  const out = new UnrecoverableError(error.message);
  Object.defineProperty(out, "stack", { value: error.stack, configurable: true, writable: true });
  return out;
}
