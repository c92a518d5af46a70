/**
 * Options shared by the BullMQ executor and worker: the Redis connection and job options.
 *
 * Times are seconds, as everywhere in asyncio-ts; BullMQ's milliseconds are made here.
 */
import type { ConnectionOptions, JobsOptions, KeepJobs } from "bullmq";
import { checkInteger, describe } from "../internal/validate.js";

/**
 * Where Redis is: a `redis://` (or `rediss://`) URL, or BullMQ's connection options (host,
 * port, password, tls… as ioredis takes them).
 */
export type RedisConnection = string | ConnectionOptions;

/** How long finished jobs are kept in Redis: `true` (removed at once), a count, or `{ age?, count? }` (age in seconds). */
export type KeepJobsOption = boolean | number | KeepJobs;

/** Job options, for the executor (its defaults) and for one submission (`withOptions`). */
export interface BullMQJobOptions {
  /** Tries of the job in all, the first included; default 1. A cancelled job is never retried. */
  attempts?: number;
  /** The wait between tries, in seconds: `{ type: "fixed" | "exponential", delay }`. */
  backoff?: {
    /** `"fixed"`: `delay` before each retry; `"exponential"`: `delay`, then twice as long each time. */
    type: "fixed" | "exponential";
    /** Seconds. */
    delay: number;
  };
  /** BullMQ priority: 1 is the highest, larger numbers wait longer; default none (before all prioritized jobs). */
  priority?: number;
  /** Seconds before the job may start; default 0. */
  delay?: number;
  /** When a completed job's record is removed; default `{ age: 3600 }` (an hour, to reconcile after an outage). */
  removeOnComplete?: KeepJobsOption;
  /** When a failed job's record is removed; default `{ age: 86400 }`. */
  removeOnFail?: KeepJobsOption;
  /**
   * The job's id (one submission only): submitting again with the id of a job that exists in
   * the queue adds nothing and awaits that job's outcome. For idempotent producers.
   */
  jobId?: string;
}

export const JOB_OPTION_KEYS = [
  "attempts",
  "backoff",
  "priority",
  "delay",
  "removeOnComplete",
  "removeOnFail",
  "jobId",
] as const satisfies readonly (keyof BullMQJobOptions)[];

/** Connection options for BullMQ: a URL becomes `{ url }`; blocking connections retry forever. */
export function toConnection(connection: unknown, label = "connection"): ConnectionOptions {
  if (typeof connection === "string") {
    if (!/^rediss?:\/\//.test(connection)) {
      throw new TypeError(`\`${label}\` must be a redis:// URL or connection options, got ${describe(connection)}`);
    }
    return { url: connection, maxRetriesPerRequest: null };
  }
  if (typeof connection !== "object" || connection === null) {
    throw new TypeError(`\`${label}\` must be a redis:// URL or connection options, got ${describe(connection)}`);
  }
  return connection as ConnectionOptions;
}

function checkSeconds(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`\`${name}\` must be a non-negative number of seconds, got ${describe(value)}`);
  }
  return value;
}

/** BullMQ's job options for ours (seconds made milliseconds), checked. */
export function toJobsOptions(options: BullMQJobOptions): JobsOptions {
  const out: JobsOptions = {};
  if (options.attempts !== undefined) out.attempts = checkInteger("attempts", options.attempts, 1);
  if (options.backoff !== undefined) {
    const { type, delay } = options.backoff as { type?: unknown; delay?: unknown };
    if (type !== "fixed" && type !== "exponential") {
      throw new TypeError(`\`backoff.type\` must be "fixed" or "exponential", got ${describe(type)}`);
    }
    out.backoff = { type, delay: Math.round(checkSeconds("backoff.delay", delay) * 1000) };
  }
  if (options.priority !== undefined) out.priority = checkInteger("priority", options.priority, 0);
  if (options.delay !== undefined) out.delay = Math.round(checkSeconds("delay", options.delay) * 1000);
  if (options.removeOnComplete !== undefined) out.removeOnComplete = options.removeOnComplete;
  if (options.removeOnFail !== undefined) out.removeOnFail = options.removeOnFail;
  if (options.jobId !== undefined) {
    if (typeof options.jobId !== "string" || options.jobId === "" || options.jobId.includes(":") || /^\d+$/.test(options.jobId)) {
      throw new TypeError(
        `\`jobId\` must be a non-empty string, not all digits and without ":", got ${describe(options.jobId)}`,
      );
    }
    out.jobId = options.jobId;
  }
  return out;
}
