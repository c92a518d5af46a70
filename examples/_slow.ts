// Job code for process_pool.ts and scale_out.ts that awaits asyncio-ts (it runs as a task of
// the child's or the worker's event loop), so that cancelling it is asyncio's cancellation.
import { isCancellation, sleep } from "../src/index.js";

/** Sleeps `seconds`; says so when its task is cancelled, and lets the cancellation through. */
export async function nap(seconds: number, where: string): Promise<string> {
  try {
    await sleep(seconds);
    return "woke up";
  } catch (error) {
    if (isCancellation(error)) console.log(`${where}: the job's task got CancelledError`);
    throw error;
  }
}
