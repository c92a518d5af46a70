// Runs the test suite with node's own test runner: every test/**/*.test.ts file, through tsx.
// Node 20's `--test` takes no globs, so the files are listed here.
// Usage: node scripts/test.mjs [substring ...]   (only files whose path contains a substring)
import { spawnSync } from "node:child_process";
import { URL, fileURLToPath } from "node:url";
import { testFiles } from "./test-files.mjs";

const filters = process.argv.slice(2);
const files = testFiles(filters);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(", ")}`);
  process.exit(1);
}
// node's "dot" reporter ("spec" when CI is set), with todo tests listed apart: see test-reporter.mjs.
const reporter = fileURLToPath(new URL("test-reporter.mjs", import.meta.url));
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--expose-gc", "--test", "--test-concurrency=2", `--test-reporter=${reporter}`, ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
