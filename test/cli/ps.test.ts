// `asyncio-ts ps|pstree PID` against real processes: targets run test/fixtures/ps-target.ts
// with `--inspect-port=0` (a random port when the inspector opens, so targets never collide
// and the command must find the port in /proc), and the command runs as a process of its own,
// through tsx on src/. Every process is bounded (the targets exit after 5 minutes if the test
// has not killed them, the command is killed after 40 s, each test has a timeout): those are
// bounds against a hang, not timings.
// Linux only: finding the inspector's port reads /proc.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { RUNTIME, unsupportedOn } from "../support/runtime.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURE = fileURLToPath(new URL("../fixtures/ps-target.ts", import.meta.url));
const CLI = fileURLToPath(new URL("../../src/cli/asyncio-ts.ts", import.meta.url));
const BOUND = { timeout: 120_000 };
/** The tests that read a target: one running on the runtime running the tests. */
const NO_INSPECTOR = "a Bun process has no V8 inspector to open with SIGUSR1 (the command reads Node processes; Bun's debugger speaks WebKit's protocol)";
const READS = { ...BOUND, skip: unsupportedOn({ bun: NO_INSPECTOR }) };
/** The tests that need the inspector SIGUSR1 opens on the port `--inspect-port` gives. */
const PORT_9229 = "Deno opens its inspector on SIGUSR1 at 127.0.0.1:9229 whatever `--inspect-port` says, so two Deno processes cannot be read at once";
const READS_ON_PORT = { ...BOUND, skip: unsupportedOn({ bun: NO_INSPECTOR, deno: PORT_9229 }) };

/** A running target process. */
interface Target {
  child: ChildProcess;
  pid: number;
  stdout: () => string;
  stderr: () => string;
}

const started: ChildProcess[] = [];

/** Starts the fixture in `mode` with `nodeFlags` and resolves once it printed "ready". */
function startTarget(mode: string, nodeFlags: string[] = ["--inspect-port=0"]): Promise<Target> {
  const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", FIXTURE, mode], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${mode} target did not get ready:\n${stderr}`)), 60_000);
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`the ${mode} target exited (${code}) before it was ready:\n${stderr}`)));
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
      if (stdout.includes("ready\n")) {
        clearTimeout(timer);
        const target = { child, pid: child.pid as number, stdout: () => stdout, stderr: () => stderr };
        // Deno catches SIGUSR1 (to open its inspector) only a moment after the program starts.
        if (RUNTIME === "deno") void catchesSigusr1(target.pid, 10_000).then(() => resolve(target), reject);
        else resolve(target);
      }
    });
  });
}

/** Resolves once process `pid` catches SIGUSR1 (its `SigCgt` in /proc), or rejects after `ms`. */
async function catchesSigusr1(pid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "0";
    if (((BigInt(`0x${mask}`) >> 9n) & 1n) === 1n) return; // SIGUSR1 is signal 10: bit 9
    if (Date.now() > deadline) throw new Error(`process ${pid} did not catch SIGUSR1 within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Whether a user other than the file's owner may run `path`: the file and every folder above it
 * open to others (the runtimes' cache is under root's home, which is not).
 */
function runnableByOthers(path: string): boolean {
  const parts = path.split("/");
  for (let i = parts.length; i > 1; i--) {
    if ((statSync(parts.slice(0, i).join("/")).mode & 0o001) === 0) return false;
  }
  return true;
}

/** What one run of the command printed and how it ended. */
interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `asyncio-ts ...args` (as user `uid` when given); killed after 40 s. */
function runCli(args: string[], uid?: number): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 40_000,
      ...(uid === undefined ? {} : { uid, gid: uid, env: { ...process.env, HOME: "/tmp" } }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

function assertOk(run: CliRun): void {
  assert.equal(run.signal, null, "the command was killed: it hung");
  assert.equal(run.status, 0, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  assert.equal(run.stderr, "");
}

/** The one-line error the command printed, after it exited 1. */
function errorOf(run: CliRun): string {
  assert.equal(run.signal, null, "the command was killed: it hung");
  assert.equal(run.status, 1, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  assert.equal(run.stdout, "");
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, run.stderr);
  return lines[0] as string;
}

/** The ports the target's inspector announced on its stderr ("Debugger listening on ws://…:PORT/…"). */
function announcedPorts(target: Target): number[] {
  return [...target.stderr().matchAll(/Debugger listening on ws:\/\/[^/]*:(\d+)\//g)].map((m) => Number(m[1]));
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

/** A line of `pstree`: its depth (0 for a root; -1 if it is not drawn as a tree line) and its label. */
interface TreeLine {
  depth: number;
  label: string;
}

function parseTree(text: string): TreeLine[] {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => {
      const match = /^((?:[│ ] {3})*)[└├]── (.*)$/.exec(line);
      return match === null
        ? { depth: -1, label: line }
        : { depth: (match[1] as string).length / 4, label: match[2] as string };
    });
}

/** Whether some line matching `child` has an ancestor matching `ancestor`. */
function under(tree: TreeLine[], child: RegExp, ancestor: RegExp): boolean {
  return tree.some((node, i) => {
    if (!child.test(node.label)) return false;
    let depth = node.depth;
    for (let j = i - 1; j >= 0 && depth > 0; j--) {
      const above = tree[j] as TreeLine;
      if (above.depth < depth) {
        if (ancestor.test(above.label)) return true;
        depth = above.depth;
      }
    }
    return false;
  });
}

/** A port nothing listens on now (the kernel's pick, released at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

after(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

describe("asyncio-ts ps and pstree", { skip: process.platform !== "linux" && "the port discovery reads /proc (Linux)" }, () => {
  let a: Target;
  let b: Target;
  /** A target without a loop, whose inspector is open from the start (`--inspect`), and its port. */
  let open: Target;
  let openPort: number;
  /** Targets without asyncio-ts, with an await cycle, with a SIGUSR1 listener of their own. */
  let plain: Target;
  let looped: Target;
  let own: Target;
  before(async () => {
    if (RUNTIME === "bun") return; // nothing reads them there (NO_INSPECTOR)
    [a, b, open, plain, looped, own] = await Promise.all([
      startTarget("tasks"),
      startTarget("tasks"),
      startTarget("idle", ["--inspect=127.0.0.1:0"]),
      startTarget("plain"),
      startTarget("cycle"),
      startTarget("sigusr1"),
    ]);
    openPort = announcedPorts(open)[0] ?? assert.fail(open.stderr());
  });

  it("reads two targets at once, each its own process", READS_ON_PORT, async () => {
    const [runA, runB] = await Promise.all([runCli(["ps", "--json", String(a.pid)]), runCli(["ps", "--json", String(b.pid)])]);
    assertOk(runA);
    assertOk(runB);
    const [snapA] = JSON.parse(runA.stdout) as { pid: number; loops: { tasks: { name: string }[] }[] }[];
    const [snapB] = JSON.parse(runB.stdout) as { pid: number }[];
    assert.equal(snapA?.pid, a.pid);
    assert.equal(snapB?.pid, b.pid);
    const names = snapA?.loops[0]?.tasks.map((t) => t.name).sort();
    assert.deepEqual(names, ["Task-1", "gather-child-1", "gather-child-2", "gatherer", "lock-waiter", "sleeper", "task-waiter"]);
    // Each got a port of its own, and each was closed again.
    const [portA] = announcedPorts(a);
    const [portB] = announcedPorts(b);
    assert.ok(portA !== undefined && portB !== undefined && portA !== portB, `${a.stderr()}\n${b.stderr()}`);
    assert.equal(await portOpen(portA), false);
    assert.equal(await portOpen(portB), false);
  });

  it("prints a table of the tasks: what each awaits, who awaits it, its task group", READS, async () => {
    const run = await runCli(["ps", String(a.pid)]);
    assertOk(run);
    const lines = run.stdout.trimEnd().split("\n");
    assert.match(lines[0] as string, /^loop +task id +task name +state +awaits +awaited by +parent +task group$/);
    const row = (name: string): string => lines.find((line) => line.split(/ {2,}/)[2] === name) ?? assert.fail(`no row ${name}:\n${run.stdout}`);
    const id = (name: string): string => row(name).split(/ {2,}/)[1] as string;
    assert.match(row("task-waiter"), /<Task pending name='sleeper'/);
    assert.match(row("sleeper"), new RegExp(` ${id("task-waiter")} `)); // awaited by
    assert.match(row("lock-waiter"), /^1 +\d+ +lock-waiter +pending +<\w+ /);
    for (const member of ["lock-waiter", "sleeper", "task-waiter", "gatherer"]) {
      assert.match(row(member), /<TaskGroup tasks=\d+[^>]*> \(group \d+\)$/);
    }
    assert.doesNotMatch(row("gather-child-1"), /TaskGroup/);
  });

  it("prints the awaited-by tree: the group above its tasks, an awaited task under its awaiter", READS, async () => {
    const run = await runCli(["pstree", String(a.pid)]);
    assertOk(run);
    const tree = parseTree(run.stdout);
    assert.ok(tree.every((node) => node.depth >= 0), run.stdout);
    assert.ok(under(tree, /^\(T\) sleeper \(\d+\) awaiting </, /^\(T\) task-waiter \(\d+\)/), run.stdout);
    for (const member of ["lock-waiter", "sleeper", "task-waiter", "gatherer"]) {
      assert.ok(under(tree, new RegExp(`^\\(T\\) ${member} \\(`), /^\(G\) <TaskGroup tasks=\d+[^>]*> \(group \d+\)$/), run.stdout);
    }
    for (const name of ["gather-child-1", "gather-child-2", "Task-1"]) {
      assert.ok(tree.some((node) => node.label.startsWith(`(T) ${name} (`)), run.stdout);
    }
  });

  it(
    "shows the gather's children under the gatherer, the group's tasks under the task running it, the lock awaited",
    READS,
    async () => {
      const run = await runCli(["pstree", String(a.pid)]);
      assertOk(run);
      const tree = parseTree(run.stdout);
      assert.ok(tree.some((node) => node.label === "(T) lock-waiter (2) awaiting <Lock [locked, waiters:1]>"), run.stdout);
      assert.ok(under(tree, /^\(T\) gather-child-1 \(/, /^\(T\) gatherer \(/), run.stdout);
      assert.ok(under(tree, /^\(T\) gather-child-2 \(/, /^\(T\) gatherer \(/), run.stdout);
      assert.ok(under(tree, /^\(G\) <TaskGroup/, /^\(T\) Task-1 \(1\)/), run.stdout);
    },
  );

  it("closes the inspector it opened, and opens it again next time", READS, async () => {
    for (let i = 0; i < 2; i++) assertOk(await runCli(["pstree", String(b.pid)]));
    const ports = announcedPorts(b);
    assert.ok(ports.length >= 2, b.stderr());
    for (const port of new Set(ports)) assert.equal(await portOpen(port), false);
    assert.equal(alive(b.pid), true);
  });

  it("leaves an inspector that was open before open", READS, async () => {
    const run = await runCli(["pstree", String(open.pid)]);
    assertOk(run);
    assert.equal(run.stdout, "no event loop is running\n");
    assert.equal(await portOpen(openPort), true);
  });

  it("finds an inspector the program opened itself among its other sockets, and leaves it open", READS, async () => {
    const opened = await startTarget("opened", []);
    const [port] = announcedPorts(opened);
    assert.ok(port !== undefined, opened.stderr());
    const run = await runCli(["ps", String(opened.pid)]);
    assertOk(run);
    assert.match(run.stdout, /\nno event loop is running\n$/);
    assert.equal(await portOpen(port), true);
    opened.child.kill();
  });

  it("opens and closes the inspector on the port given with --port (the way it works off Linux)", READS_ON_PORT, async () => {
    const port = await freePort();
    const target = await startTarget("idle", [`--inspect-port=${port}`]);
    const run = await runCli(["pstree", "--port", String(port), String(target.pid)]);
    assertOk(run);
    assert.equal(run.stdout, "no event loop is running\n");
    assert.deepEqual(announcedPorts(target), [port]);
    assert.equal(await portOpen(port), false);
    target.child.kill();
  });

  it("refuses an inspector that belongs to another process, and leaves that one open", READS, async () => {
    const opensOfA = announcedPorts(a).length;
    const message = errorOf(await runCli(["ps", "--port", String(openPort), String(a.pid)]));
    assert.match(message, new RegExp(`belongs to process ${open.pid}, not ${a.pid}`));
    assert.equal(await portOpen(openPort), true);
    assert.equal(announcedPorts(a).length, opensOfA, "the target was signalled although an inspector answered");
  });

  it("says so when the process does not use asyncio-ts, and closes the inspector anyway", READS, async () => {
    assert.match(errorOf(await runCli(["ps", String(plain.pid)])), /does not use asyncio-ts/);
    const [port] = announcedPorts(plain);
    assert.ok(port !== undefined, plain.stderr());
    assert.equal(await portOpen(port), false);
  });

  it("reports a cycle of awaits instead of a tree", READS, async () => {
    const run = await runCli(["pstree", String(looped.pid)]);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stdout, "");
    assert.equal(
      run.stderr,
      "ERROR: await-graph contains cycles - cannot print a tree!\n\ncycle: ping (2) → pong (3) → ping (2)\n",
    );
    // ps still prints the table.
    const ps = await runCli(["ps", String(looped.pid)]);
    assertOk(ps);
    assert.match(ps.stdout, /\n1 +2 +ping +pending +<Task pending name='pong'[^>]*> +1, 3( +1)?\n/);
  });

  it("reads a process that is busy in synchronous code", READS, async () => {
    const busy = await startTarget("busy");
    const run = await runCli(["ps", String(busy.pid)]);
    assertOk(run);
    assert.match(run.stdout, /\n1 +1 +Task-1 +(running|pending)\b/);
    busy.child.kill();
  });

  it("says when no process has the PID", BOUND, async () => {
    const gone = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => gone.on("exit", resolve));
    assert.match(errorOf(await runCli(["ps", String(gone.pid)])), new RegExp(`^asyncio-ts: no process has PID ${gone.pid}`));
  });

  it("sends nothing to a process that is not Node (SIGUSR1 would end it)", BOUND, async () => {
    const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
    started.push(sleeper);
    await new Promise((resolve) => sleeper.on("spawn", resolve));
    await new Promise((resolve) => setTimeout(resolve, 200)); // until it has exec'd sleep
    assert.match(errorOf(await runCli(["ps", String(sleeper.pid)])), /\(sleep\) is not a Node\.js process/);
    assert.equal(alive(sleeper.pid as number), true);
    sleeper.kill();
  });

  it(
    "says the inspector could not be opened when the program handles SIGUSR1 itself",
    {
      ...READS,
      skip: unsupportedOn({
        bun: NO_INSPECTOR,
        deno: "Deno opens its inspector on SIGUSR1 even when the program listens to the signal itself (so the command reads it)",
      }),
    },
    async () => {
      const message = errorOf(await runCli(["ps", "--timeout", "1.5", String(own.pid)]));
      assert.match(message, /the inspector of process \d+ \(node[^)]*\) could not be opened: likely causes: .*process\.on\('SIGUSR1'\)/);
      assert.match(own.stdout(), /SIGUSR1 handled/);
    },
  );

  it(
    "says the process does not accept the signal when started with --disable-sigusr1",
    { ...BOUND, skip: !process.allowedNodeEnvironmentFlags.has("--disable-sigusr1") && "Node < 22.14 has no --disable-sigusr1" },
    async () => {
      const deaf = await startTarget("idle", ["--disable-sigusr1"]);
      assert.match(errorOf(await runCli(["ps", String(deaf.pid)])), /does not accept the inspector signal/);
      assert.equal(alive(deaf.pid), true);
      deaf.child.kill();
    },
  );

  it(
    "says the process belongs to another user",
    {
      ...BOUND,
      skip:
        (process.getuid?.() !== 0 && "needs root, to run the command as another user") ||
        (!runnableByOthers(process.execPath) && `user 65534 cannot run ${process.execPath} (a folder above it is closed to others)`) ||
        unsupportedOn({ bun: NO_INSPECTOR }),
    },
    async () => {
      const message = errorOf(await runCli(["ps", String(a.pid)], 65534));
      assert.match(message, new RegExp(`process ${a.pid} belongs to another user: run asyncio-ts as that user \\(or as root\\)`));
    },
  );
});

describe("asyncio-ts command line", { concurrency: true }, () => {
  it("prints its usage with --help", BOUND, async () => {
    const run = await runCli(["--help"]);
    assertOk(run);
    assert.match(run.stdout, /^Usage: asyncio-ts <command> \[options\] PID\n/);
  });

  it("exits with status 2 and the short usage on a mistake (test/cli/args.test.ts has the mistakes)", BOUND, async () => {
    const run = await runCli(["ps", "--verbose", "12"]);
    assert.equal(run.status, 2);
    assert.equal(run.stdout, "");
    assert.equal(
      run.stderr,
      "asyncio-ts: unknown option '--verbose'\nUsage: asyncio-ts ps|pstree [--json] [--timeout SEC] [--port PORT] PID (see --help)\n",
    );
  });
});
