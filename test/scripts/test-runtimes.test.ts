// scripts/test-runtimes.mjs, `npm run test:runtimes`: its command line, and the counts it reads
// from Bun's and Deno's JUnit reports (Deno lists a describe as a test case, its tests as
// `group > test` cases: a group is not counted unless it failed for a reason of its own).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

interface Counts {
  pass: number;
  fail: number;
  skip: number;
  todo: number;
}
interface Script {
  parseArgs(argv: string[]): { ids: string[]; offline: boolean; filters: string[] };
  countJunit(xml: string, kind: "bun" | "deno"): Counts;
}

const SCRIPT = new URL("../../scripts/test-runtimes.mjs", import.meta.url).href;
const { parseArgs, countJunit } = (await import(SCRIPT)) as Script;

describe("test-runtimes command line", () => {
  it("runs every runtime, oldest Node first, unless --only or --skip says otherwise", () => {
    assert.deepEqual(parseArgs([]), { ids: ["node22", "node24", "node26", "bun", "deno"], offline: false, filters: [] });
    assert.deepEqual(parseArgs(["--only", "deno,node24"]).ids, ["node24", "deno"]);
    assert.deepEqual(parseArgs(["--only=bun"]).ids, ["bun"]);
    assert.deepEqual(parseArgs(["--skip", "node22", "--skip=bun"]).ids, ["node24", "node26", "deno"]);
    assert.deepEqual(parseArgs(["--offline", "locks", "queues"]), {
      ids: ["node22", "node24", "node26", "bun", "deno"],
      offline: true,
      filters: ["locks", "queues"],
    });
  });

  it("refuses an unknown runtime or option, a flag without its list, and a selection left empty", () => {
    assert.throws(() => parseArgs(["--only", "node20x"]), /unknown runtime "node20x" in --only/);
    assert.throws(() => parseArgs(["--fast"]), /unknown option --fast/);
    assert.throws(() => parseArgs(["--skip"]), /--skip needs a list of runtimes/);
    assert.throws(() => parseArgs(["--only", "bun", "--skip", "bun"]), /no runtime left to run/);
  });
});

describe("test-runtimes counts from JUnit reports", () => {
  it("counts Bun's test cases: passed, failed, skipped, and todo apart", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="bun test" tests="4" failures="1" skipped="2">
  <testsuite name="a.test.ts" file="a.test.ts" tests="4">
    <testsuite name="group" file="a.test.ts" line="4" tests="4">
      <testcase name="ok" classname="group" time="0.01" file="a.test.ts" line="5" assertions="0" />
      <testcase name="skipped" classname="group" time="0" file="a.test.ts" line="6" assertions="0">
        <skipped />
      </testcase>
      <testcase name="broken" classname="group" time="0.004" file="a.test.ts" line="7" assertions="0">
        <failure type="AssertionError" message="1 !== 2">AssertionError: 1 !== 2</failure>
      </testcase>
      <testcase name="later" classname="group" time="0" file="a.test.ts" line="8" assertions="0">
        <skipped message="TODO" />
      </testcase>
    </testsuite>
  </testsuite>
</testsuites>`;
    assert.deepEqual(countJunit(xml, "bun"), { pass: 1, fail: 1, skip: 1, todo: 1 });
  });

  it("counts Deno's tests, not the describe groups holding them, but a group skipped whole once", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="6" failures="2" errors="0" time="0.022">
    <testsuite name="./a.test.ts" tests="3" disabled="1" errors="0" failures="1">
        <testcase name="skipped group" classname="./a.test.ts" time="0.000" line="3" col="1">
            <skipped/>
        </testcase>
        <testcase name="g2" classname="./a.test.ts" time="0.013" line="4" col="1">
            <failure message="1 test step failed">1 test step failed.</failure>
        </testcase>
        <testcase name="g3" classname="./a.test.ts" time="0.013" line="9" col="1">
            <failure message="Uncaught Error: in a hook">Error: in a hook</failure>
        </testcase>
    </testsuite>
    <testsuite name="ext:deno_node/testing.ts" tests="4" disabled="1" errors="0" failures="1">
        <testcase name="g2 &gt; c" classname="ext:deno_node/testing.ts" time="0.000" line="1" col="1">
            <skipped/>
        </testcase>
        <testcase name="g2 &gt; d" classname="ext:deno_node/testing.ts" time="0.003" line="1" col="1">
            <failure message="Uncaught AssertionError: no">AssertionError: no</failure>
        </testcase>
        <testcase name="g2 &gt; e" classname="ext:deno_node/testing.ts" time="0.000" line="1" col="1">
        </testcase>
        <testcase name="g3 &gt; f" classname="ext:deno_node/testing.ts" time="0.000" line="1" col="1">
        </testcase>
    </testsuite>
</testsuites>`;
    // Tests: c skipped, d failed, e and f passed; groups: "skipped group" one skip, g3's own
    // failure one failure, g2 (failed only through d) not counted.
    assert.deepEqual(countJunit(xml, "deno"), { pass: 2, fail: 2, skip: 2, todo: 0 });
  });
});
