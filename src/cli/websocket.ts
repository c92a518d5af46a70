/**
 * A small WebSocket client (RFC 6455), enough to talk to Node's inspector: the HTTP upgrade over
 * `node:net`, masked text frames out, text frames in (fragmented or whole, of any length),
 * pings answered, the closing handshake. Node 20 has no global `WebSocket`, and the command
 * takes no dependency, so it carries its own; one code path on every Node.
 */
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

/** The GUID that the server appends to the key to prove it speaks WebSocket. */
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** A message larger than this is refused (a snapshot of a million tasks stays far below it). */
const MAX_MESSAGE = 1 << 30;

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** A connected WebSocket. Messages arrive through `onMessage`; `onClose` says when it ended. */
export class WebSocketClient {
  /** Called with each whole text message. */
  onMessage: (text: string) => void = () => {};
  /** Called once when the connection ends: `null` after a clean close, else the error. */
  onClose: (error: Error | null) => void = () => {};

  readonly #socket: Socket;
  /** Received bytes not yet parsed, in arrival order, and their total length. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** The fragments of a message that is not complete yet, or `null`. */
  #fragments: Buffer[] | null = null;
  #fragmentsLength = 0;
  #closed = false;
  #closeSent = false;

  private constructor(socket: Socket, rest: Buffer) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => this.#receive(chunk));
    socket.on("error", (error) => this.#end(error));
    socket.on("close", () => this.#end(this.#closeSent ? null : new Error("the connection was closed")));
    if (rest.length > 0) queueMicrotask(() => this.#receive(rest));
  }

  /**
   * Connects to `url` (`ws://host:port/path`), within `timeoutMs` milliseconds for the
   * handshake. Rejects with an error saying what failed.
   */
  static connect(url: string, timeoutMs: number): Promise<WebSocketClient> {
    const target = new URL(url);
    if (target.protocol !== "ws:") return Promise.reject(new Error(`not a ws: URL: ${url}`));
    const host = target.hostname.replace(/^\[|\]$/g, "");
    const port = Number(target.port || 80);
    const key = randomBytes(16).toString("base64");
    const expected = createHash("sha1").update(key + ACCEPT_GUID).digest("base64");
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => fail(new Error(`no WebSocket handshake from ${target.host} within ${timeoutMs} ms`)), timeoutMs);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
          if (head.length > 16384) fail(new Error("the WebSocket handshake response is too long"));
          return;
        }
        socket.off("data", onData);
        socket.off("error", fail);
        clearTimeout(timer);
        const lines = head.subarray(0, end).toString("latin1").split("\r\n");
        const status = lines[0] ?? "";
        if (!/^HTTP\/1\.1 101\b/.test(status)) {
          fail(new Error(`the server refused the WebSocket upgrade: ${status}`));
          return;
        }
        const accept = lines
          .slice(1)
          .find((line) => /^sec-websocket-accept:/i.test(line))
          ?.slice("sec-websocket-accept:".length)
          .trim();
        if (accept !== expected) {
          fail(new Error("the server answered the WebSocket upgrade with a wrong Sec-WebSocket-Accept"));
          return;
        }
        resolve(new WebSocketClient(socket, head.subarray(end + 4)));
      };
      socket.on("data", onData);
      socket.on("error", fail);
      socket.on("connect", () => {
        socket.write(
          `GET ${target.pathname}${target.search} HTTP/1.1\r\n` +
            `Host: ${target.host}\r\n` +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            `Sec-WebSocket-Key: ${key}\r\n` +
            "Sec-WebSocket-Version: 13\r\n\r\n",
        );
      });
    });
  }

  /** Sends one text message. */
  send(text: string): void {
    if (this.#closed || this.#closeSent) throw new Error("the WebSocket is closed");
    this.#writeFrame(OP_TEXT, Buffer.from(text, "utf8"));
  }

  /** Starts the closing handshake; resolves once the connection has ended (at most `timeoutMs` later). */
  close(timeoutMs = 1000): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.onClose;
      const timer = setTimeout(() => this.#socket.destroy(), timeoutMs);
      this.onClose = (error) => {
        clearTimeout(timer);
        previous(error);
        resolve();
      };
      if (!this.#closeSent) {
        this.#closeSent = true;
        const code = Buffer.alloc(2);
        code.writeUInt16BE(1000);
        this.#writeFrame(OP_CLOSE, code);
      }
    });
  }

  /** One final frame, masked as a client's frames must be. */
  #writeFrame(opcode: number, payload: Buffer): void {
    const length = payload.length;
    const header =
      length < 126 ? Buffer.alloc(2) : length < 0x10000 ? Buffer.alloc(4) : Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    if (length < 126) {
      header[1] = 0x80 | length;
    } else if (length < 0x10000) {
      header[1] = 0x80 | 126;
      header.writeUInt16BE(length, 2);
    } else {
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(length), 2);
    }
    const mask = randomBytes(4);
    const masked = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) masked[i] = (payload[i] as number) ^ (mask[i & 3] as number);
    this.#socket.write(Buffer.concat([header, mask, masked]));
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    try {
      while (this.#parseFrame());
    } catch (error) {
      this.#socket.destroy();
      this.#end(error as Error);
    }
  }

  /** The first `n` buffered bytes as one buffer (joining only the chunks needed). */
  #peek(n: number): Buffer {
    let first = this.#chunks[0] as Buffer;
    if (first.length < n) {
      let joined = 0;
      let count = 0;
      while (joined < n) joined += (this.#chunks[count++] as Buffer).length;
      first = Buffer.concat(this.#chunks.slice(0, count));
      this.#chunks.splice(0, count, first);
    }
    return first.subarray(0, n);
  }

  /** Removes and returns the first `n` buffered bytes. */
  #take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const out = Buffer.from(this.#peek(n));
    const first = this.#chunks[0] as Buffer;
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#buffered -= n;
    return out;
  }

  /** Parses one frame if it has fully arrived; returns whether it did. */
  #parseFrame(): boolean {
    if (this.#buffered < 2) return false;
    const start = this.#peek(2);
    const b0 = start[0] as number;
    const b1 = start[1] as number;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let headerLength = 2;
    if (length === 126) headerLength = 4;
    else if (length === 127) headerLength = 10;
    const maskOffset = headerLength;
    if (masked) headerLength += 4;
    if (this.#buffered < headerLength) return false;
    const header = this.#peek(headerLength);
    if (length === 126) length = header.readUInt16BE(2);
    else if (length === 127) {
      const big = header.readBigUInt64BE(2);
      if (big > BigInt(MAX_MESSAGE)) throw new Error(`a WebSocket frame of ${big} bytes is too large`);
      length = Number(big);
    }
    if (this.#buffered < headerLength + length) return false;
    this.#take(headerLength);
    const payload = this.#take(length);
    if (masked) {
      const mask = header.subarray(maskOffset, maskOffset + 4);
      for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i & 3] as number);
    }
    this.#frame(fin, opcode, payload);
    return true;
  }

  #frame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OP_TEXT:
      case OP_BINARY:
      case OP_CONTINUATION: {
        if (opcode !== OP_CONTINUATION) {
          if (this.#fragments !== null) throw new Error("a new WebSocket message began inside a fragmented one");
          this.#fragments = [];
          this.#fragmentsLength = 0;
        } else if (this.#fragments === null) {
          throw new Error("a WebSocket continuation frame came without a message to continue");
        }
        this.#fragments.push(payload);
        this.#fragmentsLength += payload.length;
        if (this.#fragmentsLength > MAX_MESSAGE) throw new Error("a WebSocket message is too large");
        if (fin) {
          const message = Buffer.concat(this.#fragments).toString("utf8");
          this.#fragments = null;
          this.onMessage(message);
        }
        return;
      }
      case OP_PING:
        if (!this.#closeSent) this.#writeFrame(OP_PONG, payload);
        return;
      case OP_PONG:
        return;
      case OP_CLOSE:
        if (!this.#closeSent) {
          this.#closeSent = true;
          this.#writeFrame(OP_CLOSE, payload.subarray(0, 2));
        }
        this.#socket.end();
        return;
      default:
        throw new Error(`unknown WebSocket opcode ${opcode}`);
    }
  }

  #end(error: Error | null): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose(error);
  }
}
