/**
 * wait: wait on a set of tasks, get back the done and the pending.
 *
 * `wait` returns when a condition holds (here the default: all of them are done), with two
 * sets, the done and the pending. It never raises the tasks' errors and never cancels
 * anything, not even on a timeout.
 *
 * asyncio cheat sheet: "Wait".
 */
import { createTask, run, wait } from "../src/index.js";

async function work(): Promise<string> {
  return "done";
}

async function main(): Promise<void> {
  const task = createTask(work);
  const { done } = await wait(new Set([task])); // and `pending`: the set of those not done

  if (done.has(task)) {
    console.log("work is done");
  }
}

await run(main);

// Expected output:
// work is done
