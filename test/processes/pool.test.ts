// `ProcessPoolExecutor`: real child processes, each running an asyncio-ts loop. Ported where it
// applies from CPython's Lib/test/test_concurrent_futures (test_process_pool.py, test_shutdown.py,
// test_init.py); the cancellation of running jobs and the replacement of dead children are this
// pool's own. Every wait on a child is bounded (the cancel grace periods are short here).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, describe, it } from "node:test";
import {
  BrokenProcessPool,
  CancelledError,
  ProcessPoolExecutor,
  RuntimeError,
  TimeoutError,
  getRunningLoop,
  moduleFunction,
  run,
  taskGroup,
  timeout,
} from "../../src/index.js";
import { _processJobsRunning } from "../../src/processes/pool.js";
import { runTest } from "../../src/testing.js";
import type * as Jobs from "./fixtures/jobs.js";
import { unsupportedOn } from "../support/runtime.js";

const exec = promisify(execFile);
const JOBS = new URL("./fixtures/jobs.ts", import.meta.url);
const job = <K extends keyof typeof Jobs>(name: K) => moduleFunction<(typeof Jobs)[K]>(JOBS, name);
const add = job("add");
const echo = job("echo");
const pid = job("pid");
const slowPid = job("slowPid");
const sleepThenMark = job("sleepThenMark");
const block = job("block");
const fail = job("fail");
const exit = job("exit");

const tmp = mkdtempSync(join(tmpdir(), "asyncio-ts-pool-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
let markers = 0;
const marker = (): string => join(tmp, `marker-${++markers}`);

/** Waits (real time, bounded) until `check()` holds. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) assert.fail(`condition still false after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("ProcessPoolExecutor", { timeout: 180_000 }, () => {
  describe("children", () => {
    it("runs at most one child per CPU by default, as Python", async () => {
      const pool = new ProcessPoolExecutor();
      assert.equal(pool.maxWorkers, availableParallelism());
      assert.equal(pool.maxTasksPerChild, null);
      await pool.shutdown();
    });

    it("refuses bad options, naming them", () => {
      assert.throws(() => new ProcessPoolExecutor({ maxWorkers: 0 }), RangeError);
      assert.throws(() => new ProcessPoolExecutor({ maxTasksPerChild: 0 }), RangeError);
      assert.throws(() => new ProcessPoolExecutor({ cancelGrace: -1 }), /cancelGrace/);
      assert.throws(() => new ProcessPoolExecutor({ initializer: (() => 1) as never }), /initializer.*moduleFunction/);
      assert.throws(() => new ProcessPoolExecutor({ maxWorker: 2 } as never), TypeError);
    });

    it("starts children lazily, up to maxWorkers, and queues the rest in FIFO order", async () => {
      const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
      assert.equal(pool._childCount, 0);
      const futures = [0, 1, 2, 3].map(() => pool.submit(slowPid, 0.2));
      assert.equal(pool._childCount, 2);
      assert.deepEqual(futures.map((f) => f.running()), [true, true, false, false]);
      const pids = await Promise.all(futures);
      assert.equal(new Set(pids).size, 2, "the queued jobs ran in the two children");
      assert.ok(!pids.includes(process.pid));
      await pool.shutdown();
    });

    it("does not keep the process alive with idle children (child process)", async () => {
      const fixture = fileURLToPath(new URL("./fixtures/idle-pool.ts", import.meta.url));
      const { stdout } = await exec(process.execPath, ["--import", "tsx", fixture], { timeout: 20_000 });
      assert.equal(stdout, "42\n");
    });

    it("replaces a child after maxTasksPerChild jobs", async () => {
      const pool = new ProcessPoolExecutor({ maxWorkers: 1, maxTasksPerChild: 2 });
      const pids = [];
      for (let i = 0; i < 4; i++) pids.push(await pool.submit(pid));
      assert.equal(pids[0], pids[1]);
      assert.equal(pids[2], pids[3]);
      assert.notEqual(pids[1], pids[2]);
      await pool.shutdown();
    });

    it("prints its state", async () => {
      const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
      await pool.submit(add, 1, 2);
      assert.equal(String(pool), "<ProcessPoolExecutor open maxWorkers=2 busy=0 idle=1 queued=0>");
      await pool.shutdown();
      assert.equal(String(pool), "<ProcessPoolExecutor closed maxWorkers=2 busy=0 idle=0 queued=0>");
    });
  });

  describe("arguments and results", () => {
    it("round-trips what structured clone keeps: Map, Set, Date, BigInt, typed arrays", async () => {
      await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
      const value = {
        map: new Map<string, unknown>([["when", new Date(86_400_000)]]),
        set: new Set([1n, 2n ** 70n]),
        bytes: new Uint16Array([1, 65535]),
        nested: [undefined, null, -0, Number.NaN],
      };
      const back = (await pool.submit(echo, value)) as typeof value;
      assert.deepEqual(back, value);
      assert.ok(back.map.get("when") instanceof Date);
      assert.ok(back.bytes instanceof Uint16Array);
    });

    it("refuses, at the call, an argument that cannot travel and a function that is not a moduleFunction", async () => {
      await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
      assert.throws(() => pool.submit(echo, () => 1), (e: unknown) => e instanceof TypeError && /argument of echo\(\)/.test(e.message));
      assert.throws(() => pool.submit((a: number) => a, 1), /must be a moduleFunction\(\)/);
      // Queued (the only child is busy): cloned at the call too.
      const busy = pool.submit(slowPid, 0.1);
      assert.throws(() => pool.submit(echo, Symbol("x")), TypeError);
      await busy;
    });

    it("fails the job with a TypeError when its result cannot travel back", async () => {
      await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
      await assert.rejects(Promise.resolve(pool.submit(job("unsendable"))), /result of `unsendable` cannot be sent back/);
      assert.equal(await pool.submit(add, 2, 2), 4, "the child is still usable");
    });

    it("rebuilds a job's error: built-in class, message, data properties, the child's stack", async () => {
      await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
      const error = await pool.submit(fail, "no").then(
        () => assert.fail("resolved"),
        (e: unknown) => e as RangeError & { code?: string },
      );
      assert.ok(error instanceof RangeError);
      assert.equal(error.message, "no");
      assert.equal(error.code, "E_JOB");
      assert.match(String(error.stack), /jobs\.ts/);
    });
  });

  describe("cancellation", () => {
    it("cancels a running job: its task in the child gets CancelledError, and the child stays", async () => {
      await run(async () => {
        const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
        const first = await pool.submit(pid);
        const file = marker();
        const started = marker();
        await assert.rejects(
          timeout(1, async () => {
            const job1 = getRunningLoop().runInExecutor(pool, sleepThenMark, 30, file, started);
            await until(() => existsSync(started)); // cancelled while it runs, not before
            return job1;
          }),
          TimeoutError,
        );
        assert.equal(await pool.submit(pid), first, "the same child runs the next job");
        assert.equal(readFileSync(file, "utf8"), `cancelled in ${first}: CancelledError`);
        await pool.shutdown();
      });
    });

    it("cancels through a task group when a sibling fails", async () => {
      await run(async () => {
        await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
        await pool.submit(pid); // the child is up, so the job starts at once
        const file = marker();
        const started = marker();
        await assert.rejects(
          taskGroup(async (tg) => {
            tg.createTask(() => getRunningLoop().runInExecutor(pool, sleepThenMark, 30, file, started));
            await until(() => existsSync(started));
            throw new RangeError("sibling");
          }),
          (e: unknown) => e instanceof AggregateError && e.errors[0] instanceof RangeError,
        );
        // The file is made empty a moment before it is filled: wait for its content.
        await until(() => existsSync(file) && readFileSync(file, "utf8") !== "");
        assert.match(readFileSync(file, "utf8"), /CancelledError/);
      });
    });

    it("marks the future cancelled at once, and kills a child that does not end within cancelGrace", async () => {
      const pool = new ProcessPoolExecutor({ maxWorkers: 1, cancelGrace: 0.2 });
      const first = await pool.submit(pid);
      const started = marker();
      const blocked = pool.submit(block, 20_000, started);
      await until(() => existsSync(started));
      assert.equal(blocked.cancel(), true);
      assert.equal(blocked.cancelled(), true);
      await assert.rejects(Promise.resolve(blocked), CancelledError);
      const next = await pool.submit(pid);
      assert.notEqual(next, first, "a new child replaced the killed one");
      assert.throws(() => process.kill(first, 0), { code: "ESRCH" });
      await pool.shutdown();
    });

    it("drops a queued job that is cancelled, and cancelFutures drops them all", async () => {
      const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
      const running = pool.submit(slowPid, 0.2);
      const queued = [pool.submit(add, 1, 1), pool.submit(add, 2, 2), pool.submit(add, 3, 3)];
      assert.equal(queued[0]?.cancel(), true);
      const done = pool.shutdown(true, { cancelFutures: true });
      assert.ok(queued.every((f) => f.cancelled()));
      assert.equal(typeof (await running), "number", "the running job finished");
      await done;
      assert.equal(pool._childCount, 0);
    });
  });

  describe("dead children and broken pools", () => {
    it("fails the job of a child that dies, and replaces the child", async () => {
      await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
      const first = await pool.submit(pid);
      await assert.rejects(
        Promise.resolve(pool.submit(exit, 3)),
        (e: unknown) => e instanceof RuntimeError && !(e instanceof BrokenProcessPool) && /ended with exit code 3/.test(e.message),
      );
      const next = await pool.submit(pid);
      assert.notEqual(next, first);
    });

    // CPython: test_init.py FailingInitializerMixin.test_initializer
    it("runs the initializer in each child before its jobs", async () => {
      await using pool = new ProcessPoolExecutor({ maxWorkers: 1, initializer: job("init"), initargs: ["set"] });
      assert.equal(await pool.submit(job("initValue")), "set");
    });

    it("is broken when the initializer throws: pending jobs fail, submit throws", async () => {
      const pool = new ProcessPoolExecutor({ maxWorkers: 2, initializer: job("init"), initargs: ["throw"] });
      const futures = [pool.submit(add, 1, 1), pool.submit(add, 2, 2), pool.submit(add, 3, 3)];
      for (const f of futures) {
        await assert.rejects(Promise.resolve(f), (e: unknown) => e instanceof BrokenProcessPool && e instanceof RuntimeError);
      }
      const error = futures[0]?.exception() as BrokenProcessPool;
      assert.ok(error.cause instanceof TypeError);
      assert.equal((error.cause as TypeError).message, "initializer refused");
      assert.throws(() => pool.submit(add, 1, 1), BrokenProcessPool);
      await pool.shutdown();
    });

    it("is broken when children cannot start at all", { skip: unsupportedOn({ bun: "Bun ignores an unknown command-line option, so the child starts" }) }, async () => {
      const pool = new ProcessPoolExecutor({ maxWorkers: 1, execArgv: ["--no-such-node-option"] });
      await assert.rejects(Promise.resolve(pool.submit(add, 1, 1)), BrokenProcessPool);
      await pool.shutdown();
    });
  });

  describe("shutdown", () => {
    // CPython: test_shutdown.py ProcessPoolShutdownTest.test_run_after_shutdown
    it("refuses jobs after shutdown, waits for running jobs and for the children to exit", async () => {
      const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
      const jobs = [pool.submit(slowPid, 0.2), pool.submit(slowPid, 0.2)];
      const pids = pool._pids;
      await pool.shutdown();
      assert.equal((await Promise.all(jobs)).length, 2);
      assert.throws(() => pool.submit(add, 1, 1), RuntimeError);
      for (const p of pids) assert.throws(() => process.kill(p, 0), { code: "ESRCH" });
      await pool.shutdown(); // again: nothing to do
    });
  });

  describe("with runTest", () => {
    it("counts a running job as outside work, so a task awaiting it is not reported deadlocked", async () => {
      await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
      await pool.submit(pid); // a child is up
      const value = await runTest(async () => {
        const job = getRunningLoop().runInExecutor(pool, slowPid, 0.3);
        assert.equal(_processJobsRunning(), 1);
        return job;
      });
      assert.equal(typeof value, "number");
      assert.equal(_processJobsRunning(), 0);
    });
  });
});
