/**
 * gather: run three coroutines concurrently and collect their results in order.
 *
 * Each one sleeps (2, 1 and 3 seconds); run one after another they would take 6 seconds, run
 * concurrently the program ends after a little over 3. The results come back in the order the
 * coroutines were given, not the order they finished.
 *
 * The cheat sheet calls `gather(a(), b(), c())`. In JavaScript, calling an async function
 * starts it at once, in the caller's task; so we hand over the functions themselves (thunks),
 * and `gather` starts each one inside its own task, where it can be cancelled.
 *
 * asyncio cheat sheet: "Rationale" and "Running Tasks Concurrently".
 */
import { gather, run, sleep } from "../src/index.js";

async function a(): Promise<string> {
  console.log("A: started");
  await sleep(2);
  console.log("A: finished");
  return "a";
}

async function b(): Promise<string> {
  console.log("B: started");
  await sleep(1);
  console.log("B: finished");
  return "b";
}

async function c(): Promise<string> {
  console.log("C: started");
  await sleep(3);
  console.log("C: finished");
  return "c";
}

/** A list of strings as Python prints it: ['a', 'b', 'c']. */
function pyList(items: readonly string[]): string {
  return `[${items.map((s) => `'${s}'`).join(", ")}]`;
}

async function main(): Promise<void> {
  const result = await gather(a, b, c); // typed as [string, string, string]
  console.log(`Result: ${pyList(result)}`);
}

await run(main);

// Expected output:
// A: started
// B: started
// C: started
// B: finished
// A: finished
// C: finished
// Result: ['a', 'b', 'c']
