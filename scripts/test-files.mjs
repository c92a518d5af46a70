// The suite's test files: every test/**/*.test.ts (fixtures left out), sorted; with substrings,
// only the files whose path contains one of them. scripts/test.mjs and scripts/test-runtimes.mjs
// share it.
import { readdirSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "fixtures" ? [] : find(path);
    return entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The test files under `test/` (relative paths) whose path contains one of `filters`, or all. */
export function testFiles(filters = []) {
  return find("test")
    .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
    .sort();
}
