// The low-level subprocess API: loop.subprocessExec / loop.subprocessShell, the
// SubprocessTransport and the SubprocessProtocol callbacks and their order. Ported from the
// SubprocessTestsMixin of CPython's Lib/test/test_asyncio/test_events.py and the transport
// tests of test_subprocess.py.
import assert from "node:assert/strict";
import { constants as osConstants } from "node:os";
import { describe, it } from "node:test";
import {
  DEVNULL,
  PIPE,
  STDOUT,
  SubprocessProtocol,
  type SubprocessTransport,
  type WriteTransport,
  createTask,
  getRunningLoop,
  isCancellation,
  sleep,
  waitFor,
} from "../../src/index.js";
import type { ReadTransport } from "../../src/index.js";
import { BUN_STDIN, NODE, RecordingProtocol, errorOf, fixture, isAlive, runSub, script, until } from "./support.js";
import { unsupportedOn } from "../support/runtime.js";

const SIGHUP = osConstants.signals.SIGHUP;

async function exec(args: string[], options?: Parameters<ReturnType<typeof getRunningLoop>["subprocessExec"]>[3]) {
  const loop = getRunningLoop();
  return loop.subprocessExec(() => new RecordingProtocol(), NODE, args, options);
}

async function shell(cmd: string, options?: Parameters<ReturnType<typeof getRunningLoop>["subprocessShell"]>[2]) {
  return getRunningLoop().subprocessShell(() => new RecordingProtocol(), cmd, options);
}

function stdinOf(transport: SubprocessTransport): WriteTransport {
  const pipe = transport.getPipeTransport(0);
  assert.ok(pipe !== null);
  return pipe as WriteTransport;
}

describe("loop.subprocessExec", { timeout: 120_000 }, () => {
  // CPython: test_events.py test_subprocess_exec
  it("resolves once connectionMade ran; closing the transport kills the child", async () => {
    await runSub(async (messages) => {
      const [transport, proto] = await exec([fixture("echo.mjs")]);
      assert.ok(proto instanceof RecordingProtocol);
      assert.equal(proto.state, "CONNECTED");
      assert.equal(proto.transport, transport);
      stdinOf(transport).write(Buffer.from("Python The Winner"));
      await proto.gotData(1, (d) => d.length >= 17);
      transport.close();
      await proto.completed;
      assert.equal(proto.returncode, -osConstants.signals.SIGKILL);
      assert.equal(proto.data[1].toString(), "Python The Winner");
      assert.deepEqual(proto.problems, []);
      assert.deepEqual(messages, []);
    });
  });

  // CPython: test_events.py test_subprocess_interactive
  it("talks with a child: each write is answered before the next", async () => {
    await runSub(async () => {
      const [transport, proto] = await exec([fixture("echo.mjs")]);
      const stdin = stdinOf(transport);
      stdin.write("Python ");
      await proto.gotData(1, (d) => d.toString() === "Python ");
      stdin.write("The Winner");
      await proto.gotData(1, (d) => d.toString() === "Python The Winner");
      transport.close();
      await proto.completed;
      assert.equal(proto.returncode, -osConstants.signals.SIGKILL);
      assert.deepEqual(proto.problems, []);
    });
  });

  // CPython: test_events.py test_subprocess_stderr
  it("delivers stdout and stderr separately, with their fds", async () => {
    await runSub(async () => {
      const [transport, proto] = await exec([fixture("echo2.mjs")]);
      stdinOf(transport).write("test");
      await proto.completed;
      transport.close();
      assert.equal(proto.data[1].toString(), "OUT:test");
      assert.ok(proto.data[2].toString().startsWith("ERR:test"));
      assert.equal(proto.returncode, 0);
    });
  });

  // CPython: test_events.py test_subprocess_stderr_redirect_to_stdout
  it("stderr: STDOUT puts both streams on pipe 1, in the order written; there is no pipe 2", async () => {
    await runSub(async () => {
      const [transport, proto] = await exec([fixture("echo2.mjs")], { stderr: STDOUT });
      assert.notEqual(transport.getPipeTransport(1), null);
      assert.equal(transport.getPipeTransport(2), null);
      stdinOf(transport).write("test");
      await proto.completed;
      assert.ok(proto.data[1].toString().startsWith("OUT:testERR:test"), proto.data[1].toString());
      assert.equal(proto.data[2].length, 0);
      transport.close();
      assert.equal(proto.returncode, 0);
      assert.ok(!proto.events.includes("pipeConnectionLost 2"));
    });
  });

  // CPython: test_events.py test_subprocess_close_client_stream
  it("closing the stdout pipe makes the child's next write fail with EPIPE", async () => {
    await runSub(async () => {
      const [transport, proto] = await exec([fixture("echo3.mjs")]);
      const stdin = stdinOf(transport);
      stdin.write("test");
      await proto.gotData(1, (d) => d.toString() === "test");
      transport.getPipeTransport(1)?.close();
      await until(() => proto.disconnects.has(1));
      assert.equal(proto.disconnects.get(1), null);
      stdin.write("xxx");
      await proto.gotData(2);
      assert.equal(proto.data[2].toString(), "ERR:EPIPE");
      transport.close();
      await proto.completed;
      assert.equal(proto.returncode, -osConstants.signals.SIGKILL);
    });
  });

  // CPython: test_events.py test_subprocess_kill, test_subprocess_terminate
  it("kill() and terminate() end the child with -SIGKILL and -SIGTERM", async () => {
    await runSub(async () => {
      const [killed, p1] = await exec([fixture("echo.mjs")]);
      killed.kill();
      await p1.completed;
      assert.equal(p1.returncode, -osConstants.signals.SIGKILL);
      killed.close();
      const [terminated, p2] = await exec([fixture("echo.mjs")]);
      terminated.terminate();
      await p2.completed;
      assert.equal(p2.returncode, -osConstants.signals.SIGTERM);
      terminated.close();
    });
  });

  // CPython: test_events.py test_subprocess_send_signal
  it("sendSignal() sends any signal, by number or by name", async () => {
    await runSub(async () => {
      const [transport, proto] = await exec([fixture("echo.mjs")]);
      transport.sendSignal(SIGHUP);
      await proto.completed;
      assert.equal(proto.returncode, -SIGHUP);
      transport.close();
      const [byName, p2] = await exec([fixture("echo.mjs")]);
      byName.sendSignal("SIGHUP");
      await p2.completed;
      assert.equal(p2.returncode, -SIGHUP);
    });
  });

  // CPython: test_subprocess.py SubprocessTransportTests.test_proc_exited
  it("after the exit: the return code is kept, signals do nothing, close() does nothing harmful", async () => {
    await runSub(async () => {
      const [transport, proto] = await exec(script("process.exit(6)"));
      await proto.completed;
      assert.equal(transport.getReturncode(), 6);
      assert.deepEqual(proto.events.filter((e) => !e.startsWith("pipe")), [
        "connectionMade",
        "processExited",
        "connectionLost null",
      ]);
      // asyncio raises ProcessLookupError here; we do nothing, as its Process does.
      transport.sendSignal("SIGTERM");
      transport.terminate();
      transport.kill();
      assert.equal(transport.isClosing(), false);
      transport.close();
      assert.equal(transport.isClosing(), true);
      assert.equal(transport.getReturncode(), 6);
    });
  });

  // CPython: test_subprocess.py SubprocessTransportTests.test_subprocess_repr
  it("prints its pid and state", async () => {
    await runSub(async () => {
      const [transport, proto] = await exec(script("0"), { stdin: DEVNULL, stdout: DEVNULL, stderr: DEVNULL });
      assert.match(String(transport), new RegExp(`^<ChildProcessTransport pid=${transport.getPid()} (running|returncode=0)>$`));
      await proto.completed;
      assert.equal(String(transport), `<ChildProcessTransport pid=${transport.getPid()} returncode=0>`);
      transport.close();
      assert.match(String(transport), /^<ChildProcessTransport closed pid=\d+ returncode=0>$/);
    });
  });

  // CPython: test_subprocess.py test_close_kill_running
  it("close() kills a child that still runs, and the transport still finishes", async () => {
    await runSub(async () => {
      const [transport, proto] = await exec([fixture("blocked.mjs")]);
      const pid = transport.getPid();
      assert.equal(transport.getReturncode(), null);
      transport.close();
      await waitFor(proto.completed, 5);
      assert.equal(transport.getReturncode(), -osConstants.signals.SIGKILL);
      assert.equal(isAlive(pid), false);
    });
  });

  // CPython: test_subprocess.py test_cancel_post_init
  it("cancelled before it resolves, it kills the child; the protocol still sees it end", async () => {
    await runSub(async (messages) => {
      let made: RecordingProtocol | null = null;
      const loop = getRunningLoop();
      const task = createTask(() =>
        loop.subprocessExec(() => (made = new RecordingProtocol()), NODE, [fixture("blocked.mjs")]),
      );
      loop.callSoon(() => task.cancel());
      assert.ok(isCancellation(await errorOf(task)));
      const proto = made as RecordingProtocol | null;
      assert.ok(proto !== null);
      await waitFor(proto.completed, 5);
      const transport = proto.transport as SubprocessTransport;
      assert.equal(transport.getReturncode(), -osConstants.signals.SIGKILL);
      assert.equal(isAlive(transport.getPid()), false);
      assert.deepEqual(messages, []);
    });
  });

  it("a protocol callback that throws is reported, and the child's end still comes", async () => {
    await runSub(async (messages) => {
      class Faulty extends RecordingProtocol {
        override pipeDataReceived(fd: number, data: Buffer): void {
          super.pipeDataReceived(fd, data);
          throw new Error("boom");
        }
      }
      const [, proto] = await getRunningLoop().subprocessExec(() => new Faulty(), NODE, script("console.log('x')"));
      await proto.completed;
      assert.equal(proto.returncode, 0);
      assert.equal(messages.length, 1);
      assert.equal((messages[0]?.exception as Error).message, "boom");
    });
  });

  it("rejects a protocol factory that is not a function", async () => {
    await runSub(async () => {
      const loop = getRunningLoop();
      await assert.rejects(
        loop.subprocessExec(null as unknown as () => SubprocessProtocol, NODE, []),
        (e) => e instanceof TypeError && /protocolFactory/.test(e.message),
      );
    });
  });
});

describe("the order of the protocol callbacks", { timeout: 120_000 }, () => {
  // CPython: test_subprocess.py test_subprocess_protocol_events (gh-108973)
  it("every callback comes; per pipe, data before its close", async () => {
    await runSub(async () => {
      const [transport, proto] = await exec(script("process.stdout.write('stdout'); process.stderr.write('stderr')"), {
        stdin: null,
      });
      await proto.completed;
      transport.close();
      const events = proto.events;
      for (const fd of [1, 2]) {
        const perFd = events.filter((e) => e.endsWith(` ${fd}`)).map((e) => e.split(" ")[0]);
        assert.deepEqual([...new Set(perFd)], ["pipeDataReceived", "pipeConnectionLost"], events.join(", "));
        assert.equal(perFd.at(-1), "pipeConnectionLost");
      }
      assert.equal(proto.data[1].toString(), "stdout");
      assert.equal(proto.data[2].toString(), "stderr");
      assert.ok(events.includes("processExited"));
    });
  });

  // asyncio's base_subprocess.py: connection_made first; connection_lost last, once the
  // process exited and every pipe closed; wait() after it.
  it("connectionMade comes first, connectionLost last, and _wait() resolves after it", async () => {
    await runSub(async () => {
      const [transport, proto] = await exec(script("process.stdout.write('x'.repeat(200000)); process.stderr.write('y')"));
      const internal = transport as SubprocessTransport & { _wait(): PromiseLike<number> };
      const returncode = await internal._wait();
      assert.equal(returncode, 0);
      assert.equal(proto.state, "CLOSED");
      const events = proto.events;
      assert.equal(events[0], "connectionMade");
      assert.equal(events.at(-1), "connectionLost null");
      for (const name of ["processExited", "pipeConnectionLost 0", "pipeConnectionLost 1", "pipeConnectionLost 2"]) {
        assert.equal(events.filter((e) => e === name).length, 1, `${name} in ${events.join(", ")}`);
      }
      assert.equal(proto.data[1].length, 200000);
      assert.deepEqual(proto.problems, []);
    });
  });

  it("output of a child that exits at once is all delivered, after connectionMade", async () => {
    await runSub(async () => {
      const [, proto] = await exec(script("process.stdout.write('z'.repeat(300000))"), { stdin: DEVNULL, stderr: DEVNULL });
      await proto.completed;
      assert.equal(proto.data[1].length, 300000);
      assert.deepEqual(proto.problems, []);
    });
  });
});

describe("loop.subprocessShell", { timeout: 120_000 }, () => {
  // CPython: test_events.py test_subprocess_shell
  it("runs a command line; its pipes close once it exits", async () => {
    await runSub(async () => {
      const [transport, proto] = await shell("echo Python");
      transport.getPipeTransport(0)?.close();
      await proto.completed;
      assert.equal(proto.returncode, 0);
      assert.deepEqual([...proto.disconnects.keys()].sort(), [0, 1, 2]);
      assert.equal(proto.data[1].toString().trimEnd(), "Python");
      assert.equal(proto.data[2].length, 0);
      transport.close();
    });
  });

  // CPython: test_events.py test_subprocess_exitcode, test_subprocess_close_after_finish
  it("with no pipes: getPipeTransport() is null, the exit code arrives, close() returns nothing", async () => {
    await runSub(async () => {
      const [transport, proto] = await shell("exit 7", { stdin: null, stdout: null, stderr: null });
      for (const fd of [0, 1, 2]) assert.equal(transport.getPipeTransport(fd), null);
      await proto.completed;
      assert.equal(proto.returncode, 7);
      assert.equal(transport.close(), undefined);
    });
  });

  // CPython: test_events.py test_subprocess_wait_no_same_group
  it("startNewSession runs the child in a session of its own", async () => {
    await runSub(async () => {
      const [transport, proto] = await shell("exit 7", { stdin: null, stdout: null, stderr: null, startNewSession: true });
      await proto.completed;
      assert.equal(proto.returncode, 7);
      transport.close();
    });
  });

  // CPython: test_events.py test_subprocess_shell_invalid_args, test_subprocess_exec_invalid_args
  it("refuses what asyncio refuses: a command that is not a string, text-mode options", async () => {
    await runSub(async () => {
      const loop = getRunningLoop();
      const factory = (): SubprocessProtocol => new SubprocessProtocol();
      await assert.rejects(loop.subprocessShell(factory, ["ls", "-l"] as unknown as string), TypeError);
      for (const option of ["universalNewlines", "bufsize", "shell", "encoding"]) {
        await assert.rejects(
          loop.subprocessExec(factory, "pwd", [], { [option]: true } as never),
          (e) => e instanceof TypeError && e.message.includes(`\`${option}\``),
        );
      }
      await assert.rejects(loop.subprocessShell(factory, "pwd", { argv0: "x" } as never), TypeError);
    });
  });
});

describe("the pipe transports", { timeout: 120_000 }, () => {
  it("stdin's flow control pauses and resumes the protocol around its water marks", { skip: unsupportedOn({ bun: BUN_STDIN }) }, async () => {
    await runSub(async () => {
      const calls: string[] = [];
      class Flow extends RecordingProtocol {
        override pauseWriting(): void {
          calls.push("pause");
        }
        override resumeWriting(): void {
          calls.push("resume");
        }
      }
      const loop = getRunningLoop();
      // 4 MiB is far more than a pipe holds: most of it waits in the transport's buffer.
      const [transport, proto] = await loop.subprocessExec(() => new Flow(), NODE, [fixture("echo.mjs")], { stdout: DEVNULL });
      const stdin = stdinOf(transport);
      assert.equal(stdin.canWriteEof(), true);
      stdin.setWriteBufferLimits(1024, 512);
      assert.deepEqual(stdin.getWriteBufferLimits(), [512, 1024]);
      stdin.write(Buffer.alloc(4 << 20));
      assert.ok(stdin.getWriteBufferSize() > 1024);
      assert.deepEqual(calls, ["pause"]);
      await until(() => calls.length === 2);
      assert.deepEqual(calls, ["pause", "resume"]);
      assert.ok(stdin.getWriteBufferSize() <= 512);
      stdin.close();
      assert.equal(stdin.isClosing(), true);
      await proto.completed;
      assert.equal(proto.returncode, 0);
      assert.equal(proto.disconnects.get(0), null);
    });
  });

  it("pauseReading() on stdout holds the output back, even across the child's exit", async () => {
    await runSub(async () => {
      // Less than a pipe holds, so the child can exit while nobody reads.
      const [transport, proto] = await exec(script("process.stdout.write('a'.repeat(20000))"), { stdin: DEVNULL });
      const stdout = transport.getPipeTransport(1) as ReadTransport;
      stdout.pauseReading();
      assert.equal(stdout.isReading(), false);
      stdout.pauseReading(); // idempotent
      const before = proto.data[1].length;
      // Node resumes the streams of a child that exited; the transport must not.
      await until(() => proto.events.includes("processExited"));
      await sleep(0.05);
      assert.equal(proto.data[1].length, before);
      assert.ok(!proto.events.includes("pipeConnectionLost 1"));
      // Resumed: the held output, then the EOF that came behind it.
      stdout.resumeReading();
      await proto.completed;
      assert.equal(proto.data[1].length, 20000);
    });
  });

  it("a write after the child closed stdin ends the pipe with EPIPE", {
    skip: unsupportedOn({
      bun: BUN_STDIN,
      deno: "the child is Deno, whose fs.closeSync(0) leaves the stdin pipe open, so the write never fails",
    }),
  }, async () => {
    await runSub(async () => {
      const code = "require('fs').closeSync(0); process.stdout.write('closed'); setTimeout(() => {}, 5000)";
      const [transport, proto] = await exec(script(code), { stderr: DEVNULL });
      await proto.gotData(1, (d) => d.toString() === "closed");
      stdinOf(transport).write("hello");
      await until(() => proto.disconnects.has(0));
      assert.equal((proto.disconnects.get(0) as { code?: string } | null)?.code, "EPIPE");
      transport.close();
      await proto.completed;
    });
  });

  it("getExtraInfo('subprocess') is Node's ChildProcess; a pipe's 'pipe' is its Node stream", async () => {
    await runSub(async () => {
      const [transport, proto] = await exec(script("0"), { stdin: PIPE, stdout: PIPE, stderr: DEVNULL });
      const child = transport.getExtraInfo("subprocess") as { pid?: number };
      assert.equal(child.pid, transport.getPid());
      assert.ok(transport.getPipeTransport(1)?.getExtraInfo("pipe") !== null);
      await proto.completed;
      transport.close();
    });
  });
});
