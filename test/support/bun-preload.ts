/**
 * Loaded before every test file on Bun (scripts/test-runtimes.mjs passes it to `bun test` as
 * `--preload`): `globalThis.gc`, which the tests call to check what the library lets go of. Node
 * and Deno have it from `--expose-gc`; `bun test` takes no such flag, but has `Bun.gc(true)`.
 */
const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
const global = globalThis as { gc?: () => void };
if (bun !== undefined && global.gc === undefined) global.gc = () => bun.gc(true);
