/**
 * Attaching to a running Node process through its inspector, evaluating one expression there,
 * and leaving the process as it was.
 *
 * HOW: `process._debugProcess(pid)` (SIGUSR1 on POSIX, what `node inspect -p PID` sends) makes
 * the target open its inspector: a WebSocket server on 127.0.0.1, port 9229 unless the target
 * was started with `--inspect-port` (0: a random port). On Linux the port the TARGET listens
 * on is read from /proc: the socket inodes in /proc/PID/fd matched against the LISTEN entries
 * of /proc/PID/net/tcp and tcp6, polled after the signal; a listening socket that was not there
 * before the signal is the inspector (it answers `GET /json/list`). Elsewhere the command
 * tries 9229 (or `--port`). Either way, once attached it evaluates `process.pid` and refuses
 * to go on if the answer is not the PID asked for: with two processes on one machine, the
 * second one's inspector cannot have 9229, and a wrong guess would read the wrong process.
 *
 * WHY the inspector is closed from inside the evaluation: an inspector left open lets any
 * local user run code in the process, so one the command opened is closed before it leaves.
 * Closing it from a timer in the target races with the client's disconnect, and on Node 20
 * that race crashes the target (seen: a segfault with `setTimeout(close, 0)`). Closing it
 * inside an evaluation of the connected session is deterministic on Node 20 and 26: the
 * inspector drops the connection itself (the evaluation gets no answer), and the client waits
 * for that instead of disconnecting first. An inspector that was open before is left open.
 *
 * The signal is only sent to a process that handles it: SIGUSR1's default action ends a
 * process, so on Linux a process that does not catch it (not Node, or Node started with
 * `--disable-sigusr1`) is refused before anything is sent.
 */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { get } from "node:http";
import { connect } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { WebSocketClient } from "./websocket.js";

/** An error the command reports as one line (what went wrong and what to do), exiting 1. */
export class CliError extends Error {
  override name = "CliError";
}

/** Options of {@link evaluateInProcess}. */
export interface InspectOptions {
  /** Seconds to wait for the target's inspector to open, then for each of its answers, then for it to close. */
  timeout: number;
  /** The inspector port to use instead of finding it; `null`: find it. */
  port: number | null;
}

/** What {@link evaluateInProcess} did and got. */
export interface InspectResult {
  /** The value the expression evaluated to (JSON-compatible: returned by value). */
  value: unknown;
  /** Where the inspector listened. */
  host: string;
  port: number;
  /** The command opened the inspector (so it closed it). */
  opened: boolean;
  /** Whether the port was seen closed afterwards (always `true` when `opened` is false). */
  closed: boolean;
}

/** A listening TCP socket of the target. */
interface Listener {
  inode: string;
  host: string;
  port: number;
}

/** What /proc/PID/status says about the target, or `null` off Linux (or when unreadable). */
interface ProcStatus {
  name: string;
  state: string;
  /** SIGUSR1 is caught (Node's inspector handler), blocked or ignored, or neither. */
  sigusr1: "caught" | "blocked" | "default";
  /** The PID as the target itself sees it (the innermost PID namespace). */
  innerPid: number;
}

const SIGUSR1_MASK = 1n << 9n;
const POLL_MS = 50;

/**
 * Attaches to process `pid`'s inspector, evaluates `expression` there (returned by value), and
 * detaches, closing the inspector if the command opened it. Throws {@link CliError} with what
 * to do when the process cannot be reached.
 */
export async function evaluateInProcess(pid: number, expression: string, options: InspectOptions): Promise<InspectResult> {
  const wait = options.timeout * 1000;
  const deadline = Date.now() + wait;
  checkProcess(pid);
  const status = procStatus(pid);
  const found = await findInspector(pid, status, options, deadline);
  const url = `ws://${hostForUrl(found.host)}:${found.port}${found.path}`;
  let socket: WebSocketClient;
  try {
    socket = await WebSocketClient.connect(url, wait);
  } catch (error) {
    throw new CliError(`could not connect to the inspector of process ${pid} at ${url}: ${(error as Error).message}`);
  }
  const session = new InspectorSession(socket);
  // Until the inspector is known to be the target's and closed, a failure still closes it.
  let closeIt = found.opened;
  try {
    const seenPid = await session.evaluate("process.pid", Date.now() + wait);
    const expected = status?.innerPid ?? pid;
    if (seenPid !== expected) {
      closeIt = false; // not the target's: not ours to close
      throw new CliError(
        `the inspector on ${found.host}:${found.port} belongs to process ${String(seenPid)}, not ${pid}, ` +
          `so ${pid}'s inspector could not open there (the port is taken); ` +
          (found.port === 9229
            ? "start the target with --inspect-port=0 (a random port) or stop the other inspector"
            : "pass the port the target's inspector listens on with --port"),
      );
    }
    const value = await session.evaluate(expression, Date.now() + wait);
    let closed = true;
    if (closeIt) {
      closeIt = false;
      await session.closeInspector();
      // A busy target (or a loaded machine) may take a while to let go of the port: as long as
      // any other answer may take, before saying it still listens.
      closed = await portClosed(found.host, found.port, Date.now() + wait);
    } else {
      await session.detach();
    }
    return { value, host: found.host, port: found.port, opened: found.opened, closed };
  } finally {
    if (closeIt) await session.closeInspector().catch(() => {});
    await session.detach();
  }
}

/** The process exists and may be signalled by this user. */
function checkProcess(pid: number): void {
  if (pid === process.pid) throw new CliError(`${pid} is the PID of this command itself`);
  try {
    process.kill(pid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ESRCH") throw new CliError(`no process has PID ${pid}: check the PID (ps -ef | grep node)`);
    if (code === "EPERM") {
      throw new CliError(`process ${pid} belongs to another user: run asyncio-ts as that user (or as root)`);
    }
    throw error;
  }
}

/** Reads /proc/PID/status; `null` where there is no /proc (not Linux) or it cannot be read. */
function procStatus(pid: number): ProcStatus | null {
  if (process.platform !== "linux") return null;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(text)?.[1]?.trim() ?? "";
  const mask = (name: string): bigint => {
    const value = field(name);
    return /^[0-9a-f]+$/i.test(value) ? BigInt(`0x${value}`) : 0n;
  };
  const sigusr1 =
    (mask("SigCgt") & SIGUSR1_MASK) !== 0n
      ? "caught"
      : ((mask("SigBlk") | mask("SigIgn")) & SIGUSR1_MASK) !== 0n
        ? "blocked"
        : "default";
  const nspid = field("NSpid").split(/\s+/).filter((s) => s !== "");
  const innerPid = Number(nspid[nspid.length - 1] ?? pid);
  return { name: programName(pid) ?? field("Name"), state: field("State"), sigusr1, innerPid: Number.isInteger(innerPid) ? innerPid : pid };
}

/**
 * The name of the program process `pid` runs (`node`), from its executable: `Name:` in its status
 * is its main thread's name, which Node 24 sets to `MainThread`. Null when it cannot be read.
 */
function programName(pid: number): string | null {
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, "");
    return exe.slice(exe.lastIndexOf("/") + 1) || null;
  } catch {
    return null;
  }
}

/** Where the inspector listens, the WebSocket path, and whether this command opened it. */
interface FoundInspector {
  host: string;
  port: number;
  path: string;
  opened: boolean;
}

async function findInspector(
  pid: number,
  status: ProcStatus | null,
  options: InspectOptions,
  deadline: number,
): Promise<FoundInspector> {
  if (status !== null) {
    if (status.state.startsWith("Z") || status.state.startsWith("X")) {
      throw new CliError(`process ${pid} has exited (it is a zombie waiting for its parent)`);
    }
    if (status.state.startsWith("T") || status.state.startsWith("t")) {
      throw new CliError(`process ${pid} is stopped (${status.state}): resume it first (kill -CONT ${pid}) or detach its debugger`);
    }
  }
  const before = status === null ? null : listeners(pid);
  if (options.port !== null || before === null) return await findOnPort(pid, status, options.port ?? 9229, deadline);

  // Linux: an inspector that is already open (--inspect, inspector.open()) is found first when
  // something hints at it, so the wait below is only for one this command opens.
  if (alreadyInspecting(pid)) {
    const open = await firstInspector(before.values(), deadline);
    if (open !== null) return { ...open, opened: false };
  }
  sendSignal(pid, status);
  /** How many times each new socket was asked (a just-opened server may fail once). */
  const probed = new Map<string, number>();
  const startedAt = Date.now();
  let triedOld = false;
  while (Date.now() < deadline) {
    const now = listeners(pid);
    if (now === null) {
      // The process is gone (or turned into a zombie, whose fds are gone).
      throw new CliError(`process ${pid} exited while its inspector was being opened`);
    }
    const fresh = [...now.values()].filter((l) => !before.has(l.inode) && (probed.get(l.inode) ?? 0) < 3);
    for (const listener of fresh) probed.set(listener.inode, (probed.get(listener.inode) ?? 0) + 1);
    const found = await firstInspector(fresh, deadline);
    if (found !== null) return { ...found, opened: true };
    if (!triedOld && before.size > 0 && Date.now() - startedAt > 1000) {
      // Nothing new after a second: maybe the inspector was open already (inspector.open() in
      // the program) and the signal did nothing. Ask the sockets that were there before.
      triedOld = true;
      const old = await firstInspector(before.values(), deadline);
      if (old !== null) return { ...old, opened: false };
    }
    await delay(POLL_MS);
  }
  throw notOpened(pid, status);
}

/** Not Linux, or `--port`: the inspector is looked for on one port; the PID check does the rest. */
async function findOnPort(pid: number, status: ProcStatus | null, port: number, deadline: number): Promise<FoundInspector> {
  const host = "127.0.0.1";
  const already = await inspectorPath(host, port, Math.min(remaining(deadline), 1000));
  if (already !== null) return { host, port, path: already, opened: false };
  sendSignal(pid, status);
  while (Date.now() < deadline) {
    const path = await inspectorPath(host, port, Math.min(remaining(deadline), 1000));
    if (path !== null) return { host, port, path, opened: true };
    await delay(POLL_MS);
  }
  throw notOpened(pid, status, port);
}

/** The inspector did not open in time: what may be the cause (on `port`, when one was tried). */
function notOpened(pid: number, status: ProcStatus | null, port: number | null = null): CliError {
  const name = status?.name ? ` (${status.name})` : "";
  const elsewhere =
    port !== null && process.platform !== "linux"
      ? "; finding the port a process listens on works on Linux only, elsewhere the command tries 9229: " +
        "pass the port of a target started with --inspect-port with --port"
      : "";
  return new CliError(
    `the inspector of process ${pid}${name} could not be opened${port === null ? "" : ` on port ${port}`}: ` +
      "likely causes: the program handles SIGUSR1 itself (process.on('SIGUSR1')); its inspector port is " +
      "taken (see its stderr: 'Starting inspector on … failed'; start it with --inspect-port=0); its " +
      "--inspect-port is unusable; its Node was built without the inspector; or it is not Node (Bun has no " +
      `inspector; Deno's opens on port 9229 only, about half a second after it starts)${elsewhere}`,
  );
}

/** Sends the inspector signal, refusing where it would end the process instead. */
function sendSignal(pid: number, status: ProcStatus | null): void {
  if (status !== null && status.sigusr1 !== "caught") {
    if (status.sigusr1 === "blocked") {
      throw new CliError(
        `process ${pid} (${status.name}) does not accept the inspector signal (SIGUSR1 is blocked or ignored: ` +
          "was it started with --disable-sigusr1 or --permission?): start it with --inspect=127.0.0.1:0 instead, " +
          "where its flags allow that, and run the command again",
      );
    }
    throw new CliError(
      `process ${pid} (${status.name}) is not a Node.js process with an inspector: it does not handle SIGUSR1 ` +
        "(which would end it), so nothing was sent",
    );
  }
  const debugProcess = (process as unknown as { _debugProcess?: (pid: number) => void })._debugProcess;
  try {
    if (typeof debugProcess === "function") debugProcess.call(process, pid);
    else process.kill(pid, "SIGUSR1");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EPERM") {
      throw new CliError(`process ${pid} belongs to another user: run asyncio-ts as that user (or as root)`);
    }
    if (code === "ESRCH") throw new CliError(`process ${pid} has exited`);
    throw error;
  }
}

/**
 * Something says the target's inspector is open already: the `--inspect` family on its
 * command line or in NODE_OPTIONS, or an `InspectorIo` thread (Node 22+ names its threads).
 */
function alreadyInspecting(pid: number): boolean {
  const read = (file: string): string => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, "utf8");
    } catch {
      return "";
    }
  };
  const flag = /(^|[\0\s])--inspect(-brk|-wait)?(=|[\0\s]|$)/;
  if (flag.test(read("cmdline"))) return true;
  const nodeOptions = read("environ")
    .split("\0")
    .find((entry) => entry.startsWith("NODE_OPTIONS="));
  if (nodeOptions !== undefined && flag.test(nodeOptions.slice("NODE_OPTIONS=".length))) return true;
  try {
    return readdirSync(`/proc/${pid}/task`).some((tid) => read(`task/${tid}/comm`).trim() === "InspectorIo");
  } catch {
    return false;
  }
}

/** The listening TCP sockets of `pid` by inode, or `null` when /proc cannot tell. */
function listeners(pid: number): Map<string, Listener> | null {
  let inodes: Set<string>;
  try {
    inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue; // closed meanwhile
      }
      const match = /^socket:\[(\d+)\]$/.exec(link);
      if (match !== null) inodes.add(match[1] as string);
    }
  } catch {
    return null;
  }
  const found = new Map<string, Listener>();
  for (const file of ["tcp", "tcp6"]) {
    let table: string;
    try {
      table = readFileSync(`/proc/${pid}/net/${file}`, "utf8");
    } catch {
      continue;
    }
    for (const listener of parseTcpTable(table)) {
      if (inodes.has(listener.inode)) found.set(listener.inode, listener);
    }
  }
  return found;
}

/**
 * The LISTEN entries of a /proc/net/tcp or tcp6 table. Addresses are hex in the kernel's byte
 * order (little-endian 32-bit words); a wildcard address becomes the loopback one.
 */
export function parseTcpTable(table: string): Listener[] {
  const out: Listener[] = [];
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== "0A") continue;
    const [address, portHex] = (fields[1] as string).split(":") as [string, string];
    out.push({ inode: fields[9] as string, host: decodeAddress(address), port: parseInt(portHex, 16) });
  }
  return out;
}

function decodeAddress(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    const w = hex.slice(word, word + 8);
    for (let i = 6; i >= 0; i -= 2) bytes.push(parseInt(w.slice(i, i + 2), 16));
  }
  if (bytes.length === 4) {
    const v4 = bytes.join(".");
    return v4 === "0.0.0.0" ? "127.0.0.1" : v4;
  }
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    const v4 = bytes.slice(12).join(".");
    return v4 === "0.0.0.0" ? "127.0.0.1" : v4;
  }
  if (bytes.every((b) => b === 0)) return "::1";
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  return groups.join(":");
}

/** The first of `candidates` that answers as a Node inspector. */
async function firstInspector(
  candidates: Iterable<Listener>,
  deadline: number,
): Promise<{ host: string; port: number; path: string } | null> {
  for (const { host, port } of candidates) {
    const path = await inspectorPath(host, port, Math.min(remaining(deadline), 1000));
    if (path !== null) return { host, port, path };
  }
  return null;
}

/**
 * Asks `host:port` for the inspector's target list (`GET /json/list`); resolves the WebSocket
 * path of its first target, or `null` when nothing there answers as an inspector.
 */
function inspectorPath(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const request = get({ host, port, path: "/json/list", agent: false, timeout: Math.max(timeoutMs, 50) }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
        if (body.length > 1 << 20) request.destroy();
      });
      response.on("end", () => {
        try {
          const list = JSON.parse(body) as { webSocketDebuggerUrl?: unknown }[];
          const ws = Array.isArray(list) ? list[0]?.webSocketDebuggerUrl : undefined;
          resolve(typeof ws === "string" ? new URL(ws).pathname : null);
        } catch {
          resolve(null);
        }
      });
      response.on("error", () => resolve(null));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(null));
  });
}

/** Whether nothing accepts connections on `host:port` any more (polled until `deadline`). */
async function portClosed(host: string, port: number, deadline: number): Promise<boolean> {
  while (true) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.on("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (!accepted) return true;
    if (Date.now() >= deadline) return false;
    await delay(POLL_MS);
  }
}

function remaining(deadline: number): number {
  return Math.max(deadline - Date.now(), 1);
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** One Chrome DevTools Protocol session: `Runtime.evaluate` and the ways to leave. */
class InspectorSession {
  readonly #socket: WebSocketClient;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (m: CdpResponse) => void; reject: (e: Error) => void }>();
  #ended: Promise<void>;
  #isEnded = false;

  constructor(socket: WebSocketClient) {
    this.#socket = socket;
    let ended!: () => void;
    this.#ended = new Promise<void>((resolve) => (ended = resolve));
    socket.onMessage = (text) => {
      let message: CdpResponse;
      try {
        message = JSON.parse(text) as CdpResponse;
      } catch {
        return;
      }
      if (typeof message.id !== "number") return; // an event: none is asked for
      const waiter = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      waiter?.resolve(message);
    };
    socket.onClose = (error) => {
      this.#isEnded = true;
      for (const waiter of this.#pending.values()) {
        waiter.reject(new Error(error === null ? "the inspector closed the connection" : error.message));
      }
      this.#pending.clear();
      ended();
    };
  }

  /** Evaluates `expression` in the target's global scope and resolves its value (by value). */
  async evaluate(expression: string, deadline: number): Promise<unknown> {
    const response = await this.#call(
      "Runtime.evaluate",
      { expression, returnByValue: true, silent: true, awaitPromise: false },
      deadline,
    );
    if (response.error !== undefined) throw new CliError(`the inspector refused to evaluate: ${response.error.message}`);
    const result = response.result;
    if (result?.exceptionDetails !== undefined) {
      const details = result.exceptionDetails;
      throw new CliError(`evaluating in the target failed: ${details.exception?.description ?? details.text}`);
    }
    return result?.result?.value;
  }

  /**
   * Closes the target's inspector from inside an evaluation (see the module's comment), then
   * waits for the inspector to drop the connection; the evaluation itself gets no answer.
   */
  async closeInspector(): Promise<void> {
    if (this.#isEnded) return;
    const expression =
      "(() => { const inspector = typeof process.getBuiltinModule === 'function' ? " +
      "process.getBuiltinModule('node:inspector') : null; " +
      "if (inspector !== null) inspector.close(); else process._debugEnd(); })()";
    this.#socket.send(
      JSON.stringify({ id: this.#nextId++, method: "Runtime.evaluate", params: { expression, silent: true } }),
    );
    await Promise.race([this.#ended, delay(2000, undefined, { ref: false })]);
  }

  /** Leaves the session (the inspector stays as it is). */
  async detach(): Promise<void> {
    if (this.#isEnded) return;
    await this.#socket.close();
  }

  #call(method: string, params: object, deadline: number): Promise<CdpResponse> {
    if (this.#isEnded) return Promise.reject(new CliError("the inspector closed the connection"));
    const id = this.#nextId++;
    return new Promise<CdpResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CliError(`the target did not answer ${method} in time (it may be paused in a debugger)`));
      }, remaining(deadline));
      this.#pending.set(id, {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(new CliError(`${method} failed: ${error.message}`));
        },
      });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }
}

/** The parts of a CDP response the session reads. */
interface CdpResponse {
  id?: number;
  error?: { message: string };
  result?: {
    result?: { value?: unknown };
    exceptionDetails?: { text: string; exception?: { description?: string } };
  };
}
