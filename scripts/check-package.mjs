// Checks the package as a user gets it (run after `npm run build`):
//
// 1. Packs it (`npm pack`) and checks the tarball: LICENSE is in it, and every `sources` entry of
//    every shipped source map (.js.map and .d.ts.map) names a file that is in it too.
// 2. Installs the tarball with @types/node into a temporary project, as `npm install` would, and
//    type-checks test/package/ there with the tsconfig README.md documents ("Install"): strict,
//    `types: ["node"]`, with `module` nodenext, node16 and bundler (esnext), on TypeScript 5.9,
//    the newest 6.x and the newest 7+ (or the native preview while no 7 is published). Those
//    compilers are installed once into a cache outside the repository (ASYNCIO_TS_TS_CACHE, or
//    ~/.cache/asyncio-ts/typescript), one folder per version.
// 3. Checks that the same project does NOT type-check without `types: ["node"]` on TypeScript
//    6+ (whose default is `types: []`): the declarations need @types/node, and the check must
//    be able to tell.
// 4. Runs the compiled consumers on the built code and compares what they print: the ES module
//    program, CommonJS through `import()`, and CommonJS through `require()` (Node's
//    require(esm): no flag from Node 20.19 and 22.12; `--experimental-require-module` on 20.17+
//    and 22.0+ before those; skipped on older Nodes). Deep imports must be refused, and importing
//    asyncio-ts/bullmq (whose bullmq and ioredis are optional peer dependencies, not installed
//    there) must fail saying what to install.
// 5. Runs the `asyncio-ts` command the package installs (node_modules/.bin): `--help`, and, on
//    Linux, `ps --json` against a program that uses the installed package (its task and the
//    package's version must be in the snapshot).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism, homedir, tmpdir } from "node:os";
import { join, posix, resolve } from "node:path";

const started = Date.now();
const repo = resolve(".");
const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-package-"));
const cache = resolve(
  process.env.ASYNCIO_TS_TS_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "asyncio-ts", "typescript"),
);
const consumerFiles = ["consumer.ts", "as-completed-order.ts", "consumer-cjs.cts", "consumer-dynamic.cts", "require.cjs"];
const expected = {
  "consumer.js": [
    "gather 1 x",
    "asCompleted quick slow 3",
    "queue 15 lock true timeout true",
    "virtual seconds 11 true",
    "echo hello",
    "protocol ping",
    "subprocess child 0",
    "subprocessExec low 0",
    "thread 42",
  ],
  "consumer-dynamic.cjs": ["import() 2 b late"],
  "consumer-cjs.cjs": ["require 21 late"],
  "require.cjs": ["require.cjs ok"],
};

/** A failed check: reported at the end, once the temporary folder is gone. */
class CheckFailure extends Error {}

function fail(message) {
  throw new CheckFailure(message);
}

function seconds(since) {
  return ((Date.now() - since) / 1000).toFixed(1);
}

/** Runs `command` asynchronously; resolves { status, output }. */
function runAsync(command, args, options) {
  return new Promise((done) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (status) => done({ status, output }));
  });
}

/** Runs the thunks, at most `limit` at a time; resolves their results in order. */
async function pool(thunks, limit) {
  const results = [];
  let next = 0;
  async function worker() {
    while (next < thunks.length) {
      const i = next++;
      results[i] = await thunks[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, thunks.length) }, worker));
  return results;
}

// ---- The compilers --------------------------------------------------------------------------

/** Newest first: compares "x.y.z" versions. */
function byVersionDesc(a, b) {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pb[i] - pa[i];
  return 0;
}

/**
 * The compilers to check with: [{ label, pkg, version, major }]. Asks the registry which
 * versions exist; without it, falls back on what the cache holds.
 */
function compilers() {
  const lines = [
    { label: "5.9", test: (v) => v.startsWith("5.9.") },
    { label: "6", test: (v) => v.startsWith("6.") },
    { label: "7+", test: (v) => Number(v.split(".")[0]) >= 7 },
  ];
  const view = spawnSync("npm", ["view", "typescript", "versions", "--json"], { encoding: "utf8" });
  let stable;
  try {
    stable = JSON.parse(view.stdout).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
  } catch {
    stable = null;
  }
  if (stable === null) {
    // Offline: the newest of each line in the cache.
    const cached = existsSync(cache) ? readdirSync(cache) : [];
    const pick = (pkg, test) =>
      cached
        .filter((d) => d.startsWith(`${pkg}@`))
        .map((d) => d.slice(pkg.length + 1))
        .filter(test)
        .sort(byVersionDesc)[0];
    const found = lines.map(({ label, test }) => {
      const version = pick("typescript", test);
      if (version !== undefined) return { label, pkg: "typescript", version };
      const preview = label === "7+" ? pick("@typescript/native-preview", () => true) : undefined;
      if (preview !== undefined) return { label, pkg: "@typescript/native-preview", version: preview };
      fail(`cannot ask the registry for TypeScript's versions, and ${cache} has no TypeScript ${label}`);
    });
    console.log("check:package: the registry did not answer; using the cached compilers");
    return found;
  }
  const found = [];
  for (const { label, test } of lines) {
    const version = stable.filter(test).sort(byVersionDesc)[0];
    if (version !== undefined) {
      found.push({ label, pkg: "typescript", version });
      continue;
    }
    if (label !== "7+") fail(`no TypeScript ${label} on the registry`);
    // No TypeScript 7 published yet: its native preview (tsgo).
    const preview = spawnSync("npm", ["view", "@typescript/native-preview", "version"], { encoding: "utf8" });
    const v = preview.stdout.trim().split("\n").pop();
    if (preview.status === 0 && v) found.push({ label, pkg: "@typescript/native-preview", version: v });
  }
  return found;
}

/** Installs `pkg@version` into the cache if missing; returns the command that runs its compiler. */
function install({ pkg, version }) {
  const prefix = join(cache, `${pkg.replace("/", "+")}@${version}`);
  const bin =
    pkg === "typescript"
      ? join(prefix, "node_modules", "typescript", "bin", "tsc")
      : join(prefix, "node_modules", "@typescript", "native-preview", "bin", "tsgo.js");
  if (!existsSync(bin)) {
    console.log(`check:package: installing ${pkg}@${version} into ${prefix}`);
    mkdirSync(prefix, { recursive: true });
    const result = spawnSync(
      "npm",
      ["install", "--prefix", prefix, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", `${pkg}@${version}`],
      { encoding: "utf8" },
    );
    if (result.status !== 0 || !existsSync(bin)) {
      rmSync(prefix, { recursive: true, force: true });
      fail(`could not install ${pkg}@${version}:\n${result.stdout}${result.stderr}`);
    }
  }
  return [process.execPath, bin];
}

/**
 * Starts a program in `project` that imports the installed package and waits in a named task,
 * runs `asyncio-ts ps --json` on it, and resolves the parsed snapshots (the program is killed).
 */
async function psOfConsumer(project, bin) {
  const program =
    'import { Event, createTask, run } from "asyncio-ts";' +
    "setTimeout(() => process.exit(0), 30000);" +
    'await run(async () => { const t = createTask(() => new Event().wait(), { name: "waiting" });' +
    ' setTimeout(() => console.log("ready"), 50); await t; });';
  const child = spawn(process.execPath, ["--inspect-port=0", "--input-type=module", "-e", program], {
    cwd: project,
    stdio: ["ignore", "pipe", "ignore"],
  });
  try {
    await new Promise((ready, failed) => {
      const timer = setTimeout(() => failed(new CheckFailure("the program using the package did not start")), 20000);
      child.stdout.on("data", (d) => {
        if (String(d).includes("ready")) {
          clearTimeout(timer);
          ready();
        }
      });
      child.on("exit", () => failed(new CheckFailure("the program using the package exited")));
    });
    const ps = await runAsync(bin, ["ps", "--json", String(child.pid)], { cwd: project, timeout: 20000 });
    if (ps.status !== 0) fail(`asyncio-ts ps failed (${ps.status}):\n${ps.output}`);
    return JSON.parse(ps.output);
  } finally {
    child.kill();
  }
}

// ---- The check ------------------------------------------------------------------------------

try {
  // 1. The tarball.
  const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { encoding: "utf8" })
    .trim()
    .split("\n")
    .pop();
  const tarball = join(dir, packed);
  const entries = new Set(
    execFileSync("tar", ["-tzf", tarball], { encoding: "utf8", maxBuffer: 64 << 20 })
      .trim()
      .split("\n")
      .map((e) => e.replace(/^package\//, "")),
  );
  if (!entries.has("LICENSE")) fail("the tarball has no LICENSE");
  // The process pool forks this file; the bullmq entry point is its own.
  for (const file of ["dist/processes/child.js", "dist/bullmq.js", "dist/bullmq.d.ts"]) {
    if (!entries.has(file)) fail(`the tarball has no ${file}`);
  }
  const unpacked = join(dir, "unpacked");
  mkdirSync(unpacked);
  execFileSync("tar", ["-xzf", tarball, "-C", unpacked, "--strip-components=1"]);
  const maps = [...entries].filter((e) => e.endsWith(".map"));
  if (maps.length === 0) fail("the tarball has no source maps: was `npm run build` run?");
  const missing = [];
  for (const map of maps) {
    const { sources = [], sourceRoot = "" } = JSON.parse(readFileSync(join(unpacked, map), "utf8"));
    for (const source of sources) {
      const path = posix.normalize(posix.join(posix.dirname(map), sourceRoot, source));
      if (!entries.has(path)) missing.push(`${map} → ${source}`);
    }
  }
  if (missing.length > 0) {
    fail(`source maps name files the tarball does not have:\n  ${missing.slice(0, 20).join("\n  ")}`);
  }
  console.log(
    `check:package: ${packed}: ${entries.size} files, ${Math.round(statSync(tarball).size / 1024)} KiB; ` +
      `LICENSE and the sources of ${maps.length} source maps are in it`,
  );

  // 2. A consumer project: the tarball and @types/node, installed by npm.
  const project = join(dir, "consumer");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
  const typesNode =
    process.env.ASYNCIO_TS_TYPES_NODE ??
    JSON.parse(readFileSync(join(repo, "node_modules", "@types", "node", "package.json"), "utf8")).version;
  const npmInstall = spawnSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--no-package-lock", tarball, `@types/node@${typesNode}`],
    { cwd: project, encoding: "utf8" },
  );
  if (npmInstall.status !== 0) fail(`npm install of the tarball failed:\n${npmInstall.stdout}${npmInstall.stderr}`);
  for (const file of consumerFiles) cpSync(join(repo, "test", "package", file), join(project, file));

  const tsList = compilers().map((c) => ({ ...c, major: Number(c.version.split(".")[0]), command: install(c) }));
  // The compiler options README.md documents; `module` varies.
  const documented = { target: "es2022", module: "nodenext", types: ["node"], strict: true };
  // nodenext is the documented tsconfig as it is, so it also checks every .d.ts (of asyncio-ts and
  // @types/node); the other two skip that (`skipLibCheck`), the costliest part of a run, since
  // the declarations are the same files: the consumer's exact type assertions still see them.
  const variants = [
    { name: "nodenext", options: {}, files: ["consumer.ts", "consumer-cjs.cts", "consumer-dynamic.cts"] },
    { name: "node16", options: { module: "node16", skipLibCheck: true }, files: ["consumer.ts", "consumer-dynamic.cts"] },
    {
      name: "bundler",
      options: { module: "esnext", moduleResolution: "bundler", skipLibCheck: true },
      files: ["consumer.ts"],
    },
  ];
  const newest6 = tsList.find((t) => t.label === "6");
  const jobs = [];
  for (const ts of tsList) {
    for (const variant of variants) {
      // The emitting run: the newest 6.x with nodenext writes out/ for step 4.
      const emit = ts === newest6 && variant.name === "nodenext";
      const files = [...variant.files, ...(ts.major >= 6 ? ["as-completed-order.ts"] : [])];
      const config = `tsconfig.${ts.label.replace("+", "")}.${variant.name}.json`;
      const compilerOptions = { ...documented, ...variant.options, ...(emit ? { outDir: "out" } : { noEmit: true }) };
      writeFileSync(join(project, config), JSON.stringify({ compilerOptions, files }, null, 2));
      jobs.push({ label: `TypeScript ${ts.version} (${ts.pkg}), ${variant.name}`, ts, config, expectFailure: false });
    }
  }
  // 3. Without `types: ["node"]`, TypeScript 6+ (default `types: []`) must fail; the newest
  // compiler is the quickest.
  const newest = tsList[tsList.length - 1];
  const bare = { ...documented, noEmit: true };
  delete bare.types;
  writeFileSync(join(project, "tsconfig.bare.json"), JSON.stringify({ compilerOptions: bare, files: ["consumer.ts"] }));
  jobs.push({
    label: `TypeScript ${newest.version} without types: ["node"]`,
    ts: newest,
    config: "tsconfig.bare.json",
    expectFailure: true,
  });

  const typechecked = Date.now();
  const results = await pool(
    jobs.map((job) => async () => {
      const t0 = Date.now();
      const result = await runAsync(job.ts.command[0], [...job.ts.command.slice(1), "-p", job.config], { cwd: project });
      return { ...job, ...result, time: seconds(t0) };
    }),
    Math.max(2, availableParallelism()),
  );
  for (const r of results) {
    if (!r.expectFailure && r.status !== 0) {
      fail(`the consumer does not type-check against the package with ${r.label} (${r.config}):\n${r.output}`);
    }
    if (r.expectFailure) {
      if (r.status === 0) fail(`${r.label}: the consumer type-checks without @types/node: the check cannot see it`);
      if (!/Cannot find name 'Buffer'|Cannot find module 'node:/.test(r.output)) {
        fail(`${r.label}: expected errors about Buffer or node: modules, got:\n${r.output}`);
      }
    }
  }
  console.log(
    `check:package: ${results.map((r) => `${r.config} ${r.time} s`).join(", ")}\n` +
      `check:package: test/package/ type-checks against the tarball on ${tsList
      .map((t) => `TypeScript ${t.version}${t.pkg === "typescript" ? "" : ` (${t.pkg})`}`)
      .join(", ")} with module nodenext, node16 and bundler, and fails without types: ["node"] ` +
      `(${jobs.length} runs, ${seconds(typechecked)} s)`,
  );

  // 4. Run what was compiled.
  cpSync(join(project, "require.cjs"), join(project, "out", "require.cjs"));
  const [major, minor] = process.versions.node.split(".").map(Number);
  const requireFlags =
    major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19)
      ? []
      : major === 22 || (major === 20 && minor >= 17)
        ? ["--experimental-require-module"]
        : null;
  for (const [file, lines] of Object.entries(expected)) {
    const needsRequire = file === "consumer-cjs.cjs" || file === "require.cjs";
    if (needsRequire && requireFlags === null) {
      console.log(`check:package: ${file} skipped: Node ${process.version} cannot require() an ES module`);
      continue;
    }
    const flags = needsRequire ? requireFlags : [];
    const ran = spawnSync(process.execPath, [...flags, join("out", file)], { encoding: "utf8", cwd: project });
    if (ran.status !== 0 || ran.stdout.trim() !== lines.join("\n")) {
      fail(`out/${file} printed:\n${ran.stdout}${ran.stderr}\nexpected:\n${lines.join("\n")}`);
    }
  }
  const deep = spawnSync(process.execPath, ["--input-type=module", "-e", 'await import("asyncio-ts/dist/internal/heap.js")'], {
    encoding: "utf8",
    cwd: project,
  });
  if (!/ERR_PACKAGE_PATH_NOT_EXPORTED/.test(deep.stderr)) fail("a deep import of dist/internal was not refused");
  // asyncio-ts/bullmq without its optional peer dependencies (not installed here): a clear error.
  const bullmqEntry = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", 'try { await import("asyncio-ts/bullmq"); console.log("loaded") } catch (e) { console.log(e.message) }'],
    { encoding: "utf8", cwd: project },
  );
  if (!/needs the packages bullmq and ioredis.*npm install bullmq ioredis/.test(bullmqEntry.stdout)) {
    fail(`importing asyncio-ts/bullmq without bullmq did not say what to install:\n${bullmqEntry.stdout}${bullmqEntry.stderr}`);
  }
  console.log(
    `check:package: the consumers run on Node ${process.version} (import, import() from CommonJS, ` +
      `require()${requireFlags?.length ? ` with ${requireFlags.join(" ")}` : ""}); deep imports are refused; ` +
      "asyncio-ts/bullmq without bullmq says what to install",
  );

  // 5. The command.
  const bin = join(project, "node_modules", ".bin", "asyncio-ts");
  if (!existsSync(bin)) fail("npm did not install the asyncio-ts command (package.json bin)");
  const help = spawnSync(bin, ["--help"], { encoding: "utf8", cwd: project });
  if (help.status !== 0 || !help.stdout.startsWith("Usage: asyncio-ts")) {
    fail(`asyncio-ts --help failed (${help.status}):\n${help.stdout}${help.stderr}`);
  }
  if (process.platform === "linux") {
    const version = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).version;
    const snapshot = await psOfConsumer(project, bin);
    const tasks = snapshot?.[0]?.loops?.[0]?.tasks?.map((t) => t.name) ?? [];
    if (snapshot?.[0]?.version !== version || !tasks.includes("waiting")) {
      fail(`asyncio-ts ps --json of a program using the package gave:\n${JSON.stringify(snapshot)}`);
    }
  }
  console.log(
    `check:package: the asyncio-ts command runs from node_modules/.bin` +
      (process.platform === "linux" ? " and reads the tasks of a program that uses the package" : "") +
      `; ${seconds(started)} s in all`,
  );
} catch (error) {
  if (!(error instanceof CheckFailure)) throw error;
  console.error(`check:package: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
