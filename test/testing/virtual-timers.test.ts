// runTest({ virtualTimers: true }): Node's own timers, Date and performance.now on the test
// loop's clock, with autojump; put back when the test ends, whatever its outcome.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import * as nodeTimers from "node:timers";
import { setTimeout as delayed, setInterval as every, scheduler } from "node:timers/promises";
import {
  RuntimeError,
  type Task,
  createTask,
  currentTask,
  getRunningLoop,
  isCancellation,
  sleep,
} from "../../src/index.js";
import { runTest } from "../../src/testing.js";
import { unsupportedOn } from "../support/runtime.js";

const ESM_EXPORTS =
  "the ESM named exports of node:timers and node:timers/promises (`import { setTimeout } from \"node:timers/promises\"`) stay real here: the runtime's builtin modules do not follow `syncBuiltinESMExports()` (the globals, `require()`d timers, `scheduler.wait`, `AbortSignal.timeout`, `Date` and `performance.now` are virtual)";
/** The tests that use those exports. */
const USES_ESM_EXPORTS = { skip: unsupportedOn({ bun: ESM_EXPORTS, deno: ESM_EXPORTS }) };

/** Node's own timer, captured before any test: it stays real inside a test too. */
const realSetTimeout = globalThis.setTimeout;

/** The globals a test with virtual timers replaces, as they are now. */
function snapshot(): unknown[] {
  return [
    globalThis.setTimeout,
    globalThis.setInterval,
    globalThis.clearTimeout,
    globalThis.clearInterval,
    globalThis.Date,
    Date.now,
    performance.now,
    AbortSignal.timeout,
    nodeTimers.setTimeout,
    delayed,
    every,
    scheduler.wait,
  ];
}

describe("runTest({ virtualTimers: true })", () => {
  it("runs a library's hour-long waits on Node's timers at once, and the wall clocks agree with loop.time()", USES_ESM_EXPORTS, async () => {
    const realStart = performance.now();
    const seen = await runTest(
      async () => {
        const loop = getRunningLoop();
        const date0 = Date.now();
        const perf0 = performance.now();
        const readings: Record<string, number> = {};
        await delayed(3_600_000); // timers/promises, through its ESM named export
        readings.promises = loop.time();
        await new Promise<void>((resolve) => setTimeout(resolve, 1_500));
        readings.global = loop.time();
        await new Promise<void>((resolve) => nodeTimers.setTimeout(resolve, 500));
        readings.module = loop.time();
        await scheduler.wait(1_000);
        readings.scheduler = loop.time();
        const signal = AbortSignal.timeout(2_000);
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
        readings.abortTimeout = loop.time();
        assert.equal((signal.reason as Error).name, "TimeoutError");
        readings.date = Date.now() - date0;
        readings.newDate = new Date().getTime() - date0;
        readings.perf = performance.now() - perf0;
        return readings;
      },
      { virtualTimers: true },
    );
    assert.deepEqual(seen, {
      promises: 3600,
      global: 3601.5,
      module: 3602,
      scheduler: 3603,
      abortTimeout: 3605,
      date: 3_605_000,
      newDate: 3_605_000,
      perf: 3_605_000,
    });
    assert.ok(performance.now() - realStart < 10_000, "two virtual hours pass in real seconds at most");
  });

  it("runs intervals at each period, from the global and from timers/promises", USES_ESM_EXPORTS, async () => {
    await runTest(
      async () => {
        const loop = getRunningLoop();
        const ticks: number[] = [];
        const interval = setInterval(() => {
          ticks.push(loop.time());
          if (ticks.length === 3) clearInterval(interval);
        }, 250);
        await sleep(10);
        assert.deepEqual(ticks, [0.25, 0.5, 0.75]);
        const iterated: number[] = [];
        for await (const value of every(100, "tick")) {
          assert.equal(value, "tick");
          iterated.push(Math.round((loop.time() - 10) * 1000));
          if (iterated.length === 3) break;
        }
        assert.deepEqual(iterated, [100, 200, 300]);
      },
      { virtualTimers: true },
    );
  });

  it("follows Node's rules for delays, clearTimeout by number, refresh and the Timeout's methods", async () => {
    await runTest(
      async () => {
        const loop = getRunningLoop();
        const fired: [string, number][] = [];
        const at = (name: string) => () => fired.push([name, Math.round(loop.time() * 1000)]);
        setTimeout(at("zero is 1 ms"), 0);
        setTimeout(at("NaN is 1 ms"), Number.NaN);
        const cleared = setTimeout(at("never"), 5);
        clearTimeout(Number(cleared));
        const refreshed = setTimeout(at("refreshed"), 10);
        assert.equal(refreshed.hasRef(), true);
        assert.equal(refreshed.unref().hasRef(), false);
        await sleep(0.005);
        refreshed.refresh();
        await sleep(1);
        assert.deepEqual(fired, [
          ["zero is 1 ms", 1],
          ["NaN is 1 ms", 1],
          ["refreshed", 15],
        ]);
        assert.throws(() => setTimeout("not a function" as never, 1), TypeError);
      },
      { virtualTimers: true },
    );
  });

  it("stops a timers/promises wait when its signal aborts, with Node's AbortError", USES_ESM_EXPORTS, async () => {
    await runTest(
      async () => {
        const controller = new AbortController();
        const waiting = delayed(1_000, "late", { signal: controller.signal });
        setTimeout(() => controller.abort("stop"), 10);
        const error = await waiting.then(
          () => assert.fail("the wait was aborted"),
          (e: unknown) => e as Error & { code?: string },
        );
        assert.equal(error.name, "AbortError");
        assert.equal(error.code, "ABORT_ERR");
        assert.equal(error.cause, "stop");
        assert.equal(getRunningLoop().time(), 0.01);
        await assert.rejects(delayed(1, undefined, { signal: controller.signal }), { name: "AbortError" });
      },
      { virtualTimers: true },
    );
  });

  it("runs a timer's callback in the context it was made in, as Node's timers do", async () => {
    await runTest(
      async () => {
        const task = createTask(
          () =>
            new Promise<string | undefined>((resolve) => {
              setTimeout(() => resolve(currentTask()?.getName()), 5);
            }),
          { name: "maker" },
        );
        assert.equal(await task, "maker");
      },
      { virtualTimers: true },
    );
  });

  it("puts everything back when the test ends, even when it fails, and leaks nothing into the next test", async () => {
    const before = snapshot();
    let late = false;
    await assert.rejects(
      runTest(
        async () => {
          assert.notDeepEqual(snapshot(), before, "the timers were replaced during the test");
          setTimeout(() => (late = true), 60_000); // still pending when the test fails
          await sleep(1);
          throw new RangeError("the test failed");
        },
        { virtualTimers: true },
      ),
      RangeError,
    );
    assert.deepEqual(snapshot(), before);
    const realNow = Date.now();
    await runTest(async () => {
      // A test without virtual timers: a virtual hour passes, Date.now() does not follow.
      await sleep(3600);
      assert.ok(Date.now() - realNow < 60_000);
      assert.equal(globalThis.setTimeout, before[0]);
    });
    assert.equal(late, false, "a virtual timer left pending never fires after its test");
  });

  it("leaves timers made before the test real: they neither fire early nor stop the clock", async () => {
    let fired = false;
    const real = setTimeout(() => (fired = true), 30_000);
    try {
      await runTest(
        async () => {
          await sleep(3600);
          assert.equal(fired, false);
          assert.equal(getRunningLoop().time(), 3600);
          clearTimeout(real); // the real clearTimeout still clears a real timer
        },
        { virtualTimers: true },
      );
    } finally {
      clearTimeout(real);
    }
    assert.equal(fired, false);
  });

  it("does not jump while a real socket may still answer, and jumps again once it is closed", USES_ESM_EXPORTS, async () => {
    const server = net.createServer((socket) => {
      // The answer comes after 50 real milliseconds (a timer captured before the test is real).
      realSetTimeout(() => socket.end("pong"), 50);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      await runTest(
        async () => {
          const loop = getRunningLoop();
          const socket = net.connect(port, "127.0.0.1");
          const answer = new Promise<string>((resolve, reject) => {
            let data = "";
            socket.on("data", (chunk: Buffer) => (data += chunk.toString()));
            socket.on("end", () => resolve(data));
            socket.on("error", reject);
          });
          // A library's own timeout around the request, on Node's timers: it must not fire
          // while the socket may still answer (autojump would fire it at once).
          const timedOut = delayed(3_600_000, "timed out");
          assert.equal(await Promise.race([answer, timedOut]), "pong");
          assert.ok(loop.time() < 3600, "the clock followed real time, it did not jump");
          socket.destroy();
          await new Promise<void>((resolve) => socket.on("close", () => resolve()));
          await sleep(3600); // nothing real is pending: the clock jumps again
          assert.equal(await timedOut, "timed out");
        },
        { virtualTimers: true },
      );
    } finally {
      server.close();
    }
  });

  it("refuses a second test running concurrently in the process, saying why", async () => {
    const first = runTest(() => sleep(1), { virtualTimers: true });
    const second = runTest(() => sleep(1), { virtualTimers: true });
    await assert.rejects(second, (e: unknown) => e instanceof RuntimeError && /concurrently/.test(e.message) && /one at a time/.test(e.message));
    await first;
  });

  it("refuses to run over another fake-timer library's timers", async () => {
    const fake = Object.assign((..._args: unknown[]) => 0, { clock: {} });
    const real = globalThis.setTimeout;
    globalThis.setTimeout = fake as unknown as typeof setTimeout;
    try {
      await assert.rejects(
        runTest(() => sleep(1), { virtualTimers: true }),
        (e: unknown) => e instanceof RuntimeError && /useRealTimers/.test(e.message),
      );
    } finally {
      globalThis.setTimeout = real;
    }
  });

  it("refuses a virtualTimers that is not a boolean", () => {
    assert.throws(() => runTest(() => sleep(0), { virtualTimers: "yes" as never }), TypeError);
  });
});

describe("a retry loop on Node's timers (the bug virtual timers find)", USES_ESM_EXPORTS, () => {
  /** Calls `attempt` until it succeeds, with exponential backoff on Node's timers. */
  async function retry(attempt: () => Promise<string>, signal: AbortSignal): Promise<string> {
    for (let delay = 1_000; ; delay *= 2) {
      try {
        return await attempt();
      } catch (error) {
        if (isCancellation(error)) throw error;
      }
      await delayed(delay, undefined, { signal });
    }
  }

  /**
   * Cancels a task that retries a service that is down, then counts its attempts in the hour
   * after the cancel. The bug: the backoff waits on Node's timers without the task's signal, so
   * the cancel cannot stop the wait, and the loop goes on (`fixed` passes the task's signal).
   */
  async function attemptsAfterCancel(fixed: boolean): Promise<number> {
    let attempts = 0;
    const down = async (): Promise<string> => {
      attempts++;
      throw new Error("503 Service Unavailable");
    };
    const stop = new AbortController(); // the test's own clean-up: ends the loop at the end
    const task = createTask(() =>
      retry(down, fixed ? AbortSignal.any([(currentTask() as Task<unknown>).signal, stop.signal]) : stop.signal),
    );
    await sleep(10);
    task.cancel();
    const atCancel = attempts;
    await sleep(3600);
    const after = attempts - atCancel;
    stop.abort();
    await task.then(
      () => undefined,
      () => undefined,
    );
    return after;
  }

  it("virtual timers show the task retrying for an hour after it was cancelled; the plain test does not", async () => {
    // Plain: the backoff sleeps on real timers, so the test's virtual hour passes within the
    // first real second, and the test sees nothing wrong.
    assert.equal(await runTest(() => attemptsAfterCancel(false)), 0, "the plain test misses the bug");
    const buggy = await runTest(() => attemptsAfterCancel(false), { virtualTimers: true });
    assert.ok(buggy >= 5, `the bug shows: ${buggy} attempts after the cancel`);
    assert.equal(await runTest(() => attemptsAfterCancel(true), { virtualTimers: true }), 0, "the fix holds");
  });
});
