/**
 * The demo runner: runs every program in examples/, each in its own child process, a few at a
 * time, and prints for each a header, the program's output and how long it took — in the order
 * below, one block after another, as soon as the program and all before it are done (the block
 * at the head streams live). The programs mostly sleep, so running several at once takes the
 * demo from the sum of their times (about 40 s) to about 15 s on 2 cores.
 *
 *   npm run demo                  run them all
 *   npm run demo -- gather wait   only the examples whose file name contains one of the words
 *   npm run examples              run them all and compare each output with the expected
 *                                 block at the end of its file; exit 1 when one differs
 *
 * Options (after `--` with npm): `--check` (what `npm run examples` passes), `--timeout=SECONDS`
 * (a program still running after that is killed and counts as failed; default 30), `--jobs=N`
 * (how many programs run at once; default 5; `--jobs=1` runs them one after another).
 *
 * An example that cannot run on this machine (it needs a program that is not installed) prints
 * one line saying why and exits with code 77 (automake's "skipped"): the demo reports it as
 * skipped, not failed.
 *
 * Which files run: every examples/*.ts except this one and files whose name starts with `_`
 * (helpers). The cheat-sheet programs come first, in the cheat sheet's order; the rest follow
 * alphabetically. Programs that need the same resource (SHARED: a fixed port) never run at the
 * same time.
 *
 * The expected block (see examples/README.md): the file ends with a run of `//` lines, the
 * first of which starts with `// Expected output` (the rest of that line is a note); each line
 * after it is one line of expected standard output, `// ` stripped. In those lines `{num}` stands for
 * a number (`-?\d+(\.\d+)?`: `0.26`, `8888`, `-15`) and `{any}` for any text, so random sleeps,
 * timings, ports and clock times can be checked. Everything else is compared literally; trailing
 * spaces and trailing empty lines are ignored on both sides. Standard error is shown, never
 * compared; a non-zero exit code is a failure.
 */
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join, relative, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";

const EXAMPLES_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(EXAMPLES_DIR);
const SELF = basename(fileURLToPath(import.meta.url));

/** The order of the asyncio cheat sheet; a prefix matches `tcp_echo_server.ts`, `tutorial_1.ts`. */
const ORDER = [
  "gather",
  "run",
  "sleep",
  "coroutine",
  "create_task",
  "concurrent_tasks",
  "shield",
  "wait_for",
  "wait",
  "as_completed",
  "to_thread",
  "run_until_complete",
  "queue_workers",
  "producer_consumer",
  "tcp_echo",
  "event_listener",
  "subprocess",
  "tutorial_",
  "process_pool",
  "scale_out",
];

/**
 * What a program needs for itself while it runs: programs with the same entry never run at the
 * same time. An example that listens on a fixed port goes here (one on port 0 needs nothing).
 */
const SHARED: Readonly<Record<string, string>> = {
  "tcp_echo_server.ts": "port 8888",
  "tcp_echo_client.ts": "port 8888", // connects to 8888, and starts its twin server there
};

/**
 * Programs whose output depends on timing finer than a busy machine keeps: each runs with no
 * other program of the demo running (the ones before it finish first; the ones after it wait).
 */
const ALONE: ReadonlySet<string> = new Set([
  "producer_consumer.ts", // its order of lines needs a 10 ms sleep to end before a 100 ms one
]);

interface Options {
  check: boolean;
  timeout: number;
  jobs: number;
  filters: string[];
}

function parseArgs(argv: string[]): Options {
  const options: Options = { check: false, timeout: 30, jobs: 5, filters: [] };
  for (const arg of argv) {
    if (arg === "--check") options.check = true;
    else if (arg.startsWith("--timeout=")) {
      const seconds = Number(arg.slice("--timeout=".length));
      if (!(seconds > 0)) throw new RangeError(`--timeout must be a positive number of seconds, got ${arg}`);
      options.timeout = seconds;
    } else if (arg.startsWith("--jobs=")) {
      const jobs = Number(arg.slice("--jobs=".length));
      if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`--jobs must be a whole number of at least 1, got ${arg}`);
      options.jobs = jobs;
    } else if (arg.startsWith("-")) {
      throw new RangeError(`unknown option ${arg}: use --check, --timeout=SECONDS, --jobs=N, or words to filter by`);
    } else options.filters.push(arg);
  }
  return options;
}

function rank(file: string): number {
  const name = file.replace(/\.ts$/, "");
  const exact = ORDER.indexOf(name);
  if (exact >= 0) return exact;
  const prefix = ORDER.findIndex((p) => p.endsWith("_") && name.startsWith(p));
  if (prefix >= 0) return prefix;
  const family = ORDER.findIndex((p) => name.startsWith(`${p}_`));
  return family >= 0 ? family : ORDER.length;
}

function findExamples(filters: readonly string[]): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && f !== SELF && !f.startsWith("_"))
    .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
    .sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
}

// ---------------------------------------------------------------- expected blocks

const MARKER = /^\/\/ ?expected output\b/i;

/**
 * The expected lines of an example, or `null` when it has no expected block. The block is the
 * last run of `//` lines in the file; it starts at its last line that starts with
 * `// Expected output`.
 */
function expectedBlock(source: string): string[] | null {
  const lines = trimTrailingEmpty(source.replace(/\r\n/g, "\n").split("\n").map((l) => l.trimEnd()));
  let start = lines.length;
  while (start > 0 && (lines[start - 1] as string).startsWith("//")) start--;
  const run = lines.slice(start);
  let marker = -1;
  run.forEach((line, i) => {
    if (MARKER.test(line)) marker = i;
  });
  if (marker < 0) return null;
  return trimTrailingEmpty(run.slice(marker + 1).map((l) => l.replace(/^\/\/ ?/, "")));
}

function trimTrailingEmpty(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1] === "") end--;
  return lines.slice(0, end);
}

const PLACEHOLDERS: Record<string, string> = {
  "{num}": "-?\\d+(?:\\.\\d+)?",
  "{any}": ".*",
};

/** The regular expression for one expected line: literal text, `{num}` and `{any}`. */
function linePattern(expected: string): RegExp {
  const parts = expected.split(/(\{num\}|\{any\})/);
  const source = parts
    .map((part) => PLACEHOLDERS[part] ?? part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("");
  return new RegExp(`^${source}$`);
}

/** The first line (0-based) where `actual` and `expected` differ, or -1 when they match. */
function firstMismatch(actual: readonly string[], expected: readonly string[]): number {
  const n = Math.max(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    const got = actual[i];
    const want = expected[i];
    if (got === undefined || want === undefined || !linePattern(want).test(got)) return i;
  }
  return -1;
}

function outputLines(text: string): string[] {
  return trimTrailingEmpty(text.replace(/\r\n/g, "\n").split("\n").map((l) => l.trimEnd()));
}

// ---------------------------------------------------------------- running in order

/** Where a job's output goes: the standard output or error of the demo. */
export interface Output {
  write(stream: "stdout" | "stderr", chunk: string | Uint8Array): void;
}

export interface Job<R> {
  /** Printed (to stdout) before the job's output. */
  header: string;
  /** Jobs with the same lock never run at the same time. */
  lock?: string | undefined;
  /** Runs with no other job running: it waits for the ones before it, the ones after wait for it. */
  alone?: boolean | undefined;
  /** Runs the job, writing its output to `out` as it comes. */
  run(out: Output): Promise<R>;
  /** Printed (to stdout) after the job's output, once the job is done. */
  footer(result: R): string;
}

/**
 * Runs the jobs, at most `limit` at a time, and prints each one as a block — header, output,
 * footer — in the order given: a job's output is held until every job before it is printed,
 * then the job at the head prints live. Jobs start in order, except that one waiting for a lock
 * lets the next ones pass (a job that runs alone does not). Once `stopped()` is true no job
 * starts; the promise resolves when the running ones are done, after the blocks of every job
 * that ran are printed.
 */
export function runInOrder<R>(
  jobs: readonly Job<R>[],
  limit: number,
  out: Output,
  stopped: () => boolean = () => false,
): Promise<void> {
  type State = { started: boolean; done: boolean; result?: R; held: Array<["stdout" | "stderr", string | Uint8Array]> };
  const states: State[] = jobs.map(() => ({ started: false, done: false, held: [] }));
  const locks = new Set<string>();
  let running = 0;
  let head = 0; // the first job not printed yet
  let headShown = false; // whether its header (and what it held) is printed

  /** Prints what can be printed; at the end (`final`), jobs that never started are skipped. */
  function advance(final: boolean): void {
    while (head < jobs.length) {
      const job = jobs[head] as Job<R>;
      const state = states[head] as State;
      if (!state.started) {
        if (!final) return;
        head++;
        continue;
      }
      if (!headShown) {
        headShown = true;
        out.write("stdout", job.header);
        for (const [stream, chunk] of state.held) out.write(stream, chunk);
        state.held = [];
      }
      if (!state.done) return;
      out.write("stdout", job.footer(state.result as R));
      head++;
      headShown = false;
    }
  }

  return new Promise((resolve, reject) => {
    let failed = false;
    function launch(): void {
      for (let i = head; i < jobs.length && running < limit && !failed && !stopped(); i++) {
        const job = jobs[i] as Job<R>;
        const state = states[i] as State;
        if (state.started) {
          if (job.alone === true && !state.done) break;
          continue;
        }
        if (job.alone === true && running > 0) break;
        if (job.lock !== undefined && locks.has(job.lock)) continue;
        state.started = true;
        running++;
        if (job.lock !== undefined) locks.add(job.lock);
        const output: Output = {
          write(stream, chunk) {
            if (head === i && headShown) out.write(stream, chunk);
            else state.held.push([stream, chunk]);
          },
        };
        job.run(output).then(
          (result) => {
            running--;
            if (job.lock !== undefined) locks.delete(job.lock);
            state.done = true;
            state.result = result;
            advance(false);
            launch();
            if (running === 0 && !failed) {
              advance(true);
              resolve();
            }
          },
          (error: unknown) => {
            failed = true;
            reject(error);
          },
        );
        if (job.alone === true) break;
      }
    }
    launch();
    advance(false);
    if (running === 0) {
      advance(true);
      resolve();
    }
  });
}

// ---------------------------------------------------------------- running

/** The exit code of an example that cannot run here (it printed why): skipped, not failed. */
const SKIPPED = 77;

interface Outcome {
  stdout: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  seconds: number;
}

let interrupted = false;
const running = new Set<ReturnType<typeof spawn>>();

/** Runs one example with node and tsx, writing its output to `out` as it comes. */
function runExample(path: string, timeout: number, out: Output): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--import", "tsx", path], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeout * 1000);
    child.stdout.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      out.write("stdout", chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => out.write("stderr", chunk));
    child.on("error", (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({
        stdout: Buffer.concat(chunks).toString("utf8"),
        code,
        signal,
        timedOut,
        seconds: (performance.now() - started) / 1000,
      });
    });
  });
}

/** The first sentence of the file's leading comment (`/** … *\/` or `//` lines): what it shows. */
function summary(source: string): string {
  const head = source.trimStart();
  let lines: string[];
  const doc = /^\/\*\*?([\s\S]*?)\*\//.exec(head);
  if (doc !== null) lines = (doc[1] as string).split("\n").map((l) => l.replace(/^\s*\* ?/, ""));
  else {
    const comment = /^(?:\/\/.*(?:\n|$))+/.exec(head);
    if (comment === null) return "";
    lines = comment[0].split("\n").map((l) => l.replace(/^\/\/ ?/, ""));
  }
  const paragraph = lines.map((l) => l.trim());
  const blank = paragraph.findIndex((l, i) => l === "" && i > 0);
  const text = paragraph.slice(0, blank < 0 ? undefined : blank).join(" ").trim();
  const end = text.search(/\.(\s|$)/);
  return end < 0 ? text : text.slice(0, end + 1);
}

/** What went wrong, or `null` when the example passed. */
function verdict(outcome: Outcome, expected: string[] | null, check: boolean): string | null {
  if (outcome.timedOut) return "killed: still running after the timeout";
  if (outcome.signal !== null) return `ended by signal ${outcome.signal}`;
  if (outcome.code === SKIPPED) return null;
  if (outcome.code !== 0) return `exited with code ${outcome.code}`;
  if (!check) return null;
  if (expected === null) return "no expected output block (`// Expected output:` lines at the end)";
  const actual = outputLines(outcome.stdout);
  const at = firstMismatch(actual, expected);
  if (at < 0) return null;
  const show = (line: string | undefined): string => (line === undefined ? "(no line)" : JSON.stringify(line));
  return (
    `output differs at line ${at + 1}: expected ${show(expected[at])}, got ${show(actual[at])}\n` +
    `  expected:\n${expected.map((l, i) => `${i === at ? "  > " : "    "}${l}`).join("\n")}\n` +
    `  got:\n${actual.map((l, i) => `${i === at ? "  > " : "    "}${l}`).join("\n")}`
  );
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const files = findExamples(options.filters);
  if (files.length === 0) {
    console.error(`no example matches ${options.filters.join(", ")}`);
    return 1;
  }
  process.on("SIGINT", () => {
    // The terminal sends Ctrl-C to the running example too (same process group), which stops
    // as run() does on Ctrl-C; the demo stops after it. A second Ctrl-C ends the demo at once.
    if (interrupted) {
      for (const child of running) child.kill("SIGKILL");
      process.exit(130);
    }
    interrupted = true;
  });

  const failures: string[] = [];
  const skipped: string[] = [];
  const started = performance.now();
  const jobs = files.map((file): Job<Outcome> => {
    const path = join(EXAMPLES_DIR, file);
    const source = readFileSync(path, "utf8");
    const about = summary(source);
    return {
      header: `\n=== ${relative(ROOT, path)}${about === "" ? "" : ` — ${about}`}\n`,
      lock: SHARED[file],
      alone: ALONE.has(file),
      run: (out) => runExample(path, options.timeout, out),
      footer(outcome) {
        let text = outcome.stdout === "" ? "(no output)\n" : "";
        const problem = verdict(outcome, expectedBlock(source), options.check);
        const skip = outcome.code === SKIPPED && problem === null;
        if (skip) skipped.push(file);
        const checked = skip ? ", skipped" : options.check && problem === null ? ", output as expected" : "";
        text += `--- ${outcome.seconds.toFixed(2)} s${checked}\n`;
        if (problem !== null && !interrupted) {
          text += `FAILED ${file}: ${problem}\n`;
          failures.push(file);
        }
        return text;
      },
    };
  });
  await runInOrder(jobs, options.jobs, { write: (stream, chunk) => process[stream].write(chunk) }, () => interrupted);

  const total = ((performance.now() - started) / 1000).toFixed(1);
  if (interrupted) {
    console.log("\ninterrupted");
    return 130;
  }
  const what = options.check ? "checked" : "run";
  const skips = skipped.length === 0 ? "" : ` (${skipped.length} skipped: ${skipped.join(", ")})`;
  if (failures.length === 0) {
    console.log(`\n${files.length} examples ${what} in ${total} s: all good${skips}`);
    return 0;
  }
  console.log(`\n${files.length} examples ${what} in ${total} s: ${failures.length} failed: ${failures.join(", ")}${skips}`);
  return 1;
}

// Run as a program (not imported, as the test of runInOrder does).
if (resolvePath(process.argv[1] ?? "") === fileURLToPath(import.meta.url)) process.exitCode = await main();
