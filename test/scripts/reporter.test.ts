// scripts/test-reporter.mjs, the suite's reporter: a todo test is listed under "Known
// limitations (todo):", never as failed, and a passing run never says "Failed"; a real failure
// is still listed as failed and the run exits non-zero. Each case runs `node --test` on a small
// test file written to a temporary folder, once with the dot reporter and once with spec (CI).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { unsupportedOn } from "../support/runtime.js";

const REPORTER = fileURLToPath(new URL("../../scripts/test-reporter.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-reporter-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PASSING = `
import assert from "node:assert/strict";
import { it } from "node:test";
it("adds", () => assert.equal(1 + 1, 2));
it("a known limit", { todo: "JavaScript cannot do this" }, () => assert.equal("wanted", "got"));
`;
const FAILING = `${PASSING}
it("a real bug", () => assert.equal(2 + 2, 5, "two and two make five"));
`;

function write(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}

/** Runs `node --test` with the reporter on one file: its exit code and standard output. */
function runTests(file: string, ci: boolean, summary?: string): Promise<{ code: number | null; out: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // set for the files of a test run: the child would report to us
  delete env.FORCE_COLOR;
  delete env.CI;
  delete env.ASYNCIO_TS_TEST_SUMMARY;
  if (ci) env.CI = "1";
  if (summary !== undefined) env.ASYNCIO_TS_TEST_SUMMARY = summary;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--test", `--test-reporter=${REPORTER}`, file], {
      cwd: dir,
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

const NODE_RUNNER = "scripts/test-reporter.mjs is a reporter for Node's test runner (`node --test`), which this runtime does not have";
for (const ci of [false, true]) {
  describe(`the test reporter (${ci ? "spec, under CI" : "dot"})`, { skip: unsupportedOn({ bun: NODE_RUNNER, deno: NODE_RUNNER }) }, () => {
    it("lists a failing todo test as a known limitation, and a passing run never says Failed", async () => {
      const { code, out } = await runTests(write(`passing-${ci}.test.mjs`, PASSING), ci);
      assert.equal(code, 0, out);
      assert.doesNotMatch(out, /fail(ed|ing) tests/i, out);
      if (!ci) assert.doesNotMatch(out, /fail/i, out); // spec's summary says "ℹ fail 0"
      assert.doesNotMatch(out, /✖/, out);
      const todo = out.slice(out.indexOf("Known limitations (todo):"));
      assert.notEqual(out.indexOf("Known limitations (todo):"), -1, out);
      assert.match(todo, /a known limit # JavaScript cannot do this/);
      assert.match(todo, /in passing-\w+\.test\.mjs/);
      assert.match(todo, /does not pass, as documented: Expected values to be strictly equal/);
      assert.doesNotMatch(todo, /adds/);
    });

    it("still lists a real failure as failed, and the run exits non-zero", async () => {
      const { code, out } = await runTests(write(`failing-${ci}.test.mjs`, FAILING), ci);
      assert.equal(code, 1, out);
      const failed = /Failed tests:|failing tests:/.exec(out);
      assert.ok(failed !== null, out);
      const limits = out.indexOf("Known limitations (todo):");
      assert.ok(limits > failed.index, out);
      const failures = out.slice(failed.index, limits);
      assert.match(failures, /✖ a real bug/);
      assert.match(failures, /two and two make five/);
      assert.doesNotMatch(failures, /a known limit/);
      assert.match(out.slice(limits), /a known limit # JavaScript cannot do this/);
    });
  });
}

describe("the test reporter's counts (ASYNCIO_TS_TEST_SUMMARY)", { skip: unsupportedOn({ bun: NODE_RUNNER, deno: NODE_RUNNER }) }, () => {
  it("writes the run's tests as passed, failed, skipped and todo, a suite skipped whole as one skip", async () => {
    const file = write(
      "counted.test.mjs",
      `${FAILING}
it("not here", { skip: "no reason to run" }, () => {});
describe("a skipped suite", { skip: "whole" }, () => { it("inside", () => {}); it("inside too", () => {}); });
describe("a suite", () => { it("nested", () => {}); });
`.replace('import { it } from "node:test";', 'import { describe, it } from "node:test";'),
    );
    const summary = join(dir, "summary.json");
    const { code, out } = await runTests(file, false, summary);
    assert.equal(code, 1, out);
    assert.deepEqual(JSON.parse(readFileSync(summary, "utf8")), { pass: 2, fail: 1, skip: 2, todo: 1 });
  });
});
