/**
 * The soak test: `npm run soak` (60 s, 1,000 clients; not run in CI), or
 * `node --import tsx bench/soak.ts --seconds N --clients N --seed N --backlog N --record`.
 * test/streams/soak.test.ts runs the same code for 10 s with 200 clients.
 *
 * An asyncio-ts streams echo server (bench/soak-server.ts) runs in a child process of its own.
 * Here, in this process, `clients` loopback clients (plain `node:net` sockets) each run one
 * behaviour after another, picked at random, until the time is up:
 *
 * - **reset**: connect, maybe send a few lines, then `resetAndDestroy()` (an RST) at once or soon;
 * - **half-close**: send a few lines and maybe a last one without `\n`, `end()`, and check that
 *   everything comes back before the server closes;
 * - **stall**: connect, maybe send half a line, then read and write nothing for a while; then
 *   close or reset;
 * - **flood**: write lines (or one endless line, over the server's limit) without reading, up to
 *   a bound, and hold; then close or reset;
 * - **behave**: send lines one at a time (some split across writes) and check each echo; `end()`.
 *
 * Every 250 ms a probe sends a line on its connection and waits for it to come back (up to
 * `probeTimeout` seconds); every second another probe does the same on a new connection (which
 * also waits for the server to accept it). Meanwhile the server's descriptors (/proc/PID/fd) and RSS are
 * sampled. At the end every client is closed; the server's descriptors must return to their
 * baseline (taken after start-up, listening) by themselves; then the server closes
 * (`close()`, `closeClients()`, `abortClients()` after 5 s) and its descriptors must return to
 * the baseline minus its listening sockets; RSS (after two full GCs) is compared with the
 * baseline.
 *
 * `--record` writes the figures into the "Soak test" section of bench/RESULTS.md.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { type Socket, connect } from "node:net";
import { cpus, getPriority, setPriority } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { mulberry32 } from "./common.js";
import { REPO_DIR, gitDescription } from "./setup.js";
import type { SoakServerClosed, SoakServerCounters, SoakServerStats } from "./soak-server.js";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

export interface SoakOptions {
  /** How long the clients run, in seconds (default 60). */
  seconds?: number;
  /** How many clients run at once (default 1,000). */
  clients?: number;
  /** The seed of the behaviours' random choices (default 1). */
  seed?: number;
  /** Seconds a probe may take before it counts as failed (default 5). */
  probeTimeout?: number;
  /** Seconds to wait for the server's descriptors to return to their baseline (default 10). */
  fdTimeout?: number;
  /**
   * The server's listen backlog (default 4096; Linux caps it at net.core.somaxconn). Below the
   * number of clients, bursts of connections overflow the kernel's queues, which then drop and
   * reset connections the server never accepted (ListenOverflows in /proc/net/netstat).
   */
  backlog?: number;
  /**
   * A niceness for the server process and this one (default: none), so that the soak gives way
   * to other work on the machine (the test suite's other files): it raises, never lowers, it.
   */
  niceness?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export type Behaviour = "reset" | "halfClose" | "stall" | "flood" | "behave";
const BEHAVIOURS: readonly Behaviour[] = ["reset", "halfClose", "stall", "flood", "behave"];

export interface SoakReport {
  seconds: number;
  clients: number;
  seed: number;
  backlog: number;
  /** Connections the clients made (connected), and connection attempts that failed. */
  connections: number;
  connectFailures: number;
  /** Behaviours run, by kind. */
  behaviours: Record<Behaviour, number>;
  /** Connections ended with an RST (`resetAndDestroy()`). */
  resets: number;
  /**
   * Echoes checked (each line of a well-behaved client; all a half-closing client sent), and
   * those that differed from what was sent (a bug).
   */
  echoesChecked: number;
  echoMismatches: number;
  /** Errors on connections that should have had none (half-close, behave): a bug. */
  unexpectedErrors: number;
  unexpectedErrorSamples: string[];
  /** Server handlers still running once every client was closed (and fds had time to return). */
  lingering: { open: number; waiting: Record<string, number>; tcp: string | null };
  /** Clients still not done 30 s after every socket was closed (a bug of the soak test). */
  hungClients: number;
  /** A line every 250 ms on one connection: the server answers. */
  probes: ProbeFigures;
  /** A line every second on a new connection: the server accepts, and answers. */
  acceptProbes: ProbeFigures;
  /** Descriptor counts of the server process; null where /proc/PID/fd does not exist. */
  fds: {
    baseline: number;
    max: number;
    /** After every client closed, the server still listening (should equal the baseline). */
    afterClients: number;
    /** After the server closed (should equal the baseline minus the listening sockets). */
    end: number;
    expectedEnd: number;
    listeners: number;
  } | null;
  /** RSS of the server process in bytes: after GC at baseline and end, peak as sampled. */
  rss: { baseline: number; peak: number | null; end: number };
  heapUsed: { baseline: number; end: number };
  /** V8's heap as reserved from the system (part of RSS), after GC. */
  heapTotal: { baseline: number; end: number };
  /** Memory of ArrayBuffers (Buffers) of the server, after GC. */
  arrayBuffers: { baseline: number; end: number };
  /** CPU seconds used during the run (clients running) by the server and by this process. */
  cpu: {
    server: number | null;
    clients: number;
    /** Seconds the server's main thread was ready to run but waited for a CPU (a busy machine). */
    serverWaitedForCpu: number | null;
  };
  /** The server's own counters at the end (after it closed). */
  server: SoakServerCounters;
  serverClose: { aborted: boolean; seconds: number };
}

// ---------------------------------------------------------------------------------------------
// Helpers


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function fdCount(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function rssOf(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) the process `pid` has used, from /proc/PID/stat. */
function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat (utime, stime), in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * The TCP states of the connections on `port` (from `ss`), by side: "server ESTAB 3, client
 * FIN-WAIT-2 1"; null when `ss` is not there. Tells a connection the server kept after its peer
 * went away from one the kernel still closes.
 */
function tcpStates(port: number): string | null {
  let out: string;
  try {
    out = execFileSync("ss", ["-Htan", `( sport = :${port} or dport = :${port} )`], { encoding: "utf8" });
  } catch {
    return null;
  }
  const counts = new Map<string, number>();
  for (const line of out.split("\n")) {
    const [state, , , local] = line.trim().split(/\s+/);
    if (state === undefined || local === undefined || state === "LISTEN") continue;
    const key = `${local.endsWith(`:${port}`) ? "server" : "client"} ${state}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} ${n}`).join(", ") || "none";
}

/**
 * Seconds the main thread of `pid` ran, and spent runnable but waiting for a CPU (from
 * /proc/PID/schedstat): the second says how much other work on the machine held it back.
 */
function schedOf(pid: number): { ran: number; waited: number } | null {
  try {
    const [ran, waited] = readFileSync(`/proc/${pid}/schedstat`, "utf8").trim().split(/\s+/).map(Number);
    return ran === undefined || waited === undefined ? null : { ran: ran / 1e9, waited: waited / 1e9 };
  } catch {
    return null;
  }
}

/** The server child: its messages by tag, and a way to send it commands. */
class ServerProcess {
  readonly child: ChildProcess;
  readonly #waiting = new Map<string, ((value: unknown) => void)[]>();
  #exited: Promise<void>;
  stderr = "";

  constructor(backlog: number) {
    this.child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", join(BENCH_DIR, "soak-server.ts")], {
      cwd: REPO_DIR,
      env: { ...process.env, SOAK_BACKLOG: String(backlog) },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      this.stderr += text;
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const match = /^@@(\w+) (.*)$/.exec(line);
      if (match === null) return;
      const queue = this.#waiting.get(match[1] as string);
      queue?.shift()?.(JSON.parse(match[2] as string));
    });
    this.#exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The next `@@TAG` message (sending `command` first, if given). */
  next<T>(tag: string, command?: string, seconds = 60): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`soak server: no @@${tag} in ${seconds} s\n${this.stderr}`)), seconds * 1000);
      const queue = this.#waiting.get(tag) ?? [];
      queue.push((value) => {
        clearTimeout(timer);
        resolve(value as T);
      });
      this.#waiting.set(tag, queue);
      this.#exited.then(() => reject(new Error(`soak server exited (${this.child.exitCode}) before @@${tag}\n${this.stderr}`)));
      if (command !== undefined) this.child.stdin?.write(`${command}\n`);
    });
  }

  async exit(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin?.end("exit\n");
      const killer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
      await this.#exited;
      clearTimeout(killer);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The clients

class Clients {
  readonly report: Pick<
    SoakReport,
    | "connections"
    | "connectFailures"
    | "behaviours"
    | "resets"
    | "echoesChecked"
    | "echoMismatches"
    | "unexpectedErrors"
    | "unexpectedErrorSamples"
  > = {
    connections: 0,
    connectFailures: 0,
    behaviours: { reset: 0, halfClose: 0, stall: 0, flood: 0, behave: 0 },
    resets: 0,
    echoesChecked: 0,
    echoMismatches: 0,
    unexpectedErrors: 0,
    unexpectedErrorSamples: [],
  };
  /** Every open client socket, so that the end can close them all. */
  readonly sockets = new Set<Socket>();
  stopping = false;
  readonly #random: () => number;

  constructor(
    readonly port: number,
    seed: number,
  ) {
    this.#random = mulberry32(seed);
  }

  #between(low: number, high: number): number {
    return low + (high - low) * this.#random();
  }

  #chance(p: number): boolean {
    return this.#random() < p;
  }

  /** A printable line of `length` bytes before its `\n`. */
  #line(length: number): string {
    let text = "";
    while (text.length < length) text += String.fromCharCode(33 + Math.floor(this.#random() * 94));
    return `${text}\n`;
  }

  #unexpected(what: string, error: unknown): void {
    this.report.unexpectedErrors++;
    if (this.report.unexpectedErrorSamples.length < 10) {
      this.report.unexpectedErrorSamples.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Connects; resolves the socket once connected, or null when the attempt failed or was closed. */
  #connect(): Promise<Socket | null> {
    return new Promise((resolve) => {
      const socket = connect({ port: this.port, host: "127.0.0.1", noDelay: true });
      this.sockets.add(socket);
      let settled = false;
      const settle = (value: Socket | null): void => {
        if (settled) return;
        settled = true;
        resolve(value);
      };
      // Closed while connecting (by closeAll at the end): no 'error', no 'connect'.
      socket.once("close", () => {
        this.sockets.delete(socket);
        settle(null);
      });
      const failed = (): void => {
        this.report.connectFailures++;
        socket.destroy();
        settle(null);
      };
      socket.once("error", failed);
      socket.once("connect", () => {
        socket.off("error", failed);
        this.report.connections++;
        if (this.stopping) {
          socket.destroy();
          settle(null);
        } else {
          settle(socket);
        }
      });
    });
  }

  /** Resolves when `socket` is closed, or after `ms` (then `onTimeout` runs). */
  #closedOr(socket: Socket, ms: number, onTimeout: () => void): Promise<void> {
    return new Promise((resolve) => {
      if (socket.destroyed) return resolve();
      const timer = setTimeout(() => {
        onTimeout();
        resolve();
      }, ms);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Ends a connection at random: a plain close, or an RST. */
  #closeOrReset(socket: Socket): void {
    if (socket.destroyed) return;
    if (this.#chance(0.5)) {
      this.report.resets++;
      socket.resetAndDestroy();
    } else {
      socket.destroy();
    }
  }

  async reset(): Promise<void> {
    const socket = await this.#connect();
    if (socket === null) return;
    socket.on("error", () => {});
    if (this.#chance(0.5)) socket.write(this.#line(20).repeat(Math.floor(this.#between(1, 20))));
    if (this.#chance(0.3)) socket.write("half a li");
    if (this.#chance(0.5)) await sleep(this.#between(0, 300));
    if (!socket.destroyed) {
      this.report.resets++;
      socket.resetAndDestroy();
    }
  }

  async halfClose(): Promise<void> {
    const socket = await this.#connect();
    if (socket === null) return;
    let sent = "";
    const count = Math.floor(this.#between(0, 6));
    for (let i = 0; i < count; i++) sent += this.#line(Math.floor(this.#between(1, 200)));
    if (this.#chance(0.5)) sent += this.#line(Math.floor(this.#between(1, 50))).slice(0, -1);
    const chunks: Buffer[] = [];
    let ended = false;
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => {
      ended = true;
    });
    let errored = false;
    socket.on("error", (error) => {
      errored = true;
      if (!this.stopping) this.#unexpected("half-close", error);
    });
    socket.end(sent);
    await this.#closedOr(socket, 30_000, () => {
      if (!this.stopping) this.#unexpected("half-close", new Error("no close from the server in 30 s"));
      socket.destroy();
    });
    // Cut short (by the end of the run, or an error already counted): nothing to compare.
    if (!ended || errored) return;
    const got = Buffer.concat(chunks).toString("latin1");
    this.report.echoesChecked++;
    if (got !== sent) this.report.echoMismatches++;
  }

  async stall(): Promise<void> {
    const socket = await this.#connect();
    if (socket === null) return;
    socket.on("error", () => {});
    // Read nothing: no 'data' listener, and paused.
    socket.pause();
    if (this.#chance(0.5)) socket.write("a line that never e");
    await this.#closedOr(socket, this.#between(200, 5000), () => this.#closeOrReset(socket));
  }

  async flood(): Promise<void> {
    const socket = await this.#connect();
    if (socket === null) return;
    socket.on("error", () => {});
    socket.pause();
    // Lines (the server echoes them until its writes back up), or one line without end (over
    // the server's 64 KiB limit: its readline fails and it closes the connection).
    const block = this.#chance(0.8) ? Buffer.from(this.#line(1023).repeat(16)) : Buffer.alloc(16 * 1024, "y");
    const limit = this.#between(128 * 1024, 1024 * 1024);
    const until = performance.now() + this.#between(200, 5000);
    let written = 0;
    while (!socket.destroyed && !this.stopping && written < limit && performance.now() < until) {
      written += block.length;
      if (!socket.write(block)) {
        await this.#closedOr(socket, Math.max(0, until - performance.now()), () => {});
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const left = until - performance.now();
    if (left > 0 && !socket.destroyed) await this.#closedOr(socket, left, () => {});
    this.#closeOrReset(socket);
  }

  async behave(): Promise<void> {
    const socket = await this.#connect();
    if (socket === null) return;
    let received = "";
    let wake: (() => void) | null = null;
    let failed = false;
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      received += text;
      wake?.();
    });
    socket.on("error", (error) => {
      failed = true;
      if (!this.stopping) this.#unexpected("behave", error);
    });
    socket.on("close", () => wake?.());
    const rounds = Math.floor(this.#between(1, 30));
    for (let i = 0; i < rounds && !this.stopping && !socket.destroyed; i++) {
      const line = this.#line(Math.floor(this.#between(1, 300)));
      if (this.#chance(0.2)) {
        const cut = Math.floor(line.length / 2);
        socket.write(line.slice(0, cut));
        await sleep(this.#between(0, 20));
        socket.write(line.slice(cut));
      } else {
        socket.write(line);
      }
      const deadline = performance.now() + 30_000;
      while (received.length < line.length && !socket.destroyed && performance.now() < deadline) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 1000);
        });
        wake = null;
      }
      if (received.length < line.length) {
        if (!this.stopping && !failed) this.#unexpected("behave", new Error(`no echo in 30 s (${received.length} of ${line.length} bytes)`));
        break;
      }
      this.report.echoesChecked++;
      if (received.slice(0, line.length) !== line) this.report.echoMismatches++;
      received = received.slice(line.length);
      if (this.#chance(0.3)) await sleep(this.#between(0, 200));
    }
    socket.end();
    await this.#closedOr(socket, 10_000, () => socket.destroy());
  }

  /** One client: behaviours one after another until `stopping`. */
  async run(startDelay: number): Promise<void> {
    await sleep(startDelay);
    while (!this.stopping) {
      const kind = BEHAVIOURS[Math.floor(this.#random() * BEHAVIOURS.length)] as Behaviour;
      this.report.behaviours[kind]++;
      await this[kind]();
    }
  }

  closeAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

/** A connection that sends lines and waits for each to come back. */
class LineConnection {
  readonly #socket: Socket;
  #received = "";
  #wake: (() => void) | null = null;
  #error: Error | null = null;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      this.#received += text;
      this.#wake?.();
    });
    const end = (error: Error | null): void => {
      this.#error ??= error ?? new Error("the server closed the connection");
      this.#wake?.();
    };
    socket.on("error", (error) => end(error));
    socket.on("close", () => end(null));
  }

  static open(port: number): LineConnection {
    return new LineConnection(connect({ port, host: "127.0.0.1", noDelay: true }));
  }

  /** Sends `line`, waits up to `timeoutMs` for it to come back; resolves the milliseconds taken. */
  async echo(line: string, timeoutMs: number): Promise<number> {
    const started = performance.now();
    this.#socket.write(line);
    const deadline = started + timeoutMs;
    while (this.#received.length < line.length) {
      if (this.#error !== null) throw new Error(`${JSON.stringify(line.trim())}: ${this.#error.message}`);
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(`${JSON.stringify(line.trim())}: no echo in ${timeoutMs} ms (got ${JSON.stringify(this.#received)})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
    const got = this.#received.slice(0, line.length);
    this.#received = this.#received.slice(line.length);
    if (got !== line) throw new Error(`${JSON.stringify(line.trim())}: echo ${JSON.stringify(got)}`);
    return performance.now() - started;
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

interface ProbeFigures {
  answered: number;
  failed: number;
  maxMs: number;
  failures: string[];
}

/**
 * Until `deadline`, every `everyMs`: a line through the server, and its echo within `timeoutMs`.
 * With `fresh`, each on a new connection (so it waits for the server to accept, too); else all
 * on one connection (made again after a failure).
 */
async function probeLoop(port: number, deadline: number, everyMs: number, timeoutMs: number, fresh: boolean): Promise<ProbeFigures> {
  const figures: ProbeFigures = { answered: 0, failed: 0, maxMs: 0, failures: [] };
  let connection: LineConnection | null = null;
  for (let n = 1; performance.now() < deadline; n++) {
    const next = performance.now() + everyMs;
    try {
      connection ??= LineConnection.open(port);
      const ms = await connection.echo(`${fresh ? "new-connection probe" : "probe"} ${n}\n`, timeoutMs);
      figures.answered++;
      if (ms > figures.maxMs) figures.maxMs = ms;
    } catch (error) {
      figures.failed++;
      if (figures.failures.length < 10) figures.failures.push((error as Error).message);
      connection?.destroy();
      connection = null;
    }
    if (fresh) {
      connection?.destroy();
      connection = null;
    }
    await sleep(Math.max(0, next - performance.now()));
  }
  connection?.destroy();
  return figures;
}

// ---------------------------------------------------------------------------------------------
// The run

/** Polls `read` until it returns `want` or `seconds` pass; resolves the last value read. */
/** Polls a descriptor count until it is down to `want` or below (Node 26 may close one of its own too). */
async function waitFor(read: () => number | null, want: number, seconds: number): Promise<number | null> {
  const deadline = performance.now() + seconds * 1000;
  let value = read();
  while (value !== null && value > want && performance.now() < deadline) {
    await sleep(100);
    value = read();
  }
  return value;
}

export async function runSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const seconds = options.seconds ?? 60;
  const clientCount = options.clients ?? 1000;
  const seed = options.seed ?? 1;
  const probeTimeoutMs = (options.probeTimeout ?? 5) * 1000;
  const fdTimeout = options.fdTimeout ?? 10;
  const log = options.log ?? (() => {});

  const backlog = options.backlog ?? 4096;
  const server = new ServerProcess(backlog);
  try {
    const ready = await server.next<{ port: number; listeners: number }>("READY");
    const pid = server.pid;
    if (options.niceness !== undefined) {
      setPriority(pid, Math.max(getPriority(pid), options.niceness));
      setPriority(Math.max(getPriority(), options.niceness));
    }
    // The baseline: started and listening, no connection yet; RSS after GC.
    const base = await server.next<SoakServerStats>("STATS", "stats");
    const fdBaseline = fdCount(pid) ?? 0;
    const hasProc = fdCount(pid) !== null;
    log(`server pid ${pid} on port ${ready.port}: ${hasProc ? `${fdBaseline} fds, ` : ""}RSS ${mb(base.memory.rss)}`);

    const clients = new Clients(ready.port, seed);
    let fdMax = fdBaseline;
    let rssPeak: number | null = rssOf(pid);
    const sampler = setInterval(() => {
      const fds = fdCount(pid);
      if (fds !== null && fds > fdMax) fdMax = fds;
      const rss = rssOf(pid);
      if (rss !== null && (rssPeak === null || rss > rssPeak)) rssPeak = rss;
    }, 250);
    const started = performance.now();
    const serverCpuStart = cpuSecondsOf(pid);
    const serverSchedStart = schedOf(pid);
    const clientCpuStart = process.cpuUsage();
    const deadline = started + seconds * 1000;
    const probing = probeLoop(ready.port, deadline, 250, probeTimeoutMs, false);
    const acceptProbing = probeLoop(ready.port, deadline, 1000, probeTimeoutMs, true);
    const progress = setInterval(() => {
      const fds = fdCount(pid);
      log(
        `${((performance.now() - started) / 1000).toFixed(0)} s: ${clients.report.connections} connections, ` +
          `${clients.sockets.size} open` +
          (fds === null ? "" : `, server fds ${fds}`),
      );
    }, 10_000);
    // Start the clients over the first second, not all in one burst.
    const running = Array.from({ length: clientCount }, (_, i) => clients.run((i / clientCount) * 1000));
    await sleep(Math.max(0, deadline - performance.now()));
    clients.stopping = true;
    const serverCpuEnd = cpuSecondsOf(pid);
    const serverSchedEnd = schedOf(pid);
    const clientCpu = process.cpuUsage(clientCpuStart);
    clearInterval(progress);
    const probes = await probing;
    const acceptProbes = await acceptProbing;
    clients.closeAll();
    // Each client ends once its socket is closed; one that does not within 30 s is a bug here.
    let finished = 0;
    const all = Promise.all(running.map((p) => p.then(() => void finished++)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, 30_000)))]);
    clearTimeout(timer);
    const hungClients = clientCount - finished;
    clients.closeAll();
    clearInterval(sampler);

    // Every client is gone: the server's connections must go away by themselves.
    const listenerFds = ready.listeners;
    const afterClients = hasProc ? await waitFor(() => fdCount(pid), fdBaseline, fdTimeout) : null;
    const lingering = await server.next<SoakServerStats>("STATS", "stats");
    const lingeringTcp = lingering.open > 0 || afterClients !== fdBaseline ? tcpStates(ready.port) : null;
    log(
      `clients closed${afterClients === null ? "" : `: server fds ${afterClients} (baseline ${fdBaseline})`}, ` +
        `${lingering.open} handlers open ${JSON.stringify(lingering.waiting)}`,
    );
    const closed = await server.next<SoakServerClosed>("CLOSED", "close");
    const endFds = hasProc ? await waitFor(() => fdCount(pid), fdBaseline - listenerFds, fdTimeout) : null;
    const end = await server.next<SoakServerStats>("STATS", "stats");
    return {
      seconds,
      clients: clientCount,
      seed,
      backlog,
      ...clients.report,
      hungClients,
      lingering: {
        open: lingering.open,
        waiting: Object.fromEntries(Object.entries(lingering.waiting).filter(([, n]) => n > 0)),
        tcp: lingeringTcp,
      },
      probes,
      acceptProbes,
      fds:
        hasProc && afterClients !== null && endFds !== null
          ? {
              baseline: fdBaseline,
              max: fdMax,
              afterClients,
              end: endFds,
              expectedEnd: fdBaseline - listenerFds,
              listeners: listenerFds,
            }
          : null,
      rss: { baseline: base.memory.rss, peak: rssPeak, end: end.memory.rss },
      heapUsed: { baseline: base.memory.heapUsed, end: end.memory.heapUsed },
      heapTotal: { baseline: base.memory.heapTotal, end: end.memory.heapTotal },
      arrayBuffers: { baseline: base.memory.arrayBuffers, end: end.memory.arrayBuffers },
      cpu: {
        server: serverCpuStart === null || serverCpuEnd === null ? null : serverCpuEnd - serverCpuStart,
        clients: (clientCpu.user + clientCpu.system) / 1e6,
        serverWaitedForCpu:
          serverSchedStart === null || serverSchedEnd === null ? null : serverSchedEnd.waited - serverSchedStart.waited,
      },
      server: end,
      serverClose: { aborted: closed.aborted, seconds: closed.seconds },
    };
  } finally {
    await server.exit();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Whether the run found nothing wrong: probes, echoes, descriptors (RSS is reported, not judged). */
export function soakProblems(report: SoakReport): string[] {
  const problems: string[] = [];
  const add = (when: boolean, text: () => string): void => {
    if (when) problems.push(text());
  };
  const { probes, acceptProbes, server, lingering, fds } = report;
  add(probes.failed > 0, () => `${probes.failed} probes failed: ${probes.failures.join("; ")}`);
  add(probes.answered === 0, () => "no probe was answered");
  add(acceptProbes.failed > 0, () => `${acceptProbes.failed} new-connection probes failed: ${acceptProbes.failures.join("; ")}`);
  add(report.echoMismatches > 0, () => `${report.echoMismatches} echoes differed from what was sent`);
  add(report.unexpectedErrors > 0, () => `${report.unexpectedErrors} unexpected client errors: ${report.unexpectedErrorSamples.join("; ")}`);
  add(server.exceptions > 0, () => `the server's loop reported ${server.exceptions} exceptions: ${server.exceptionMessages.join("; ")}`);
  add(report.hungClients > 0, () => `${report.hungClients} clients did not finish after their sockets were closed`);
  add(lingering.open !== 0, () => `${lingering.open} server handlers still open after every client closed: ${JSON.stringify(lingering.waiting)}`);
  add(server.open !== 0, () => `${server.open} handlers still running after the server closed`);
  // After GC the heap and the Buffers come back (RSS need not: V8 and malloc keep pages).
  for (const [what, figure] of [["heap used", report.heapUsed], ["ArrayBuffers", report.arrayBuffers]] as const) {
    add(figure.end - figure.baseline > 16 * 2 ** 20, () => `server ${what} after GC grew from ${mb(figure.baseline)} to ${mb(figure.end)}`);
  }
  if (fds !== null) {
    add(fds.afterClients !== fds.baseline, () => `server fds after the clients closed: ${fds.afterClients}, baseline ${fds.baseline}`);
    add(fds.end > fds.expectedEnd, () => `server fds after close: ${fds.end}, expected ${fds.expectedEnd}`);
  }
  return problems;
}

/** The figures as a Markdown table (the rows `npm run soak` prints and `--record` keeps). */
export function soakTable(report: SoakReport): string {
  const fds = report.fds;
  const ended = Object.entries(report.server.ended)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${reason} ${n}`)
    .join(", ");
  const rows: [string, string][] = [
    ["duration, clients", `${report.seconds} s, ${report.clients} clients (seed ${report.seed}; listen backlog ${report.backlog})`],
    ["connections made (failed to connect)", `${report.connections} (${report.connectFailures})`],
    [
      "behaviours: reset / half-close / stall / flood / behave",
      BEHAVIOURS.map((b) => report.behaviours[b]).join(" / "),
    ],
    ["connections reset (RST) by clients", String(report.resets)],
    ["echoes checked (mismatched)", `${report.echoesChecked} (${report.echoMismatches})`],
    ["server: connections accepted; handlers ended by", `${report.server.accepted}; ${ended}`],
    ["server: loop exception-handler calls", String(report.server.exceptions)],
    [
      "server handlers still open after the clients closed",
      String(report.lingering.open) +
        (report.lingering.open > 0 ? ` (waiting in ${Object.entries(report.lingering.waiting).map(([k, n]) => `${k} ${n}`).join(", ")})` : "") +
        (report.lingering.tcp === null ? "" : `; TCP: ${report.lingering.tcp}`),
    ],
    [
      "probes (a line every 250 ms on one connection): answered / failed (slowest)",
      `${report.probes.answered} / ${report.probes.failed} (${report.probes.maxMs.toFixed(0)} ms)`,
    ],
    [
      "new-connection probes (every second): answered / failed (slowest)",
      `${report.acceptProbes.answered} / ${report.acceptProbes.failed} (${report.acceptProbes.maxMs.toFixed(0)} ms)`,
    ],
    [
      "server fds: baseline / max / after clients closed / after server closed (expected)",
      fds === null ? "n/a (no /proc)" : `${fds.baseline} / ${fds.max} / ${fds.afterClients} / ${fds.end} (${fds.expectedEnd})`,
    ],
    [
      "server RSS: baseline / peak / end (after GC)",
      `${mb(report.rss.baseline)} / ${report.rss.peak === null ? "n/a" : mb(report.rss.peak)} / ${mb(report.rss.end)}`,
    ],
    [
      "server V8 heap used (reserved): baseline / end (after GC)",
      `${mb(report.heapUsed.baseline)} (${mb(report.heapTotal.baseline)}) / ${mb(report.heapUsed.end)} (${mb(report.heapTotal.end)})`,
    ],
    ["server ArrayBuffers: baseline / end (after GC)", `${mb(report.arrayBuffers.baseline)} / ${mb(report.arrayBuffers.end)}`],
    [
      "CPU seconds while the clients ran: server / clients; server waiting for a CPU",
      `${report.cpu.server === null ? "n/a" : report.cpu.server.toFixed(1)} / ${report.cpu.clients.toFixed(1)}; ` +
        `${report.cpu.serverWaitedForCpu === null ? "n/a" : `${report.cpu.serverWaitedForCpu.toFixed(1)} s`}`,
    ],
    [
      "server close (close + closeClients + waitClosed)",
      `${(report.serverClose.seconds * 1000).toFixed(0)} ms${report.serverClose.aborted ? ", needed abortClients()" : ""}`,
    ],
  ];
  return ["| Figure | Value |", "| --- | --- |", ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join("\n");
}

const SECTION = "## Soak test";


/** What the memory and CPU figures say, in a sentence or two. */
function reading(report: SoakReport): string {
  const rssGrowth = report.rss.end - report.rss.baseline;
  const reserved = report.heapTotal.end - report.heapTotal.baseline;
  const used = report.heapUsed.end - report.heapUsed.baseline;
  let text =
    `RSS after GC ends ${mb(rssGrowth)} above its baseline, ${mb(reserved)} of it V8's heap reserve (V8 keeps ` +
    `the pages it grew into); the heap in use is ${mb(used)} above it and the Buffers are back to ` +
    `${mb(report.arrayBuffers.end)}.`;
  const waited = report.cpu.serverWaitedForCpu;
  if (waited !== null && waited > 0.2 * report.seconds) {
    text +=
      ` The server waited ${waited.toFixed(1)} s for a CPU in ${report.seconds} s (the clients, and whatever ` +
      "else the machine ran, had the cores), so the probes' slowest times say more about the machine than " +
      "about the server.";
  }
  return text;
}

/** Replaces (or adds, before "## Results") the soak section of bench/RESULTS.md. */
function record(report: SoakReport, file: string): void {
  const text = readFileSync(file, "utf8");
  const problems = soakProblems(report);
  const section = [
    SECTION,
    "",
    `Written by \`npm run soak -- --record\` (bench/soak.ts) on ${new Date().toISOString().slice(0, 10)}, ` +
      `${cpus().length} cores, Node ${process.version}, asyncio-ts commit ${gitDescription()}. ` +
      "An asyncio-ts streams echo server (readline → write → drain) in its own process; " +
      `${report.clients} loopback clients, each running random behaviours one after another (reset, ` +
      `half-close, stall, flood without reading, well-behaved echo) for ${report.seconds} s; a probe line ` +
      "every 250 ms on one connection, and one on a new connection every second. Then every client " +
      "closes, then the server. How it works: bench/soak.ts.",
    "",
    soakTable(report),
    "",
    `${problems.length === 0 ? "Nothing wrong found." : `Problems: ${problems.join("; ")}.`} ${reading(report)}`,
    "",
  ].join("\n");
  const start = text.indexOf(`\n${SECTION}\n`);
  let next: string;
  if (start >= 0) {
    const after = text.indexOf("\n## ", start + 1);
    next = text.slice(0, start + 1) + section + (after >= 0 ? `\n${text.slice(after + 1)}` : "");
  } else {
    const results = text.indexOf("\n## Results\n");
    next = results >= 0 ? `${text.slice(0, results + 1)}${section}\n${text.slice(results + 1)}` : `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(file, next);
}

async function main(argv: string[]): Promise<void> {
  const value = (flag: string): number | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const n = Number(argv[i + 1]);
    if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${flag} takes a positive number`);
    return n;
  };
  const report = await runSoak({
    seconds: value("--seconds") ?? 60,
    clients: value("--clients") ?? 1000,
    seed: value("--seed") ?? 1,
    backlog: value("--backlog") ?? 4096,
    log: (line) => process.stderr.write(`soak: ${line}\n`),
  });
  process.stdout.write(`${soakTable(report)}\n\n${reading(report)}\n`);
  const problems = soakProblems(report);
  for (const problem of problems) process.stdout.write(`PROBLEM: ${problem}\n`);
  if (argv.includes("--record")) {
    const file = join(BENCH_DIR, "RESULTS.md");
    if (existsSync(file)) {
      record(report, file);
      process.stderr.write(`soak: recorded in ${file}\n`);
    }
  }
  process.exitCode = problems.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
