// Plain CommonJS against the installed tarball: `require()` of both entry points gives the ES
// module itself (Node's require(esm), no flag from Node 20.19 and 22.12), the same instance that
// `import()` gives, so `instanceof` holds across the two. scripts/check-package.mjs runs it.
/* global require, console */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose */
const assert = require("node:assert/strict");
const asyncio = require("asyncio-ts");
const testing = require("asyncio-ts/testing");

assert.equal(typeof asyncio.run, "function");
assert.equal(typeof testing.runTest, "function");
assert.throws(() => require("asyncio-ts/dist/internal/heap.js"), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" });

import("asyncio-ts").then(async (esm) => {
  assert.equal(esm.run, asyncio.run, "require() and import() give the same module");
  assert.ok(new testing.TestLoop() instanceof esm.EventLoop);
  const value = await asyncio.run(() => asyncio.sleep(0.01, "ok"));
  console.log("require.cjs", value);
});
