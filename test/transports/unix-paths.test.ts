// Unix socket paths and the platform's `sun_path` limit. Node (libuv) cuts a path too long for
// `sun_path` short without a word, so a server bound, and a client reached, another socket;
// here such a path is refused as CPython refuses it (`OSError: AF_UNIX path too long`), with
// `code: "ENAMETOOLONG"`. Lengths are counted in bytes of UTF-8.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  Protocol,
  type StreamReader,
  type StreamWriter,
  getRunningLoop,
  openUnixConnection,
  startUnixServer,
} from "../../src/index.js";
import { errorOf, runNet } from "../streams/support.js";
import { unsupportedOn } from "../support/runtime.js";

/** `sun_path`'s size here, terminating NUL included; `null` where the limit is not checked. */
const SUN_PATH: number | null =
  process.platform === "linux" ? 108 : ["darwin", "freebsd", "openbsd", "netbsd"].includes(process.platform) ? 104 : null;
const skip = SUN_PATH === null ? "no sun_path limit is checked on this platform" : false;
/** The longest file path that fits: room is left for the terminating NUL. */
const LIMIT = (SUN_PATH ?? 108) - 1;

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh, empty directory with a short path. */
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "aup-"));
  dirs.push(dir);
  return dir;
}

/** A path in `dir` that is exactly `bytes` bytes long (of UTF-8), ending with `tail`. */
function pathOfBytes(dir: string, bytes: number, tail = ""): string {
  const head = `${dir}/`;
  const fill = bytes - Buffer.byteLength(head) - Buffer.byteLength(tail);
  assert.ok(fill > 0, `the temp directory ${dir} is too long for this test`);
  const path = head + "p".repeat(fill) + tail;
  assert.equal(Buffer.byteLength(path), bytes);
  return path;
}

/** Echoes one line, then closes. */
async function echoLine(r: StreamReader, w: StreamWriter): Promise<void> {
  w.write(await r.readline());
  await w.drain();
  w.close();
  await w.waitClosed();
}

/** Asserts `error` is the "path too long" error, naming the limit. */
function assertTooLong(error: unknown, bytes: number, limit = LIMIT): void {
  const e = error as Error & { code?: string; syscall?: string };
  assert.ok(e instanceof Error, `expected an Error, got ${String(error)}`);
  assert.equal(e.code, "ENAMETOOLONG");
  assert.match(e.message, /AF_UNIX path too long/);
  assert.match(e.message, new RegExp(`${bytes} bytes; the limit on ${process.platform} is ${limit} bytes`));
}

describe("Unix socket paths", { skip }, () => {
  it("a path over the limit is refused with ENAMETOOLONG naming the limit; nothing is left on disk", async () => {
    await runNet(async () => {
      const dir = freshDir();
      const path = pathOfBytes(dir, LIMIT + 1);
      const bindError = await errorOf(startUnixServer(echoLine, path));
      assertTooLong(bindError, LIMIT + 1);
      assert.equal((bindError as { syscall?: string }).syscall, "bind");
      const connectError = await errorOf(openUnixConnection(path));
      assertTooLong(connectError, LIMIT + 1);
      assert.equal((connectError as { syscall?: string }).syscall, "connect");
      // The loop's methods, which the stream functions go through, refuse it too.
      const loop = getRunningLoop();
      assertTooLong(await errorOf(loop.createUnixServer(() => new Protocol(), path)), LIMIT + 1);
      assertTooLong(await errorOf(loop.createUnixConnection(() => new Protocol(), path)), LIMIT + 1);
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  it("counts bytes of UTF-8, not characters", async () => {
    await runNet(async () => {
      const dir = freshDir();
      // Fewer characters than the limit, more bytes: each "é" is two.
      const head = `${dir}/`;
      const path = head + "é".repeat(Math.ceil((LIMIT + 1 - head.length) / 2));
      assert.ok(path.length <= LIMIT);
      const bytes = Buffer.byteLength(path);
      assert.ok(bytes > LIMIT);
      assertTooLong(await errorOf(startUnixServer(echoLine, path)), bytes);
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  it("a path of exactly the limit works (107 bytes on Linux), and its file is removed on close", async () => {
    await runNet(async () => {
      const dir = freshDir();
      const path = pathOfBytes(dir, LIMIT);
      const server = await startUnixServer(echoLine, path);
      assert.equal(server.sockets[0]?.getsockname(), path);
      const [reader, writer] = await openUnixConnection(path);
      writer.write("hello\n");
      assert.deepEqual(await reader.readline(), Buffer.from("hello\n"));
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  it("two long paths that share their first 108 bytes no longer reach the same socket", async () => {
    await runNet(async () => {
      const dir = freshDir();
      // Node would cut both down to the same 108 bytes: a client of B reached server A.
      const a = pathOfBytes(dir, LIMIT + 10, "-service-a");
      const b = pathOfBytes(dir, LIMIT + 10, "-service-b");
      assert.equal(a.slice(0, LIMIT + 1), b.slice(0, LIMIT + 1));
      assertTooLong(await errorOf(startUnixServer(echoLine, a)), LIMIT + 10);
      assertTooLong(await errorOf(openUnixConnection(b)), LIMIT + 10);
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  it("a NUL byte anywhere but first is refused, and nothing is created", async () => {
    await runNet(async () => {
      const dir = freshDir();
      const path = `${dir}/before\0after`;
      const bindError = await errorOf(startUnixServer(echoLine, path));
      assert.ok(bindError instanceof RangeError);
      assert.match(bindError.message, /NUL byte/);
      const connectError = await errorOf(openUnixConnection(path));
      assert.ok(connectError instanceof RangeError);
      assert.deepEqual(readdirSync(dir), []);
    });
  });
});

describe("Linux's abstract namespace", { skip: process.platform === "linux" ? false : "Linux only" }, () => {
  let counter = 0;
  const abstractName = (): string => `\0asyncio-ts-${process.pid}-${++counter}`;

  it("a path starting with NUL names an abstract socket: serve and connect", async () => {
    await runNet(async () => {
      const name = abstractName();
      const server = await startUnixServer(echoLine, name);
      const [reader, writer] = await openUnixConnection(name);
      writer.write("abstract\n");
      assert.deepEqual(await reader.readline(), Buffer.from("abstract\n"));
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
    });
  });

  it("an abstract name may fill sun_path (108 bytes with its NUL); a longer one is refused", { skip: unsupportedOn({ bun: "Bun refuses to listen on an abstract name that fills all 108 bytes of sun_path (EINVAL)" }) }, async () => {
    await runNet(async () => {
      const base = abstractName();
      const full = base + "x".repeat(108 - Buffer.byteLength(base));
      const server = await startUnixServer(echoLine, full);
      const [reader, writer] = await openUnixConnection(full);
      writer.write("full\n");
      assert.deepEqual(await reader.readline(), Buffer.from("full\n"));
      writer.close();
      await writer.waitClosed();
      // One byte more: Node would cut it back to `full` and reach the server above.
      assertTooLong(await errorOf(openUnixConnection(`${full}y`)), 109, 108);
      server.close();
      await server.waitClosed();
    });
  });
});
