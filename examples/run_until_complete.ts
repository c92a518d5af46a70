/**
 * runUntilComplete: the low-level way to run a program, with a loop of your own.
 *
 * As programs did before `run()` existed: make an event loop, run it until the main coroutine
 * is done, close it. `run()` does the same and also cancels the tasks left over and shuts the
 * default executor down.
 *
 * The cheat sheet's Python uses `asyncio.get_event_loop()`, which since Python 3.14 raises
 * `RuntimeError` when no loop is set; `newEventLoop()` is the way that stays.
 * `runUntilComplete` returns a promise: await it from the top level of the module.
 *
 * asyncio cheat sheet: "Event loops".
 */
import { gather, newEventLoop, sleep } from "../src/index.js";

async function a(): Promise<void> {
  console.log("A: started");
  await sleep(2);
  console.log("A: finished");
}

async function b(): Promise<void> {
  console.log("B: started");
  await sleep(1);
  console.log("B: finished");
}

async function c(): Promise<void> {
  console.log("C: started");
  await sleep(3);
  console.log("C: finished");
}

async function main(): Promise<void> {
  await gather(a, b, c);
}

const loop = newEventLoop();
try {
  await loop.runUntilComplete(main);
} finally {
  loop.close();
}

// Expected output:
// A: started
// B: started
// C: started
// B: finished
// A: finished
// C: finished
