/**
 * `asyncio-ts/bullmq`: a distributed executor on BullMQ and Redis. `BullMQExecutor` submits
 * module functions as jobs of a queue; `runWorker` (or `asyncio-ts worker`) serves them, on as
 * many machines as share the Redis server. Needs the packages `bullmq` and `ioredis` (optional
 * peer dependencies of asyncio-ts: the core package has no runtime dependency); importing this
 * entry point without them throws an error that says what to install.
 *
 * @module asyncio-ts/bullmq
 */
export { BullMQExecutor, type BullMQExecutorOptions } from "./bullmq/executor.js";
export type { BullMQJobOptions, KeepJobsOption, RedisConnection } from "./bullmq/options.js";
export { type RunWorkerOptions, runWorker } from "./bullmq/worker.js";
