/**
 * run: the entry point of an asyncio program.
 *
 * `run(main)` makes an event loop, runs `main` as a task until it is done, then cancels the
 * tasks left over, shuts the loop down and resolves to `main`'s result.
 *
 * asyncio cheat sheet: "Running Program".
 */
import { run, sleep } from "../src/index.js";

async function main(): Promise<void> {
  await sleep(1); // seconds, as in asyncio
  console.log("hello");
}

await run(main);

// Expected output:
// hello
