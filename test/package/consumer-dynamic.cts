// A CommonJS module that loads the package with `await import()`: what works with every
// `module` setting (node16 included) and every Node ≥ 20. scripts/check-package.mjs
// type-checks it with node16 and nodenext and runs the compiled .cjs.
async function main(): Promise<void> {
  const { gather, run, sleep } = await import("asyncio-ts");
  const { runTest } = await import("asyncio-ts/testing");
  const [a, b] = await run(() => gather(sleep(0.01, 1), sleep(0.01, "b")));
  const late: string = await runTest(() => sleep(3600, "late"));
  console.log("import()", a + 1, b, late);
}

void main();
