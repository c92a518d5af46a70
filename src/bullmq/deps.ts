/**
 * The optional peer dependencies of `asyncio-ts/bullmq`: `bullmq`, and `ioredis`, the Redis
 * client BullMQ creates its connections with. Loaded when the entry point is imported, so the
 * core package has no runtime dependency, and a missing package is one clear error at import.
 */
import type * as BullMQ from "bullmq";

function missing(name: string, error: unknown): Error {
  return new Error(
    `asyncio-ts/bullmq needs the packages bullmq and ioredis, and could not load ${name}: ` +
      "install them next to asyncio-ts with `npm install bullmq ioredis`",
    { cause: error },
  );
}

let bullmq: typeof BullMQ;
try {
  bullmq = await import("bullmq");
} catch (error) {
  throw missing("bullmq", error);
}
try {
  await import("ioredis");
} catch (error) {
  throw missing("ioredis", error);
}

export const { Job, Queue, QueueEvents, Relay, UnrecoverableError, WaitingError, Worker } = bullmq;
