// Running in threads: the cheat sheet's to_thread program.
//
// work() blocks its thread for 2 seconds. toThread runs it in a worker thread, so the loop goes
// on: gather waits for it and for a 1-second sleep together, and the whole run takes 2 seconds,
// not 3. work() is rebuilt in the worker from its source text, so it is self-contained: it
// formats the time with its own helper, not with now() below.
import { gather, run, sleep, toThread } from "../src/index.js";

/** The local time as Python's `time.strftime("%X")` prints it: HH:MM:SS. */
function now(): string {
  return new Date().toTimeString().slice(0, 8);
}

function work(): void {
  const strftime = (): string => new Date().toTimeString().slice(0, 8);
  console.log(`Work started ${strftime()}`);
  // time.sleep(2): block this (worker) thread for 2 seconds.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
  console.log(`Work done at ${strftime()}`);
}

async function main(): Promise<void> {
  console.log(`Started main at ${now()}`);

  await gather(toThread(work), sleep(1));

  console.log(`Finished main at ${now()}`);
}

await run(main);

// Expected output (HH:MM:SS clock times; "Work done" comes 2 s after "Work started"):
// Started main at {num}:{num}:{num}
// Work started {num}:{num}:{num}
// Work done at {num}:{num}:{num}
// Finished main at {num}:{num}:{num}
