/**
 * The server of the soak test (bench/soak.ts), in a process of its own so that its descriptors
 * and memory are its own: `node --expose-gc --import tsx bench/soak-server.ts`.
 *
 * An asyncio-ts streams echo server on 127.0.0.1 (a free port; listen backlog `SOAK_BACKLOG`,
 * default 4096): each connection's handler reads
 * lines (`readline`) and writes each back (`write` + `drain`) until EOF or an error, then closes
 * the writer. It prints `@@READY {"port":N,"listeners":N}`, then takes commands on stdin, one a
 * line, and answers each with one `@@` line on stdout:
 *
 * - `stats` → `@@STATS {…}`: after two full GCs, `process.memoryUsage()` and the server's
 *   counters (connections accepted and open, how handlers ended, loop exception-handler calls);
 * - `close` → `@@CLOSED {…}`: `server.close()`, `closeClients()`, then `waitClosed()`; when that
 *   takes more than `abortAfter` seconds (default 5), `abortClients()` and wait again;
 * - `exit`: ends the process (so does EOF on stdin, when the soak test goes away).
 */
import { createInterface } from "node:readline";
import {
  type ExceptionContext,
  type StreamReader,
  type StreamWriter,
  createTask,
  getRunningLoop,
  run,
  startServer,
  timeout,
} from "../src/index.js";

/** What the server counts; sent with `@@STATS` and `@@CLOSED`. */
export interface SoakServerCounters {
  accepted: number;
  open: number;
  linesEchoed: number;
  /** What the open handlers are waiting for: "readline" or "drain". */
  waiting: Record<string, number>;
  /** How handlers ended: "eof", or the error's code or class name. */
  ended: Record<string, number>;
  /** Calls of the loop's exception handler, and the first few messages. */
  exceptions: number;
  exceptionMessages: string[];
}

/** `@@STATS`: the counters and the memory after two full GCs. */
export interface SoakServerStats extends SoakServerCounters {
  memory: NodeJS.MemoryUsage;
}

/** `@@CLOSED`: the counters, and whether `abortClients()` was needed. */
export interface SoakServerClosed extends SoakServerCounters {
  aborted: boolean;
  seconds: number;
}

const counters: SoakServerCounters = {
  accepted: 0,
  open: 0,
  linesEchoed: 0,
  waiting: {},
  ended: {},
  exceptions: 0,
  exceptionMessages: [],
};

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? code : error.constructor.name;
  }
  return typeof error;
}

function count(record: Record<string, number>, key: string, by: number): void {
  record[key] = (record[key] ?? 0) + by;
}

async function echo(reader: StreamReader, writer: StreamWriter): Promise<void> {
  counters.accepted++;
  counters.open++;
  let reason = "eof";
  let phase = "readline";
  count(counters.waiting, phase, 1);
  const enter = (next: string): void => {
    count(counters.waiting, phase, -1);
    count(counters.waiting, next, 1);
    phase = next;
  };
  try {
    for (;;) {
      const line = await reader.readline();
      if (line.length === 0) break;
      writer.write(line);
      counters.linesEchoed++;
      enter("drain");
      await writer.drain();
      enter("readline");
    }
  } catch (error) {
    reason = reasonOf(error);
  } finally {
    count(counters.waiting, phase, -1);
    counters.open--;
    count(counters.ended, reason, 1);
    writer.close();
  }
}

function send(tag: string, value: unknown): void {
  process.stdout.write(`@@${tag} ${JSON.stringify(value)}\n`);
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error("run the soak server with --expose-gc");
  collect();
  collect();
}

const abortAfter = Number(process.env.SOAK_ABORT_AFTER ?? 5);
// The listen backlog: Node's default (511) overflows when a thousand clients connect within a
// second, and the kernel then drops and resets connections the server never saw.
const backlog = Number(process.env.SOAK_BACKLOG ?? 4096);

await run(async () => {
  const loop = getRunningLoop();
  loop.setExceptionHandler((_loop, context: ExceptionContext) => {
    counters.exceptions++;
    if (counters.exceptionMessages.length < 5) {
      const error = context.exception;
      counters.exceptionMessages.push(
        `${context.message}${error instanceof Error ? `: ${error.constructor.name}: ${error.message}` : ""}`,
      );
    }
  });
  const server = await startServer(echo, "127.0.0.1", 0, { backlog });
  const name = server.sockets[0]?.getsockname();
  if (!Array.isArray(name) || typeof name[1] !== "number") throw new Error(`unexpected address ${String(name)}`);
  const listeners = server.sockets.length;

  const finished = loop.createFuture<void>();
  const commands = createInterface({ input: process.stdin });
  const handle = async (command: string): Promise<void> => {
    if (command === "stats") {
      gc();
      send("STATS", { ...counters, memory: process.memoryUsage() } satisfies SoakServerStats);
    } else if (command === "close") {
      const started = performance.now();
      server.close();
      server.closeClients();
      let aborted = false;
      try {
        await timeout(abortAfter, () => server.waitClosed());
      } catch {
        aborted = true;
        server.abortClients();
        await server.waitClosed();
      }
      send("CLOSED", { ...counters, aborted, seconds: (performance.now() - started) / 1000 } satisfies SoakServerClosed);
    } else if (command === "exit") {
      if (!finished.done()) finished.setResult();
    } else {
      process.stderr.write(`soak-server: unknown command ${JSON.stringify(command)}\n`);
    }
  };
  commands.on("line", (command) => loop.callSoon(() => createTask(() => handle(command.trim()))));
  commands.on("close", () => loop.callSoon(() => finished.done() || finished.setResult()));
  send("READY", { port: name[1], listeners });
  await finished;
  commands.close();
});
process.exit(0);
