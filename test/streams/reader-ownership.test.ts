// What a StreamReader read returns belongs to the caller, as asyncio's reads return new bytes:
// no view that keeps a larger chunk of the stream alive, and nothing that changes (or changes
// a later read) when either side writes into its bytes. Exact facts about the returned Buffers
// (their backing ArrayBuffers), no memory measurement.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IncompleteReadError, StreamReader, run } from "../../src/index.js";
import { errorOf } from "./support.js";

const CHUNK = 64 * 1024;

/** A 64 KiB chunk: the 8-byte line `l000123\n` (for i = 123), then one filler line of "x". */
function chunkWithLine(i: number): Buffer {
  const chunk = Buffer.alloc(CHUNK, "x".charCodeAt(0));
  chunk.write(`l${String(i).padStart(6, "0")}\n`, 0, "latin1");
  chunk[CHUNK - 1] = 10;
  return chunk;
}

/** The distinct ArrayBuffers behind `buffers`, and how many bytes they hold together. */
function backing(buffers: readonly Buffer[]): { count: number; bytes: number } {
  const distinct = new Set<ArrayBufferLike>(buffers.map((b) => b.buffer));
  let bytes = 0;
  for (const ab of distinct) bytes += ab.byteLength;
  return { count: distinct.size, bytes };
}

/** Asserts that `result` shares memory with none of `chunks`, and is no larger than a pool slab. */
function assertOwned(result: Buffer, chunks: readonly Buffer[], what: string): void {
  for (const chunk of chunks) {
    assert.notEqual(result.buffer, chunk.buffer, `${what}: a view into a fed chunk`);
  }
  if (result.length <= Buffer.poolSize / 2) {
    // A small copy comes from Node's shared pool: a slab of `Buffer.poolSize` bytes (8 KiB on
    // Node 20, 64 KiB on Node 26, whose slab is a few bytes larger for alignment).
    assert.ok(
      result.buffer.byteLength <= Buffer.poolSize + 1024,
      `${what}: ${result.length} bytes backed by ${result.buffer.byteLength} bytes`,
    );
  }
}

describe("StreamReader: reads return bytes the caller owns", () => {
  it("1,000 short lines read from 64 KiB chunks keep no chunk alive", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const chunks: Buffer[] = [];
      const lines: Buffer[] = [];
      for (let i = 0; i < 1000; i++) {
        const chunk = chunkWithLine(i);
        chunks.push(chunk);
        reader.feedData(chunk);
        const line = await reader.readline();
        assert.equal(line.toString("latin1"), `l${String(i).padStart(6, "0")}\n`);
        lines.push(line);
        // The filler: the rest of the chunk, a copy as well (it does not start the chunk).
        const filler = await reader.readline();
        assert.equal(filler.length, CHUNK - 8);
        assert.notEqual(filler.buffer, chunk.buffer);
        assert.equal(reader.bufferedSize, 0);
      }
      // Before: each 8-byte line was a view of its own 64 KiB chunk (1,000 × 64 KiB = 62.5 MiB).
      for (const [i, line] of lines.entries()) assertOwned(line, [chunks[i] as Buffer], `line ${i}`);
      const { bytes } = backing(lines);
      assert.ok(bytes <= 8 * Buffer.poolSize, `1,000 lines of 8 bytes are backed by ${bytes} bytes`);
    });
  });

  it("1,000 short lines of one 64 KiB chunk share no view of it", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const chunk = Buffer.alloc(CHUNK);
      for (let i = 0; i < CHUNK / 8; i++) chunk.write(`${String(i).padStart(7, "0")}\n`, i * 8, "latin1");
      reader.feedData(chunk);
      const lines: Buffer[] = [];
      for (let i = 0; i < 1000; i++) lines.push(await reader.readline());
      assert.equal(lines[999]?.toString(), "0000999\n");
      for (const [i, line] of lines.entries()) assertOwned(line, [chunk], `line ${i}`);
      assert.ok(backing(lines).bytes <= 8 * Buffer.poolSize);
    });
  });

  it("read(n), readexactly, readuntil and read() return copies of parts of a chunk", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const chunk = Buffer.alloc(CHUNK, "a".charCodeAt(0));
      chunk.write("<header>END", 100, "latin1");
      reader.feedData(chunk);
      const results: [string, Buffer][] = [];
      results.push(["read(10)", await reader.read(10)]);
      results.push(["readexactly(20)", await reader.readexactly(20)]);
      results.push(["readuntil", await reader.readuntil("END")]);
      assert.equal(results[2]?.[1].toString("latin1"), `${"a".repeat(70)}<header>END`);
      results.push(["read(100)", await reader.read(100)]);
      reader.feedEof();
      // The tail of the chunk: not at its start, so a copy too.
      const tail = await reader.read();
      assert.equal(tail.length, CHUNK - 10 - 20 - 81 - 100);
      results.push(["read()", tail]);
      for (const [what, result] of results) assertOwned(result, [chunk], what);
    });
  });

  it("the whole chunk, read at once, is handed over as it is (no copy)", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const chunk = Buffer.alloc(CHUNK, 1);
      reader.feedData(chunk);
      assert.equal(await reader.read(CHUNK), chunk);
      const line = Buffer.from("a whole line\n");
      reader.feedData(line);
      assert.equal(await reader.readline(), line);
      reader.feedData(chunk);
      assert.equal(await reader.readexactly(CHUNK), chunk);
      assert.equal(reader.bufferedSize, 0);
    });
  });

  it("a short line gathered from several chunks is no view of the grown buffer", async () => {
    await run(async () => {
      const reader = new StreamReader();
      // "ab" then 40 KB: the reader appends both into a buffer it grows (twice the data, 80 KB).
      const big = Buffer.alloc(40_000, "x".charCodeAt(0));
      big.write("c\n", 0, "latin1");
      big[big.length - 1] = 10;
      reader.feedData("ab");
      reader.feedData(big);
      const line = await reader.readline();
      assert.equal(line.toString(), "abc\n");
      assertOwned(line, [big], "line");
      const rest = await reader.readline();
      assert.equal(rest.length, big.length - 2);
      assertOwned(rest, [big], "rest");
      assert.equal(reader.bufferedSize, 0);
    });
  });

  it("changing a returned Buffer changes no later read", async () => {
    await run(async () => {
      const reader = new StreamReader();
      // Several results out of one chunk, and out of a grown buffer that later chunks append to.
      reader.feedData("one\ntwo\nthree\nfour");
      reader.feedData("\nfive");
      const one = await reader.readline();
      one.fill("X");
      const two = await reader.readexactly(4);
      two.fill("Y");
      const three = await reader.readuntil(["\n"]);
      three.fill("Z");
      reader.feedData("\nsix\n");
      const four = await reader.read(5);
      four.fill("W");
      assert.equal((await reader.readline()).toString(), "five\n");
      assert.equal((await reader.readline()).toString(), "six\n");
      assert.deepEqual(
        [one, two, three, four].map((b) => b.toString()),
        ["XXXX", "YYYY", "ZZZZZZ", "WWWWW"],
      );
    });
  });

  it("changing a fed chunk after lines were read out of it changes none of them", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const chunk = Buffer.from("first\nsecond\n");
      reader.feedData(chunk);
      const first = await reader.readline();
      const second = await reader.readline();
      chunk.fill(0);
      assert.deepEqual([first.toString(), second.toString()], ["first\n", "second\n"]);
    });
  });

  it("the partial bytes of an IncompleteReadError are the caller's own too", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const chunk = Buffer.alloc(CHUNK, "p".charCodeAt(0));
      reader.feedData(chunk);
      await reader.readexactly(10);
      reader.feedEof();
      const error = await errorOf(reader.readexactly(CHUNK));
      assert.ok(error instanceof IncompleteReadError);
      assert.equal(error.partial.length, CHUNK - 10);
      assertOwned(error.partial, [chunk], "partial");
    });
  });
});
