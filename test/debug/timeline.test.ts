// The HTML timeline in a real browser: a traced program's page opened in headless Chromium
// (Debian's `chromium`, driven by puppeteer-core), its lanes, bars and marks read from the DOM
// and from the pixels of a screenshot, its tooltip and zoom used as a person would.
//
// Skipped, with the reason, only where Chromium (or puppeteer-core) is missing and CI is not
// set; in CI it must run (.ci/run installs chromium).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "puppeteer-core";
import { createTask, gather, sleep } from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { chromiumFor } from "../support/browser.js";
import { type Trace, laneEvents, laneNames, laneOf, readTrace, tempDir } from "../support/trace.js";

const { executablePath, skip } = chromiumFor("the timeline's browser test");

/** An RGB colour of the page's CSS. */
type Rgb = [number, number, number];
const STEP_BLUE: Rgb = [0x25, 0x63, 0xeb];
const CANCEL_AMBER: Rgb = [0xf5, 0x9e, 0x0b];
const ERROR_RED: Rgb = [0xdc, 0x26, 0x26];

function near(actual: number[], expected: Rgb, what: string): void {
  const close = expected.every((c, i) => Math.abs((actual[i] as number) - c) <= 40);
  assert.ok(close, `${what}: pixel rgb(${actual.slice(0, 3).join(", ")}) is not near rgb(${expected.join(", ")})`);
}

describe("the HTML timeline in Chromium", { skip, timeout: 120_000 }, () => {
  let tmp: ReturnType<typeof tempDir>;
  let trace: Trace;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    tmp = tempDir();
    const file = join(tmp.dir, "program.json");
    const html = join(tmp.dir, "program.html");
    await runTest(
      async () => {
        const adder = createTask(() => sleep(0.25, 42), { name: "adder" });
        const failing = createTask(async () => {
          await sleep(0.5);
          throw new Error("boom");
        }, { name: "failing" });
        const sleeper = createTask(() => sleep(10), { name: "sleeper" });
        const looper = createTask(async () => {
          for (let i = 0; i < 8; i++) await sleep(0.25);
        }, { name: "looper" });
        await sleep(1.5);
        sleeper.cancel("stop it");
        await gather(adder, failing, sleeper, looper, { returnExceptions: true });
      },
      { trace: { file, html } },
    );
    trace = readTrace(file);
    const puppeteer = (await import("puppeteer-core")).default;
    browser = await puppeteer.launch({
      executablePath: executablePath as string,
      headless: true,
      // As root (CI, containers) Chromium's sandbox cannot start.
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
      timeout: 30_000,
      protocolTimeout: 30_000,
    });
    page = await browser.newPage();
    page.on("pageerror", (error) => void pageErrors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    await page.setViewport({ width: 1200, height: 600, deviceScaleFactor: 1 });
    await page.goto(pathToFileURL(html).href, { waitUntil: "load", timeout: 30_000 });
    await page.waitForSelector("g.lane", { timeout: 10_000 });
  });

  after(async () => {
    await browser?.close();
    tmp?.remove();
  });

  /** The centre of the first element matching `selector`, in page pixels. */
  async function centre(selector: string): Promise<{ x: number; y: number }> {
    const box = await page.$eval(selector, (element) => {
      const r = element.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2, top: r.top };
    });
    return box;
  }

  /**
   * The colour of pixel (x, y) of a screenshot, read back through a canvas of the page. (The
   * page's code is a string: the tests are compiled without the DOM's types.)
   */
  async function pixel(png: string, x: number, y: number): Promise<number[]> {
    const read = `(async () => {
      const image = new Image();
      image.src = "data:image/png;base64,${png}";
      await image.decode();
      const canvas = document.createElement("canvas");
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext("2d");
      context.drawImage(image, 0, 0);
      return Array.from(context.getImageData(${Math.round(x)}, ${Math.round(y)}, 1, 1).data);
    })()`;
    return (await page.evaluate(read)) as number[];
  }

  it("draws one lane for each task of the trace, named after it", async () => {
    const lanes = await page.$$eval("g.lane:not(.callbacks)", (elements) =>
      elements.map((e) => `${e.getAttribute("data-name")} (${e.getAttribute("data-task-id")})`),
    );
    assert.deepEqual(lanes.sort(), [...laneNames(trace).values()].sort());
    for (const name of ["adder", "failing", "sleeper", "looper"]) assert.ok(lanes.includes(`${name} (${laneOf(trace, name)})`));
    const labels = await page.$$eval("g.lane:not(.callbacks) text.label", (elements) => elements.map((e) => e.textContent));
    assert.ok(labels.includes(`looper (${laneOf(trace, "looper")})`), labels.join(", "));
  });

  it("draws the steps of each task as bars", async () => {
    for (const name of ["adder", "failing", "sleeper", "looper"]) {
      const bars = await page.$$eval(`g.lane[data-name="${name}"] rect.step`, (elements) => elements.length);
      assert.ok(bars >= 1, `${name} has ${bars} bars`);
    }
    const steps = laneEvents(trace, laneOf(trace, "looper")).filter((e) => e.ph === "X").length;
    const looper = await page.$$eval('g.lane[data-name="looper"] rect.step', (elements) => elements.length);
    assert.equal(steps, 9);
    assert.equal(looper, steps, "each step of the looper is its own bar at this zoom");
  });

  it("marks the cancellation, the error and the results", async () => {
    const marks = async (name: string): Promise<string[]> =>
      page.$$eval(`g.lane[data-name="${name}"] g.mark`, (elements) => elements.map((e) => e.getAttribute("class") ?? ""));
    const sleeper = await marks("sleeper");
    for (const kind of ["m-created", "m-cancel-requested", "m-cancel-delivered", "m-cancelled"]) {
      assert.ok(sleeper.includes(`mark ${kind}`), `sleeper: ${sleeper.join(", ")}`);
    }
    assert.ok((await marks("failing")).includes("mark m-error"));
    assert.ok((await marks("adder")).includes("mark m-result"));
    assert.equal((await marks("adder")).includes("mark m-error"), false);
    const outcome = (name: string): Promise<string | null> =>
      page.$eval(`g.lane[data-name="${name}"]`, (lane) => lane.getAttribute("data-outcome"));
    assert.deepEqual(
      await Promise.all(["adder", "failing", "sleeper", "looper"].map(outcome)),
      ["result", "error", "cancelled", "result"],
    );
  });

  it("paints them: a screenshot shows the bar, the cancel and the error in their colours", async () => {
    const png = (await page.screenshot({ encoding: "base64", fullPage: false })) as string;
    writeFileSync(join(tmp.dir, "timeline.png"), Buffer.from(png, "base64"));
    assert.ok(png.length > 10_000, "a screenshot with something in it");
    const step = await centre('g.lane[data-name="looper"] rect.step.kind-0');
    near(await pixel(png, step.x, step.y), STEP_BLUE, "a step bar");
    const cancel = await page.$eval('g.lane[data-name="sleeper"] g.mark.m-cancel-requested circle', (c) => {
      const r = c.getBoundingClientRect();
      // The triangle sits at the top of the lane, around the mark's time.
      const lane = c.closest("g.lane") as unknown as { getBoundingClientRect(): { top: number } };
      return { x: r.left + r.width / 2, y: lane.getBoundingClientRect().top + 4 };
    });
    near(await pixel(png, cancel.x, cancel.y), CANCEL_AMBER, "the cancel-requested mark");
    const error = await centre('g.lane[data-name="failing"] g.mark.m-error circle');
    near(await pixel(png, error.x, error.y), ERROR_RED, "the error mark");
  });

  it("shows a step's details on hover", async () => {
    const step = await centre('g.lane[data-name="looper"] rect.step.kind-0');
    await page.mouse.move(step.x, step.y);
    const tip = await page.$eval("#tip", (e) => ({ hidden: (e as unknown as { hidden: boolean }).hidden, text: e.textContent ?? "" }));
    assert.equal(tip.hidden, false);
    assert.match(tip.text, /^looper \(\d+\): step\nat 250\.000 ms, took 0\.000 µs\nresumed by sleep until loop time 0\.250 \(finished\)\nthen awaits sleep until loop time 0\.500, 0\.250 s to go$/);
    const error = await centre('g.lane[data-name="failing"] g.mark.m-error circle');
    await page.mouse.move(error.x, error.y);
    assert.match(await page.$eval("#tip", (e) => e.textContent ?? ""), /failing \(\d+\): finished: error at 500\.000 ms\nError: boom/);
    await page.mouse.move(5, 5);
  });

  it("zooms in and back out", async () => {
    const x = (): Promise<number> => page.$eval('g.lane[data-name="adder"] g.mark.m-result circle', (c) => Number(c.getAttribute("cx")));
    const before = await x();
    await page.click("#zoom-in");
    const mark = `document.querySelector('g.lane[data-name="adder"] g.mark.m-result circle')`;
    await page.waitForFunction(`${mark} === null || Number(${mark}.getAttribute("cx")) !== ${before}`, { timeout: 5_000 });
    await page.keyboard.press("0");
    await page.waitForFunction(`${mark} !== null && Math.abs(Number(${mark}.getAttribute("cx")) - ${before}) < 0.5`, { timeout: 5_000 });
    assert.equal(Math.round(await x()), Math.round(before));
  });

  it("ran without a script error", () => {
    assert.deepEqual(pageErrors, []);
  });
});
