// BullMQExecutor and runWorker against a real redis-server (started for this file) and real
// worker processes: values and errors that travel, module ids and the allow list, options,
// idempotent job ids, and cancellation across the network. No mock of Redis or BullMQ.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Queue } from "bullmq";
import { BullMQExecutor, runWorker } from "../../src/bullmq.js";
import {
  CancelledError,
  RuntimeError,
  TimeoutError,
  getRunningLoop,
  moduleFunction,
  run,
  sleep,
  taskGroup,
  timeout,
} from "../../src/index.js";
import { type TestRedis, haveRedis, startRedis } from "../support/redis.js";
import { FIXTURES, type WorkerProcess, job, startWorker, stopAll, until } from "./support.js";

const tmp = mkdtempSync(join(tmpdir(), "asyncio-ts-bullmq-"));
let files = 0;
const file = (): string => join(tmp, `f-${++files}`);


/**
 * Whether the worker has written `path`: the file exists *and* holds something (a write makes
 * the file, empty, a moment before it fills it; Deno under load showed that moment).
 */
function written(path: string): boolean {
  return existsSync(path) && readFileSync(path, "utf8") !== "";
}
describe("BullMQExecutor", { skip: !haveRedis && "redis-server is not installed", timeout: 240_000 }, () => {
  let redis: TestRedis;
  let worker: WorkerProcess;
  const QUEUE = "main";
  const executor = (options: Partial<ConstructorParameters<typeof BullMQExecutor>[0]> = {}) =>
    new BullMQExecutor({ queue: QUEUE, connection: redis.url, root: FIXTURES, ...options });

  before(async () => {
    redis = await startRedis();
    worker = await startWorker({ queue: QUEUE, connection: redis.url, concurrency: 2, allow: ["./jobs.ts", "node:zlib"] });
  });

  after(async () => {
    await stopAll();
    await redis?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  describe("values and errors", () => {
    it("round-trips what structured clone keeps, through loop.runInExecutor", async () => {
      await run(async () => {
        await using ex = executor();
        const value = {
          when: new Date(86_400_000),
          map: new Map<unknown, unknown>([[1n, new Set(["a"])]]),
          bytes: Buffer.from("hi"),
          floats: new Float64Array([0.5, -0]),
          missing: undefined,
        };
        const back = (await getRunningLoop().runInExecutor(ex, job("echo"), value)) as typeof value;
        assert.deepEqual(back, value);
        assert.ok(back.when instanceof Date && Buffer.isBuffer(back.bytes) && back.floats instanceof Float64Array);
        assert.ok("missing" in back, "undefined is kept, where JSON would drop it");
      });
    });

    it("runs a package's function named by its bare specifier", async () => {
      await using ex = executor();
      const gzip = moduleFunction<(data: Buffer) => Buffer>("node:zlib", "gzipSync");
      const gunzip = moduleFunction<(data: Buffer) => Buffer>("node:zlib", "gunzipSync");
      const packed = await ex.submit(gzip, Buffer.from("hello"));
      assert.equal(String(await ex.submit(gunzip, packed)), "hello");
    });

    it("refuses at submit a value that cannot travel, naming it, and a function that is not a moduleFunction", async () => {
      await using ex = executor();
      assert.throws(() => ex.submit(job("echo"), (() => 1) as never), (e: unknown) => e instanceof TypeError && /argument 1 of echo\(\)/.test(e.message));
      assert.throws(() => ex.submit((a: number) => a, 1), /must be a moduleFunction\(\)/);
    });

    it("refuses a module file outside the executor's root, and any file without a root", async () => {
      await using ex = executor();
      const outside = moduleFunction(new URL("../../support/core.ts", FIXTURES), "gc");
      assert.throws(() => ex.submit(outside), /not under the executor's root/);
      await using noRoot = new BullMQExecutor({ queue: QUEUE, connection: redis.url });
      assert.throws(() => noRoot.submit(job("add"), 1, 2), /travels to workers as a path relative to the executor's `root`/);
    });

    it("gives back a job's error with its class, message, cause, data and the worker's stack", async () => {
      await using ex = executor();
      const error = await Promise.resolve(ex.submit(job("fail"), "boom")).then(
        () => assert.fail("resolved"),
        (e: unknown) => e as RangeError & { code?: string },
      );
      assert.ok(error instanceof RangeError);
      assert.equal(error.message, "boom");
      assert.equal(error.code, "E_JOB");
      assert.ok(error.cause instanceof TypeError);
      assert.match(String(error.stack), /jobs\.ts/);
      assert.doesNotMatch(String(error.stack), /asyncio-ts:error:/);
    });

    it("fails the job with a TypeError when its result cannot travel back", async () => {
      await using ex = executor();
      await assert.rejects(Promise.resolve(ex.submit(job("unsendable"))), (e: unknown) => e instanceof TypeError && /result of unsendable\(\) cannot travel/.test(e.message));
    });

    it("fails a job whose module the worker does not allow, with an error saying so", async () => {
      await using ex = executor();
      const gzip = moduleFunction("node:zlib", "deflateSync");
      assert.ok(await ex.submit(gzip, Buffer.from("x")), "allowed: node:zlib");
      const other = moduleFunction("node:os", "hostname");
      await assert.rejects(Promise.resolve(ex.submit(other)), /does not run the module "node:os": it is not in its allow list/);
    });
  });

  describe("options", () => {
    it("retries a failing job as attempts allows, waiting the backoff", async () => {
      await using ex = executor({ attempts: 3, backoff: { type: "fixed", delay: 0.05 } });
      assert.equal(await ex.submit(job("flaky"), file(), 2), 3);
      await using once = executor();
      await assert.rejects(Promise.resolve(once.submit(job("flaky"), file(), 1)), /try 1 fails/);
    });

    it("runs a job once for one jobId, and answers a later submission with the same id from the job's state", async () => {
      await using ex = executor();
      const log = file();
      const same = ex.withOptions({ jobId: "order-42" });
      const [a, b] = await Promise.all([same.submit(job("logged"), log, 0.2), same.submit(job("logged"), log, 0.2)]);
      assert.equal(a, b);
      const later = await same.submit(job("logged"), log, 0.2);
      assert.equal(later, a);
      assert.equal(readFileSync(log, "utf8").trim().split("\n").length, 1, "the job ran once");
    });

    it("refuses unknown options and bad values, naming them", () => {
      assert.throws(() => new BullMQExecutor({ queue: QUEUE, connection: redis.url, atempts: 2 } as never), TypeError);
      assert.throws(() => new BullMQExecutor({ queue: "", connection: redis.url }), /`queue`/);
      assert.throws(() => new BullMQExecutor({ queue: QUEUE, connection: "http://x" }), /redis:\/\/ URL/);
      assert.throws(() => new BullMQExecutor({ queue: QUEUE, connection: redis.url, attempts: 0 }), RangeError);
      assert.throws(() => executor().withOptions({ jobId: "a:b" }), /jobId/);
    });

    it("shutdown(false) returns at once, and the submitted jobs' results still arrive", async () => {
      const ex = executor();
      const result = ex.submit(job("slowPid"), 0.3);
      await ex.shutdown(false);
      assert.equal(result.done(), false);
      assert.equal(await result, worker.pid);
      assert.throws(() => ex.submit(job("add"), 1, 1), RuntimeError);
    });

    it("refuses jobs after shutdown", async () => {
      const ex = executor();
      await ex.shutdown();
      assert.throws(() => ex.submit(job("add"), 1, 1), RuntimeError);
    });
  });

  describe("cancellation", () => {
    it("removes a waiting job when its future is cancelled", async () => {
      await using ex = executor({ delay: 30 });
      const log = file();
      const future = ex.submit(job("logged"), log, 0);
      await new Promise((resolve) => setTimeout(resolve, 300)); // added (outside a loop: real time)
      assert.equal(future.cancel(), true);
      await assert.rejects(Promise.resolve(future), CancelledError);
      const queue = new Queue(QUEUE, { connection: { url: redis.url } });
      try {
        const counts = await queue.getJobCounts("delayed", "waiting", "active");
        assert.deepEqual(counts, { delayed: 0, waiting: 0, active: 0 });
      } finally {
        await queue.close();
      }
      assert.equal(existsSync(log), false);
    });

    it("cancels an active job on the worker that runs it: its task gets CancelledError, it is not retried, the worker is free at once", async () => {
      await run(async () => {
        await using ex = executor({ attempts: 3 });
        const started = file();
        const marker = file();
        await assert.rejects(
          timeout(1, async () => {
            const job1 = getRunningLoop().runInExecutor(ex, job("sleepThenMark"), 60, started, marker);
            await until(() => existsSync(started));
            return job1;
          }),
          TimeoutError,
        );
        await until(() => written(marker), 10_000, "the job's task was cancelled");
        assert.equal(readFileSync(marker, "utf8"), `CancelledError in ${worker.pid}\n`);
        // Both slots of the worker are free again at once: two short jobs run side by side.
        const t0 = performance.now();
        await Promise.all([ex.submit(job("slowPid"), 0.3), ex.submit(job("slowPid"), 0.3)]);
        assert.ok(performance.now() - t0 < 5000);
        await sleep(0.5);
        assert.equal(readFileSync(marker, "utf8").split("\n").length, 2, "not retried: cancelled once");
      });
    });

    it("cancels the job of a task cancelled by its task group", async () => {
      await run(async () => {
        await using ex = executor();
        const started = file();
        const marker = file();
        await assert.rejects(
          taskGroup(async (tg) => {
            tg.createTask(() => getRunningLoop().runInExecutor(ex, job("sleepThenMark"), 60, started, marker));
            await until(() => existsSync(started));
            throw new RangeError("sibling failed");
          }),
          (e: unknown) => e instanceof AggregateError,
        );
        await until(() => written(marker), 10_000, "the job's task was cancelled");
      });
    });
  });

  describe("runWorker", () => {
    it("refuses to start without an allow list", async () => {
      await run(async () => {
        await assert.rejects(runWorker({ queue: QUEUE, connection: redis.url } as never), /`allow` is required/);
        await assert.rejects(runWorker({ queue: QUEUE, connection: redis.url, allow: [] }), /`allow` is required/);
      });
    });
  });
});
