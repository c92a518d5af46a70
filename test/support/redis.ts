/**
 * A real `redis-server` for tests (Debian's `redis-server` package): started on a free port in
 * a temporary directory, with append-only persistence (as a production Redis runs), stopped
 * and removed afterwards. `restart()` stops it gracefully (SIGTERM: the append-only file is
 * flushed) and starts it again on the same port and data. No mock: BullMQ runs against it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Whether `redis-server` can be run here (tests that need it are skipped otherwise). */
export const haveRedis: boolean = spawnSync("redis-server", ["--version"], { timeout: 5000 }).status === 0;

export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops it gracefully (append-only file flushed), then starts it again on the same port and data. */
  restart(downSeconds?: number): Promise<void>;
  /** Kills it (SIGKILL: a crash), then starts it again on the same port and data directory. */
  crash(downSeconds?: number): Promise<void>;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** Starts `redis-server` and resolves once it accepts connections (bounded: 15 s). */
function launch(port: number, dir: string, persistence: boolean): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    [
      "--port", String(port),
      "--bind", "127.0.0.1",
      "--dir", dir,
      "--appendonly", persistence ? "yes" : "no",
      "--appendfsync", "always",
      "--save", "",
      "--daemonize", "no",
      "--protected-mode", "yes",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not start within 15 s:\n${output}`));
    }, 15_000);
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.stdout?.removeAllListeners("data");
        child.stdout?.resume();
        resolve(child);
      }
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`));
    });
  });
}

function stopped(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** Starts a fresh Redis for a test file; `persistence: false` runs it with no append-only file and no snapshots. */
export async function startRedis({ persistence = true }: { persistence?: boolean } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-redis-"));
  const port = await freePort();
  let child = await launch(port, dir, persistence);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async restart(downSeconds = 0.5) {
      await stopped(child, "SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, downSeconds * 1000));
      child = await launch(port, dir, persistence);
    },
    async crash(downSeconds = 0.5) {
      await stopped(child, "SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, downSeconds * 1000));
      child = await launch(port, dir, persistence);
    },
    async stop() {
      await stopped(child, "SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP proxy to a local port that a test can cut (every connection dropped, new ones refused) and restore. */
export interface CuttableProxy {
  readonly url: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port to `127.0.0.1:<port>`. */
export async function startProxy(port: number): Promise<CuttableProxy> {
  const { connect, createServer: createTcpServer } = await import("node:net");
  const sockets = new Set<import("node:net").Socket>();
  let open = true;
  const server = createTcpServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(port, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  const listening = await freePort();
  await new Promise<void>((resolve) => server.listen(listening, "127.0.0.1", resolve));
  return {
    url: `redis://127.0.0.1:${listening}`,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close() {
      open = false;
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
