/**
 * `BullMQExecutor`: an `Executor` whose jobs run on `runWorker` processes, on this machine or
 * others, through a BullMQ queue on Redis.
 *
 * HOW a submission goes:
 *   1. `submit(fn, ...args)` turns `fn` (a `moduleFunction`) into a portable module id and the
 *      arguments into V8-serialized text (`codec.ts`), and gives the job an id of its own (a
 *      UUID, or the `jobId` given for idempotency), so that its future is registered before
 *      any event about it can arrive. It returns a {@link ConcurrentFuture} at once; the job is
 *      added to the queue in the background.
 *   2. A `QueueEvents` reader (BullMQ's events stream) settles the future on `completed` and
 *      on `failed` (the final failure, after the retries of `attempts`).
 *   3. After a reconnection to Redis, and for a job added with an id that existed already, the
 *      future is settled from the job's state instead: the events stream is trimmed, so an
 *      event may be gone. Settling twice is harmless (the first outcome stays).
 *   4. Cancelling the future removes a job that waits (or is delayed); a job that is active
 *      cannot be removed (a worker holds its lock), so the request is published on BullMQ's
 *      `Relay` to every worker of the queue, and the one that runs it cancels the job's task.
 *      The worker fails the job as unrecoverable: it is not retried.
 *
 * WHY ioredis: it is BullMQ's own client (BullMQ creates ioredis connections from connection
 * options, and its blocking reads, Lua scripts and reconnection are written and tested against
 * it); it reconnects by itself with backoff and queues commands while disconnected, which is
 * what lets producers and workers ride out a Redis restart.
 */
import { randomUUID } from "node:crypto";
import type { Job as BullJob, Queue as BullQueue, QueueEvents as BullQueueEvents, Relay as BullRelay } from "bullmq";
import { RuntimeError } from "../errors.js";
import type { Executor } from "../events/loop.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { checkOptions, describe } from "../internal/validate.js";
import { ConcurrentFuture } from "../threads/concurrent-future.js";
import type { ShutdownOptions } from "../threads/executor.js";
import { _moduleRefOf } from "../threads/module-function.js";
import { CANCELLED_REASON, type JobPayload, decodeValue, encodeArgs, errorFromQueue } from "./codec.js";
import { Job, Queue, QueueEvents, Relay } from "./deps.js";
import { portableModuleId, toRootUrl } from "./module-id.js";
import {
  type BullMQJobOptions,
  JOB_OPTION_KEYS,
  type RedisConnection,
  toConnection,
  toJobsOptions,
} from "./options.js";

/** Options of {@link BullMQExecutor}: where the queue is, and the default options of its jobs. */
export interface BullMQExecutorOptions extends Omit<BullMQJobOptions, "jobId"> {
  /** The queue's name; workers serve it with `runWorker({ queue })`. */
  queue: string;
  /** Redis: a `redis://` URL or connection options. */
  connection: RedisConnection;
  /**
   * The directory (a `file:` URL or an absolute path) whose files travel as `./relative/path`,
   * found by each worker under its own `root`; default none (only package names travel).
   */
  root?: URL | string;
  /** BullMQ's key prefix in Redis; default `"bull"`. */
  prefix?: string;
}

const EXECUTOR_KEYS = [
  "queue",
  "connection",
  "root",
  "prefix",
  "attempts",
  "backoff",
  "priority",
  "delay",
  "removeOnComplete",
  "removeOnFail",
] as const satisfies readonly (keyof BullMQExecutorOptions)[];

const SHUTDOWN_KEYS = ["cancelFutures"] as const satisfies readonly (keyof ShutdownOptions)[];

/** @internal The Relay topic on which cancellations of `queue`'s active jobs are published. */
export function _cancelTopic(queue: string): string {
  const segment = /^[\w-]+$/.test(queue) ? queue : `hex-${Buffer.from(queue).toString("hex")}`;
  return `asyncio-ts.cancel.${segment}`;
}

type ExecutorState = "open" | "shutdown" | "closed";

/** Futures of one job id (two submissions with the same `jobId` share the job). */
interface Pending {
  readonly futures: ConcurrentFuture<unknown>[];
  /** Settles once the job is in the queue (or adding it failed). */
  added: Promise<BullJob | null>;
  /** The job was added: from then on, a job missing from Redis was lost or removed. */
  inQueue: boolean;
}

/**
 * An {@link Executor} that runs module functions on worker processes, anywhere, through a
 * BullMQ queue on Redis: `submit(moduleFunction, ...args)` adds a job and returns a future of
 * its result. Workers are started with {@link runWorker} (or `asyncio-ts worker`).
 *
 * Arguments and results travel as structured clone allows (`Date`, `Map`, `Set`, typed arrays,
 * `Buffer`, `BigInt` arrive as they were); a value that cannot travel is a `TypeError` at
 * `submit`. A job's error comes back with its class name, message, `cause`, data properties and
 * the worker's stack (built-in classes are rebuilt as such). Execution is at least once: a job
 * whose worker dies runs again elsewhere; give jobs that must not run twice a `jobId` and make
 * their effects idempotent.
 *
 * **Cancellation**: cancelling the future (or the task awaiting `loop.runInExecutor(executor,
 * …)`, directly, by `timeout`/`waitFor` or by a task group) removes a waiting job, or cancels an
 * active one on whichever worker runs it: its task there gets `CancelledError`, and the job
 * ends failed as cancelled, never retried.
 *
 * @throws {TypeError} for a missing `queue` or `connection`, an unknown option, a bad value.
 *
 * @example
 * // no-run: needs a Redis server and workers
 * const executor = new BullMQExecutor({ queue: "images", connection: "redis://127.0.0.1:6379",
 *   root: new URL("./", import.meta.url), attempts: 3 });
 * const thumb = await getRunningLoop().runInExecutor(executor, resize, image, 256);
 *
 * Not in asyncio: like a Dask `Client` or Ray used as an executor.
 */
export class BullMQExecutor implements Executor {
  /** The queue's name. */
  readonly queue: string;
  readonly #root: string | null;
  readonly #defaults: BullMQJobOptions;
  readonly #connection: ReturnType<typeof toConnection>;
  readonly #prefix: string | undefined;
  #state: ExecutorState = "open";
  #bullQueue: BullQueue | null = null;
  #events: BullQueueEvents | null = null;
  #relay: BullRelay | null = null;
  #ready: Promise<void> | null = null;
  #pending = new Map<string, Pending>();
  /** Cancellations under way (removing a job, or publishing its cancel): `shutdown` waits for them. */
  #cancelling = new Set<Promise<void>>();
  #drained: Promise<void> | null = null;
  #resolveDrained: (() => void) | null = null;

  constructor(options: BullMQExecutorOptions) {
    checkOptions("new BullMQExecutor()", options, EXECUTOR_KEYS);
    if (typeof options.queue !== "string" || options.queue === "") {
      throw new TypeError(`\`queue\` must be a non-empty string, got ${describe(options.queue)}`);
    }
    this.queue = options.queue;
    this.#connection = toConnection(options.connection);
    this.#root = options.root === undefined ? null : toRootUrl(options.root, "root");
    this.#prefix = options.prefix;
    const { queue: _q, connection: _c, root: _r, prefix: _p, ...jobOptions } = options;
    toJobsOptions(jobOptions); // checked now
    this.#defaults = {
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 86_400 },
      ...jobOptions,
    };
  }

  /**
   * Adds a job that runs `fn(...args)` on a worker; the returned future settles with its result.
   *
   * **Cancellation**: `cancel()` on the returned future removes the job while it waits, or
   * cancels it on the worker that runs it (its task gets `CancelledError`; not retried). Use
   * `loop.runInExecutor(executor, fn, ...args)` for a loop future that cancelling the awaiting
   * task cancels.
   *
   * @throws {RuntimeError} after `shutdown()`.
   * @throws {TypeError} when `fn` is not a `moduleFunction()` whose module can travel (a package
   * name, or a file under `root`), or an argument cannot travel.
   *
   * asyncio: `Executor.submit(fn, /, *args)`.
   */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): ConcurrentFuture<Awaited<R>> {
    return this.#submit({}, fn, args);
  }

  /**
   * An executor that submits to this one with `options` added to its job options (a `jobId`
   * for an idempotent submission, a priority, attempts…). It shares this executor's connections
   * and lifetime; its `shutdown` shuts this executor down.
   *
   * @throws {TypeError} for an unknown option or a bad value.
   */
  withOptions(options: BullMQJobOptions): Executor & Pick<BullMQExecutor, "submit"> {
    checkOptions("BullMQExecutor.withOptions()", options, JOB_OPTION_KEYS);
    toJobsOptions(options);
    return {
      submit: <A extends unknown[], R>(fn: (...args: A) => R, ...args: A) => this.#submit(options, fn, args),
      shutdown: (wait?: boolean, shutdownOptions?: ShutdownOptions) => this.shutdown(wait, shutdownOptions),
    };
  }

  /**
   * Stops taking jobs (`submit` then throws {@link RuntimeError}); once every submitted job has
   * settled, closes the connections to Redis. With `wait` (the default), resolves after that;
   * without, resolves at once (the results still arrive).
   *
   * **Cancellation**: with `cancelFutures: true`, every job not settled is cancelled (removed,
   * or cancelled on its worker). The returned promise is a plain promise.
   *
   * asyncio: `Executor.shutdown(wait=True, *, cancel_futures=False)`.
   */
  async shutdown(wait = true, options: ShutdownOptions = {}): Promise<void> {
    checkOptions("BullMQExecutor.shutdown()", options, SHUTDOWN_KEYS);
    if (this.#state === "open") this.#state = "shutdown";
    if (options.cancelFutures === true) {
      for (const pending of [...this.#pending.values()]) {
        for (const future of pending.futures) future.cancel();
      }
    }
    const closing = this.#whenDrained().then(() => this.#close());
    if (wait) await closing;
  }

  /** Resolves once no submitted job is awaited any more. */
  #whenDrained(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    this.#drained ??= new Promise<void>((resolve) => {
      this.#resolveDrained = resolve;
    });
    return this.#drained;
  }

  /** `await using executor = new BullMQExecutor(…)` shuts it down (waiting) at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown(true);
  }

  toString(): string {
    return formatRepr("BullMQExecutor", [this.#state, `queue=${JSON.stringify(this.queue)}`, `pending=${this.#pending.size}`]);
  }

  [inspectCustom](): string {
    return this.toString();
  }

  // ---------------------------------------------------------------- submitting

  #submit<A extends unknown[], R>(
    extra: BullMQJobOptions,
    fn: (...args: A) => R,
    args: A,
  ): ConcurrentFuture<Awaited<R>> {
    if (this.#state !== "open") throw new RuntimeError("cannot schedule new futures after shutdown");
    const ref = _moduleRefOf(fn);
    if (ref === null) {
      throw new TypeError(
        `\`fn\` must be a moduleFunction() for a BullMQExecutor, got ${describe(fn)}: a worker ` +
          "imports the function's module, it is not sent code",
      );
    }
    const label = `${ref.name}() from ${ref.url}`;
    const payload: JobPayload = {
      v: 1,
      module: portableModuleId(ref.url, this.#root),
      name: ref.name,
      args: encodeArgs(args, label),
    };
    const jobsOptions = toJobsOptions({ ...this.#defaults, ...extra });
    const userId = jobsOptions.jobId !== undefined;
    const id = jobsOptions.jobId ?? randomUUID();
    jobsOptions.jobId = id;
    const future = new ConcurrentFuture<Awaited<R>>(() => {
      const cancelling = this.#cancel(id);
      this.#cancelling.add(cancelling);
      void cancelling.finally(() => this.#cancelling.delete(cancelling));
    });
    let pending = this.#pending.get(id);
    if (pending === undefined) {
      pending = { futures: [], added: Promise.resolve(null), inQueue: false };
      this.#pending.set(id, pending);
    }
    pending.futures.push(future as ConcurrentFuture<unknown>);
    const entry = pending;
    entry.added = this.#add(`${payload.module}#${payload.name}`, payload, jobsOptions).then(
      (job) => {
        entry.inQueue = true;
        // An id that existed already: its outcome may be known (no event would come again).
        if (userId) void this.#reconcile(id);
        return job;
      },
      (error: unknown) => {
        this.#settle(id, (f) => f._setException(error));
        return null;
      },
    );
    return future;
  }

  /** Connects on first use: the events reader must be listening before the first job is added. */
  #connect(): Promise<void> {
    this.#ready ??= (async () => {
      const prefix = this.#prefix === undefined ? {} : { prefix: this.#prefix };
      const queue = new Queue(this.queue, { connection: this.#connection, ...prefix });
      queue.on("error", () => {}); // reconnection is ioredis's job; errors show in failed adds
      // The events reader starts after the last event there is now, not at "$" (the newest
      // event when its first read happens): a job added before that read, and done at once,
      // would be missed.
      const queueClient = (await queue.getBackend().client) as unknown as {
        call(...args: string[]): Promise<unknown>;
      };
      const last = (await queueClient.call("XREVRANGE", queue.keys.events as string, "+", "-", "COUNT", "1")) as
        | [string, unknown][]
        | null;
      const lastEventId = last?.[0]?.[0] ?? "0-0";
      const events = new QueueEvents(this.queue, { connection: this.#connection, lastEventId, ...prefix });
      this.#bullQueue = queue;
      this.#events = events;
      events.on("error", () => {});
      events.on("completed", ({ jobId, returnvalue }) => this.#completed(jobId, returnvalue));
      events.on("failed", ({ jobId, failedReason }) => void this.#failed(jobId, failedReason));
      await events.waitUntilReady();
      // After a reconnection, events may have been trimmed away: ask the jobs themselves.
      const client = (await events.getBackend().client) as unknown as {
        on?: (event: string, listener: () => void) => void;
      };
      client.on?.("ready", () => {
        for (const id of this.#pending.keys()) void this.#reconcile(id);
      });
    })();
    return this.#ready;
  }

  async #add(name: string, payload: JobPayload, options: ReturnType<typeof toJobsOptions>): Promise<BullJob> {
    await this.#connect();
    return (this.#bullQueue as BullQueue).add(name, payload, options);
  }

  // ---------------------------------------------------------------- outcomes

  #settle(id: string, how: (future: ConcurrentFuture<unknown>) => void): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    for (const future of pending.futures) how(future);
    if (this.#pending.size === 0) {
      const resolve = this.#resolveDrained;
      this.#resolveDrained = null;
      this.#drained = null;
      resolve?.();
    }
  }

  #completed(id: string, returnvalue: unknown): void {
    if (!this.#pending.has(id)) return;
    let value: unknown;
    try {
      if (typeof returnvalue !== "string") throw new TypeError("the job's result is not asyncio-ts's encoding");
      value = decodeValue(returnvalue);
    } catch (error) {
      this.#settle(id, (f) => f._setException(new RuntimeError(`job ${id} completed with a result that could not be read: ${String(error)}`)));
      return;
    }
    this.#settle(id, (f) => f._setResult(value));
  }

  async #failed(id: string, failedReason: string): Promise<void> {
    if (!this.#pending.has(id)) return;
    let stacktrace: string[] | null = null;
    try {
      const job = await Job.fromId(this.#bullQueue as BullQueue, id);
      stacktrace = job?.stacktrace ?? null;
    } catch {
      // Redis went away meanwhile: the reason alone will do.
    }
    if (failedReason.startsWith(CANCELLED_REASON)) {
      this.#settle(id, (f) => f.cancel());
      return;
    }
    const error = errorFromQueue(failedReason, stacktrace);
    this.#settle(id, (f) => f._setException(error));
  }

  /** Settles the futures of job `id` from its state, when it is finished. */
  async #reconcile(id: string): Promise<void> {
    const queue = this.#bullQueue;
    if (queue === null || !this.#pending.has(id)) return;
    try {
      const job = await Job.fromId(queue, id);
      if (job === undefined) {
        // Not added yet (its add settles it), or gone: a Redis that lost its data, or removed.
        if (this.#pending.get(id)?.inQueue === true) {
          this.#settle(id, (f) =>
            f._setException(
              new RuntimeError(
                `job ${id} is no longer in Redis: it was removed, or Redis lost it (a restart ` +
                  "without persistence); it may or may not have run",
              ),
            ),
          );
        }
        return;
      }
      const state = await job.getState();
      if (state === "completed") this.#completed(id, job.returnvalue);
      else if (state === "failed") await this.#failed(id, job.failedReason);
    } catch {
      // Redis is not there: the next reconnection reconciles again.
    }
  }

  // ---------------------------------------------------------------- cancelling

  /** Removes the job if it waits; else asks the workers to cancel it (it is active). */
  async #cancel(id: string): Promise<void> {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    if (!pending.futures.every((f) => f.cancelled())) return; // another submission still awaits it
    this.#settle(id, () => {});
    const job = await pending.added;
    if (job === null) return;
    try {
      await job.remove();
      return;
    } catch {
      // Locked: a worker runs it.
    }
    try {
      this.#relay ??= new Relay({ connection: this.#connection, ...(this.#prefix === undefined ? {} : { prefix: this.#prefix }) });
      await this.#relay.publish(_cancelTopic(this.queue), { jobId: id });
    } catch {
      // Redis is away: the job runs to its end (at-least-once, and the future is cancelled).
    }
  }

  async #close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    const ready = this.#ready;
    if (ready !== null) await ready.catch(() => {});
    await Promise.allSettled([...this.#cancelling]);
    await Promise.allSettled([this.#events?.close(), this.#bullQueue?.close(), this.#relay?.close()]);
  }
}
