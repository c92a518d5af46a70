// Runs `node <args>` on a Node asyncio-ts supports: this Node when it is recent enough, else the
// oldest supported line installed from the npm registry into the runtimes cache (see
// runtimes.mjs), saying so. So `npm test` and `npm run demo` work on a machine whose own Node is
// older (Debian's, say), and CI runs the suite on the oldest supported line.
// Usage: node scripts/supported-node.mjs <node arguments...>
import { spawnSync } from "node:child_process";
import { OLDEST_NODE, ensureRuntime } from "./runtimes.mjs";

const args = process.argv.slice(2);
const major = Number(process.versions.node.split(".")[0]);
let bin = process.execPath;
if (major < OLDEST_NODE) {
  const found = ensureRuntime(`node${OLDEST_NODE}`);
  if (!found.ok) {
    console.error(
      `asyncio-ts needs Node >= ${OLDEST_NODE}.12; this is ${process.version}, and Node ${OLDEST_NODE} ` +
        `could not be installed: ${found.reason}`,
    );
    process.exit(1);
  }
  console.error(`(Node ${process.version} is older than asyncio-ts supports: running on ${found.label}, from npm)`);
  bin = found.bin;
}
const result = spawnSync(bin, args, { stdio: "inherit" });
if (result.signal) process.kill(process.pid, result.signal);
process.exit(result.status ?? 1);
