/**
 * createTask: run a coroutine as a task, then await the task for its result.
 *
 * The task runs concurrently with the code that created it; it starts at the next iteration
 * of the loop (here, when `main` awaits it). It could also be cancelled with `task.cancel()`.
 *
 * asyncio cheat sheet: "Tasks".
 */
import { createTask, run } from "../src/index.js";

async function work(): Promise<string> {
  return "done";
}

async function main(): Promise<void> {
  const task = createTask(work); // a thunk: the task calls work() in its first step
  const result = await task;
  console.log(result);
}

await run(main);

// Expected output:
// done
