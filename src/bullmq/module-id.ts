/**
 * Module ids that travel: where a job's function lives, said so that another machine can find
 * it.
 *
 * `moduleFunction` keeps an absolute `file://` URL, which another machine does not have. A job
 * carries instead:
 *   - a bare specifier (`node:zlib`, `my-jobs/work.js`) as it is: each worker imports it as its
 *     own code would;
 *   - a file under the executor's `root` as `./relative/path.js`, which a worker resolves under
 *     its own `root` (the same code deployed at another path).
 * A worker runs only the ids its `allow` list matches: a bare entry allows that package and its
 * subpaths, a `./` entry a file, or a directory when it ends with `/`.
 */
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { describe } from "../internal/validate.js";

/** A directory given as a URL, a `file:` URL string or a path, as a `file:` URL ending in `/`. */
export function toRootUrl(root: unknown, label: string): string {
  let url: URL;
  if (root instanceof URL) url = new URL(root.href);
  else if (typeof root === "string" && isAbsolute(root)) url = pathToFileURL(root);
  else if (typeof root === "string" && URL.canParse(root)) url = new URL(root);
  else {
    throw new TypeError(`\`${label}\` must be a directory URL or an absolute path, got ${describe(root)}`);
  }
  if (url.protocol !== "file:") {
    throw new TypeError(`\`${label}\` must be a file: URL, got ${url.href}`);
  }
  url.search = "";
  url.hash = "";
  return url.href.endsWith("/") ? url.href : `${url.href}/`;
}

function isBare(id: string): boolean {
  return !id.startsWith(".") && !id.startsWith("/") && !/^[a-z][a-z0-9+.-]*:/i.test(id.replace(/^node:/, ""));
}

/**
 * The portable id of module `url` (a `moduleFunction`'s module) for an executor with `root`.
 *
 * @throws {TypeError} for a file outside `root` (or with no `root`), or a URL of another scheme.
 */
export function portableModuleId(url: string, root: string | null): string {
  if (url.startsWith("node:")) return url;
  if (url.startsWith("file:")) {
    if (root === null) {
      throw new TypeError(
        `the module ${url} is a file: it travels to workers as a path relative to the executor's ` +
          "`root`, and this executor has none. Pass root: new URL(\"./\", import.meta.url) (the " +
          "directory the workers deploy as their own root)",
      );
    }
    if (!url.startsWith(root)) {
      throw new TypeError(`the module ${url} is not under the executor's root ${root}: workers could not find it`);
    }
    return `./${url.slice(root.length)}`;
  }
  if (isBare(url)) return url;
  throw new TypeError(`the module ${url} cannot travel to a worker: use a file under \`root\` or a package name`);
}

/** Checks an id from a job: no way out of the root, no scheme but `node:`. */
function checkId(id: unknown): string {
  if (typeof id !== "string" || id === "") throw new TypeError(`a job names no module (got ${describe(id)})`);
  if (id.startsWith("./")) {
    const rest = id.slice(2);
    if (rest.split("/").some((s) => s === "" || s === "." || s === "..") || rest.includes("\\") || rest.includes("%")) {
      throw new TypeError(`a job names the module ${JSON.stringify(id)}: a root-relative path must not leave the root`);
    }
    return id;
  }
  if (id.startsWith("node:") || isBare(id)) return id;
  throw new TypeError(`a job names the module ${JSON.stringify(id)}: not a package name or a ./path under the root`);
}

/** An `allow` list, checked once (`runWorker` refuses an empty or malformed one). */
export function checkAllow(allow: unknown): readonly string[] {
  if (!Array.isArray(allow) || allow.length === 0) {
    throw new TypeError(
      "`allow` is required: list the modules this worker may run (package names, and ./paths under " +
        `its root; a directory ends with /). A worker that would run anything is refused; got ${describe(allow)}`,
    );
  }
  for (const entry of allow) {
    if (typeof entry !== "string" || entry === "" || entry === "./") {
      throw new TypeError(`\`allow\` entries must be package names or ./paths, got ${describe(entry)}`);
    }
    if (!entry.startsWith("./") && !isBare(entry) && !entry.startsWith("node:")) {
      throw new TypeError(`\`allow\` entries must be package names or ./paths, got ${JSON.stringify(entry)}`);
    }
  }
  return [...(allow as string[])];
}

/** Whether `allow` lets a worker run module `id`. */
export function isAllowed(id: string, allow: readonly string[]): boolean {
  return allow.some((entry) => {
    if (entry.startsWith("./")) return entry.endsWith("/") ? id.startsWith(entry) : id === entry;
    return id === entry || id.startsWith(`${entry}/`);
  });
}

/**
 * What a worker imports for job module `id`: a root-relative path under its own `root`, or the
 * specifier itself.
 *
 * @throws {TypeError} for an id that is malformed or not allowed (the message says which).
 */
export function resolveJobModule(id: unknown, allow: readonly string[], root: string): string {
  const checked = checkId(id);
  if (!isAllowed(checked, allow)) {
    throw new TypeError(
      `this worker does not run the module ${JSON.stringify(checked)}: it is not in its allow list ` +
        `(${allow.map((a) => JSON.stringify(a)).join(", ")})`,
    );
  }
  return checked.startsWith("./") ? new URL(checked.slice(2), root).href : checked;
}
