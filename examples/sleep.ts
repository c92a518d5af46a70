/**
 * sleep: pause the current task for some seconds, then resolve to a value.
 *
 * Other tasks run meanwhile. The optional second argument is what the sleep resolves to.
 *
 * asyncio cheat sheet: "Sleeping".
 */
import { run, sleep } from "../src/index.js";

async function main(): Promise<void> {
  const result = await sleep(1, "done");
  console.log(result);
}

await run(main);

// Expected output:
// done
