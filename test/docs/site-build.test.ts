// The parts of the documentation site's build (scripts/docs/), without TypeDoc and without a
// browser: the bar charts drawn from bench/RESULTS.md's tables (also from tables shaped as the
// next RESULTS.md may shape them), the rewriting of links to repository files, and the check of
// the built site's links. test/docs/site.test.ts builds the real site and opens it in Chromium.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, describe, it } from "node:test";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

interface Table {
  start: number;
  end: number;
  header: string[];
  rows: string[][];
}
interface ChartSpec {
  series: { column: number; name: string }[];
  group: number | null;
  label: number[];
  unit: string;
  higherIsBetter: boolean;
}
interface BenchCharts {
  parseTables(lines: string[]): Table[];
  cellNumber(cell: string): number | null;
  chartSpec(table: Table): ChartSpec | null;
  chartSvg(table: Table, title: string, id?: string): string | null;
  benchPage(markdown: string): string;
}
interface Stage {
  rewriteLinks(
    text: string,
    context: { root: string; stage: string; source: string; staged: string; collect: (file: string) => void; errors: string[] },
  ): string;
  docsOrder(root: string): { guides: string[]; reference: string[] };
}
interface CheckLinks {
  checkLinks(out: string): { problems: string[]; checked: number };
}
interface Plugin {
  githubSlug(text: string): string;
}

// The build's modules are plain JavaScript (scripts/): imported by URL, typed here.
const load = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(ROOT, path)).href)) as T;
const charts = await load<BenchCharts>("scripts/docs/bench-charts.mjs");
const stage = await load<Stage>("scripts/docs/stage.mjs");
const { checkLinks } = await load<CheckLinks>("scripts/docs/check-links.mjs");
const { githubSlug } = await load<Plugin>("scripts/docs/typedoc-plugin.mjs");

const tmp = mkdtempSync(join(tmpdir(), "asyncio-ts-site-build-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The `<rect class="bar">` elements of an SVG: their widths and the titles they carry. */
function bars(svg: string): { width: number; title: string; fill: string }[] {
  return [...svg.matchAll(/<rect class="bar"[^>]*width="([\d.]+)"[^>]*fill="([^"]+)"><title>([^<]*)<\/title>/g)].map((m) => ({
    width: Number(m[1]),
    fill: m[2] as string,
    title: m[3] as string,
  }));
}

const TODAY = `
| Runtime | Peer | µs per task: median | min–max | × asyncio-ts | loop turns per op: median (min–max) | Notes |
| --- | --- | ---: | ---: | ---: | ---: | --- |
| Node v20.20.2 | raw Node (floor) | **1.51** | 1.50 – 1.54 | 0.29× | 1.00 (1.00 – 1.00) |  |
| Node v20.20.2 | asyncio-ts | **5.19** | 4.98 – 6.21 | 1.00× | 0.03 (0.03 – 0.03) |  |
| Node v20.20.2 | Effection | **160** | 157 – 170 | 30.8× | 2.00 (2.00 – 2.00) | n = 5k |
| Node v20.20.2 | p-queue | — | — | — | — | cannot express it |
| CPython 3.11.2 | CPython asyncio | **9.69** | 9.41 – 10.9 | 1.87× | — |  |
`;

// What the next RESULTS.md may look like: one column per Node, throughput units.
const COLUMNS = `
| Peer | Node 22: items/s: median | min–max | Node 24: items/s: median | min–max |
| --- | ---: | ---: | ---: | ---: |
| raw Node (floor) | **9.56 M** | 9.2 M – 10.1 M | **13.5 M** | 13.4 M – 14.0 M |
| asyncio-ts | **2.61 M** | 2.2 M – 2.7 M | **8,440 k** | 8.3 M – 9.1 M |
`;

// The shape bench/run.ts writes today: the median and its spread in one cell, per Node.
const SPREAD_IN_CELL = `
| Peer | Node 22.23.5: µs per task, median (min – max) | Node 22.23.5: × asyncio-ts | Node 26.12.1: µs per task, median (min – max) | Node 26.12.1: × asyncio-ts |
| --- | ---: | ---: | ---: | ---: |
| raw Node (floor) | **3.78** (3.69 – 3.82) | 0.43× | **4.31** (4.02 – 4.40) | 0.55× |
| asyncio-ts | **8.82** (8.60 – 9.10) | 1.00× | **7.77** (7.50 – 8.00) | 1.00× |
`;

describe("the benchmark charts", () => {
  it("chart every Node's median when a cell holds the median and its spread", () => {
    const [table] = charts.parseTables(SPREAD_IN_CELL.split("\n"));
    assert.ok(table !== undefined);
    const spec = charts.chartSpec(table) as ChartSpec;
    assert.deepEqual(spec.series.map((s) => s.name), ["Node 22.23.5", "Node 26.12.1"]);
    assert.equal(spec.unit, "µs per task");
    const drawn = bars(charts.chartSvg(table, "1. spawn", "c9") as string);
    assert.deepEqual(drawn.map((b) => b.title), [
      "raw Node (floor) (Node 22.23.5): 3.78 µs per task",
      "raw Node (floor) (Node 26.12.1): 4.31 µs per task",
      "asyncio-ts (Node 22.23.5): 8.82 µs per task",
      "asyncio-ts (Node 26.12.1): 7.77 µs per task",
    ]);
  });

  it("read the numbers of the tables: bold, with k and M, with thousands separators; not a dash", () => {
    assert.equal(charts.cellNumber("**5.19**"), 5.19);
    assert.equal(charts.cellNumber("**2.61 M**"), 2.61e6);
    assert.equal(charts.cellNumber("941.0 k"), 941_000);
    assert.equal(charts.cellNumber("24,531"), 24_531);
    assert.equal(charts.cellNumber("—"), null);
    assert.equal(charts.cellNumber("n = 5k: Effection"), null);
  });

  it("chart the bold median column, group the bars by runtime and label them by peer", () => {
    const [table] = charts.parseTables(TODAY.split("\n"));
    assert.ok(table !== undefined);
    assert.equal(table.rows.length, 5);
    const spec = charts.chartSpec(table);
    assert.deepEqual(spec, {
      series: [{ column: 2, name: "µs per task" }],
      group: 0,
      label: [1],
      unit: "µs per task",
      higherIsBetter: false,
    });
    const svg = charts.chartSvg(table, "1. spawn", "c1") as string;
    const drawn = bars(svg);
    // p-queue has no number: no bar (its dash is written instead); the other four have one.
    assert.deepEqual(drawn.map((b) => b.title), [
      "Node v20.20.2, raw Node (floor): 1.51 µs per task",
      "Node v20.20.2, asyncio-ts: 5.19 µs per task",
      "Node v20.20.2, Effection: 160 µs per task",
      "CPython 3.11.2, CPython asyncio: 9.69 µs per task",
    ]);
    assert.match(svg, />Node v20\.20\.2<\/text>/);
    assert.match(svg, />CPython 3\.11\.2<\/text>/);
    assert.match(svg, /shorter is better/);
    // Bars are proportional to the numbers, except Effection's, 17 times the median: broken.
    const [floor, ours, effection, cpython] = drawn as [typeof drawn[0], typeof drawn[0], typeof drawn[0], typeof drawn[0]];
    assert.ok(Math.abs(ours.width / floor.width - 5.19 / 1.51) < 0.01, `${ours.width} / ${floor.width}`);
    assert.ok(Math.abs(cpython.width / ours.width - 9.69 / 5.19) < 0.01);
    assert.ok(effection.width >= cpython.width && effection.width < cpython.width * 1.2, "the outlier is cut at the axis");
    assert.match(svg, /160 \(off scale\)/);
    // asyncio-ts stands out.
    assert.notEqual(ours.fill, cpython.fill);
    assert.notEqual(ours.fill, floor.fill);
  });

  it("chart several median columns (one per Node) as grouped bars with a legend; a rate is longer-is-better", () => {
    const [table] = charts.parseTables(COLUMNS.split("\n"));
    assert.ok(table !== undefined);
    const spec = charts.chartSpec(table) as ChartSpec;
    assert.deepEqual(spec.series.map((s) => s.name), ["Node 22", "Node 24"]);
    assert.equal(spec.unit, "items/s");
    assert.equal(spec.group, null);
    assert.equal(spec.higherIsBetter, true);
    const svg = charts.chartSvg(table, "4. Queue", "c2") as string;
    const drawn = bars(svg);
    assert.equal(drawn.length, 4);
    assert.deepEqual(drawn.map((b) => b.title), [
      "raw Node (floor) (Node 22): 9.56 M items/s",
      "raw Node (floor) (Node 24): 13.5 M items/s",
      "asyncio-ts (Node 22): 2.61 M items/s",
      "asyncio-ts (Node 24): 8,440 k items/s",
    ]);
    assert.ok(Math.abs((drawn[3] as { width: number }).width / (drawn[1] as { width: number }).width - 8.44 / 13.5) < 0.01);
    assert.match(svg, /longer is better/);
    assert.match(svg, />Node 22<\/text>/, "a legend names each series");
    assert.match(svg, />Node 24<\/text>/, "a legend names each series");
  });

  it("put a chart above each table of the Results section only, and change nothing else", () => {
    const markdown = [
      "# Benchmark results",
      "## Targets",
      "",
      "| Target | measured: median |",
      "| --- | --- |",
      "| spawn | **3.45** |",
      "",
      "## Results",
      "",
      "### 1. spawn",
      "",
      "Text.",
      TODAY,
      "### 4. Queue",
      COLUMNS,
      "## Soak test",
      "",
      "| Figure | Value |",
      "| --- | --- |",
      "| duration | 60 s |",
    ].join("\n");
    const page = charts.benchPage(markdown);
    assert.equal((page.match(/<figure class="bench-chart">/g) ?? []).length, 2);
    assert.equal(page.replace(/<figure class="bench-chart">[\s\S]*?<\/figure>\n\n?/g, ""), markdown);
    assert.ok(page.indexOf("<figure") > page.indexOf("### 1. spawn") && page.indexOf("<figure") < page.indexOf("| Runtime |"));
    // No empty line inside a figure: Markdown would end the HTML block there.
    for (const figure of page.match(/<figure[\s\S]*?<\/figure>/g) ?? []) assert.doesNotMatch(figure, /\n\s*\n/);
    assert.match(page, /id="bench-chart-1"/);
    assert.match(page, /id="bench-chart-2"/);
  });

  it("refuse a RESULTS.md with no Results section or nothing to chart in it", () => {
    assert.throws(() => charts.benchPage("# Benchmark results\n\n## Targets\n"), /no "## Results" section/);
    assert.throws(() => charts.benchPage("## Results\n\n| A | B |\n| --- | --- |\n| x | 1 |\n"), /no table .* median/);
  });

  it("chart every table of the Results section of the real bench/RESULTS.md", () => {
    const results = readFileSync(join(ROOT, "bench/RESULTS.md"), "utf8");
    const section = results.slice(results.indexOf("\n## Results"));
    const end = section.indexOf("\n## ", 1);
    const tables = charts.parseTables((end < 0 ? section : section.slice(0, end)).split("\n"));
    assert.ok(tables.length >= 8, `${tables.length} tables`);
    const page = charts.benchPage(results);
    assert.equal((page.match(/<figure class="bench-chart">/g) ?? []).length, tables.length);
  });
});

describe("the links of the site's pages", () => {
  const root = join(tmp, "repo");
  for (const [file, text] of Object.entries({
    "docs/a.md": "# A\n",
    "docs/images/x.png": "png",
    "examples/gather.ts": "// gather\n",
    "examples/README.md": "# Examples\n",
    "bench/RESULTS.md": "# Results\n",
    "src/index.ts": "export {};\n",
    "test/lint/sample.ts": "// sample\n",
    "other/notes.md": "# Notes\n",
  })) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }

  function rewrite(text: string): { text: string; errors: string[]; collected: string[] } {
    const errors: string[] = [];
    const collected: string[] = [];
    const out = stage.rewriteLinks(text, {
      root, stage: join(tmp, "stage"), source: "docs/b.md", staged: "docs/b.md", collect: (f) => collected.push(f), errors,
    });
    return { text: out, errors, collected };
  }

  it("point guides at guides, examples at the Examples page, results at the Benchmarks page", () => {
    const { text, errors } = rewrite(
      "See [a](a.md#x), [gather](../examples/gather.ts), [all](../examples/), [results](../bench/RESULTS.md#results), [web](https://x.org/a.md).",
    );
    assert.deepEqual(errors, []);
    assert.equal(
      text,
      "See [a](a.md#x), [gather](site/examples.md#gatherts), [all](site/examples.md), [results](site/benchmarks.md#results), [web](https://x.org/a.md).",
    );
  });

  it("make an entry point's link a {@link} to its module, keep images, and show any other file", () => {
    const { text, errors, collected } = rewrite("[API](../src/index.ts) and ![shot](images/x.png) and [the sample](../test/lint/sample.ts)");
    assert.deepEqual(errors, []);
    assert.match(text, /^\{@link "asyncio-ts" \| API\} and !\[shot\]\((\.\.\/)+.*repo\/docs\/images\/x\.png\) and \[the sample\]\(site\/examples\.md#testlintsamplets\)$/);
    assert.deepEqual(collected, ["test/lint/sample.ts"]);
  });

  it("leave code alone and report a missing file, a folder or a page that is not on the site", () => {
    const { text, errors } = rewrite(
      ["`[no](../nowhere.md)`", "```md", "[no](../nowhere.md)", "```", "[gone](../nowhere.md) [dir](../src/) [notes](../other/notes.md)"].join("\n"),
    );
    assert.match(text, /^`\[no\]\(\.\.\/nowhere\.md\)`\n```md\n\[no\]\(\.\.\/nowhere\.md\)\n```\n/);
    assert.deepEqual(errors, [
      "docs/b.md:5: ../nowhere.md: no such file",
      "docs/b.md:5: ../src/: this folder is not on the site; link to a guide, an example or a file",
      "docs/b.md:5: ../other/notes.md: this page is not on the site; link to a guide, an example or a file",
    ]);
  });

  it("follow docs/README.md for the order of the guides, and miss no page of docs/", () => {
    const { guides, reference } = stage.docsOrder(ROOT);
    assert.equal(guides[0], "getting-started.md");
    assert.ok(guides.indexOf("tasks-and-cancellation.md") < guides.indexOf("event-loop.md"));
    assert.ok(reference.includes("porting-from-python.md") && reference.includes("design-notes.md"));
    assert.ok(reference.indexOf("porting-from-python.md") < reference.indexOf("design-notes.md"));
  });

  it("use GitHub's anchors for headings, as test/docs-blocks.test.ts checks them", () => {
    assert.equal(githubSlug("Retrying: retry()"), "retrying-retry");
    assert.equal(githubSlug("Timeouts — and moveOnAfter"), "timeouts--and-moveonafter");
    assert.equal(githubSlug("4. Queue(100): 1M items, 1 producer / 1 consumer"), "4-queue100-1m-items-1-producer--1-consumer");
  });
});

describe("the check of the built site's links", () => {
  it("finds a missing page, a missing anchor and an absolute path, and passes good links", () => {
    const out = join(tmp, "site");
    mkdirSync(join(out, "documents"), { recursive: true });
    writeFileSync(join(out, "index.html"), '<a href="documents/a.html#here">a</a><a href="https://x.org/">x</a><img src="x.png">');
    writeFileSync(join(out, "x.png"), "png");
    writeFileSync(
      join(out, "documents/a.html"),
      '<h2 id="here">Here</h2><a href="../index.html">home</a><a href="b.html">b</a><a href="../index.html#gone">gone</a><a href="/index.html">abs</a>',
    );
    const { problems, checked } = checkLinks(out);
    assert.equal(checked, 6);
    assert.deepEqual(problems.sort(), [
      "documents/a.html: ../index.html#gone: no id \"gone\" in index.html",
      "documents/a.html: /index.html: an absolute path (the site must work from any folder)",
      "documents/a.html: b.html: no such file",
    ]);
  });
});
