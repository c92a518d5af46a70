// The `asyncio-ts worker` command, run from the sources (scale_out.ts starts it): the same as
// `npx asyncio-ts worker --queue … --redis … --allow …` in a project that installed asyncio-ts.
import { main } from "../src/bullmq/worker-cli.js";

process.exitCode = await main(process.argv.slice(2));
