// Checks the package as a user gets it: packs it (npm pack, after `npm run build`), installs the
// tarball into a temporary project, type-checks test/package/consumer.ts against its declarations
// with strict settings, runs it on the built code, and checks that deep imports are refused.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repo = resolve(".");
const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-package-"));
const expected = ["gather 1 x", "queue 15", "timeout true", "echo hello", "thread 42"];

function fail(message) {
  console.error(`check:package: ${message}`);
  process.exit(1);
}

try {
  const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { encoding: "utf8" })
    .trim()
    .split("\n")
    .pop();
  const target = join(dir, "node_modules", "asyncio-ts");
  mkdirSync(target, { recursive: true });
  execFileSync("tar", ["-xzf", join(dir, packed), "-C", target, "--strip-components=1"]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
  cpSync(join(repo, "test", "package", "consumer.ts"), join(dir, "consumer.ts"));
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        skipLibCheck: false,
        types: ["node"],
        typeRoots: [join(repo, "node_modules", "@types")],
        outDir: "out",
      },
      files: ["consumer.ts"],
    }),
  );
  const tsc = spawnSync(process.execPath, [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", dir], {
    encoding: "utf8",
  });
  if (tsc.status !== 0) fail(`the consumer does not type-check against the package:\n${tsc.stdout}${tsc.stderr}`);
  const ran = spawnSync(process.execPath, [join(dir, "out", "consumer.js")], { encoding: "utf8", cwd: dir });
  const lines = ran.stdout.trim().split("\n");
  if (ran.status !== 0 || lines.join("\n") !== expected.join("\n")) {
    fail(`the consumer printed:\n${ran.stdout}${ran.stderr}\nexpected:\n${expected.join("\n")}`);
  }
  const deep = spawnSync(process.execPath, ["--input-type=module", "-e", 'await import("asyncio-ts/dist/internal/heap.js")'], {
    encoding: "utf8",
    cwd: dir,
  });
  if (!/ERR_PACKAGE_PATH_NOT_EXPORTED/.test(deep.stderr)) fail("a deep import of dist/internal was not refused");
  console.log(`check:package: ${packed} installs, type-checks, runs, and refuses deep imports`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
