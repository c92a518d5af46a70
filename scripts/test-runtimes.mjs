// Runs the test suite on every runtime asyncio-ts supports: the Node lines of SUPPORTED_NODES
// (22, 24, 26), Bun and Deno, each installed from the npm registry and cached between runs by
// scripts/runtimes.mjs. Ends with one line per runtime: its version, its counts, its time.
//
// Node: scripts/test.mjs under that Node's binary (it runs `node --test` on process.execPath),
// the counts read from the file the reporter writes (ASYNCIO_TS_TEST_SUMMARY).
// Bun and Deno: each test file on its own, two at a time as node's runner does, unmodified:
// `bun test <file>` (Bun runs TypeScript and has node:test) and `deno test -A <file>` (Deno's
// node:test compatibility), with sloppy imports on (the sources import `./x.js` for `./x.ts`)
// through DENO_UNSTABLE_SLOPPY_IMPORTS, which the children the tests start inherit. Each file's
// counts come from the runtime's JUnit report. A file's output is shown when it fails.
// Tests of an area a runtime cannot support are skipped there by test/support/runtime.ts's
// `unsupportedOn`, which prints `SKIP on <runtime>: <reason>`; those lines are listed under the
// counts, so nothing is skipped silently.
//
// Counts: tests, not the suites holding them; a suite skipped whole counts as one skip (Bun
// reports nothing of such a suite: its SKIP line is what shows it); a file that cannot load,
// crashes or times out counts as one failure.
//
// Usage: node scripts/test-runtimes.mjs [--only id,...] [--skip id,...] [--offline] [substring ...]
//   ids: node22 node24 node26 bun deno; substrings select test files as in scripts/test.mjs.
//   The exit status is non-zero when a runtime had a failure or could not be had.
//
// CI budget (2 cores; the whole of CI stays under 30 minutes): `npm test` is the Node 22 run;
// CI adds `npm run test:runtimes -- --skip node22`, within 12 minutes: measured on a shared
// 2-core machine (two runs) at 2m08s and 3m27s for Node 24, 2m04s and 2m55s for Node 26, 57s
// and 56s for Bun, 1m37s and 1m51s for Deno (the whole suite on each; the README's support
// table says what Bun and Deno skip). Node 22 took 2m02s and 3m52s.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { URL, fileURLToPath } from "node:url";
import { RUNTIMES, SUPPORTED_NODES, ensureRuntime } from "./runtimes.mjs";
import { testFiles } from "./test-files.mjs";

const ALL = [...SUPPORTED_NODES, "bun", "deno"];
/** A file still running after this long is killed and counted as a failure (a hang). */
const FILE_TIMEOUT_MS = 10 * 60_000;
/** Bun's per-test timeout (its default, 5 s, is far below what node's runner allows: none). */
const BUN_TEST_TIMEOUT_MS = 120_000;

const USAGE = `usage: node scripts/test-runtimes.mjs [--only id,...] [--skip id,...] [--offline] [substring ...]
  ids: ${ALL.join(", ")}`;

/** A mistake on the command line: printed with the usage, exit status 2. */
class UsageError extends Error {}

/** The command line: the runtimes to run (in ALL's order), `--offline`, the file substrings. */
export function parseArgs(argv) {
  let only = null;
  const skip = new Set();
  let offline = false;
  const filters = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith("--") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a list of runtimes`);
      const ids = v.split(",").filter((id) => id !== "");
      for (const id of ids) if (!ALL.includes(id)) throw new UsageError(`unknown runtime ${JSON.stringify(id)} in ${flag}`);
      return ids;
    };
    if (flag === "--only") only = value();
    else if (flag === "--skip") for (const id of value()) skip.add(id);
    else if (flag === "--offline") offline = true;
    else if (flag.startsWith("--")) throw new UsageError(`unknown option ${flag}`);
    else filters.push(arg);
  }
  const ids = (only ?? ALL).filter((id) => !skip.has(id));
  if (ids.length === 0) throw new UsageError("no runtime left to run");
  return { ids: ALL.filter((id) => ids.includes(id)), offline, filters };
}

function duration(ms) {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** Runs a command, resolving its exit code and (unless inherited) its output, killed after `timeoutMs`. */
function run(command, args, { env, inherit = false, timeoutMs = 0 }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: inherit ? "inherit" : ["ignore", "pipe", "pipe"] });
    let output = "";
    let timedOut = false;
    if (!inherit) {
      child.stdout.setEncoding("utf8").on("data", (chunk) => (output += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    }
    const timer = timeoutMs > 0 ? setTimeout(() => ((timedOut = true), child.kill("SIGKILL")), timeoutMs) : undefined;
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, output: `${output}\n${error.message}`, timedOut });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, output, timedOut });
    });
  });
}

function decode(text) {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#10;/g, "\n")
    .replace(/&amp;/g, "&");
}

/** The test cases of a JUnit report: name, and whether each failed, was skipped, or is a todo. */
function junitCases(xml) {
  const cases = [];
  const pattern = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let match; (match = pattern.exec(xml)) !== null; ) {
    const attributes = match[1];
    const body = match[3] ?? "";
    const name = decode(/\bname="([^"]*)"/.exec(attributes)?.[1] ?? "");
    const failure = /<(failure|error)\b(?:[^>]*\bmessage="([^"]*)")?/.exec(body);
    const skipped = /<skipped\b([^>]*)/.exec(body);
    cases.push({
      name,
      failed: failure !== null,
      message: failure === null ? "" : decode(failure[2] ?? ""),
      skipped: skipped !== null && failure === null,
      todo: skipped !== null && /message="TODO/.test(skipped[1]),
    });
  }
  return cases;
}

/**
 * A file's counts from its JUnit report. Deno lists a `describe` as a test case and its tests as
 * cases named `group > test`: a case that has such children is not counted, unless it failed for
 * a reason of its own (not "N test steps failed").
 */
export function countJunit(xml, kind) {
  let cases = junitCases(xml);
  if (kind === "deno") {
    const names = cases.map((c) => c.name);
    cases = cases.filter((c) => {
      const parent = names.some((n) => n.startsWith(`${c.name} > `));
      return !parent || (c.failed && !/^\d+ test steps? failed/.test(c.message));
    });
  }
  const counts = { pass: 0, fail: 0, skip: 0, todo: 0 };
  for (const c of cases) {
    if (c.failed) counts.fail++;
    else if (c.todo) counts.todo++;
    else if (c.skipped) counts.skip++;
    else counts.pass++;
  }
  return counts;
}

/** The runtime's output for a failed file, less the lines of tests that passed. */
function failureOutput(output, kind) {
  const passed = kind === "bun" ? /^\(pass\) / : /\.\.\.( ok \(\d.*)?$/;
  return output
    .split("\n")
    .filter((line) => !passed.test(line))
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

const SKIP_LINE = /^SKIP on (?:Bun|Deno|Node): .*$/gm;

/** The suite on a Node binary, through scripts/test.mjs. */
async function runNode(found, filters, scratch) {
  const summary = join(scratch, `summary-${found.version}.json`);
  const env = { ...process.env, ASYNCIO_TS_TEST_SUMMARY: summary };
  // The tests that start `node` by name get this Node too.
  env.PATH = `${dirname(found.bin)}${delimiter}${env.PATH ?? ""}`;
  const { code } = await run(found.bin, [fileURLToPath(new URL("test.mjs", import.meta.url)), ...filters], { env, inherit: true });
  let counts;
  try {
    counts = JSON.parse(readFileSync(summary, "utf8"));
  } catch {
    counts = { pass: 0, fail: 1, skip: 0, todo: 0 };
    console.log(`test-runtimes: ${found.label}: the run ended (status ${code}) without the reporter's counts`);
  }
  if (code !== 0 && counts.fail === 0) counts.fail = 1;
  return { counts, skips: [] };
}

/** The suite on Bun or Deno, a file at a time, two files at once. */
async function runEach(id, found, files, scratch) {
  const kind = RUNTIMES[id].kind;
  const total = { pass: 0, fail: 0, skip: 0, todo: 0 };
  const skips = [];
  const env = { ...process.env, DENO_UNSTABLE_SLOPPY_IMPORTS: "1", NO_COLOR: "1" };
  delete env.FORCE_COLOR;
  delete env.NODE_TEST_CONTEXT;
  let next = 0;
  const width = Math.max(...files.map((f) => f.length));
  async function lane(lane) {
    while (next < files.length) {
      const index = next++;
      const file = files[index];
      const report = join(scratch, `${id}-${lane}-${index}.xml`);
      const args =
        kind === "bun"
          ? ["test", "--preload", "./test/support/bun-preload.ts", `--timeout=${BUN_TEST_TIMEOUT_MS}`, "--reporter=junit", `--reporter-outfile=${report}`, `./${file}`]
          : ["test", "-A", "--no-check", "--v8-flags=--expose-gc", `--junit-path=${report}`, file];
      const started = Date.now();
      const { code, output, timedOut } = await run(found.bin, args, { env, timeoutMs: FILE_TIMEOUT_MS });
      let counts;
      try {
        counts = countJunit(readFileSync(report, "utf8"), kind);
      } catch {
        counts = { pass: 0, fail: 0, skip: 0, todo: 0 };
      }
      const broken = timedOut || (code !== 0 && counts.fail === 0);
      if (broken) counts.fail++;
      for (const key of Object.keys(total)) total[key] += counts[key];
      const fileSkips = [...new Set(output.match(SKIP_LINE) ?? [])];
      skips.push(...fileSkips);
      const mark = counts.fail > 0 ? "✖" : "✔";
      const extra = [counts.skip > 0 ? `skip ${counts.skip}` : "", counts.todo > 0 ? `todo ${counts.todo}` : ""].filter(Boolean).join("  ");
      console.log(
        `${mark} ${file.padEnd(width)}  pass ${String(counts.pass).padStart(3)}  fail ${counts.fail}${extra ? `  ${extra}` : ""}  (${duration(Date.now() - started)})`,
      );
      for (const line of fileSkips) console.log(`    ${line}`);
      if (counts.fail > 0) {
        const why = timedOut ? `killed after ${duration(FILE_TIMEOUT_MS)}` : broken ? `exited with status ${code} outside any test` : "";
        if (why) console.log(`    ${why}`);
        console.log(indent(failureOutput(output, kind)));
      }
    }
  }
  await Promise.all([lane(0), lane(1)]);
  return { counts: total, skips };
}

function indent(text) {
  return text
    .split("\n")
    .map((line) => `    │ ${line}`)
    .join("\n");
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`test-runtimes: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  const { ids, offline, filters } = options;
  const files = testFiles(filters);
  if (files.length === 0) {
    console.error(`test-runtimes: no test files match ${filters.join(", ")}`);
    process.exit(2);
  }
  const scratch = mkdtempSync(join(tmpdir(), "asyncio-ts-runtimes-"));
  const results = [];
  try {
    for (const id of ids) {
      const found = ensureRuntime(id, { offline });
      if (!found.ok) {
        console.log(`\n== ${RUNTIMES[id].label}: unavailable: ${found.reason}`);
        results.push({ label: RUNTIMES[id].label, unavailable: found.reason });
        continue;
      }
      console.log(`\n== ${found.label} (${found.bin})`);
      const started = Date.now();
      const { counts, skips } = RUNTIMES[id].kind === "node" ? await runNode(found, filters, scratch) : await runEach(id, found, files, scratch);
      results.push({ label: found.label, counts, skips, ms: Date.now() - started });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  // What was skipped where, then the counts: the output ends with one line per runtime.
  for (const r of results) {
    if (!r.skips || r.skips.length === 0) continue;
    const reasons = new Map();
    for (const line of r.skips) {
      const [, reason, file] = /^SKIP on \w+: (.*) \(([^()]*)\)$/.exec(line) ?? [null, line, "?"];
      reasons.set(reason, [...(reasons.get(reason) ?? []), file]);
    }
    console.log(`\nSkipped on ${r.label}:`);
    for (const [reason, where] of reasons) console.log(`  ${reason}\n    in ${where.join(", ")}`);
  }
  console.log(`\n== ${files.length} test file${files.length === 1 ? "" : "s"} on ${results.length} runtime${results.length === 1 ? "" : "s"}`);
  const labelWidth = Math.max(...results.map((r) => r.label.length));
  for (const r of results) {
    if (r.unavailable) {
      console.log(`${r.label.padEnd(labelWidth)}  unavailable: ${r.unavailable}`);
      continue;
    }
    const { pass, fail, skip, todo } = r.counts;
    const todoText = todo > 0 ? `  todo ${todo}` : "";
    console.log(
      `${r.label.padEnd(labelWidth)}  pass ${String(pass).padStart(4)}  fail ${String(fail).padStart(2)}  skip ${String(skip).padStart(3)}${todoText}  (${duration(r.ms)})`,
    );
  }
  // Only a platform the runtimes do not exist for is no failure: the repo's own `npm test` stands.
  const failed = results.some((r) => (r.unavailable ? !/runs on linux-x64 only/.test(r.unavailable) : r.counts.fail > 0));
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
