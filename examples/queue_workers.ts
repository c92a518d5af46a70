// Three workers share a queue of work items: the asyncio docs' queue example, line for line.
// The main task fills the queue, waits for it to be processed with join(), then cancels the
// workers. It sleeps for real: about four seconds.
import { Queue, createTask, gather, getRunningLoop, run, sleep } from "../src/index.js";

async function worker(name: string, queue: Queue<number>): Promise<never> {
  for (;;) {
    // Get a "work item" out of the queue.
    const sleepFor = await queue.get();
    // Sleep for the "sleepFor" seconds.
    await sleep(sleepFor);
    // Notify the queue that the "work item" has been processed.
    queue.taskDone();
    console.log(`${name} has slept for ${sleepFor.toFixed(2)} seconds`);
  }
}

async function main(): Promise<void> {
  // Create a queue that we will use to store our "workload".
  const queue = new Queue<number>();

  // Generate random timings and put them into the queue.
  let totalSleepTime = 0;
  for (let i = 0; i < 20; i++) {
    const sleepFor = 0.05 + Math.random() * 0.95;
    totalSleepTime += sleepFor;
    queue.putNowait(sleepFor);
  }

  // Create three worker tasks to process the queue concurrently.
  const tasks = [];
  for (let i = 0; i < 3; i++) tasks.push(createTask(() => worker(`worker-${i}`, queue)));

  // Wait until the queue is fully processed.
  const loop = getRunningLoop();
  const startedAt = loop.time();
  await queue.join();
  const totalSleptFor = loop.time() - startedAt;

  // Cancel our worker tasks.
  for (const task of tasks) task.cancel();
  // Wait until all worker tasks are cancelled.
  await gather(...tasks, { returnExceptions: true });

  console.log("====");
  console.log(`3 workers slept in parallel for ${totalSleptFor.toFixed(2)} seconds`);
  console.log(`total expected sleep time: ${totalSleepTime.toFixed(2)} seconds`);
}

await run(main);

// Expected output (the sleeps are random: {num} stands for each number):
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// worker-{num} has slept for {num} seconds
// ====
// 3 workers slept in parallel for {num} seconds
// total expected sleep time: {num} seconds
