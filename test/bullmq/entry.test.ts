// The asyncio-ts/bullmq entry point: its clear error when bullmq is not installed, and the
// `worker` command's arguments.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { type CommandOutput, main } from "../../src/bullmq/worker-cli.js";
import { unsupportedOn } from "../support/runtime.js";

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe("asyncio-ts/bullmq", () => {
  it("imports when bullmq and ioredis are installed", () => {
    const out = spawnSync(process.execPath, ["--import", "tsx", fixture("import-entry.ts")], { encoding: "utf8", timeout: 30_000 });
    assert.equal(out.stdout.trim(), "imported");
  });

  const LOADER_HOOKS = "the test hides the bullmq package with a module loader hook (`module.register`), which this runtime does not run";
  it("says what to install when bullmq is missing", { skip: unsupportedOn({ bun: LOADER_HOOKS, deno: LOADER_HOOKS }) }, () => {
    const out = spawnSync(
      process.execPath,
      ["--import", "tsx", "--import", fixture("register-no-bullmq.mjs"), fixture("import-entry.ts")],
      { encoding: "utf8", timeout: 30_000 },
    );
    assert.match(out.stdout, /error: asyncio-ts\/bullmq needs the packages bullmq and ioredis.*npm install bullmq ioredis/);
  });
});

describe("asyncio-ts worker", () => {
  async function capture(fn: (out: CommandOutput) => Promise<number>): Promise<{ code: number; stderr: string; stdout: string }> {
    let stdout = "";
    let stderr = "";
    const code = await fn({ stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
    return { code, stdout, stderr };
  }

  it("prints its usage for --help", async () => {
    const { code, stdout } = await capture((out) => main(["--help"], out));
    assert.equal(code, 0);
    assert.match(stdout, /usage: asyncio-ts worker --queue NAME --redis URL --allow MODULE/);
  });

  it("exits 2 with the usage when a required argument is missing or unknown", async () => {
    for (const argv of [["--queue", "q", "--redis", "redis://127.0.0.1:1"], ["--queue", "q", "--bogus"]]) {
      const { code, stderr } = await capture((out) => main(argv, out));
      assert.equal(code, 2);
      assert.match(stderr, /usage:/);
    }
  });

  it("exits 2 for a bad number or a bad allow entry", async () => {
    const base = ["--queue", "q", "--redis", "redis://127.0.0.1:1", "--allow", "./jobs/"];
    const bad = await capture((out) => main([...base, "--concurrency", "many"], out));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--concurrency takes a number/);
    const zero = await capture((out) => main([...base, "--concurrency", "0"], out));
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /`concurrency` must be >= 1/);
  });
});
