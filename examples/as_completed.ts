/**
 * asCompleted: take the results of concurrent coroutines in the order they complete.
 *
 * `coroutine()` makes `a`, `b` and `c` behave as Python coroutine functions: calling one runs
 * nothing and returns a lazy coroutine object, so `[a(), b(), c()]` is the same list of three
 * not-yet-started coroutines as in the Python program. `asCompleted` schedules each as a task.
 *
 * Why the start order differs from the cheat sheet's output: Python's `as_completed` puts the
 * awaitables in a set before scheduling them, so they start in the set's iteration order,
 * which depends on hashes (the cheat sheet happened to print C, B, A). Ours keeps the order
 * given: A, B, C. The completion order, which is the point of the program, is the same.
 *
 * asyncio cheat sheet: "As Completed".
 */
import { asCompleted, coroutine, run, sleep } from "../src/index.js";

const a = coroutine(async function a(): Promise<string> {
  console.log("A: started");
  await sleep(2);
  console.log("A: finished");
  return "a";
});

const b = coroutine(async function b(): Promise<string> {
  console.log("B: started");
  await sleep(1);
  console.log("B: finished");
  return "b";
});

const c = coroutine(async function c(): Promise<string> {
  console.log("C: started");
  await sleep(3);
  console.log("C: finished");
  return "c";
});

async function main(): Promise<void> {
  const work = [a(), b(), c()];
  for (const coro of asCompleted(work)) {
    const result = await coro;
    console.log(result);
  }
}

await run(main);

// Expected output (Python prints the three "started" lines as C, B, A: see above):
// A: started
// B: started
// C: started
// B: finished
// b
// A: finished
// a
// C: finished
// c
