// Threads, then processes: the same moduleFunction runs in a worker thread (toThread) and in a
// child process (ProcessPoolExecutor); a job in a child process can be cancelled.
//
// Each child runs an asyncio-ts event loop and the job runs there as a task: the timeout below
// cancels the awaiting task, the pool tells the child, and the job's task gets CancelledError
// (a child that did not stop within `cancelGrace` seconds would be killed and replaced).
import type * as Slow from "./_slow.js";
import { ProcessPoolExecutor, getRunningLoop, isTimeoutError, moduleFunction, run, timeout, toThread } from "../src/index.js";

const fib = moduleFunction<(n: number) => number>(new URL("./_work.mjs", import.meta.url), "fib");
const nap = moduleFunction<typeof Slow.nap>(new URL("./_slow.ts", import.meta.url), "nap");

await run(async () => {
  console.log(`fib(25) in a worker thread: ${await toThread(fib, 25)}`);

  const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
  const loop = getRunningLoop();
  console.log(`fib(25) in a child process: ${await loop.runInExecutor(pool, fib, 25)}`);

  let outcome = "";
  try {
    await timeout(0.5, () => loop.runInExecutor(pool, nap, 3600, "in the child"));
  } catch (error) {
    if (!isTimeoutError(error)) throw error;
    outcome = "gave up after 0.5 s";
  }
  await pool.shutdown(); // waits for the children to exit (after the child's line above)
  console.log(outcome);
  console.log("the pool is shut down");
});

// Expected output:
// fib(25) in a worker thread: 75025
// fib(25) in a child process: 75025
// in the child: the job's task got CancelledError
// gave up after 0.5 s
// the pool is shut down
