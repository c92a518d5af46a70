/**
 * Which runtime runs the tests (Node, Bun or Deno), and `unsupportedOn`, the `skip` option for
 * the tests of an area a runtime lacks what the library needs for. `npm run test:runtimes` runs
 * the suite on each (scripts/test-runtimes.mjs).
 */
import { relative } from "node:path";

/** The runtime running this file. */
export const RUNTIME: "node" | "bun" | "deno" =
  process.versions.bun !== undefined ? "bun" : process.versions.deno !== undefined ? "deno" : "node";

/** The runtime's name as people write it. */
export const RUNTIME_NAME = { node: "Node", bun: "Bun", deno: "Deno" }[RUNTIME];

/** Why an area's tests cannot pass on a runtime other than Node: what is missing there. */
export interface Unsupported {
  bun?: string;
  deno?: string;
}

/** The lines printed already (a helper called in a loop announces its reason once). */
/**
 * For a test that asks the collector whether something nothing references is gone: on Bun the
 * answer varies from run to run (JavaScriptCore scans the stack conservatively, so a stale slot
 * may keep the object), and each such test of the suite has failed there now and then.
 */
export const COLLECTOR_CHECK: Unsupported = {
  bun: "JavaScriptCore scans the stack conservatively: whether an object nothing references is collected varies from run to run (tests like this one failed there now and then)",
};

const announced = new Set<string>();

/**
 * The `skip` option of a `describe` or `it` whose tests cannot pass on the runtime running them:
 * the reason given for it, or `false` (run them) on Node and on runtimes not named.
 *
 * Neither Bun nor Deno prints a skip reason (Bun does not even list the tests of a skipped
 * `describe`), so the reason is also printed here, as `SKIP on Bun: <reason> (<file>)` when the
 * file loads; scripts/test-runtimes.mjs lists those lines under the runtime's counts. Never skip a
 * test that passes there: say exactly what is missing.
 */
export function unsupportedOn(reasons: Unsupported): string | false {
  const reason = RUNTIME === "node" ? undefined : reasons[RUNTIME];
  if (reason === undefined) return false;
  const line = `SKIP on ${RUNTIME_NAME}: ${reason} (${callerFile()})`;
  if (!announced.has(line)) {
    announced.add(line);
    console.log(line);
  }
  return `not supported on ${RUNTIME_NAME}: ${reason}`;
}

/** The test file that called `unsupportedOn`, relative to the working folder. */
function callerFile(): string {
  const frames = (new Error().stack ?? "").split("\n").slice(1);
  for (const frame of frames) {
    const match = /(?:file:\/\/)?(\/[^():]+\.test\.ts)/.exec(frame);
    if (match?.[1] !== undefined) return relative(process.cwd(), match[1]);
  }
  return "a test file";
}
