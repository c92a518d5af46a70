// Property test: framed data, cut into random chunks and fed at random moments, comes out of
// readline / readuntil / readexactly frame by frame: every byte delivered once, in order.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { StreamReader, createTask, run, sleep } from "../../src/index.js";

type Frame =
  | { kind: "line"; body: Uint8Array }
  | { kind: "until"; body: Uint8Array; sep: "\r\n\r\n" | "END" }
  | { kind: "exact"; body: Uint8Array };

const noByte = (forbidden: number[]) =>
  fc.uint8Array({ maxLength: 40 }).map((a) => a.map((x) => (forbidden.includes(x) ? 65 : x)));

const frame: fc.Arbitrary<Frame> = fc.oneof(
  noByte([10]).map((body) => ({ kind: "line" as const, body })),
  // Bodies of separator frames contain no byte of any separator, so the first match is the end.
  fc
    .tuple(noByte([13, 10, 69, 78, 68]), fc.constantFrom("\r\n\r\n" as const, "END" as const))
    .map(([body, sep]) => ({ kind: "until" as const, body, sep })),
  fc.uint8Array({ maxLength: 300 }).map((body) => ({ kind: "exact" as const, body })),
);

function encode(f: Frame): Buffer {
  if (f.kind === "line") return Buffer.concat([f.body, Buffer.from("\n")]);
  if (f.kind === "until") return Buffer.concat([f.body, Buffer.from(f.sep)]);
  const header = Buffer.alloc(2);
  header.writeUInt16BE(f.body.length);
  return Buffer.concat([header, f.body]);
}

/** Cuts `data` at the given fractions (sorted, deduplicated). */
function cut(data: Buffer, points: number[]): Buffer[] {
  const offsets = [...new Set(points.map((p) => Math.floor(p * data.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const o of offsets) {
    if (o > last) chunks.push(data.subarray(last, o));
    last = Math.max(last, o);
  }
  if (last < data.length) chunks.push(data.subarray(last));
  return chunks;
}

describe("StreamReader (property)", () => {
  it("delivers every byte of random framed data once and in order, however it is chunked", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(frame, { minLength: 1, maxLength: 25 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }),
        fc.array(fc.boolean(), { maxLength: 30 }),
        async (frames, points, yields) => {
          await run(async () => {
            const data = Buffer.concat(frames.map(encode));
            const chunks = cut(data, points);
            const reader = new StreamReader({ limit: 1024 });
            const producer = createTask(async () => {
              for (let i = 0; i < chunks.length; i++) {
                reader.feedData(chunks[i] as Buffer);
                if (yields[i % Math.max(1, yields.length)]) await sleep(0);
              }
              reader.feedEof();
            });
            for (const f of frames) {
              if (f.kind === "line") {
                const line = await reader.readline();
                assert.deepEqual(line, encode(f));
              } else if (f.kind === "until") {
                const got = await reader.readuntil(f.sep === "END" ? ["END", "\r\n\r\n"] : "\r\n\r\n");
                assert.deepEqual(got, encode(f));
              } else {
                const header = await reader.readexactly(2);
                const body = await reader.readexactly(header.readUInt16BE(0));
                assert.deepEqual(Buffer.concat([header, body]), encode(f));
              }
            }
            await producer;
            assert.deepEqual(await reader.read(), Buffer.alloc(0));
            assert.ok(reader.atEof());
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it("read(n) in random sizes returns the exact byte stream", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }),
        async (bytes, points, sizes) => {
          await run(async () => {
            const data = Buffer.from(bytes);
            const reader = new StreamReader({ limit: 64 });
            const producer = createTask(async () => {
              for (const c of cut(data, points)) {
                reader.feedData(c);
                await sleep(0);
              }
              reader.feedEof();
            });
            const parts: Buffer[] = [];
            for (let i = 0; ; i++) {
              const part = await reader.read(sizes[i % sizes.length] as number);
              if (part.length === 0) break;
              assert.ok(part.length <= (sizes[i % sizes.length] as number));
              parts.push(Buffer.from(part));
            }
            await producer;
            assert.deepEqual(Buffer.concat(parts), data);
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});
