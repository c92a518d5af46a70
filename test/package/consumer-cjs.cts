// A CommonJS module in TypeScript, against the packed package: `import` compiles to
// `require("asyncio-ts")`, which Node ≥ 20.19 / ≥ 22.12 loads (require(esm)). TypeScript accepts
// it with `module: "nodenext"` (5.8+) or `"node20"` (5.9+); `node16` refuses it (TS1479: use
// `await import()`, as consumer-dynamic.cts does). scripts/check-package.mjs type-checks it and
// runs the compiled .cjs.
import { type Task, createTask, run, sleep } from "asyncio-ts";
import { runTest } from "asyncio-ts/testing";

async function main(): Promise<void> {
  const value = await run(async () => {
    const task: Task<number> = createTask(() => sleep(0.01, 20));
    return (await task) + 1;
  });
  const virtual = await runTest(() => sleep(3600, "late"));
  console.log("require", value, virtual);
}

void main();
