// Builds the documentation site into site/ (git-ignored): `npm run docs`.
//
//   node scripts/docs.mjs [--out DIR] [--keep-stage]
//
// TypeDoc makes it (typedoc.json): the API reference of the three entry points from the doc
// comments, with search, and as its pages the landing page (docs/site/index.md), the guides in
// the order docs/README.md lists them, the reference pages, the benchmark results with a bar
// chart over each table (drawn here from bench/RESULTS.md) and the examples (the files of
// examples/). scripts/docs/stage.mjs writes those pages to a temporary folder first, with the
// links to repository files pointed at the pages that show them (--keep-stage keeps it).
//
// The build fails (exit 1, every problem listed) on a broken link in a guide, a doc comment or
// the built pages, on a public name without a doc comment, and on any other TypeDoc warning.
// The result is a plain folder of static files with relative links: open site/index.html, or
// serve the folder from any path of any static host.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Application, TSConfigReader, TypeDocReader } from "typedoc";
import { checkLinks } from "./docs/check-links.mjs";
import { stagePages } from "./docs/stage.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: { out: { type: "string" }, "keep-stage": { type: "boolean", default: false } },
});
const OUT = resolve(args.out ?? join(ROOT, "site"));
const started = performance.now();

function fail(message) {
  console.error(`docs: ${message}`);
  process.exitCode = 1;
}

async function build(stage) {
  const { readme, documents } = stagePages(ROOT, stage);
  const app = await Application.bootstrapWithPlugins(
    { options: join(ROOT, "typedoc.json"), out: OUT, readme, projectDocuments: documents },
    [new TypeDocReader(), new TSConfigReader()],
  );
  const warned = () => app.logger.hasErrors() || app.logger.hasWarnings();
  if (warned()) return fail("bad TypeDoc options (above)");
  const project = await app.convert();
  if (project === undefined) return fail("TypeDoc could not convert the sources (above)");
  app.validate(project);
  if (warned()) return fail(`${app.logger.errorCount} errors and ${app.logger.warningCount} warnings (above): fix each, the site is not written`);
  await app.generateOutputs(project);
  if (warned()) return fail(`${app.logger.errorCount} errors and ${app.logger.warningCount} warnings while writing the site (above)`);
  const { problems, checked } = checkLinks(OUT);
  if (problems.length > 0) return fail(`${problems.length} broken links in the built site:\n  ${problems.join("\n  ")}`);
  const pages = readdirSync(OUT, { recursive: true }).filter((f) => String(f).endsWith(".html")).length;
  console.log(
    `docs: ${pages} pages and ${checked} links checked in ${relative(process.cwd(), OUT) || "."}/ ` +
      `(${((performance.now() - started) / 1000).toFixed(1)} s); open ${join(relative(process.cwd(), OUT) || ".", "index.html")}`,
  );
}

const stage = mkdtempSync(join(tmpdir(), "asyncio-ts-site-"));
try {
  await build(stage);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
} finally {
  if (args["keep-stage"]) console.log(`docs: the staged pages are in ${stage}`);
  else rmSync(stage, { recursive: true, force: true });
}
