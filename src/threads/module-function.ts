/**
 * `moduleFunction`: a reference to a function exported by a module, for running real code (code
 * that imports things, shares helpers, is tested on its own) in worker threads.
 */
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { describe } from "../internal/validate.js";
import type { ModuleRef } from "./worker.js";

const MODULE_REF = Symbol("asyncio-ts.moduleFunction");

/** What {@link moduleFunction} adds to the function type it stands for. */
export interface ModuleFunctionInfo {
  /** The module's absolute URL (`file:///…/work.js`, `node:zlib`), or the package name given. */
  readonly module: string;
  /** The name of the export (`"default"` for the default export). */
  readonly exportName: string;
}

/**
 * A stand-in for the function `F` exported by a module, to pass to `toThread`,
 * `loop.runInExecutor` or `ThreadPoolExecutor.submit`: each worker imports the module once and
 * calls the export. Typed as `F`, so arguments and result are checked. Calling it in the main
 * thread throws a `TypeError`: it only names the function.
 *
 * @typeParam F the type of the exported function (`typeof Work.compress`).
 */
export type ModuleFunction<F extends (...args: never[]) => unknown> = F & ModuleFunctionInfo;

function toModuleUrl(module: unknown): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== "string") {
    throw new TypeError(`\`module\` must be a URL or a string, got ${describe(module)}`);
  }
  if (isAbsolute(module)) return pathToFileURL(module).href;
  if (URL.canParse(module)) return new URL(module).href;
  // A bare specifier (`my-jobs/work.js`, `@scope/pkg`): a package name, kept as it is.
  if (module !== "" && !module.startsWith(".")) return module;
  throw new TypeError(
    `\`module\` must be an absolute URL or path, or a package name, got ${describe(module)}: a ` +
      "worker cannot tell what a relative name is relative to. Use " +
      'new URL("./work.js", import.meta.url)',
  );
}

/**
 * Names the function `name` exported by `module`, to run in worker threads.
 *
 * `module` is a `URL` (usually `new URL("./work.js", import.meta.url)`), an absolute URL string
 * (`"node:zlib"`, `"file:///…"`), an absolute path, or a package name (a bare specifier,
 * `"my-jobs/work.js"`: kept as it is, imported by each worker, child process or remote worker
 * as that worker's code imports it). A module is imported once per worker;
 * its imports, helpers and top-level state live in each worker. Under a TypeScript loader, a
 * worker on Node 20 does not get the loader: point at JavaScript (`.js`/`.mjs`), e.g. the
 * compiled file.
 *
 * @typeParam F the type of the exported function (`typeof Work.compress`): what the stand-in
 * is typed as; default a function of unknown arguments and result.
 * @param name the export's name; default `"default"`.
 * @throws {TypeError} when `module` is not a URL or absolute path, or `name` is empty.
 *
 * @example
 * import type * as Work from "./work.js";
 * const compress = moduleFunction<typeof Work.compress>(new URL("./work.js", import.meta.url), "compress");
 * const packed = await toThread(compress, data);      // compress(data) in a worker
 *
 * @example
 * import type { gzipSync } from "node:zlib";
 * const gzip = moduleFunction<typeof gzipSync>("node:zlib", "gzipSync");
 *
 * asyncio: no counterpart (a Python thread shares the module's objects); the nearest is
 * `ProcessPoolExecutor`, which pickles functions by module and name.
 */
export function moduleFunction<
  F extends (...args: never[]) => unknown = (...args: unknown[]) => unknown,
>(module: URL | string, name = "default"): ModuleFunction<F> {
  const url = toModuleUrl(module);
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`\`name\` must be a non-empty string, got ${describe(name)}`);
  }
  const label = name === "default" ? `default export of ${url}` : `${name} from ${url}`;
  const stub = {
    [name](): never {
      throw new TypeError(
        `${label} is a moduleFunction(): it runs in worker threads only. Call it with ` +
          "toThread(fn, ...args) or loop.runInExecutor(null, fn, ...args)",
      );
    },
  }[name] as () => never;
  const ref: ModuleRef = { kind: "module", url, name };
  Object.defineProperties(stub, {
    [MODULE_REF]: { value: ref },
    module: { value: url, enumerable: true },
    exportName: { value: name, enumerable: true },
  });
  return stub as unknown as ModuleFunction<F>;
}

/** @internal The module reference behind a {@link moduleFunction}, or `null` for any other function. */
export function _moduleRefOf(fn: unknown): ModuleRef | null {
  if (typeof fn !== "function") return null;
  return (fn as { [MODULE_REF]?: ModuleRef })[MODULE_REF] ?? null;
}
