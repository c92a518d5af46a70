// The test suite's reporter (scripts/test.mjs passes it to `node --test`): node's own "dot"
// reporter ("spec" when CI is set), except for todo tests.
//
// A todo test documents behaviour we would want but cannot have (say, a limit of JavaScript):
// node does not count its failure, and the run passes, but both built-in reporters list it under
// "Failed tests:" / "failing tests:", so a passing run would end by saying "Failed". Here a todo
// test is handed to the built-in reporter as a passing one (a dot; in spec a grey "﹣ name # TODO
// reason"), without its error, and listed at the end under its own heading, "Known limitations
// (todo):", with its file and how it goes wrong, or a note that it passes now. Every other event,
// real failures included, goes through untouched: they are listed as failed, and the run's exit
// status (set by node's runner, not by a reporter) stays non-zero.
//
// With ASYNCIO_TS_TEST_SUMMARY set to a file path, the run's counts are written there at the end
// as JSON, `{ "pass": n, "fail": n, "skip": n, "todo": n }` (tests, not the suites holding them,
// but a suite skipped whole counts as one skip; a file that fails to load counts as one failure): scripts/test-runtimes.mjs reads them.
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import { Readable } from "node:stream";
import { dot, spec } from "node:test/reporters";

/** @param {AsyncIterable<{ type: string, data: any }>} source the test runner's events */
export default async function* report(source) {
  /** @type {any[]} */
  const todos = [];
  const counts = { pass: 0, fail: 0, skip: 0, todo: 0 };
  const events = withTodosAside(counted(source, counts), todos);
  const inner = process.env.CI ? Readable.from(events).pipe(new spec()).setEncoding("utf8") : dot(events);
  for await (const chunk of inner) yield chunk;
  if (todos.length > 0) yield knownLimitations(todos);
  if (process.env.ASYNCIO_TS_TEST_SUMMARY) writeFileSync(process.env.ASYNCIO_TS_TEST_SUMMARY, `${JSON.stringify(counts)}\n`);
}

/** The events, unchanged, each finished test counted into `counts`. */
async function* counted(source, counts) {
  for await (const event of source) {
    const { type, data } = event;
    const skipped = data?.skip !== undefined && data?.skip !== false;
    // A suite skipped whole counts as one skip (its tests are not reported), others not at all.
    if ((type === "test:pass" || type === "test:fail") && (data.details?.type !== "suite" || skipped)) {
      if (data.todo !== undefined && data.todo !== false) counts.todo++;
      else if (skipped) counts.skip++;
      else if (type === "test:pass") counts.pass++;
      else counts.fail++;
    }
    yield event;
  }
}

/** The events, a todo test's pass or failure turned into a plain pass, kept in `todos`. */
async function* withTodosAside(source, todos) {
  for await (const event of source) {
    const { type, data } = event;
    if ((type === "test:pass" || type === "test:fail") && data.todo !== undefined && data.todo !== false) {
      todos.push({ ...data, failed: type === "test:fail" });
      const reason = typeof data.todo === "string" && data.todo !== "" ? `TODO ${data.todo}` : "TODO";
      const details = { ...data.details };
      delete details.error;
      yield { type: "test:pass", data: { ...data, todo: undefined, skip: reason, details } };
    } else yield event;
  }
}

function knownLimitations(todos) {
  const lines = ["", "Known limitations (todo):", ""];
  for (const test of todos) {
    const reason = typeof test.todo === "string" && test.todo !== "" ? ` # ${test.todo}` : "";
    lines.push(`﹣ ${test.name}${reason}`);
    // The file only: in a .ts file run through tsx, node reports a line of the compiled code.
    if (test.file) lines.push(`    in ${relative(process.cwd(), test.file)}`);
    if (test.failed) {
      const error = test.details?.error;
      const cause = error?.cause ?? error;
      // The first line, and the next one when the first announces it ("… equal:").
      const [first = "", ...rest] = String(cause?.message ?? cause ?? "").split("\n").filter((l) => l.trim() !== "");
      const message = first.endsWith(":") && rest.length > 0 ? `${first} ${rest[0].trim()}` : first;
      lines.push(`    does not pass, as documented${message === "" ? "" : `: ${message}`}`);
    } else {
      lines.push("    passes now: if the limitation is gone, drop the test's todo mark");
    }
  }
  lines.push(`${todos.length} todo test${todos.length === 1 ? "" : "s"}: known, and not held against the run`, "");
  return lines.join("\n");
}
