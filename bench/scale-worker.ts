/**
 * A worker process of the scale-out bench (bench/scale.ts): `raw` runs plain BullMQ code (a
 * `Worker` whose processor calls the job function with the job's JSON arguments), `asyncio-ts`
 * runs `runWorker`. Usage: scale-worker.ts raw|asyncio-ts REDIS_URL QUEUE CONCURRENCY. Prints
 * "ready" once it serves; SIGTERM ends it.
 */
import { fileURLToPath } from "node:url";

const [mode, url, queue, concurrencyText] = process.argv.slice(2) as [string, string, string, string];
const concurrency = Number(concurrencyText);
const connection = { url, maxRetriesPerRequest: null };

if (mode === "raw") {
  const { Worker } = await import("bullmq");
  const jobs = new URL("./scale-jobs.mjs", import.meta.url).href;
  const { add } = (await import(jobs)) as { add: (a: number, b: number) => number };
  const worker = new Worker(queue, async (job) => add(...(job.data.args as [number, number])), { connection, concurrency });
  await worker.waitUntilReady();
  console.log("ready");
  process.once("SIGTERM", () => void worker.close().then(() => process.exit(0)));
} else {
  const { run } = await import("../src/index.js");
  const { runWorker } = await import("../src/bullmq.js");
  console.log("ready");
  await run(() =>
    runWorker({
      queue,
      connection: url,
      concurrency,
      allow: ["./scale-jobs.mjs"],
      root: fileURLToPath(new URL("./", import.meta.url)),
    }),
  );
}
