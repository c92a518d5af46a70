// Cancelling wait() and communicate(): asyncio's behaviour (the child keeps running, output
// stays in the readers) and the killOnCancel addition (SIGTERM, grace period, SIGKILL, then the
// CancelledError). Grace periods run on the virtual clock where the test can drive it.
import assert from "node:assert/strict";
import { constants as osConstants } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { describe, it } from "node:test";
import {
  PIPE,
  type Process,
  type StreamReader,
  createSubprocessExec,
  createSubprocessShell,
  createTask,
  getRunningLoop,
  isCancellation,
  sleep,
  taskGroup,
  timeout,
  waitFor,
} from "../../src/index.js";
import { TestLoop, runTest, waitAllTasksBlocked } from "../../src/testing.js";
import { BLOCKED, DENO_KILLED, NODE, STUBBORN, errorOf, isAlive, runSub, script, until, waitForLine } from "./support.js";
import { unsupportedOn } from "../support/runtime.js";

const SIGKILL = osConstants.signals.SIGKILL;
const SIGTERM = osConstants.signals.SIGTERM;

/** A child that prints "partial", then waits for stdin to end before it exits. */
const PARTIAL = script("process.stdout.write('partial\\n'); process.stdin.resume().on('end', () => process.exit(0))");

/** A child that prints "partial", then runs on (10 seconds at most). */
const PARTIAL_FOREVER = "process.stdout.write('partial\\n'); setTimeout(() => {}, 10000)";

async function reap(proc: Process): Promise<void> {
  proc.kill();
  await proc.wait();
}

describe("cancelling wait() (asyncio's behaviour)", { timeout: 120_000 }, () => {
  // CPython: test_subprocess.py test_cancel_process_wait (Issue #23140)
  it("the waiting task gets CancelledError; the child keeps running", async () => {
    await runSub(async (messages) => {
      const proc = await createSubprocessExec(NODE, BLOCKED, { stdout: PIPE });
      await waitForLine(proc);
      const task = createTask(() => proc.wait());
      getRunningLoop().callSoon(() => task.cancel());
      assert.ok(isCancellation(await errorOf(task)));
      task.cancel(); // a second cancel of a finished task does nothing
      await sleep(0.05);
      assert.equal(proc.returncode, null);
      assert.equal(isAlive(proc.pid), true);
      proc.kill();
      assert.equal(await proc.wait(), -SIGKILL);
      assert.deepEqual(messages, []);
    });
  });

  it("a wait() or communicate() with a timeout gives up; the child keeps running", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, BLOCKED, { stdout: PIPE });
      await waitForLine(proc);
      const error = await errorOf(waitFor(proc.wait(), 0.05));
      assert.equal((error as Error).name, "TimeoutError");
      assert.equal(isAlive(proc.pid), true);
      const again = await errorOf(waitFor(proc.communicate(), 0.05));
      assert.equal((again as Error).name, "TimeoutError");
      assert.equal(isAlive(proc.pid), true);
      await reap(proc);
    });
  });
});

describe("cancelling communicate() (asyncio's behaviour)", { timeout: 120_000 }, () => {
  it("the output that had arrived stays in the reader for the next read", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, script(PARTIAL_FOREVER), { stdin: PIPE, stdout: PIPE, stderr: PIPE });
      const task = createTask(() => proc.communicate(Buffer.from("more input")));
      // Let the child's first line arrive, then cancel.
      await until(() => ((proc.stdout as StreamReader).bufferedSize > 0));
      task.cancel();
      assert.ok(isCancellation(await errorOf(task)));
      assert.equal(proc.returncode, null);
      assert.equal(isAlive(proc.pid), true);
      assert.equal((await (proc.stdout as StreamReader).readline()).toString(), "partial\n");
      await reap(proc);
    });
  });

  it("a communicate() cancelled while waiting for the exit keeps all the output", async () => {
    await runSub(async () => {
      // Closes its stdout and stderr, then runs on: the pipes reach EOF, the exit does not come.
      const code = "process.stdout.write('all of it'); require('fs').closeSync(1); require('fs').closeSync(2); setTimeout(() => {}, 10000)";
      const proc = await createSubprocessExec(NODE, script(code), { stdout: PIPE, stderr: PIPE });
      const task = createTask(() => proc.communicate());
      await until(() => (proc.stdout as StreamReader).atEof() || (proc.stdout as StreamReader).bufferedSize === 9);
      await sleep(0.02);
      task.cancel();
      assert.ok(isCancellation(await errorOf(task)));
      assert.equal((await (proc.stdout as StreamReader).read()).toString(), "all of it");
      await reap(proc);
    });
  });

  it("the readers can go on reading after the cancel, and a later communicate() finishes", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, PARTIAL, { stdin: PIPE, stdout: PIPE });
      const first = createTask(() => proc.communicate());
      await sleep(0); // communicate() has started
      first.cancel();
      assert.ok(isCancellation(await errorOf(first)));
      // stdin was being closed by the first call, so the child exits.
      const [out] = await waitFor(proc.communicate(), 5);
      assert.equal(out?.toString(), "partial\n");
      assert.equal(proc.returncode, 0);
    });
  });
});

describe("killOnCancel", { timeout: 120_000 }, () => {
  it("cancelling wait() terminates the child and waits for it before CancelledError", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, BLOCKED, { stdout: PIPE, killOnCancel: true });
      await waitForLine(proc);
      const task = createTask(() => proc.wait());
      await sleep(0.01);
      task.cancel();
      assert.ok(isCancellation(await errorOf(task)));
      // The exit is known by the time the CancelledError arrives.
      assert.equal(proc.returncode, -SIGTERM);
      assert.equal(isAlive(proc.pid), false);
    });
  });

  it("cancelling communicate() stops the child too; the output read so far stays", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, script(PARTIAL_FOREVER), { stdin: PIPE, stdout: PIPE, killOnCancel: 2 });
      const task = createTask(() => proc.communicate(Buffer.from("x")));
      await until(() => (proc.stdout as StreamReader).bufferedSize > 0);
      task.cancel();
      assert.ok(isCancellation(await errorOf(task)));
      assert.equal(proc.returncode, -SIGTERM);
      assert.equal(isAlive(proc.pid), false);
      assert.equal((await (proc.stdout as StreamReader).readline()).toString(), "partial\n");
    });
  });

  it("a child that ignores SIGTERM is killed when the grace period ends (virtual clock)", { skip: unsupportedOn({ deno: DENO_KILLED }) }, async () => {
    await runTest(
      async () => {
        const loop = getRunningLoop() as TestLoop;
        const proc = await createSubprocessExec(NODE, STUBBORN, { stdout: PIPE, killOnCancel: 5 });
        await waitForLine(proc);
        const task = createTask(() => proc.wait());
        await waitAllTasksBlocked();
        task.cancel();
        await waitAllTasksBlocked();
        // SIGTERM was sent and ignored: the task waits for the grace period.
        await delay(200);
        assert.equal(task.done(), false);
        assert.equal(isAlive(proc.pid), true);
        loop.advance(4.9);
        await delay(50);
        assert.equal(task.done(), false);
        loop.advance(0.1);
        assert.ok(isCancellation(await errorOf(task)));
        assert.equal(proc.returncode, -SIGKILL);
        assert.equal(isAlive(proc.pid), false);
      },
      { autojump: false },
    );
  });

  it("killOnCancel: 0 kills at once", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, STUBBORN, { stdout: PIPE, killOnCancel: 0 });
      await waitForLine(proc);
      const task = createTask(() => proc.wait());
      await sleep(0.01);
      task.cancel();
      assert.ok(isCancellation(await errorOf(task)));
      assert.equal(proc.returncode, -SIGKILL);
    });
  });

  it("a second cancel during the grace period kills at once; the child is still awaited", { skip: unsupportedOn({ deno: DENO_KILLED }) }, async () => {
    await runTest(
      async () => {
        const proc = await createSubprocessExec(NODE, STUBBORN, { stdout: PIPE, killOnCancel: 60 });
        await waitForLine(proc);
        const task = createTask(() => proc.wait());
        await waitAllTasksBlocked();
        task.cancel();
        await delay(100);
        assert.equal(task.done(), false);
        task.cancel();
        assert.ok(isCancellation(await errorOf(task)));
        assert.equal(proc.returncode, -SIGKILL);
        assert.equal(isAlive(proc.pid), false);
      },
      { autojump: false },
    );
  });

  it("a child that already exited is not signalled; the CancelledError goes on", async () => {
    await runSub(async () => {
      // The shell exits soon; the `sleep` it leaves behind holds stdout open a while longer, so
      // wait() is still waiting (for the pipes) after the exit is known.
      const proc = await createSubprocessShell("sleep 1 & sleep 0.3; exit 0", { stdout: PIPE, killOnCancel: true });
      const waiting = proc.wait();
      await until(() => proc.returncode !== null);
      assert.equal(waiting.done(), false);
      waiting.cancel();
      assert.ok(isCancellation(await errorOf(waiting)));
      assert.equal(proc.returncode, 0);
      assert.equal(await waitFor(proc.wait(), 5), 0);
    });
  });

  it("without a cancel, killOnCancel changes nothing", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, script("process.stdout.write('ok')"), { stdout: PIPE, killOnCancel: true });
      assert.deepEqual((await proc.communicate()).map(String), ["ok", "null"]);
      assert.equal(proc.returncode, 0);
    });
  });

  it("waitFor(proc.communicate(), t) stops the child too: communicate() is a task", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, BLOCKED, { stdin: PIPE, stdout: PIPE, killOnCancel: 1 });
      await until(() => (proc.stdout as StreamReader).bufferedSize === 6);
      const error = await errorOf(waitFor(proc.communicate(), 0.05));
      assert.equal((error as Error).name, "TimeoutError");
      assert.equal(proc.returncode, -SIGTERM);
      assert.equal((await (proc.stdout as StreamReader).read()).toString(), "ready\n");
    });
  });

  it("timeout() and a failing sibling in a task group stop the child the same way", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, BLOCKED, { stdout: PIPE, killOnCancel: 1 });
      await waitForLine(proc);
      const error = await errorOf(timeout(0.05, async () => proc.wait()));
      assert.equal((error as Error).name, "TimeoutError");
      assert.equal(proc.returncode, -SIGTERM);
      const second = await createSubprocessExec(NODE, BLOCKED, { stdout: PIPE, killOnCancel: 1 });
      await waitForLine(second);
      const failure = await errorOf(
        taskGroup(async (tg) => {
          tg.createTask(() => second.wait());
          tg.createTask(async () => {
            await sleep(0.02);
            throw new Error("sibling failed");
          });
        }),
      );
      assert.equal((failure as AggregateError).errors.length, 1);
      assert.equal(second.returncode, -SIGTERM);
    });
  });

  it("inside a timeout, the child is stopped and the TimeoutError comes after it exited", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, BLOCKED, { stdout: PIPE, killOnCancel: 1 });
      await waitForLine(proc);
      const error = await errorOf(waitFor(proc.wait(), 0.05));
      assert.equal((error as Error).name, "TimeoutError");
      assert.equal(proc.returncode, -SIGTERM);
    });
  });
});
