// The headless browser of the browser tests (Debian's `chromium`, driven by puppeteer-core):
// where it is, or why a test that needs it is skipped. In CI a missing browser is a broken
// setup (.ci/run installs chromium), not a skip: the test file fails at load, naming `what`.
import { existsSync } from "node:fs";

const BROWSERS = [
  process.env.CHROMIUM_PATH,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

function hasPuppeteer(): boolean {
  try {
    import.meta.resolve("puppeteer-core");
    return true;
  } catch {
    return false;
  }
}

/**
 * The browser's path, and `skip`: `false`, or the reason the browser tests of `what` (say
 * "the timeline's browser test") are skipped here.
 */
export function chromiumFor(what: string): { executablePath: string | null; skip: string | false } {
  const executablePath = BROWSERS.find((p) => p !== undefined && p !== "" && existsSync(p)) ?? null;
  const missing =
    executablePath === null
      ? "no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)"
      : !hasPuppeteer()
        ? "puppeteer-core is not installed (npm install)"
        : null;
  if (missing !== null && process.env.CI !== undefined && process.env.CI !== "") {
    throw new Error(`${what} cannot run in CI: ${missing}`);
  }
  return { executablePath, skip: missing === null ? false : `${missing}: ${what} is skipped` };
}
