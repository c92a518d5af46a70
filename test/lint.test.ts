// The lint recipe of docs/linting.md: its ESLint config block, taken from the page, is run with
// ESLint's Node API on test/lint/sample.ts, and exactly the lines the sample marks must be
// reported. Two variants show why the recipe needs both of its options: no-floating-promises'
// defaults miss the Futures and Tasks (thenables, not Promises), and `checkThenables` without
// `allowForKnownSafeCalls` reports every `createTask`.
//
// The sample runs in a temporary project where "asyncio-ts" is in node_modules, as for a user
// (the allow list matches calls that the package `asyncio-ts` declares): its package.json,
// pointing at a copy of src/ (no build needed), with the repository's typescript-eslint and
// @types/node linked in.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RULE = "@typescript-eslint/no-floating-promises";

/** The first ```js block of docs/linting.md that starts with `// eslint.config.js`. */
function documentedConfig(): string {
  const page = readFileSync(join(ROOT, "docs", "linting.md"), "utf8");
  const block = /```js\n(\/\/ eslint\.config\.js\n[\s\S]*?)```/.exec(page);
  assert.ok(block?.[1] !== undefined, "docs/linting.md has no ```js block starting with // eslint.config.js");
  return block[1];
}

/** The 1-based numbers of the sample's lines whose comment says `marker`. */
function marked(sample: string, marker: RegExp): number[] {
  return sample
    .split("\n")
    .flatMap((line, i) => (marker.test(line.replace(/^.*?;\s*/, "")) ? [i + 1] : []));
}

describe("the lint recipe of docs/linting.md", () => {
  let dir = "";
  const sample = readFileSync(join(ROOT, "test", "lint", "sample.ts"), "utf8");
  const promises = marked(sample, /\/\/ flagged: promise$/);
  const thenables = marked(sample, /\/\/ flagged: thenable$/);
  const safeCalls = marked(sample, /\/\/ safe call$/);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "asyncio-ts-lint-"));
    const pkg = join(dir, "node_modules", "asyncio-ts");
    mkdirSync(pkg, { recursive: true });
    cpSync(join(ROOT, "src"), join(pkg, "src"), { recursive: true });
    const { name, version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, string>;
    writeFileSync(
      join(pkg, "package.json"),
      JSON.stringify({
        name,
        version,
        type: "module",
        exports: {
          ".": { types: "./src/index.ts", default: "./src/index.ts" },
          "./testing": { types: "./src/testing.ts", default: "./src/testing.ts" },
        },
      }),
    );
    mkdirSync(join(dir, "node_modules", "@types"));
    symlinkSync(join(ROOT, "node_modules", "@types", "node"), join(dir, "node_modules", "@types", "node"), "dir");
    symlinkSync(join(ROOT, "node_modules", "typescript-eslint"), join(dir, "node_modules", "typescript-eslint"), "dir");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "lint-sample", type: "module", private: true }));
    // The consumer tsconfig README.md documents.
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "es2022", module: "nodenext", types: ["node"], strict: true, noEmit: true },
        files: ["sample.ts"],
      }),
    );
    writeFileSync(join(dir, "eslint.config.js"), documentedConfig());
    writeFileSync(join(dir, "sample.ts"), sample);
  });

  after(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  /** Lints the sample with the documented config, `rule` (options) replacing its rule if given. */
  async function reported(rule?: unknown[]): Promise<number[]> {
    const eslint = new ESLint({
      cwd: dir,
      overrideConfigFile: join(dir, "eslint.config.js"),
      ...(rule === undefined ? {} : { overrideConfig: { rules: { [RULE]: rule as ["error"] } } }),
    });
    const [result] = await eslint.lintFiles(["sample.ts"]);
    assert.ok(result !== undefined);
    const others = result.messages.filter((m) => m.ruleId !== RULE);
    assert.deepEqual(others, [], "only no-floating-promises reports, and the sample parses");
    return result.messages.map((m) => m.line).sort((a, b) => a - b);
  }

  it("the sample marks each kind of line", () => {
    assert.ok(promises.length >= 2 && thenables.length >= 5 && safeCalls.length >= 5);
  });

  it("reports exactly the forgotten awaits, Promises and thenables, and no createTask", async () => {
    assert.deepEqual(await reported(), [...promises, ...thenables].sort((a, b) => a - b));
  });

  it("misses the Futures and Tasks with the rule's defaults", async () => {
    // (A bare "error" would keep the config file's options: ESLint merges a severity alone.)
    assert.deepEqual(await reported(["error", { checkThenables: false, allowForKnownSafeCalls: [] }]), promises);
  });

  it("reports every createTask with checkThenables alone", async () => {
    assert.deepEqual(
      await reported(["error", { checkThenables: true }]),
      [...promises, ...thenables, ...safeCalls].sort((a, b) => a - b),
    );
  });
});
