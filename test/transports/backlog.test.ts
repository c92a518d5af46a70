// The listen backlog: Node's 511 unless `backlog` says otherwise (asyncio's default is 100,
// with which a burst of 250 connections waits for the clients' SYN retransmits).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  type StreamReader,
  type StreamWriter,
  createTask,
  gather,
  openConnection,
  startServer,
  startUnixServer,
  timeout,
} from "../../src/index.js";
import { portOf, runNet, unixPath } from "../streams/support.js";
import { unsupportedOn } from "../support/runtime.js";

const HOST = "127.0.0.1";

/** Echoes one line, then closes. */
async function echoLine(r: StreamReader, w: StreamWriter): Promise<void> {
  w.write(await r.readline());
  await w.drain();
  w.close();
  await w.waitClosed();
}

/** Whether `ss` (iproute2) can be run here: it reports a listening socket's backlog. */
function hasSs(): boolean {
  if (process.platform !== "linux") return false;
  try {
    execFileSync("ss", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The backlog the kernel keeps for the listening socket `ss -Hl ...args` finds (its Send-Q). */
function kernelBacklog(args: string[]): number {
  const line = execFileSync("ss", ["-Hl", ...args], { encoding: "utf8" }).trim().split("\n")[0] ?? "";
  // TCP: "LISTEN 0 511 127.0.0.1:port …"; Unix: "u_str LISTEN 0 511 path …".
  const fields = line.split(/\s+/);
  const at = fields.indexOf("LISTEN");
  const value = Number(fields[at + 2]);
  assert.ok(at >= 0 && Number.isInteger(value), `unexpected ss output: ${JSON.stringify(line)}`);
  return value;
}

/** What the kernel makes of a listen backlog of `n` (it caps it at `somaxconn`). */
function capped(n: number): number {
  return Math.min(n, Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim()));
}

describe("listen backlog", () => {
  it("a server made without `backlog` serves 250 clients connecting at once", async () => {
    await runNet(async (messages) => {
      const server = await startServer(echoLine, HOST, 0);
      const port = portOf(server);
      const clients = Array.from({ length: 250 }, (_, i) =>
        createTask(async () => {
          const [reader, writer] = await openConnection(HOST, port);
          writer.write(`client ${i}\n`);
          const line = await reader.readline();
          writer.close();
          await writer.waitClosed();
          return line.toString();
        }),
      );
      const replies = await timeout(60, () => gather(...clients));
      assert.deepEqual(replies, clients.map((_, i) => `client ${i}\n`));
      server.close();
      await server.waitClosed();
      assert.deepEqual(messages, []);
    });
  });

  it("is Node's 511 by default, for TCP and Unix servers, and `backlog` still sets it", { skip: (hasSs() ? false : "needs Linux and ss") || unsupportedOn({
    bun: "Bun ignores `backlog`: its servers always listen with a backlog of 512",
    deno: "Deno rounds a Unix-socket server's backlog up to a power of two (511 becomes 512)",
  }) }, async () => {
    await runNet(async () => {
      const tcp = await startServer(echoLine, HOST, 0);
      assert.equal(kernelBacklog(["-tn", `sport = :${portOf(tcp)}`]), capped(511));
      const small = await startServer(echoLine, HOST, 0, { backlog: 7 });
      assert.equal(kernelBacklog(["-tn", `sport = :${portOf(small)}`]), 7);
      const path = unixPath();
      const unix = await startUnixServer(echoLine, path);
      assert.equal(kernelBacklog(["-x", "src", path]), capped(511));
      for (const server of [tcp, small, unix]) {
        server.close();
        await server.waitClosed();
      }
    });
  });
});
