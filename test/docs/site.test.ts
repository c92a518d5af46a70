// The documentation site as a reader gets it: `npm run docs` (scripts/docs.mjs) builds it into
// a temporary folder, a small static server (node:http) serves that folder under a sub-path
// (as a static host serving it from a folder would), and headless Chromium (Debian's
// `chromium`, driven by puppeteer-core) opens the landing page, a guide, the API page of
// `createTask` and the benchmark page: each renders, with no console error and no failed
// request; the navigation lists the guides in order; the search finds `createTask`; the
// benchmark charts are drawn. Screenshots go to scratch/site-test/ (git-ignored) for a person
// to look at.
//
// The build runs whatever the machine; the browser part is skipped, with the reason, only where
// Chromium (or puppeteer-core) is missing and CI is not set; in CI it must run (.ci/run
// installs chromium). About 30 s on 2 cores, most of it TypeDoc.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "puppeteer-core";
import { chromiumFor } from "../support/browser.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SHOTS = join(ROOT, "scratch", "site-test");
/** Where the server puts the site: any folder of a host must do. */
const PREFIX = "/some/folder/asyncio-ts/";

const { executablePath, skip } = chromiumFor("the documentation site's browser test");

const out = mkdtempSync(join(tmpdir(), "asyncio-ts-site-"));
let build: { code: number | null; stdout: string; stderr: string; seconds: number };

before(async () => {
  const started = performance.now();
  build = await new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [join(ROOT, "scripts/docs.mjs"), "--out", out], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("close", (code) => resolvePromise({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 }));
  });
});

after(() => rmSync(out, { recursive: true, force: true }));

/** The tables of bench/RESULTS.md's "## Results" section that have a median column: one chart each. */
function resultTablesWithMedian(): number {
  const text = readFileSync(join(ROOT, "bench/RESULTS.md"), "utf8");
  const start = text.indexOf("\n## Results\n");
  const rest = text.slice(start + 1);
  const end = rest.indexOf("\n## ");
  const lines = (end < 0 ? rest : rest.slice(0, end)).split("\n");
  return lines.filter((l, i) => /^\|/.test(l) && /^\|\s*:?-{3}/.test(lines[i + 1] ?? "") && /median/i.test(l)).length;
}

describe("the documentation site", { timeout: 300_000 }, () => {
  it("builds with no warning into a plain folder: index.html, the guides, the API pages", (t) => {
    t.diagnostic(`built in ${build.seconds.toFixed(1)} s`);
    assert.equal(build.code, 0, `npm run docs failed:\n${build.stdout}\n${build.stderr}`);
    assert.match(build.stdout, /docs: \d+ pages and \d+ links checked/);
    assert.doesNotMatch(build.stdout + build.stderr, /\[warning\]|\[error\]/);
    for (const file of ["index.html", "functions/asyncio-ts.createTask.html", "documents/Benchmarks.html", "documents/Examples.html", "assets/search.js"]) {
      assert.ok(existsSync(join(out, file)), `${file} is missing`);
    }
    // Relative links only: the same files work from any folder of any static host.
    const landing = readFileSync(join(out, "index.html"), "utf8");
    assert.doesNotMatch(landing, /\s(?:href|src)="\/(?!\/)/);
  });

  describe("in Chromium, served from a sub-path", { skip }, () => {
    let server: Server;
    let base: string;
    let browser: Browser;
    let page: Page;
    const problems: string[] = [];

    before(async () => {
      assert.equal(build.code, 0, "the site did not build");
      const types: Record<string, string> = {
        ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
        ".svg": "image/svg+xml", ".png": "image/png", ".json": "application/json",
      };
      server = createServer((request, response) => {
        const path = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
        let file = path.startsWith(PREFIX) ? join(out, normalize(path.slice(PREFIX.length))) : null;
        if (file !== null && existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
        if (file === null || !(file + sep).startsWith(out + sep) && file !== out || !existsSync(file)) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
      });
      await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PREFIX}`;
      mkdirSync(SHOTS, { recursive: true });
      const puppeteer = (await import("puppeteer-core")).default;
      browser = await puppeteer.launch({
        executablePath: executablePath as string,
        headless: true,
        // As root (CI, containers) Chromium's sandbox cannot start; nothing but the local server.
        args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
        timeout: 30_000,
        protocolTimeout: 30_000,
      });
      page = await browser.newPage();
      page.on("pageerror", (error) => void problems.push(`${page.url()}: ${String(error)}`));
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`${page.url()}: console: ${message.text()}`);
      });
      page.on("response", (response) => {
        if (response.status() >= 400) problems.push(`${response.url()}: HTTP ${response.status()}`);
      });
      page.on("requestfailed", (request) => void problems.push(`${request.url()}: ${request.failure()?.errorText ?? "failed"}`));
      await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
    });

    after(async () => {
      await browser?.close();
      await new Promise((closed) => (server === undefined ? closed(undefined) : server.close(closed)));
    });

    /** Opens `path` (relative to the site) and waits until TypeDoc's script has shown the page. */
    async function open(path: string): Promise<void> {
      await page.goto(base + path, { waitUntil: "load", timeout: 30_000 });
      // (The page's code is a string: the tests are compiled without the DOM's types.)
      await page.waitForFunction('document.body.style.display !== "none" && document.querySelector("#tsd-nav-container li a") !== null', {
        timeout: 15_000,
      });
    }

    async function screenshot(name: string): Promise<void> {
      const path = join(SHOTS, `${name}.png`);
      await page.screenshot({ path });
      const png = readFileSync(path);
      assert.equal(png.subarray(1, 4).toString(), "PNG");
      assert.ok(png.length > 20_000, `${name}.png is only ${png.length} bytes: a blank page?`);
    }

    const text = (selector: string): Promise<string> => page.$eval(selector, (e) => (e.textContent ?? "").trim());

    it("the landing page says what asyncio-ts is, shows the example, and lists the guides in order", async () => {
      await open("");
      assert.equal(await text(".tsd-panel.tsd-typography h1, .tsd-typography h1"), "asyncio-ts");
      const body = await text(".col-content");
      assert.match(body, /Python's asyncio for TypeScript on Node\.js/);
      assert.match(body, /Why\./);
      const code = await page.$$eval(".col-content pre code", (blocks) => blocks.map((b) => b.textContent ?? ""));
      assert.ok(code.some((c) => c.includes("timeout(0.5") && c.includes("gather(")), "the example is shown");
      // The navigation: Guides (in docs/README.md's order), Reference, Modules.
      const groups = await page.$$eval("#tsd-nav-container > li > details > summary", (s) => s.map((e) => (e.textContent ?? "").trim()));
      assert.deepEqual(groups, ["Guides", "Reference", "Modules"]);
      const guides = await page.$$eval("#tsd-nav-container > li:first-child a", (a) => a.map((e) => (e.textContent ?? "").trim()));
      assert.equal(guides[0], "Getting started with asyncio-ts");
      assert.equal(guides[1], "Tasks and cancellation");
      assert.equal(guides.at(-1), "Linting: catching a forgotten await");
      await screenshot("landing");
    });

    it("the search box finds createTask and opens its page", async () => {
      await page.click("#tsd-search-trigger");
      await page.waitForSelector("#tsd-search-input", { visible: true, timeout: 5_000 });
      await page.type("#tsd-search-input", "createTask");
      await page.waitForFunction(
        '[...document.querySelectorAll("#tsd-search-results li a")].some((a) => a.textContent.includes("createTask"))',
        { timeout: 10_000 },
      );
      const results = await page.$$eval("#tsd-search-results li a", (a) => a.map((e) => ({ text: (e.textContent ?? "").trim(), href: e.getAttribute("href") })));
      // The function first among the results; EventLoop.createTask and TaskGroup.createTask too.
      const hit = results.find((r) => r.href?.endsWith("functions/asyncio-ts.createTask.html"));
      assert.ok(hit !== undefined, `the function createTask is not among ${JSON.stringify(results)}`);
      assert.equal(results.indexOf(hit), 0, JSON.stringify(results));
      await screenshot("search");
      await Promise.all([page.waitForNavigation({ timeout: 15_000 }), page.click(`#tsd-search-results li a[href="${hit.href}"]`)]);
      assert.ok(page.url().startsWith(base), page.url());
      assert.match(page.url(), /createTask\.html$/);
    });

    it("the API page of createTask shows its signature, its doc comment and its example", async () => {
      await open("functions/asyncio-ts.createTask.html");
      assert.equal(await text("h1"), "Function createTask");
      assert.match(await text(".tsd-signature"), /^createTask<T>\(coro: Awaitable<T>, options\?: TaskOptions\): Task<T>$/);
      const body = await text(".col-content");
      assert.match(body, /Wraps coro in a Task/);
      assert.match(body, /TypeError when coro is not an awaitable/);
      // The example is code; the "asyncio:" line after it is prose, not part of it.
      const code = await page.$$eval(".col-content pre code", (blocks) => blocks.map((b) => b.textContent ?? ""));
      assert.ok(code.some((c) => c.includes("createTask(() => fetchPage(url)")));
      assert.ok(code.every((c) => !c.includes("asyncio.create_task")));
      // A link of the comment goes to the Task class.
      const taskLink = await page.$eval(".col-content .tsd-comment a[href*='Task']", (a) => a.getAttribute("href"));
      assert.match(taskLink ?? "", /classes\/asyncio-ts\.Task\.html$/);
      await screenshot("api-createTask");
    });

    it("a guide renders with its code and its links to other guides, examples and the API", async () => {
      await open("documents/Tasks_and_cancellation.html");
      assert.equal(await text(".col-content h1"), "Tasks and cancellation");
      const blocks = await page.$$eval(".col-content pre code", (b) => b.length);
      assert.ok(blocks >= 20, `${blocks} code blocks`);
      // The guide's "On this page" has its headings, code spans included.
      const toc = await page.$$eval(".tsd-page-navigation a", (a) => a.map((e) => (e.textContent ?? "").trim()));
      assert.ok(toc.includes("Retrying: retry()"), JSON.stringify(toc.slice(0, 30)));
      // Links to another guide's heading and to an example land on an element with that id.
      const hrefs = await page.$$eval(".col-content a", (a) => a.map((e) => e.getAttribute("href") ?? ""));
      const toGuide = hrefs.find((h) => /^The_event_loop\.html#/.test(h));
      const toExample = hrefs.find((h) => /^Examples\.html#\w+ts$/.test(h));
      assert.ok(toGuide !== undefined && toExample !== undefined, JSON.stringify(hrefs.filter((h) => !h.startsWith("#")).slice(0, 40)));
      await screenshot("guide");
      for (const href of [toGuide, toExample]) {
        await open(`documents/${href}`);
        const id = decodeURIComponent(href.split("#")[1] as string);
        assert.ok((await page.$(`[id="${id}"]`)) !== null, `${href}: no element with id ${id}`);
      }
      assert.match(await text(".col-content"), /npm run examples runs each one/);
    });

    it("the benchmark page draws a bar chart, with its bars, above each results table", async () => {
      await open("documents/Benchmarks.html#results");
      const charts = await page.$$eval("figure.bench-chart svg", (svgs) =>
        svgs.map((svg) => {
          const bars = [...svg.querySelectorAll("rect.bar")].map((r) => r.getBoundingClientRect());
          const next = svg.closest("figure")?.nextElementSibling;
          return {
            bars: bars.length,
            drawn: bars.filter((b) => b.width > 0.5 && b.height > 4).length,
            labels: [...svg.querySelectorAll("text")].map((t) => t.textContent ?? ""),
            tableAfter: next?.tagName === "TABLE",
          };
        }),
      );
      assert.equal(charts.length, resultTablesWithMedian());
      for (const [i, chart] of charts.entries()) {
        assert.ok(chart.bars >= 2, `chart ${i + 1}: ${chart.bars} bars`);
        assert.equal(chart.drawn, chart.bars, `chart ${i + 1}: some bars have no size`);
        assert.ok(chart.labels.some((l) => l === "asyncio-ts" || l.startsWith("asyncio-ts ")), `chart ${i + 1}: no asyncio-ts bar`);
        assert.ok(chart.labels.some((l) => / is better$/.test(l)), `chart ${i + 1}: no unit line`);
        assert.ok(chart.tableAfter, `chart ${i + 1}: its table does not follow it`);
      }
      // asyncio-ts's bars are drawn in the accent colour.
      const fill = await page.evaluate(`getComputedStyle(document.querySelector("figure.bench-chart rect.bar[fill='#2563eb']")).fill`);
      assert.equal(fill, "rgb(37, 99, 235)");
      await screenshot("benchmarks");
      // The first chart alone, as a reader sees it.
      const first = await page.$("figure.bench-chart");
      assert.ok(first !== null);
      await first.screenshot({ path: join(SHOTS, "benchmark-chart.png") });
      assert.ok(readFileSync(join(SHOTS, "benchmark-chart.png")).length > 10_000);
    });

    it("no page had a console error or a failed request", () => {
      assert.deepEqual(problems, []);
    });
  });
});
