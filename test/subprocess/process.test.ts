// The high-level subprocess API: createSubprocessExec / createSubprocessShell and Process.
// Ported from the SubprocessMixin of CPython's Lib/test/test_asyncio/test_subprocess.py, with
// the combinations of PIPE / STDOUT / DEVNULL / inherit, large data, and Node's traps.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import {
  DEVNULL,
  PIPE,
  Process,
  STDOUT,
  StreamReader,
  StreamWriter,
  createSubprocessExec,
  createSubprocessShell,
  createTask,
  gather,
  getRunningLoop,
  isCancellation,
  sleep,
  waitFor,
} from "../../src/index.js";
import { ReadPipeTransport } from "../../src/subprocess/pipes.js";
import { BLOCKED, BUN_STDIN, CAT, NODE, errorOf, fixture, runSub, script, waitForLine } from "./support.js";
import { unsupportedOn } from "../support/runtime.js";

const SIGKILL = osConstants.signals.SIGKILL;
const SIGTERM = osConstants.signals.SIGTERM;
const SIGHUP = osConstants.signals.SIGHUP;
/** Prints the length of its stdin (CPython's `print(len(sys.stdin.read()))`). */
const LEN_OF_STDIN = script("let n = 0; process.stdin.on('data', (d) => n += d.length).on('end', () => console.log(n))");

describe("createSubprocessExec", { timeout: 120_000 }, () => {
  // CPython: test_subprocess.py test_stdin_stdout
  it("pipes stdin and stdout as a StreamWriter and a StreamReader", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, CAT, { stdin: PIPE, stdout: PIPE });
      assert.ok(proc instanceof Process);
      assert.ok(proc.stdin instanceof StreamWriter);
      assert.ok(proc.stdout instanceof StreamReader);
      assert.equal(proc.stderr, null);
      proc.stdin.write(Buffer.from("some data"));
      await proc.stdin.drain();
      proc.stdin.close();
      const data = await proc.stdout.read();
      assert.equal(await proc.wait(), 0);
      assert.equal(data.toString(), "some data");
    });
  });

  // CPython: test_subprocess.py test_communicate
  it("communicate(input) feeds stdin, closes it, and returns the output and the exit", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, CAT, { stdin: PIPE, stdout: PIPE });
      const [stdout, stderr] = await proc.communicate(Buffer.from("some data"));
      assert.equal(stdout?.toString(), "some data");
      assert.equal(stderr, null);
      assert.equal(proc.returncode, 0);
    });
  });

  // CPython: test_subprocess.py test_communicate_none_input (3.12: stdin is closed anyway)
  it("communicate() without input still closes stdin", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, CAT, { stdin: PIPE, stdout: PIPE });
      const [stdout] = await waitFor(proc.communicate(), 10);
      assert.equal(stdout?.length, 0);
      assert.equal(proc.returncode, 0);
    });
  });

  it("communicate() takes a string as UTF-8", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, CAT, { stdin: PIPE, stdout: PIPE });
      const [stdout] = await proc.communicate("héllo");
      assert.equal(stdout?.toString("utf8"), "héllo");
    });
  });

  // CPython: test_subprocess.py test_stdin_not_inheritable, test_empty_input
  it("the child reads exactly the input, and EOF; an empty input is EOF at once", async () => {
    await runSub(async () => {
      const three = await createSubprocessExec(NODE, LEN_OF_STDIN, { stdin: PIPE, stdout: PIPE, stderr: PIPE });
      const [out3, err3] = await three.communicate(Buffer.from("abc"));
      assert.equal(out3?.toString().trim(), "3");
      assert.equal(err3?.length, 0);
      assert.equal(await three.wait(), 0);
      const zero = await createSubprocessExec(NODE, LEN_OF_STDIN, { stdin: PIPE, stdout: PIPE, stderr: PIPE });
      const [out0] = await zero.communicate(Buffer.alloc(0));
      assert.equal(out0?.toString().trim(), "0");
      assert.equal(await zero.wait(), 0);
    });
  });

  // CPython: test_subprocess.py test_devnull_input, test_devnull_output, test_devnull_error
  it("DEVNULL: stdin reads EOF, output is dropped; the streams are null", async () => {
    await runSub(async () => {
      const noInput = await createSubprocessExec(NODE, LEN_OF_STDIN, { stdin: DEVNULL, stdout: PIPE, stderr: PIPE });
      assert.equal(noInput.stdin, null);
      const [out] = await noInput.communicate();
      assert.equal(out?.toString().trim(), "0");
      const noOutput = await createSubprocessExec(NODE, LEN_OF_STDIN, { stdin: PIPE, stdout: DEVNULL, stderr: PIPE });
      assert.equal(noOutput.stdout, null);
      const [stdout, stderr] = await noOutput.communicate(Buffer.from("abc"));
      assert.equal(stdout, null);
      assert.equal(stderr?.length, 0);
      assert.equal(noOutput.returncode, 0);
      const noError = await createSubprocessExec(NODE, LEN_OF_STDIN, { stdin: PIPE, stdout: PIPE, stderr: DEVNULL });
      assert.equal(noError.stderr, null);
      const [out2, err2] = await noError.communicate(Buffer.from("abc"));
      assert.equal(out2?.toString().trim(), "3");
      assert.equal(err2, null);
    });
  });

  it("stdout and stderr are separate pipes unless stderr is STDOUT", async () => {
    await runSub(async () => {
      const code = "process.stdout.write('out'); process.stderr.write('err')";
      const separate = await createSubprocessExec(NODE, script(code), { stdout: PIPE, stderr: PIPE });
      const [out, err] = await separate.communicate();
      assert.equal(out?.toString(), "out");
      assert.equal(err?.toString(), "err");
      const merged = await createSubprocessExec(NODE, script(code), { stdout: PIPE, stderr: STDOUT });
      assert.equal(merged.stderr, null);
      const [both, none] = await merged.communicate();
      assert.equal(both?.toString(), "outerr");
      assert.equal(none, null);
    });
  });

  it("STDOUT keeps the order in which the child wrote to its stdout and stderr", async () => {
    await runSub(async () => {
      const code =
        "const fs = require('fs'); for (let i = 0; i < 2000; i++) fs.writeSync(i % 3 === 0 ? 2 : 1, `${i % 3 === 0 ? 'E' : 'O'}${i}\\n`)";
      const proc = await createSubprocessExec(NODE, script(code), { stdout: PIPE, stderr: STDOUT });
      const [out] = await proc.communicate();
      const lines = out?.toString().trimEnd().split("\n") ?? [];
      assert.equal(lines.length, 2000);
      lines.forEach((line, i) => assert.equal(line, `${i % 3 === 0 ? "E" : "O"}${i}`));
    });
  });

  it("STDOUT with stdout sent to the null device drops both; with a file, writes both there", async () => {
    await runSub(async () => {
      const code = "const fs = require('fs'); fs.writeSync(1, 'one '); fs.writeSync(2, 'two '); fs.writeSync(1, 'three')";
      const quiet = await createSubprocessExec(NODE, script(code), { stdout: DEVNULL, stderr: STDOUT });
      assert.deepEqual(await quiet.communicate(), [null, null]);
      const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-test-"));
      try {
        const path = join(dir, "out.txt");
        const fd = openSync(path, "w");
        try {
          const toFile = await createSubprocessExec(NODE, script(code), { stdout: fd, stderr: STDOUT });
          assert.equal(await toFile.wait(), 0);
        } finally {
          closeSync(fd);
        }
        assert.equal(readFileSync(path, "utf8"), "one two three");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it("stdin can be a file descriptor", async () => {
    await runSub(async () => {
      const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-test-"));
      try {
        const path = join(dir, "in.txt");
        writeFileSync(path, "from a file");
        const fd = openSync(path, "r");
        try {
          const proc = await createSubprocessExec(NODE, CAT, { stdin: fd, stdout: PIPE });
          assert.equal(proc.stdin, null);
          const [out] = await proc.communicate();
          assert.equal(out?.toString(), "from a file");
        } finally {
          closeSync(fd);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  // CPython has no test of its own for inherit (None): it is the default.
  it("inherit (the default) shares this process's stdin, stdout and stderr", async () => {
    const child = spawnSync(NODE, ["--import", "tsx", fixture("inherit.ts")], {
      input: "typed in",
      encoding: "utf8",
      timeout: 15_000,
    });
    assert.equal(child.status, 0, child.stderr);
    const out = child.stdout.split("\n");
    assert.deepEqual(out.filter((l) => l === "out").length, 2, child.stdout);
    assert.ok(out.includes("inherited: stdin=null stdout=null stderr=null exit=0"), child.stdout);
    assert.ok(out.includes("merged: exit=0"), child.stdout);
    assert.ok(out.includes("quiet: exit=0"), child.stdout);
    assert.ok(out.includes("stdin: typed in"), child.stdout);
    // "err" from the inherited child and from the quiet one; the merged one's went to stdout.
    assert.equal(child.stderr.split("\n").filter((l) => l === "err").length, 2, child.stderr);
    assert.equal(out.filter((l) => l === "err").length, 1, child.stdout);
  });

  // CPython: test_subprocess.py test_create_subprocess_env_exec (check_stdout_output)
  it("env replaces the whole environment; a later wait() resolves at once", async () => {
    await runSub(async () => {
      const code = "process.stdout.write(JSON.stringify([process.env.FOO, process.env.HOME ?? null]))";
      const proc = await createSubprocessExec(NODE, script(code), { env: { FOO: "baz" }, stdout: PIPE });
      const [out] = await proc.communicate();
      assert.deepEqual(JSON.parse(String(out)), ["baz", null]);
      assert.equal(proc.returncode, 0);
      const task = createTask(() => proc.wait());
      await sleep(0);
      assert.equal(task.result(), 0);
    });
  });

  it("cwd sets the working directory (a path or a file: URL)", async () => {
    await runSub(async () => {
      const dir = realpathSync(tmpdir());
      for (const cwd of [dir, pathToFileURL(dir)]) {
        const proc = await createSubprocessExec(NODE, script("process.stdout.write(process.cwd())"), { cwd, stdout: PIPE });
        const [out] = await proc.communicate();
        assert.equal(out?.toString(), dir);
      }
    });
  });

  // CPython: test_subprocess.py test_subprocess_concurrent_wait
  it("many tasks can wait for one child", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, CAT, { stdin: PIPE, stdout: PIPE });
      const [stdout] = await proc.communicate(Buffer.from("some data"));
      assert.equal(stdout?.toString(), "some data");
      const codes = await gather(...Array.from({ length: 10 }, () => () => proc.wait()));
      assert.deepEqual(codes, Array(10).fill(0));
      const running = await createSubprocessExec(NODE, script("setTimeout(() => process.exit(4), 50)"));
      assert.deepEqual(await gather(...Array.from({ length: 5 }, () => () => running.wait())), Array(5).fill(4));
    });
  });

  // CPython: test_subprocess.py test_subprocess_communicate_stdout (gh-100133)
  it("several children communicating at once each get their own output", async () => {
    await runSub(async () => {
      const outputs = Array.from({ length: 10 }, (_, i) => `foo${i}`);
      const results = await gather(
        ...outputs.map((text) => async () => {
          const proc = await createSubprocessExec(NODE, script(`console.log(${JSON.stringify(text)})`), { stdout: PIPE });
          const [out] = await proc.communicate();
          return String(out).trim();
        }),
      );
      assert.deepEqual(results, outputs);
    });
  });

  it("communicate() carries several MB both ways on both pipes without a deadlock", async () => {
    await runSub(async () => {
      // Echoes every chunk to stdout and to stderr as it comes: all three pipes fill at once.
      const code = "process.stdin.on('data', (d) => { process.stdout.write(d); process.stderr.write(d); })";
      const proc = await createSubprocessExec(NODE, script(code), { stdin: PIPE, stdout: PIPE, stderr: PIPE });
      const input = Buffer.alloc(6 << 20);
      for (let i = 0; i < input.length; i += 4) input.writeUInt32LE(i, i);
      const [out, err] = await waitFor(proc.communicate(input), 15);
      assert.ok(out?.equals(input));
      assert.ok(err?.equals(input));
      assert.equal(proc.returncode, 0);
    });
  });

  it("the output of a child that exits at once is all there, read after the exit", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, script("process.stdout.write('x'.repeat(100000)); process.stderr.write('bye')"), {
        stdout: PIPE,
        stderr: PIPE,
      });
      // Nobody reads until the child is long gone.
      while (proc.returncode === null) await sleep(0.01);
      assert.equal((await proc.stdout?.read())?.length, 100000);
      assert.equal((await proc.stderr?.read())?.toString(), "bye");
      assert.equal(await proc.wait(), 0);
    });
  });

  // CPython: test_subprocess.py test_read_stdout_after_process_exit
  it("reading slowly after the exit still gets everything", async () => {
    await runSub(async () => {
      const code = "for (let i = 0; i < 64; i++) process.stdout.write('x'.repeat(4096)); process.exitCode = 1";
      const proc = await createSubprocessExec(NODE, script(code), { stdout: PIPE });
      let total = 0;
      for (;;) {
        const data = await (proc.stdout as StreamReader).read(65536);
        if (data.length === 0) break;
        total += data.length;
        await sleep(0.02);
      }
      assert.equal(total, 64 * 4096);
      assert.equal(await proc.wait(), 1);
    });
  });

  // CPython: test_subprocess.py test_pause_reading (Issue #22685)
  it("a reader over its limit pauses the pipe, and resumes it as it is read", async () => {
    const calls: string[] = [];
    const proto = ReadPipeTransport.prototype;
    const { pauseReading, resumeReading } = proto;
    proto.pauseReading = function (this: ReadPipeTransport) {
      calls.push("pause");
      pauseReading.call(this);
    };
    proto.resumeReading = function (this: ReadPipeTransport) {
      calls.push("resume");
      resumeReading.call(this);
    };
    try {
      await runSub(async () => {
        const limit = 10;
        const size = limit * 2 + 1;
        const proc = await createSubprocessExec(NODE, script(`process.stdout.write('x'.repeat(${size}))`), {
          stdin: PIPE,
          stdout: PIPE,
          limit,
        });
        // Let the output arrive and pile up before reading it.
        while ((proc.stdout as StreamReader).bufferedSize < size) await sleep(0.01);
        assert.ok(calls.includes("pause"), calls.join());
        const stdout = await (proc.stdout as StreamReader).read();
        assert.equal(stdout.toString(), "x".repeat(size));
        assert.ok(calls.includes("resume"), calls.join());
        proc.stdin?.close();
        assert.equal(await proc.wait(), 0);
      });
    } finally {
      proto.pauseReading = pauseReading;
      proto.resumeReading = resumeReading;
    }
  });

  it("prints as <Process pid>", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, script("0"));
      assert.equal(String(proc), `<Process ${proc.pid}>`);
      assert.equal(await proc.wait(), 0);
    });
  });
});

describe("returncode and signals", { timeout: 120_000 }, () => {
  it("returncode is null while the child runs, then its exit code", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, script("setTimeout(() => process.exit(42), 50)"));
      assert.equal(proc.returncode, null);
      assert.equal(typeof proc.pid, "number");
      assert.equal(await proc.wait(), 42);
      assert.equal(proc.returncode, 42);
    });
  });

  it("returncode is set when the child exits, without wait()", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, script("process.exit(5)"));
      while (proc.returncode === null) await sleep(0.01);
      assert.equal(proc.returncode, 5);
    });
  });

  // CPython: test_subprocess.py test_kill, test_terminate
  it("kill() gives -SIGKILL, terminate() gives -SIGTERM", async () => {
    await runSub(async () => {
      const killed = await createSubprocessExec(NODE, BLOCKED, { stdout: PIPE });
      await waitForLine(killed);
      killed.kill();
      assert.equal(await killed.wait(), -SIGKILL);
      const terminated = await createSubprocessExec(NODE, BLOCKED, { stdout: PIPE });
      await waitForLine(terminated);
      terminated.terminate();
      assert.equal(await terminated.wait(), -SIGTERM);
      assert.equal(terminated.returncode, -15);
    });
  });

  // CPython: test_subprocess.py test_send_signal
  it("sendSignal() sends the signal it is given", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, BLOCKED, { stdout: PIPE });
      await waitForLine(proc);
      proc.sendSignal(SIGHUP);
      assert.equal(await proc.wait(), -SIGHUP);
    });
  });

  // CPython: test_subprocess.py test_kill_issue43884
  it("killing a shell ends it with -SIGKILL; wait() returns once its pipes close", async () => {
    await runSub(async () => {
      const proc = await createSubprocessShell("sleep 0.2; sleep 0.2", { stdout: PIPE });
      await sleep(0.05);
      proc.kill();
      assert.equal(await waitFor(proc.wait(), 5), -SIGKILL);
    });
  });

  it("after the exit, sendSignal(), terminate() and kill() do nothing", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, script("0"));
      assert.equal(await proc.wait(), 0);
      proc.sendSignal("SIGTERM");
      proc.sendSignal(SIGKILL);
      proc.terminate();
      proc.kill();
      assert.equal(proc.returncode, 0);
    });
  });

  it("a signal that does not exist is a clear error", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, BLOCKED, { stdout: PIPE });
      try {
        assert.throws(() => proc.sendSignal(12345), (e) => e instanceof RangeError && /signal/.test(e.message));
        assert.throws(() => proc.sendSignal("SIGNOPE" as NodeJS.Signals), RangeError);
        assert.throws(() => proc.sendSignal(null as unknown as number), TypeError);
        assert.equal(proc.returncode, null);
      } finally {
        proc.kill();
        await proc.wait();
      }
    });
  });
});

describe("createSubprocessShell", { timeout: 120_000 }, () => {
  // CPython: test_subprocess.py test_shell
  it("returns the shell's exit code", async () => {
    await runSub(async () => {
      const proc = await createSubprocessShell("exit 7");
      assert.equal(await proc.wait(), 7);
    });
  });

  // CPython: test_subprocess.py test_start_new_session
  it("runs in a new session with startNewSession", async () => {
    await runSub(async () => {
      const proc = await createSubprocessShell("exit 8", { startNewSession: true });
      assert.equal(await proc.wait(), 8);
    });
  });

  // CPython: test_subprocess.py test_create_subprocess_env_shell
  it("the shell sees env, and does pipes and quoting itself", async () => {
    await runSub(async () => {
      const proc = await createSubprocessShell('echo "$FOO" | tr a-z A-Z', { env: { FOO: "bar", PATH: process.env.PATH }, stdout: PIPE });
      const [out] = await proc.communicate();
      assert.equal(out?.toString(), "BAR\n");
      assert.equal(proc.returncode, 0);
    });
  });

  it("a command the shell does not find exits 127 (no exception: the shell ran)", async () => {
    await runSub(async () => {
      const proc = await createSubprocessShell("no-such-command-asyncio-ts", { stderr: PIPE });
      const [, err] = await proc.communicate();
      assert.equal(proc.returncode, 127);
      assert.match(String(err), /not found/);
    });
  });

  it("the shell option picks the shell", async () => {
    await runSub(async () => {
      const proc = await createSubprocessShell("echo $0", { shell: "/bin/sh", stdout: PIPE });
      const [out] = await proc.communicate();
      assert.equal(out?.toString().trim(), "/bin/sh");
    });
  });
});

describe("broken pipes", { timeout: 120_000 }, () => {
  // CPython: test_subprocess.py test_stdin_broken_pipe
  it("drain() raises EPIPE (or ECONNRESET) once the child is gone without reading", { skip: unsupportedOn({ bun: BUN_STDIN }) }, async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, script("process.stdin.once('data', () => process.exit(0))"), { stdin: PIPE });
      const stdin = proc.stdin as StreamWriter;
      const error = await errorOf(
        (async () => {
          for (let i = 0; i < 20; i++) {
            stdin.write(Buffer.alloc(1 << 20));
            await stdin.drain();
          }
        })(),
      );
      assert.ok(["EPIPE", "ECONNRESET"].includes((error as { code?: string }).code ?? ""), String(error));
      assert.equal(await proc.wait(), 0);
    });
  });

  // CPython: test_subprocess.py test_communicate_ignore_broken_pipe
  it("communicate() ignores a broken pipe on stdin", async () => {
    await runSub(async (messages) => {
      const proc = await createSubprocessExec(NODE, script("0"), { stdin: PIPE });
      const input = Buffer.alloc(4 << 20);
      assert.deepEqual(await proc.communicate(input), [null, null]);
      assert.equal(await proc.wait(), 0);
      assert.deepEqual(messages, []);
    });
  });

  it("waitClosed() on stdin resolves once the child's stdin is closed", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, CAT, { stdin: PIPE, stdout: DEVNULL });
      const stdin = proc.stdin as StreamWriter;
      stdin.write("x");
      stdin.close();
      assert.equal(stdin.isClosing(), true);
      await waitFor(stdin.waitClosed(), 5);
      assert.equal(await proc.wait(), 0);
    });
  });
});

describe("cancellation of createSubprocessExec", { timeout: 120_000 }, () => {
  // CPython: test_subprocess.py test_cancel_make_subprocess_transport_exec
  it("cancelled while starting, it rejects with CancelledError and leaves no child", async () => {
    await runSub(async (messages) => {
      const loop = getRunningLoop();
      for (const options of [{}, { stdout: PIPE, stderr: STDOUT }] as const) {
        const task = createTask(() => createSubprocessExec(NODE, BLOCKED, options));
        loop.callSoon(() => task.cancel());
        assert.ok(isCancellation(await errorOf(task)));
      }
      await sleep(0.05);
      assert.deepEqual(messages, []);
    });
  });
});
