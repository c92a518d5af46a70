// The code blocks of README.md, docs/*.md and docs/site/*.md cannot rot: every ```ts block is
// type-checked (all of them in one TypeScript program), every whole program is run and its
// output compared with the `// prints:` lines it ends with, an excerpt of an example file must
// still be in that file, and every relative link (and its #anchor) resolves. The complete `@example`s of the doc
// comments in src/ are type-checked too. docs/README.md ("Code blocks") states the conventions.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import ts from "typescript";
import { unsupportedOn } from "./support/runtime.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The Markdown files of a folder of the repository, sorted. */
const markdownIn = (dir: string): string[] =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `${dir}/${f}`);
// docs/site/: the pages of the documentation site only (its landing page).
const DOCS = ["README.md", ...markdownIn("docs"), ...markdownIn("docs/site")];

// ---------------------------------------------------------------- the blocks and their markers

interface Block {
  /** The Markdown file, relative to the repository: `docs/streams.md`. */
  doc: string;
  /** The 1-based line of the block's first code line in `doc`. */
  line: number;
  /** The lines between the fences. */
  code: string[];
  /** A module is written and type-checked as it is; a fragment inside a wrapper; an excerpt is compared with its file. */
  kind: "module" | "fragment" | "excerpt";
  /** `// work.ts` on the first line: the file name it is written under, for the blocks after it to import. */
  file: string | null;
  /** `// examples/x.ts` on the first line: the example file the block is an excerpt of. */
  example: string | null;
  /** `// no-run: why`: the reason the program is type-checked but not run. */
  noRun: string | null;
  /** What the program prints, from its closing `// prints:` lines; `null` when it does not say. */
  expected: string[] | null;
  /** TypeScript from a `<!-- given: … -->` comment right above the block: declarations for a fragment. */
  given: string | null;
  /** A block that breaks the conventions: why. */
  problem: string | null;
}

const FILE_LINE = /^\/\/ ((?:examples\/)?[\w.-]+\.ts)$/;
const MARKER_LINE = /^\/\/ (fragment|no-run)\b(?::\s*(.*))?$/;
const PRINTS_LINE = /^\/\/ prints(?: \([^)]*\))?:(?: (.*))?$/;

/** The fenced ```ts / ```typescript blocks of one Markdown file (indented ones too, in lists). */
function blocksOf(doc: string): Block[] {
  const lines = readFileSync(join(ROOT, doc), "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(\S*)\s*$/.exec(lines[i] as string);
    if (open === null) continue;
    const indent = (open[1] as string).length;
    let end = i + 1;
    while (end < lines.length && !/^ *```\s*$/.test(lines[end] as string)) end++;
    if (open[2] === "ts" || open[2] === "typescript") {
      const code = lines.slice(i + 1, end).map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)));
      blocks.push(classify(doc, i + 2, code, givenAbove(lines, i)));
    }
    i = end;
  }
  return blocks;
}

/** The TypeScript of a `<!-- given: … -->` comment that ends on the line above the fence at `fence`. */
function givenAbove(lines: readonly string[], fence: number): string | null {
  if (fence === 0 || !(lines[fence - 1] as string).trimEnd().endsWith("-->")) return null;
  let start = fence - 1;
  while (start > 0 && !(lines[start] as string).trimStart().startsWith("<!--")) start--;
  const text = lines.slice(start, fence).join("\n");
  const match = /^\s*<!--\s*given:([\s\S]*)-->\s*$/.exec(text);
  return match === null ? null : (match[1] as string).trim();
}

function classify(doc: string, line: number, code: string[], given: string | null): Block {
  const block: Block = {
    doc, line, code, kind: "module", file: null, example: null, noRun: null, expected: null, given, problem: null,
  };
  let next = 0;
  const fileLine = FILE_LINE.exec(code[0] ?? "");
  if (fileLine !== null) {
    const name = fileLine[1] as string;
    if (name.startsWith("examples/")) block.example = name;
    else block.file = name;
    next = 1;
  }
  const marker = MARKER_LINE.exec(code[next] ?? "");
  if (marker?.[1] === "fragment") block.kind = "fragment";
  if (marker?.[1] === "no-run") {
    block.noRun = marker[2]?.trim() ?? "";
    if (block.noRun === "") block.problem = "`// no-run` needs a reason: `// no-run: serves until Ctrl-C`";
  }
  block.expected = expectedOutput(code);
  const printsLines = code.filter((l) => /\/\/ prints\b/.test(l)).length;
  if (printsLines > (block.expected === null ? 0 : 1)) {
    block.problem = "`// prints:` is read only at the start of the comment lines that end the block";
  }
  const imports = code.some((l) => /^import\b/.test(l));
  if (block.example !== null) {
    block.kind = "excerpt";
    if (marker !== null) block.problem = "an excerpt of an example file takes no marker";
  } else if (block.kind === "fragment") {
    if (imports) block.problem = "a fragment has no imports (the names of asyncio-ts are in scope): make it a program";
    if (block.expected !== null) block.problem = "a fragment is not run: its `// prints:` cannot be checked";
  } else if (!imports && block.file === null) {
    block.problem = 'neither a program (no import) nor marked: start it with `// fragment`, or import from "asyncio-ts"';
  }
  if (block.noRun !== null && block.expected !== null) block.problem = "a `// no-run` block is not run: its `// prints:` cannot be checked";
  if (given !== null && block.kind !== "fragment") block.problem = "`<!-- given: … -->` is for fragments";
  return block;
}

/** The lines after `// prints:` in the run of `//` lines that ends the block, `// ` stripped. */
function expectedOutput(code: readonly string[]): string[] | null {
  let end = code.length;
  while (end > 0 && (code[end - 1] as string).trim() === "") end--;
  let start = end;
  while (start > 0 && (code[start - 1] as string).startsWith("//")) start--;
  const tail = code.slice(start, end);
  const at = tail.findIndex((l) => PRINTS_LINE.test(l));
  if (at < 0) return null;
  const first = (PRINTS_LINE.exec(tail[at] as string) as RegExpExecArray)[1];
  return [...(first === undefined ? [] : [first]), ...tail.slice(at + 1).map((l) => l.replace(/^\/\/ ?/, ""))];
}

const blocks = DOCS.flatMap(blocksOf);
const where = (block: Block, offset = 0): string => `${block.doc}:${block.line + offset}`;

// ---------------------------------------------------------------- writing them out

/** The exports of both entry points, read from their syntax: name and whether it is a type only. */
function exportsOf(file: string): { name: string; typeOnly: boolean }[] {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), "utf8"), ts.ScriptTarget.Latest);
  const names: { name: string; typeOnly: boolean }[] = [];
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      for (const element of statement.exportClause.elements) {
        names.push({ name: element.name.text, typeOnly: statement.isTypeOnly || element.isTypeOnly });
      }
      continue;
    }
    const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) continue;
    if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) {
      names.push({ name: statement.name.text, typeOnly: true });
    } else if ((ts.isClassDeclaration(statement) || ts.isFunctionDeclaration(statement)) && statement.name) {
      names.push({ name: statement.name.text, typeOnly: false });
    } else if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) {
        if (ts.isIdentifier(d.name)) names.push({ name: d.name.text, typeOnly: false });
      }
    }
  }
  return names;
}

const ENTRY_POINTS = {
  "asyncio-ts": "src/index.ts",
  "asyncio-ts/testing": "src/testing.ts",
  "asyncio-ts/bullmq": "src/bullmq.ts",
} as const;
const EXPORTS = Object.entries(ENTRY_POINTS).map(([specifier, file]) => ({ specifier, file, names: exportsOf(file) }));

/** The names a piece of TypeScript declares at its top level (its imports included). */
function declaredNames(text: string): Set<string> {
  const source = ts.createSourceFile("given.ts", text, ts.ScriptTarget.Latest);
  const names = new Set<string>();
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && statement.importClause) {
      const clause = statement.importClause;
      if (clause.name) names.add(clause.name.text);
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings)) for (const e of bindings.elements) names.add(e.name.text);
    } else if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) names.add(d.name.text);
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name
    ) {
      names.add(statement.name.text);
    }
  }
  return names;
}

mkdirSync(join(ROOT, "scratch"), { recursive: true });
const OUT = mkdtempSync(join(ROOT, "scratch", "docs-blocks-"));
// DOCS_BLOCKS_KEEP=1 keeps the folder, to look at what was checked and run.
after(() => {
  if (process.env.DOCS_BLOCKS_KEEP === undefined) rmSync(OUT, { recursive: true, force: true });
});

/** `"asyncio-ts"` and `"asyncio-ts/testing"` in imports, made relative paths to src/ from `dir`. */
function localise(text: string, dir: string): string {
  return text.replace(/(\bfrom\s*|\bimport\s*\(\s*)"(asyncio-ts(?:\/testing|\/bullmq)?)"/g, (_all, head: string, specifier: string) => {
    const target = join(ROOT, ENTRY_POINTS[specifier as keyof typeof ENTRY_POINTS]).replace(/\.ts$/, ".js");
    return `${head}"${relative(dir, target).split("\\").join("/")}"`;
  });
}

/**
 * A fragment as a module: its own imports and the `given` declarations at the top, every
 * export of both entry points that neither declares imported, and the code inside an async
 * function (so it may `await`, and its declarations may shadow the imported names).
 * Returns the text and how many lines come before the fragment's first line.
 */
function wrapFragment(code: readonly string[], given: string, dir: string): { text: string; offset: number } {
  const own = code.filter((l) => /^import\b/.test(l));
  const rest = code.map((l) => (/^import\b/.test(l) ? "" : l));
  const head = [...own, given].join("\n");
  const taken = declaredNames(head);
  const header: string[] = [];
  for (const { specifier, names } of EXPORTS) {
    const list = names.filter((n) => !taken.has(n.name)).map((n) => (n.typeOnly ? `type ${n.name}` : n.name));
    header.push(localise(`import { ${list.join(", ")} } from "${specifier}";`, dir));
  }
  header.push(...localise(head, dir).split("\n"), "export {};", "export async function fragment(): Promise<void> {");
  return { text: [...header, ...rest, "}", ""].join("\n"), offset: header.length };
}

interface Written {
  block: Block;
  path: string;
  /** Lines of the written file before the block's first line. */
  offset: number;
}

const written: Written[] = [];
for (const block of blocks) {
  if (block.problem !== null || block.kind === "excerpt") continue;
  const dir = join(OUT, block.doc.replace(/\.md$/, "").replace(/\//g, "-"));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, block.file ?? `line-${block.line}.ts`);
  if (block.kind === "fragment") {
    const { text, offset } = wrapFragment(block.code, block.given ?? "", dir);
    writeFileSync(path, text);
    written.push({ block, path, offset });
  } else {
    writeFileSync(path, `${localise(block.code.join("\n"), dir)}\n`);
    written.push({ block, path, offset: 0 });
  }
}

// ---------------------------------------------------------------- @example in the doc comments

interface JsDocExample {
  /** `src/tasks.ts:743`: where the `@example` tag is. */
  at: string;
  code: string[];
  path: string;
  offset: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(`${dir}/${e.name}`) : e.name.endsWith(".ts") ? [`${dir}/${e.name}`] : [],
  );
}

/** The code of every `@example` tag: the comment lines after it, up to an empty line, a tag or the comment's end. */
function jsDocExamples(): { at: string; code: string[] }[] {
  const found: { at: string; code: string[] }[] = [];
  for (const file of sourceFiles("src")) {
    const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (!/^\s*\* @example\s*$/.test(line)) return;
      const code: string[] = [];
      for (let j = i + 1; j < lines.length; j++) {
        const m = /^\s*\*(?: (.*))?$/.exec(lines[j] as string);
        if (m === null || /^\s*\*\//.test(lines[j] as string)) break;
        const text = m[1] ?? "";
        if (text.trim() === "" || text.startsWith("@")) break;
        code.push(text);
      }
      found.push({ at: `${file}:${i + 1}`, code });
    });
  }
  return found;
}

const examplesDir = join(OUT, "jsdoc");
mkdirSync(examplesDir);
const jsDoc: JsDocExample[] = jsDocExamples().map(({ at, code }, n) => {
  const path = join(examplesDir, `example-${n}.ts`);
  const { text, offset } = wrapFragment(code, "", examplesDir);
  writeFileSync(path, text);
  return { at, code, path, offset };
});

// ---------------------------------------------------------------- one program for all

const excerptSources = [...new Set(blocks.flatMap((b) => (b.example === null ? [] : [join(ROOT, b.example)])))];

const JS_OUT = join(OUT, "js");
let diagnosticsMemo: Map<string, readonly ts.Diagnostic[]> | null = null;

const config = ts.readConfigFile(join(ROOT, "tsconfig.json"), ts.sys.readFile);
const { options: COMPILER_OPTIONS } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);

/** The diagnostics of every written file, from one program with the repository's compiler options. */
function diagnostics(): Map<string, readonly ts.Diagnostic[]> {
  if (diagnosticsMemo !== null) return diagnosticsMemo;
  const files = [...written.map((w) => w.path), ...jsDoc.map((e) => e.path), ...excerptSources];
  const program = ts.createProgram(files, { ...COMPILER_OPTIONS, noEmit: true });
  diagnosticsMemo = new Map();
  for (const file of files) {
    const source = program.getSourceFile(file);
    assert.ok(source !== undefined, `not in the program: ${file}`);
    diagnosticsMemo.set(file, [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]);
  }
  return diagnosticsMemo;
}

/**
 * Compiles the blocks and src/ to JavaScript under `JS_OUT`, file by file (types stripped, as
 * tsx does; the checking is done above), so that the programs run with plain `node`, which
 * starts in a third of the time `node --import tsx` takes. The relative imports of the blocks
 * (to `src/`) hold there too.
 */
function compile(): void {
  for (const path of [...sourceFiles("src").map((f) => join(ROOT, f)), ...written.map((w) => w.path)]) {
    const target = emitted(path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, toJavaScript(path));
  }
}

/** One file's JavaScript: an ES module, as package.json's `"type": "module"` makes it for Node. */
function toJavaScript(path: string): string {
  const compilerOptions = { ...COMPILER_OPTIONS, module: ts.ModuleKind.ESNext, noEmit: false, declaration: false };
  return ts.transpileModule(readFileSync(path, "utf8"), { compilerOptions, fileName: path }).outputText;
}

/**
 * Under tsx, the modules a page names (`// work.ts`) get their JavaScript beside them: a worker
 * thread does not inherit tsx on Node 20, so `moduleFunction` must point at JavaScript, as
 * docs/threads.md says.
 */
function compileNamedFiles(): void {
  for (const { block, path } of written) {
    if (block.file !== null) writeFileSync(path.replace(/\.ts$/, ".js"), toJavaScript(path));
  }
}

/** Where the program emitted `path` (a .ts file under the repository). */
const emitted = (path: string): string => join(JS_OUT, relative(ROOT, path)).replace(/\.ts$/, ".js");

function lineOf(d: ts.Diagnostic): number {
  return d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
}

const message = (d: ts.Diagnostic): string => ts.flattenDiagnosticMessageText(d.messageText, "\n");

// ---------------------------------------------------------------- running the programs

interface Outcome {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const RUN_TIMEOUT_MS = 20_000;
/** DOCS_BLOCKS_TSX=1 runs the TypeScript itself with `node --import tsx`, as a reader would: slower. */
const WITH_TSX = process.env.DOCS_BLOCKS_TSX !== undefined;

function runProgram(path: string): Promise<Outcome> {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // a program that uses node:test reports as a plain run, not to our runner
  const started = performance.now();
  return new Promise((resolvePromise) => {
    const args = WITH_TSX ? ["--import", "tsx", path] : [emitted(path)];
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

async function pool<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}

const lines = (text: string): string[] => {
  const all = text.replace(/\r\n/g, "\n").split("\n").map((l) => l.trimEnd());
  while (all.length > 0 && all[all.length - 1] === "") all.pop();
  return all;
};

/** Whether `actual` is `expected`, line by line, where `…` in an expected line stands for any text. */
function matches(actual: readonly string[], expected: readonly string[]): boolean {
  if (actual.length !== expected.length) return false;
  return expected.every((want, i) => {
    const pattern = want.split("…").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*");
    return new RegExp(`^${pattern}$`).test(actual[i] as string);
  });
}

// ---------------------------------------------------------------- links

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces made hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

function withoutCode(text: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of text.split("\n")) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      out.push("");
      continue;
    }
    out.push(fenced ? "" : line.replace(/`[^`]*`/g, "``"));
  }
  return out;
}

function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null || heading === undefined) continue;
    const base = slug(heading[1] as string);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

// ---------------------------------------------------------------- the tests

describe("the code blocks of the docs", () => {
  it("follow the conventions of docs/README.md", () => {
    assert.ok(blocks.length > 50, `only ${blocks.length} blocks found`);
    assert.deepEqual(
      blocks.filter((b) => b.problem !== null).map((b) => `${where(b)}: ${b.problem}`),
      [],
    );
  });

  it("type-check, all in one program", (t) => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    diagnostics();
    const used = process.cpuUsage(cpu);
    t.diagnostic(
      `${written.length} blocks, ${excerptSources.length} example files and ${jsDoc.length} @examples type-checked in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s (${((used.user + used.system) / 1e6).toFixed(1)} s of CPU)`,
    );
    const errors: string[] = [];
    for (const { block, path, offset } of written) {
      for (const d of diagnostics().get(path) ?? []) {
        const n = lineOf(d) - offset;
        errors.push(`${where(block, Math.max(0, n))}: ${message(d)}${n < 0 ? " (in the wrapper, from the given declarations)" : ""}`);
      }
    }
    for (const file of excerptSources) {
      for (const d of diagnostics().get(file) ?? []) errors.push(`${relative(ROOT, file)}:${lineOf(d) + 1}: ${message(d)}`);
    }
    assert.deepEqual(errors, []);
  });

  it("that are excerpts of an example file are still in that file, line for line", () => {
    const errors: string[] = [];
    for (const block of blocks.filter((b) => b.kind === "excerpt")) {
      const path = join(ROOT, block.example as string);
      if (!existsSync(path)) {
        errors.push(`${where(block)}: ${block.example} does not exist`);
        continue;
      }
      const source = readFileSync(path, "utf8").split("\n").map((l) => l.trimEnd());
      const excerpt = lines(localise(block.code.slice(1).join("\n"), join(ROOT, "examples")));
      const found = source.some((_, i) => excerpt.every((l, j) => source[i + j] === l));
      if (!found) errors.push(`${where(block)}: these lines are not, in this order, in ${block.example}`);
    }
    assert.deepEqual(errors, []);
  });

  const NODE_OUTPUT =
    "the docs' `// prints:` lines are Node's console.log output (util.inspect), which this runtime formats otherwise (quotes, spacing), and a block that is a node:test file runs only under the runtime's test command";
  it("that are whole programs run, and print what their `// prints:` lines say", { skip: unsupportedOn({ bun: NODE_OUTPUT, deno: NODE_OUTPUT }) }, async (t) => {
    const programs = written.filter((w) => w.block.kind === "module" && w.block.noRun === null);
    // Most programs sleep more than they compute: twice as many as there are cores.
    const size = Math.min(4, 2 * availableParallelism());
    const started = performance.now();
    if (!WITH_TSX) compile();
    else compileNamedFiles();
    const outcomes = await pool(programs, size, (w) => runProgram(w.path));
    const errors: string[] = [];
    programs.forEach(({ block }, i) => {
      const o = outcomes[i] as Outcome;
      const stderr = o.stderr.trim() === "" ? "" : `\n  stderr:\n${o.stderr.trimEnd()}`;
      if (o.code !== 0) {
        const how = o.signal === "SIGKILL" ? `did not end within ${RUN_TIMEOUT_MS / 1000} s` : `exited with ${o.code ?? o.signal}`;
        errors.push(`${where(block)}: ${how}\n  stdout:\n${o.stdout.trimEnd()}${stderr}`);
      } else if (block.expected !== null && !matches(lines(o.stdout), block.expected)) {
        errors.push(`${where(block)}: printed\n${o.stdout.trimEnd()}\n  where the block says\n${block.expected.join("\n")}${stderr}`);
      }
    });
    const slowest = programs
      .map(({ block }, i) => ({ at: where(block), ms: (outcomes[i] as Outcome).ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, process.env.DOCS_BLOCKS_ALL_TIMES ? undefined : 3)
      .map((s) => `${s.at} ${(s.ms / 1000).toFixed(1)} s`);
    t.diagnostic(
      `${programs.length} programs run in ${((performance.now() - started) / 1000).toFixed(1)} s, ${size} at a time; slowest: ${slowest.join(", ")}`,
    );
    assert.deepEqual(errors, []);
  });

  it("link to files and headings that exist", () => {
    const errors: string[] = [];
    for (const doc of DOCS) {
      withoutCode(readFileSync(join(ROOT, doc), "utf8")).forEach((line, i) => {
        for (const match of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          const target = match[1] as string;
          if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
          const [path = "", anchor] = target.split("#");
          const file = path === "" ? join(ROOT, doc) : resolve(dirname(join(ROOT, doc)), path);
          if (!existsSync(file)) {
            errors.push(`${doc}:${i + 1}: ${target}: no such file`);
          } else if (anchor !== undefined && !anchorsOf(file).has(anchor)) {
            errors.push(`${doc}:${i + 1}: ${target}: no heading #${anchor} in ${relative(ROOT, file)}`);
          }
        }
      });
    }
    assert.deepEqual(errors, []);
  });
});

describe("the @example code of the doc comments", () => {
  // Incomplete: it uses a name it neither declares nor imports (apart from the exports of both
  // entry points, which are in scope), imports a file that does not exist, or elides code
  // (`...`, `…`): such an example is left alone.
  const INCOMPLETE = new Set([2304, 2307, 2552, 2580, 2581, 2582, 2583, 2584, 2591, 2592, 2593]);

  it("type-checks wherever it is complete", (t) => {
    const errors: string[] = [];
    let checked = 0;
    for (const example of jsDoc) {
      const found = diagnostics().get(example.path) ?? [];
      const syntax = found.some((d) => d.category === ts.DiagnosticCategory.Error && d.code < 2000);
      if (syntax || found.some((d) => INCOMPLETE.has(d.code))) continue;
      checked++;
      for (const d of found) errors.push(`${example.at} (line ${lineOf(d) - example.offset + 1} of the example): ${message(d)}`);
    }
    t.diagnostic(`${checked} of ${jsDoc.length} @example blocks are complete and type-checked`);
    assert.deepEqual(errors, []);
  });
});
