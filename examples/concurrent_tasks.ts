/**
 * Three tasks created at once, then awaited one after another.
 *
 * They all start as soon as
 * `main` first waits, so they sleep at the same time: B finishes first, then A, then C, and the
 * program ends after about 3 seconds (not 6). Awaiting `t1` first does not make it run first;
 * it only decides what `main` waits for first.
 *
 * asyncio cheat sheet: "Tasks" (the second program).
 */
import { createTask, run, sleep } from "../src/index.js";

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
  const t1 = createTask(a);
  const t2 = createTask(b);
  const t3 = createTask(c);
  await t1;
  await t2;
  await t3;
}

await run(main);

// Expected output:
// A: started
// B: started
// C: started
// B: finished
// A: finished
// C: finished
