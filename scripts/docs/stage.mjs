// The Markdown pages of the documentation site, written to a staging folder for TypeDoc: the
// guides of docs/ (in the order docs/README.md lists them), the landing page, and the pages
// made at build time (examples, benchmark results). The pages keep docs/'s layout, so a link
// from one guide to another (`streams.md#reading`) stays as it is and TypeDoc resolves it; a
// link to a file of the repository is rewritten to the page that shows it:
//
//   examples/ and examples/README.md      the Examples page
//   examples/NAME                         that program on the Examples page
//   bench/RESULTS.md, bench/README.md     the Benchmarks pages (same headings, same anchors)
//   src/index.ts, testing.ts, bullmq.ts   the API reference of that entry point
//   an image                              the image (TypeDoc copies it into the site)
//   any other file (test/lint/sample.ts)  its source, shown at the end of the Examples page
//
// A link to any other Markdown file or to a folder is an error: the page it names is not on
// the site. Links are read as test/docs-blocks.test.ts reads them: `](target)` outside code.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join, relative, resolve } from "node:path";
import { benchPage } from "./bench-charts.mjs";
import { githubSlug } from "./typedoc-plugin.mjs";

/** Where each generated page lives in the staging folder (relative to it). */
export const PAGES = {
  landing: "docs/site/index.md",
  examples: "docs/site/examples.md",
  bench: "docs/site/benchmarks.md",
  benchHowTo: "docs/site/running-the-benchmarks.md",
};

const ENTRY_MODULES = {
  "src/index.ts": "asyncio-ts",
  "src/testing.ts": "asyncio-ts/testing",
  "src/bullmq.ts": "asyncio-ts/bullmq",
};

const IMAGE = /\.(png|jpe?g|gif|svg|webp)$/i;

/**
 * The guides and reference pages of docs/, in the order of docs/README.md: the Markdown files
 * linked under "## Guides" (the HOWTO order), then under "## Reference", then docs/README.md
 * itself. Throws when a page of docs/ is in neither list (it would be missing from the site).
 */
export function docsOrder(root) {
  const index = readFileSync(join(root, "docs/README.md"), "utf8");
  const section = (title) => {
    const match = new RegExp(`^## ${title}\\n([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, "m").exec(index);
    if (match === null) throw new Error(`docs/README.md has no "## ${title}" section`);
    const names = [...match[1].matchAll(/\]\(([\w-]+\.md)(?:#[^)]*)?\)/g)].map((m) => m[1]);
    return [...new Set(names)];
  };
  const guides = section("Guides");
  const reference = section("Reference").filter((n) => !guides.includes(n));
  const listed = new Set([...guides, ...reference, "README.md"]);
  const missing = readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md") && !listed.has(f));
  if (missing.length > 0) {
    throw new Error(`docs/README.md lists no link to ${missing.join(", ")} under "## Guides" or "## Reference": add one, or the page is missing from the site`);
  }
  return { guides, reference };
}

/** The first `# heading` of a Markdown text. */
function titleOf(text, file) {
  const match = /^# (.+)$/m.exec(text);
  if (match === null) throw new Error(`${file} has no "# title" line`);
  return match[1].replace(/`/g, "").trim();
}

/** YAML front matter for TypeDoc: the page's name in the navigation and its group. */
function frontMatter(fields) {
  const lines = Object.entries(fields).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  return `---\n${lines.join("\n")}\n---\n\n`;
}

/** `line` with the text of inline code spans blanked (same length), so links in code are not seen. */
function maskInlineCode(line) {
  return line.replace(/(`+)([\s\S]*?)\1/g, (all) => "`".repeat(all.length));
}

/**
 * Rewrites the relative links of one Markdown page, read from `source` (a path relative to the
 * repository) and written to `staged` (relative to the staging folder). `collect(file)` is told
 * of each repository file that is shown on the Examples page's "other files" part.
 */
export function rewriteLinks(text, { root, stage, source, staged, collect, errors }) {
  const out = [];
  let fenced = false;
  text.split("\n").forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced || /^\s*(```|~~~)/.test(line)) {
      out.push(line);
      return;
    }
    const masked = maskInlineCode(line);
    let result = "";
    let last = 0;
    // `](target)` alone: the text of a link may span lines (an image's long alt text does).
    for (const match of masked.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1];
      if (/^[a-z][a-z+.-]*:/i.test(target) || target.startsWith("#")) continue;
      // The whole link, when it is on this line: an entry point's link becomes a {@link} tag.
      const open = masked.lastIndexOf("[", match.index);
      const whole = open < 0 ? null : { start: open - (masked[open - 1] === "!" ? 1 : 0), text: line.slice(open + 1, match.index) };
      const where = `${source}:${i + 1}`;
      const rewritten = rewriteOne(target, whole, { root, stage, source, staged, collect, errors, where });
      const from = rewritten.whole ? whole.start : match.index + 2;
      result += line.slice(last, from) + rewritten.text;
      last = rewritten.whole ? match.index + match[0].length : match.index + 2 + target.length;
    }
    out.push(result + line.slice(last));
  });
  return out.join("\n");
}

/**
 * The new target of one link (`{ text }`), or, for a link to an entry point, the `{@link}` tag
 * that replaces the whole link `[text](target)` (`{ text, whole: true }`).
 */
function rewriteOne(target, whole, { root, stage, source, staged, collect, errors, where }) {
  const [path, anchor] = target.split("#");
  const hash = anchor === undefined ? "" : `#${anchor}`;
  const absolute = resolve(dirname(join(root, source)), path);
  const file = relative(root, absolute).split("\\").join("/");
  const to = (page, h = hash) => ({ text: `${relativeTo(staged, page)}${h}` });
  if (!existsSync(absolute)) {
    errors.push(`${where}: ${target}: no such file`);
    return { text: target };
  }
  const isDir = statSync(absolute).isDirectory();
  if (file.startsWith("docs/") && file.endsWith(".md")) return to(file);
  if (file === "examples" || file === "examples/README.md") return to(PAGES.examples);
  if (file.startsWith("examples/") && !isDir) return to(PAGES.examples, `#${githubSlug(basename(file))}`);
  if (file === "bench/RESULTS.md") return to(PAGES.bench);
  if (file === "bench/README.md") return to(PAGES.benchHowTo);
  if (file in ENTRY_MODULES) {
    if (whole === null) {
      errors.push(`${where}: ${target}: write a link to an entry point on one line`);
      return { text: target };
    }
    return { text: `{@link "${ENTRY_MODULES[file]}" | ${whole.text.replace(/`/g, "")}}`, whole: true };
  }
  if (IMAGE.test(file)) return { text: relative(dirname(join(stage, staged)), absolute).split("\\").join("/") };
  if (isDir || file.endsWith(".md")) {
    errors.push(`${where}: ${target}: this ${isDir ? "folder" : "page"} is not on the site; link to a guide, an example or a file`);
    return { text: target };
  }
  collect(file);
  return to(PAGES.examples, `#${githubSlug(file)}`);
}

/** The relative path from the staged page `from` to the staged page `to` (both relative to the staging folder). */
function relativeTo(from, to) {
  return relative(dirname(from), to).split("\\").join("/") || basename(to);
}

/** The first sentence of the comment that opens a file (a doc comment or `//` lines), or "". */
function firstSentence(source) {
  const lines = source.split("\n").filter((l, i) => !(i === 0 && l.startsWith("#!")));
  const block = /^\/\*\*?([\s\S]*?)\*\//.exec(lines.join("\n"));
  let text = "";
  if (block !== null) text = block[1].split("\n").map((l) => l.replace(/^\s*\*\s?/, "")).join("\n");
  else for (const line of lines) {
    if (!line.startsWith("//")) break;
    text += `${line.replace(/^\/\/\s?/, "")}\n`;
  }
  const paragraph = (text.trim().split(/\n\s*\n/)[0] ?? "").replace(/\s*\n\s*/g, " ");
  const sentence = /^(.*?[.!?])(?:\s|$)/.exec(paragraph);
  return sentence === null ? paragraph : sentence[1];
}

/** The examples page: examples/README.md, then the source of every file of examples/, then the other linked files. */
function examplesPage(root, others) {
  const readme = readFileSync(join(root, "examples/README.md"), "utf8");
  const files = readdirSync(join(root, "examples")).filter((f) => f !== "README.md" && /\.(ts|mjs|js)$/.test(f)).sort();
  // The programs in the order of examples/README.md's table (the cheat sheet's), then the rest.
  const listed = [...readme.matchAll(/\]\(([\w.-]+\.ts)\)/g)].map((m) => m[1]);
  const rank = (f) => (listed.includes(f) ? listed.indexOf(f) : listed.length);
  const programs = files.filter((f) => !f.startsWith("_") && f !== "demo.ts").sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const helpers = files.filter((f) => f.startsWith("_") || f === "demo.ts");
  // In examples/README.md the links name files beside it: on this page they are headings.
  const body = readme
    .replace(/^# .*\n/, "")
    .replace(/\]\(([\w.-]+\.(?:ts|mjs|js))\)/g, (_all, f) => `](#${githubSlug(f)})`);
  // Its introduction and table first, the programs, then its other sections (for contributors).
  const split = body.search(/^## /m);
  const [intro, rest] = split < 0 ? [body, ""] : [body.slice(0, split), body.slice(split)];
  const section = (file) => {
    const source = readFileSync(join(root, file), "utf8");
    const lead = firstSentence(source);
    const summary = lead === "" ? "" : `${lead}\n\n`;
    const shown = source
      .replace(/"\.\.\/src\/index\.js"/g, '"asyncio-ts"')
      .replace(/"\.\.\/src\/testing\.js"/g, '"asyncio-ts/testing"')
      .replace(/"\.\.\/src\/bullmq\.js"/g, '"asyncio-ts/bullmq"');
    const lang = file.endsWith(".ts") ? "ts" : "js";
    return `### ${basename(file)}\n\n${summary}\`\`\`${lang}\n${shown.trimEnd()}\n\`\`\`\n`;
  };
  const otherSection = (file) => {
    const source = readFileSync(join(root, file), "utf8");
    const lang = { ".ts": "ts", ".mjs": "js", ".js": "js", ".json": "json", ".sh": "sh" }[extname(file)] ?? "text";
    return `### ${file}\n\n\`\`\`${lang}\n${source.trimEnd()}\n\`\`\`\n`;
  };
  return [
    "# Examples\n",
    "The programs of `examples/` are shown here as they are in the repository, except that",
    "they import `\"asyncio-ts\"` where the files import `\"../src/index.js\"` (so that they run on a",
    "fresh clone without a build). `npm run examples` runs each one and checks what it prints",
    "against the block at its end.\n",
    intro.trim(),
    "\n## The programs\n",
    ...programs.map((f) => section(`examples/${f}`)),
    "## Helpers\n",
    "Files the programs use (a worker, a slow job), and the runner behind `npm run demo`.\n",
    ...helpers.map((f) => section(`examples/${f}`)),
    rest.trim(),
    "",
    ...(others.length === 0 ? [] : [
      "## Other files the guides link to\n",
      ...others.map(otherSection),
    ]),
  ].join("\n");
}

/**
 * Writes every page of the site into `stage` (a new, empty folder). Returns what TypeDoc needs:
 * the landing page (its `readme`) and the other pages in navigation order (`projectDocuments`).
 * Throws with every broken link listed.
 */
export function stagePages(root, stage) {
  const errors = [];
  const others = new Set();
  const collect = (file) => others.add(file);
  const write = (page, text) => {
    mkdirSync(dirname(join(stage, page)), { recursive: true });
    writeFileSync(join(stage, page), text);
  };
  const { guides, reference } = docsOrder(root);
  const documents = [];
  const stageDoc = (source, page, group, title) => {
    const text = readFileSync(join(root, source), "utf8");
    const body = rewriteLinks(text, { root, stage, source, staged: page, collect, errors });
    write(page, frontMatter({ title: title ?? titleOf(text, source), group }) + body);
    documents.push(page);
  };
  for (const name of guides) stageDoc(`docs/${name}`, `docs/${name}`, "Guides");
  for (const name of reference) stageDoc(`docs/${name}`, `docs/${name}`, "Reference");

  // The benchmark pages: RESULTS.md with a chart over each table of "## Results", and its README.
  const results = readFileSync(join(root, "bench/RESULTS.md"), "utf8");
  write(PAGES.bench, frontMatter({ title: "Benchmarks", group: "Reference" }) +
    rewriteLinks(benchPage(results), { root, stage, source: "bench/RESULTS.md", staged: PAGES.bench, collect, errors }));
  documents.push(PAGES.bench);
  stageDoc("bench/README.md", PAGES.benchHowTo, "Reference", "Running the benchmarks");

  stageDoc("docs/README.md", "docs/README.md", "Reference", "About the documentation");

  // The landing page is TypeDoc's readme (the site's index.html), not a document.
  const landing = readFileSync(join(root, "docs/site/index.md"), "utf8");
  write(PAGES.landing, rewriteLinks(landing, { root, stage, source: "docs/site/index.md", staged: PAGES.landing, collect, errors }));

  // Last: the examples page shows the files the other pages link to.
  write(PAGES.examples, frontMatter({ title: "Examples", group: "Reference" }) +
    rewriteLinks(examplesPage(root, [...others].sort()), { root, stage, source: "examples/README.md", staged: PAGES.examples, collect: () => {}, errors }));
  documents.splice(documents.indexOf(PAGES.benchHowTo) + 1, 0, PAGES.examples);

  if (errors.length > 0) throw new Error(`broken links:\n  ${errors.join("\n  ")}`);
  return { readme: join(stage, PAGES.landing), documents: documents.map((d) => join(stage, d)) };
}
