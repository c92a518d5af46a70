/**
 * waitFor: give up on a one-hour job after 1 second.
 *
 * When the second is up, the job is cancelled (its `sleep` throws `CancelledError`, so a
 * `finally` in it would run), and `waitFor` rejects with `TimeoutError`.
 *
 * asyncio cheat sheet: "Timeouts".
 */
import { TimeoutError, run, sleep, waitFor } from "../src/index.js";

const HOUR = 3600; // seconds

async function work(): Promise<string> {
  await sleep(HOUR);
  return "done";
}

async function main(): Promise<void> {
  try {
    await waitFor(work, 1.0);
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    console.log("timeout!");
  }
}

await run(main);

// Expected output:
// timeout!
