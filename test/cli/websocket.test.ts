// The command's WebSocket client against a small server written here (an HTTP upgrade on
// node:http, frames by hand): the handshake and its check, masked client frames, whole and
// fragmented messages of every length encoding arriving in pieces, pings in the middle of a
// fragmented message, and the closing handshake from either side.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type Server, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, describe, it } from "node:test";
import { WebSocketClient } from "../../src/cli/websocket.js";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** A frame as the server reads it from the client. */
interface Frame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** An unmasked server frame. */
function frame(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const data = Buffer.from(payload);
  const length = data.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 0x10000 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = (fin ? 0x80 : 0) | opcode;
  if (length < 126) header[1] = length;
  else if (length < 0x10000) {
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, data]);
}

/** Reads the client's frames off `socket`, unmasking them. */
function readFrames(socket: Socket, onFrame: (frame: Frame) => void): void {
  let buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 2) {
      const b1 = buffer[1] as number;
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const total = offset + (masked ? 4 : 0) + length;
      if (buffer.length < total) return;
      const mask = masked ? buffer.subarray(offset, offset + 4) : null;
      const payload = Buffer.from(buffer.subarray(total - length, total));
      if (mask !== null) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i & 3] as number);
      onFrame({ fin: ((buffer[0] as number) & 0x80) !== 0, opcode: (buffer[0] as number) & 0x0f, masked, payload });
      buffer = buffer.subarray(total);
    }
  });
}

/** Writes `data` in pieces of `size` bytes, a macrotask apart. */
async function trickle(socket: Socket, data: Buffer, size: number): Promise<void> {
  for (let i = 0; i < data.length; i += size) {
    socket.write(data.subarray(i, i + size));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

/**
 * A server that accepts one upgrade (answering with `accept`, or the right key) and hands the
 * socket and the client's frames to `session`; resolves the ws:// URL.
 */
async function serve(
  session: (socket: Socket, frames: Frame[], next: () => Promise<Frame>) => void,
  accept?: string,
): Promise<string> {
  const server = createServer();
  servers.push(server);
  server.on("upgrade", (request, socket: Socket) => {
    const key = String(request.headers["sec-websocket-key"]);
    const answer = accept ?? createHash("sha1").update(key + GUID).digest("base64");
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${answer}\r\n\r\n`,
    );
    const frames: Frame[] = [];
    const waiting: ((frame: Frame) => void)[] = [];
    // Frames nobody waited for yet: two frames may come in one chunk (Bun and Deno join the
    // client's writes), and the session asks for the second only after the first.
    const unread: Frame[] = [];
    readFrames(socket, (f) => {
      frames.push(f);
      const waiter = waiting.shift();
      if (waiter === undefined) unread.push(f);
      else waiter(f);
    });
    const next = (): Promise<Frame> =>
      unread.length > 0 ? Promise.resolve(unread.shift() as Frame) : new Promise((resolve) => waiting.push(resolve));
    session(socket, frames, next);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/session-path`;
}

function nextMessage(client: WebSocketClient): Promise<string> {
  return new Promise((resolve) => (client.onMessage = resolve));
}

describe("WebSocket client", { timeout: 20_000 }, () => {
  it("sends masked text frames and reads whole messages of every length encoding, arriving in pieces", async () => {
    const sizes = [5, 125, 126, 65535, 65536, 200_000];
    const url = await serve((socket, _frames, next) => {
      void (async () => {
        for (const size of sizes) {
          const request = await next();
          assert.equal(request.masked, true);
          assert.equal(request.opcode, 1);
          assert.equal(request.payload.toString(), `send ${size}`);
          await trickle(socket, frame(1, "é".repeat(size / 2 >> 0) + (size % 2 === 1 ? "x" : "")), 4093);
        }
      })();
    });
    const client = await WebSocketClient.connect(url, 5000);
    for (const size of sizes) {
      const message = nextMessage(client);
      client.send(`send ${size}`);
      const text = await message;
      assert.equal(Buffer.byteLength(text), (size >> 1) * 2 + (size % 2));
    }
    await client.close();
  });

  it("sends messages of 16- and 64-bit lengths the server can read", async () => {
    const received: string[] = [];
    const url = await serve((socket, _frames, next) => {
      void (async () => {
        for (let i = 0; i < 2; i++) received.push((await next()).payload.toString());
        socket.write(frame(1, "done"));
      })();
    });
    const client = await WebSocketClient.connect(url, 5000);
    const done = nextMessage(client);
    client.send("a".repeat(300));
    client.send("b".repeat(70_000));
    assert.equal(await done, "done");
    assert.deepEqual(received.map((r) => [r[0], r.length]), [["a", 300], ["b", 70_000]]);
    await client.close();
  });

  it("joins a fragmented message and answers a ping that comes in the middle of it", async () => {
    let pong: Frame | null = null;
    const url = await serve((socket, _frames, next) => {
      socket.write(Buffer.concat([frame(1, "frag", false), frame(9, "are you there")]));
      void next().then((f) => {
        pong = f;
        socket.write(Buffer.concat([frame(0, "men", false), frame(10, "unasked pong"), frame(0, "ted")]));
      });
    });
    const client = await WebSocketClient.connect(url, 5000);
    assert.equal(await nextMessage(client), "fragmented");
    assert.deepEqual(
      { opcode: pong!.opcode, masked: pong!.masked, payload: pong!.payload.toString() },
      { opcode: 10, masked: true, payload: "are you there" },
    );
    await client.close();
  });

  it("answers the server's close and ends cleanly", async () => {
    let reply: Frame | null = null;
    const url = await serve((socket, _frames, next) => {
      const code = Buffer.alloc(2);
      code.writeUInt16BE(1001);
      socket.write(frame(8, code));
      void next().then((f) => {
        reply = f;
        socket.end();
      });
    });
    const client = await WebSocketClient.connect(url, 5000);
    const closed = await new Promise<Error | null>((resolve) => (client.onClose = resolve));
    assert.equal(closed, null);
    assert.equal(reply!.opcode, 8);
    assert.equal(reply!.payload.readUInt16BE(0), 1001);
    assert.throws(() => client.send("late"), /closed/);
  });

  it("closes from its side with a close frame, resolving once the connection ended", async () => {
    let seen: Frame | null = null;
    const url = await serve((socket, _frames, next) => {
      void next().then((f) => {
        seen = f;
        socket.write(frame(8, f.payload));
        socket.end();
      });
    });
    const client = await WebSocketClient.connect(url, 5000);
    let ended: Error | null | undefined;
    client.onClose = (error) => (ended = error);
    await client.close();
    assert.equal(seen!.opcode, 8);
    assert.equal(seen!.payload.readUInt16BE(0), 1000);
    assert.equal(ended, null);
  });

  it("refuses a server whose Sec-WebSocket-Accept is wrong", async () => {
    const url = await serve(() => {}, "bm90IHRoZSByaWdodCBhbnN3ZXI=");
    await assert.rejects(WebSocketClient.connect(url, 5000), /wrong Sec-WebSocket-Accept/);
  });

  it("reports a connection that drops without a close frame", async () => {
    const url = await serve((socket) => socket.destroy());
    const client = await WebSocketClient.connect(url, 5000);
    const closed = await new Promise<Error | null>((resolve) => (client.onClose = resolve));
    assert.match(String(closed), /closed/);
  });
});
