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

/**
 * Whether a stack line is in the library's code, or in the runtime's own (`node:internal/…`;
 * Bun's builtins are `native:…`).
 */
function isLibraryFrame(line: string): boolean {
  if (line.includes("(node:") || line.includes(" node:") || line.includes("(native:")) return true;
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

/** @internal One frame of a V8 stack, parsed. */
export interface ParsedFrame {
  functionName: string;
  /** A path (a `file:` URL becomes its path), `node:…`, or `""` when V8 gave none. */
  fileName: string;
  lineNumber: number;
  columnNumber: number;
  /** V8 marked it `async`: a suspended async function further up the await chain. */
  isAsync: boolean;
  /** The frame is in the library's code or in Node's. */
  isLibrary: boolean;
}

/** `at [async] [name ](location)` or `at [async] location`. */
const FRAME = /^\s+at (async )?(?:(.*?) \((.*)\)|(.*))$/;
const LOCATION = /^(.*?):(\d+):(\d+)$/;

/** @internal The frames of a V8 stack string, innermost first (lines that are not frames skipped). */
export function _parseStack(stack: string): ParsedFrame[] {
  const frames: ParsedFrame[] = [];
  for (const line of stack.split("\n")) {
    const match = FRAME.exec(line);
    if (match === null) continue;
    const isAsync = match[1] !== undefined;
    let name = match[2] ?? "";
    const where = match[3] ?? match[4] ?? "";
    const location = LOCATION.exec(where);
    let fileName = location === null ? "" : (location[1] as string);
    if (location === null && match[3] === undefined) {
      // `at async Promise.all (index 0)` has a location; `at foo` alone is a name.
      name = where;
    } else if (location === null) {
      name = `${name} (${where})`;
    }
    if (fileName.startsWith("file://")) {
      try {
        fileName = fileURLToPath(fileName);
      } catch {
        // keep the URL as it is
      }
    }
    frames.push({
      functionName: name,
      fileName,
      lineNumber: location === null ? 0 : Number(location[2]),
      columnNumber: location === null ? 0 : Number(location[3]),
      isAsync,
      isLibrary: isLibraryFrame(line),
    });
  }
  return frames;
}
