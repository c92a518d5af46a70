/**
 * Awaiting a coroutine: it runs inline, and the `await` gives its return value.
 *
 * The awaited function runs in the caller's task, and its return value is the value of the
 * `await` expression.
 *
 * In Python, `work()` makes a coroutine object that runs only when awaited; in JavaScript,
 * `work()` starts at once and `await` waits for it. Awaited on the spot, the two behave the
 * same. (For a lazy object that runs only when awaited or scheduled, see `coroutine()` and
 * examples/as_completed.ts.)
 *
 * asyncio cheat sheet: "Coroutines".
 */
import { run } from "../src/index.js";

async function work(): Promise<string> {
  return "done";
}

async function main(): Promise<void> {
  const result = await work();
  console.log(result);
}

await run(main);

// Expected output:
// done
