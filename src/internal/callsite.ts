/**
 * Where the user called the library from: the first stack frame outside this package's code.
 *
 * WHY both `src/` and `dist/`: the package runs from `dist/`, but with source maps
 * (`--enable-source-maps`, a bundler, tsx) its frames name the `src/*.ts` files instead. A
 * frame in either is the library's own, never the user's call site.
 */
import { fileURLToPath } from "node:url";

/** The package's root: this file is `src/internal/callsite.ts` or `dist/internal/callsite.js`. */
const ROOT = new URL("../../", import.meta.url);

/** How a frame of the library's code starts its location: as a URL (ESM) or as a path. */
const LIBRARY_PREFIXES = ["src/", "dist/"].flatMap((dir) => {
  const url = new URL(dir, ROOT);
  return [url.href, fileURLToPath(url)];
});

/** Whether a stack line is in the library's code, or in Node's own (`node:internal/…`). */
function isLibraryFrame(line: string): boolean {
  if (line.includes("(node:") || line.includes(" node:")) return true;
  return LIBRARY_PREFIXES.some((prefix) => line.includes(prefix));
}

/**
 * @internal The first frame of `stack` (default: the caller's stack now) that is outside this
 * package and outside Node's internals, without its `at ` (`main (/app/job.ts:12:5)`), or
 * `""` when there is none.
 */
export function _userCallSite(stack: string | undefined = new Error().stack): string {
  const frames = (stack ?? "").split("\n").filter((line) => /^\s+at /.test(line));
  const outside = frames.find((line) => !isLibraryFrame(line));
  return outside === undefined ? "" : outside.trim().replace(/^at /, "");
}
