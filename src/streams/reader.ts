/**
 * `StreamReader`: the reading end of a stream, with awaitable `read`, `readline`,
 * `readexactly` and `readuntil`.
 *
 * HOW the buffer works (asyncio keeps a `bytearray`): the bytes live in one Node `Buffer`,
 * `#buf[#start..#end)`. A chunk fed into an empty reader is kept as it is (no copy); a chunk fed
 * behind unread bytes is appended into spare room, or into a new buffer twice the size. A read
 * moves `#start`; when everything is read, the reader lets go of the buffer.
 *
 * WHAT a read returns is the caller's own (asyncio returns new `bytes`): a view would keep the
 * whole chunk behind it alive (a socket chunk is up to 64 KiB, a grown buffer twice the data),
 * so 1,000 kept 8-byte lines could hold 1,000 chunks (62.5 MiB). So a read copies its bytes out
 * (a small copy comes from Node's 8 KiB pool, as `Buffer.from` does), except when they are the
 * whole buffer the reader holds — the chunk exactly as it was fed (the echo loop's
 * `read(65536)` of a socket chunk) or a grown buffer filled to the last byte: that one is handed
 * over as it is, since the reader lets go of it. Either way no two reads share bytes, and the
 * reader never writes bytes it has handed out, so a returned `Buffer` never changes under its
 * owner and changing it changes no later read. The searches of `readuntil` look at views and
 * copy nothing.
 *
 * HOW a read waits: each read is an "attempt" (a function that returns the result when the
 * buffer can satisfy it, throws, or says "not yet"). A read first tries at once: data already
 * there gives a finished `Future` (no loop iteration; the caller resumes after a few
 * microtasks). Otherwise it parks one `Waiter` holding the attempt; `feedData`/`feedEof` have
 * the loop run the attempt again in its next iteration (once, however many chunks came
 * before: as asyncio's read, which retries when its task resumes), and settle the waiter with
 * the bytes it took; the task resumes right after. Should the task be cancelled in between,
 * the waiter's lost-wake-up hook puts the bytes back at the front of the buffer, so nothing is
 * lost (the project's one waiter mechanism, `Waiter`, with its `onLost`).
 *
 * Invariant: at most one read waits at a time (`#waiter`); a second is a `RuntimeError`, as in
 * asyncio, since nobody could tell which of the two the next bytes are for. A read cancelled while it
 * waits leaves everything that arrived for the next read.
 */
import { IncompleteReadError, LimitOverrunError, RuntimeError } from "../errors.js";
import type { ReadyItem } from "../events/handles.js";
import type { EventLoop } from "../events/loop.js";
import { _getRunningLoop, getRunningLoop } from "../events/running.js";
import { Future } from "../futures.js";
import { formatRepr, inspectCustom, reprValue } from "../internal/inspect.js";
import { checkOptions, describe } from "../internal/validate.js";
import { Waiter } from "../internal/waiters.js";

/** The default `limit` of a reader: 64 KiB. asyncio: `streams._DEFAULT_LIMIT`. */
export const DEFAULT_LIMIT = 2 ** 16;

/** A separator for `readuntil`: a string (UTF-8), bytes, or a list of either (3.13). */
export type Separator = string | Uint8Array | readonly (string | Uint8Array)[];

/** Options of {@link StreamReader}. */
export interface StreamReaderOptions {
  /**
   * The longest line `readline`/`readuntil` accept, in bytes (default 64 KiB); reading from
   * the transport pauses while more than twice this much is buffered.
   */
  limit?: number;
  /** The loop the reader's waits belong to; default: the running loop. */
  loop?: EventLoop | null;
}

/**
 * What a reader needs of its transport: pausing and resuming reading.
 *
 * @inline
 */
type ReadControl = { pauseReading(): void; resumeReading(): void };

const EMPTY = Buffer.alloc(0);
const NEWLINE = Buffer.from("\n");
const NEWLINE_SEPS = [NEWLINE];

/** What an attempt returns when the buffer cannot satisfy the read yet. */
const PENDING: unique symbol = Symbol("PENDING");

/** The one waiter of a reader: the read's attempt, retried on each `feedData`/`feedEof`. */
class ReadWaiter extends Waiter<Buffer> {
  constructor(
    loop: EventLoop,
    readonly attempt: () => Buffer | typeof PENDING,
    restore: (data: Buffer) => void,
  ) {
    super(loop, null, restore);
  }
}

function done(loop: EventLoop, value: Buffer): Future<Buffer> {
  const future = new Future<Buffer>(loop);
  future.setResult(value);
  return future;
}

function failed(loop: EventLoop, error: unknown): Future<Buffer> {
  const future = new Future<Buffer>(loop);
  future.setException(error);
  return future;
}
const MIN_CAPACITY = 4096;

function checkSize(name: string, n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw new TypeError(`\`${name}\` must be an integer number of bytes, got ${describe(n)}`);
  }
  return n;
}

function toSeparators(separator: unknown): Buffer[] {
  const one = (s: unknown): Buffer => {
    if (typeof s === "string") return Buffer.from(s, "utf8");
    if (Buffer.isBuffer(s)) return s;
    if (s instanceof Uint8Array) return Buffer.from(s.buffer, s.byteOffset, s.byteLength);
    throw new TypeError(`\`separator\` must be a string, a Buffer or Uint8Array, or an array of them, got ${describe(s)}`);
  };
  const list = Array.isArray(separator) ? separator.map(one) : [one(separator)];
  if (list.length === 0) throw new RangeError("Separator should contain at least one element");
  // The shortest first: of two matches that end at the same byte, the shorter wins.
  list.sort((a, b) => a.length - b.length);
  if ((list[0] as Buffer).length === 0) throw new RangeError("Separator should be at least one-byte string");
  return list;
}

/**
 * The reading end of a stream. `openConnection` and `startServer` make one per connection;
 * make one yourself to feed it by hand (`feedData`, `feedEof`), as tests and protocols do.
 *
 * Every read resolves a `Buffer` of the caller's own, as asyncio's are new `bytes`: no view into
 * a larger chunk (a kept short line holds no 64 KiB socket chunk), and changing it changes
 * nothing the reader returns later. Empty at EOF (never `null`). A reader is an async iterable
 * of lines: `for await (const line of reader)` reads until EOF.
 *
 * **Cancellation** (every `read*`): cancelling the awaiting task ends the wait with
 * `CancelledError`; the bytes that arrived stay in the buffer for the next read.
 *
 * @throws {RangeError} from the constructor when `limit <= 0`.
 *
 * @example
 * const [reader, writer] = await openConnection("127.0.0.1", 8888);
 * const header = await reader.readuntil("\r\n\r\n");
 * const body = await reader.readexactly(length);
 *
 * asyncio: `asyncio.StreamReader`.
 */
export class StreamReader implements AsyncIterable<Buffer> {
  readonly #limit: number;
  #loop: EventLoop | null;
  #buf: Buffer | null = null;
  #start = 0;
  #end = 0;
  #owned = false;
  #eof = false;
  #waiter: ReadWaiter | null = null;
  #pokePending = false;
  #exception: unknown = null;
  #transport: ReadControl | null = null;
  #paused = false;

  constructor(options: StreamReaderOptions = {}) {
    checkOptions("new StreamReader()", options, ["limit", "loop"]);
    const limit = options.limit ?? DEFAULT_LIMIT;
    if (typeof limit !== "number" || Number.isNaN(limit)) {
      throw new TypeError(`\`limit\` must be a number of bytes, got ${describe(limit)}`);
    }
    if (limit <= 0) throw new RangeError(`Limit cannot be <= 0, got ${limit}`);
    this.#limit = limit;
    this.#loop = options.loop ?? _getRunningLoop();
  }

  /** The line length limit, in bytes. */
  get limit(): number {
    return this.#limit;
  }

  /** How many bytes are buffered, unread. */
  get bufferedSize(): number {
    return this.#end - this.#start;
  }

  /** The error set with {@link StreamReader.setException}, or `null`. */
  exception(): unknown {
    return this.#exception;
  }

  /**
   * Makes every read from now on throw `exc` (a read that waits gets it at once). The
   * protocol calls it when the connection is lost with an error.
   */
  setException(exc: unknown): void {
    this.#exception = exc;
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      if (!waiter.done()) waiter.setException(exc);
    }
  }

  /** Sets the transport that `pauseReading`/`resumeReading` are called on (once). */
  setTransport(transport: ReadControl): void {
    if (this.#transport !== null) throw new RuntimeError("Transport already set");
    this.#transport = transport;
  }

  /** @internal `startTls` replaced the transport. */
  _replaceTransport(transport: ReadControl): void {
    this.#transport = transport;
    if (this.#paused) transport.pauseReading();
  }

  /** Marks the end of the stream: reads return what is buffered, then empty buffers. */
  feedEof(): void {
    this.#eof = true;
    this.#poke();
  }

  /** Whether the stream ended and every byte was read. */
  atEof(): boolean {
    return this.#eof && this.#end === this.#start;
  }

  /**
   * Appends `data` to the buffer and wakes a waiting read. Pauses the transport's reading
   * while more than twice the limit is buffered.
   *
   * @throws {RuntimeError} after `feedEof()`.
   */
  feedData(data: Uint8Array | string): void {
    if (this.#eof) throw new RuntimeError("feedData() after feedEof()");
    let chunk: Buffer;
    if (Buffer.isBuffer(data)) chunk = data;
    else if (data instanceof Uint8Array) chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    else if (typeof data === "string") chunk = Buffer.from(data, "utf8");
    else throw new TypeError(`feedData(): data must be a Buffer, a Uint8Array or a string, got ${describe(data)}`);
    if (chunk.length === 0) return;
    this.#append(chunk);
    this.#poke();
    const transport = this.#transport;
    if (transport !== null && !this.#paused && this.#end - this.#start > 2 * this.#limit) {
      try {
        transport.pauseReading();
        this.#paused = true;
      } catch {
        // The transport cannot pause: buffer everything, and stop trying.
        this.#transport = null;
      }
    }
  }

  #append(chunk: Buffer): void {
    const length = this.#end - this.#start;
    const buf = this.#buf;
    if (length === 0 || buf === null) {
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      this.#owned = false;
    } else if (this.#owned && this.#end + chunk.length <= buf.length) {
      chunk.copy(buf, this.#end);
      this.#end += chunk.length;
    } else {
      const need = length + chunk.length;
      const grown = Buffer.allocUnsafe(Math.max(2 * need, MIN_CAPACITY));
      buf.copy(grown, 0, this.#start, this.#end);
      chunk.copy(grown, length);
      this.#buf = grown;
      this.#start = 0;
      this.#end = need;
      this.#owned = true;
    }
  }

  /**
   * Removes and returns the first `n` bytes (`0 < n <= bufferedSize`) as bytes the caller owns:
   * the buffer itself when they are all of it, else a copy (see the module comment).
   */
  #take(n: number): Buffer {
    const buf = this.#buf as Buffer;
    const start = this.#start;
    let data: Buffer;
    if (start === 0 && n === buf.length) {
      data = buf;
    } else {
      data = Buffer.allocUnsafe(n);
      buf.copy(data, 0, start, start + n);
    }
    this.#skip(n);
    return data;
  }

  /** Drops the first `n` bytes (`n <= bufferedSize`); lets go of the buffer when it is empty. */
  #skip(n: number): void {
    if (n === this.#end - this.#start) {
      this.#buf = null;
      this.#start = 0;
      this.#end = 0;
      this.#owned = false;
    } else {
      this.#start += n;
    }
  }

  #takeAll(): Buffer {
    return this.#end === this.#start ? EMPTY : this.#take(this.#end - this.#start);
  }

  /** The unread bytes, as a view. */
  #view(): Buffer {
    return this.#buf === null ? EMPTY : this.#buf.subarray(this.#start, this.#end);
  }

  /**
   * After new bytes or EOF: the waiting read tries again in the loop's next iteration (once,
   * however many chunks arrive before it), as an asyncio read retries when its task resumes.
   */
  #poke(): void {
    const waiter = this.#waiter;
    if (waiter === null || this.#pokePending) return;
    if (waiter.done()) {
      this.#waiter = null;
      return;
    }
    this.#pokePending = true;
    waiter._loop._enqueue(this.#pokeItem);
  }

  readonly #pokeItem: ReadyItem = { _run: () => this.#retry() };

  /** The loop runs the waiting read's attempt; on success its task resumes right after. */
  #retry(): void {
    this.#pokePending = false;
    const waiter = this.#waiter;
    if (waiter === null) return;
    if (waiter.done()) {
      this.#waiter = null;
      return;
    }
    let value: Buffer | typeof PENDING;
    try {
      value = waiter.attempt();
    } catch (error) {
      this.#waiter = null;
      waiter.setException(error);
      return;
    }
    if (value === PENDING) {
      // Still waiting: a paused transport would leave it waiting forever (asyncio's
      // _wait_for_data resumes it each time it waits).
      this.#resumeForWait();
      return;
    }
    this.#waiter = null;
    waiter._setResultAndRunCallbacks(value);
  }

  /** A read whose task was cancelled after it was handed its bytes gives them back. */
  #restore = (data: Buffer): void => {
    if (data.length === 0) return;
    const length = this.#end - this.#start;
    if (length === 0 || this.#buf === null) {
      this.#buf = data;
      this.#start = 0;
      this.#end = data.length;
      this.#owned = false;
      return;
    }
    const merged = Buffer.allocUnsafe(Math.max(2 * (data.length + length), MIN_CAPACITY));
    data.copy(merged, 0);
    this.#buf.copy(merged, data.length, this.#start, this.#end);
    this.#buf = merged;
    this.#start = 0;
    this.#end = data.length + length;
    this.#owned = true;
  };

  #maybeResumeTransport(): void {
    if (this.#paused && this.#end - this.#start <= this.#limit) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
  }

  /** Waiting while paused would wait forever (readexactly(n) with n > 2 * limit needs this). */
  #resumeForWait(): void {
    if (this.#paused) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
  }

  #loopForRead(): EventLoop {
    return this.#loop ?? (this.#loop = getRunningLoop());
  }

  /**
   * Runs a read: `attempt` returns the result when the buffer can satisfy it (or throws), or
   * `PENDING`; then the read parks one waiter, which `feedData`/`feedEof` let try again. The
   * bytes an attempt takes are handed to the waiter's result at once; if the task is
   * cancelled before it resumes, `#restore` puts them back.
   */
  #read(funcName: string, attempt: () => Buffer | typeof PENDING): Future<Buffer> {
    const loop = this.#loopForRead();
    if (this.#exception !== null) return failed(loop, this.#exception);
    let value: Buffer | typeof PENDING;
    try {
      value = attempt();
    } catch (error) {
      return failed(loop, error);
    }
    if (value !== PENDING) return done(loop, value);
    const current = this.#waiter;
    if (current !== null && !current.done()) {
      return failed(loop, new RuntimeError(`${funcName}() called while another coroutine is already waiting for incoming data`));
    }
    this.#resumeForWait();
    const waiter = new ReadWaiter(loop, attempt, this.#restore);
    this.#waiter = waiter;
    return waiter;
  }

  /**
   * Reads up to `n` bytes: as soon as at least one byte is there, returns what is buffered
   * (at most `n`). `n = -1` (the default, or any negative number) reads until EOF and
   * returns everything. `n = 0` returns an empty buffer at once. At EOF, an empty buffer.
   * Data already buffered costs no loop iteration.
   *
   * **Cancellation**: cancelling the awaiting task ends the wait with `CancelledError`; the
   * bytes that arrived stay in the buffer (with `n = -1`, the bytes gathered so far are lost
   * to the caller, as in asyncio).
   *
   * @throws the error set with `setException` (the connection's error).
   * @throws {RuntimeError} when another read is waiting on this reader.
   * @throws {TypeError} when `n` is not an integer.
   *
   * asyncio: `StreamReader.read(n=-1)`.
   */
  read(n = -1): Future<Buffer> {
    try {
      checkSize("n", n);
    } catch (error) {
      return failed(this.#loopForRead(), error);
    }
    if (n === 0 && this.#exception === null) return done(this.#loopForRead(), EMPTY);
    if (n < 0) {
      // Until EOF: move what arrives out of the buffer as it comes, so the transport is never
      // left paused (asyncio reads limit-sized blocks for the same reason).
      const blocks: Buffer[] = [];
      return this.#read("read", () => {
        if (this.#end > this.#start) blocks.push(this.#takeAll());
        this.#maybeResumeTransport();
        if (!this.#eof) return PENDING;
        return blocks.length === 1 ? (blocks[0] as Buffer) : Buffer.concat(blocks);
      });
    }
    // The hot path of every echo loop: one attempt function per reader, the size in a field
    // (only one read waits at a time), so a read allocates no closure.
    const waiter = this.#waiter;
    if (waiter === null || waiter.done()) this.#readSize = n;
    return this.#read("read", this.#attemptRead);
  }

  #readSize = 1;

  readonly #attemptRead = (): Buffer | typeof PENDING => {
    const available = this.#end - this.#start;
    if (available === 0) return this.#eof ? EMPTY : PENDING;
    const n = this.#readSize;
    const data = this.#take(n < available ? n : available);
    this.#maybeResumeTransport();
    return data;
  };

  /**
   * Reads one line, up to and including `\n`. At EOF, returns the partial line without `\n`
   * (an empty buffer when nothing is left).
   *
   * **Cancellation**: as {@link StreamReader.read}: the bytes stay in the buffer.
   *
   * @throws {RangeError} when the line is longer than `limit` (not counting the `\n`): the
   * line is discarded (the buffer is cleared when no `\n` was found), unlike `readuntil`.
   *
   * asyncio: `StreamReader.readline()` (whose `ValueError` is a `RangeError` here).
   */
  readline(): Future<Buffer> {
    const until = this.#untilAttempt(NEWLINE_SEPS);
    return this.#read("readline", () => {
      try {
        return until();
      } catch (error) {
        if (error instanceof IncompleteReadError) return error.partial;
        if (error instanceof LimitOverrunError) {
          const view = this.#view();
          this.#skip(view.length > error.consumed && view[error.consumed] === 10 ? error.consumed + 1 : view.length);
          this.#maybeResumeTransport();
          throw new RangeError(error.message, { cause: error });
        }
        throw error;
      }
    });
  }

  /**
   * The search of `readuntil`, as an attempt that keeps its place between tries.
   *
   * Phases: (1) look for every separator from `offset` (the bytes before it are known not to
   * hold one); (2) nothing found: move `offset` to where the longest separator could still
   * start, and fail if that is past the limit; (3) at EOF, fail with what is left; (4) else
   * wait (PENDING); (5) found: fail if the data before the separator is over the limit, else
   * take it.
   */
  #untilAttempt(seps: Buffer[]): () => Buffer | typeof PENDING {
    const minLen = (seps[0] as Buffer).length;
    const maxLen = (seps[seps.length - 1] as Buffer).length;
    let offset = 0;
    return () => {
      const buflen = this.#end - this.#start;
      if (buflen - offset >= minLen) {
        let matchStart = -1;
        let matchEnd = -1;
        const view = this.#view();
        for (const sep of seps) {
          const i = sep.length === 1 ? view.indexOf(sep[0] as number, offset) : view.indexOf(sep, offset);
          if (i !== -1 && (matchEnd === -1 || i + sep.length < matchEnd)) {
            matchStart = i;
            matchEnd = i + sep.length;
          }
        }
        if (matchEnd !== -1) {
          if (matchStart > this.#limit) {
            throw new LimitOverrunError("Separator is found, but chunk is longer than limit", matchStart);
          }
          const chunk = this.#take(matchEnd);
          this.#maybeResumeTransport();
          return chunk;
        }
        offset = Math.max(0, buflen + 1 - maxLen);
        if (offset > this.#limit) {
          throw new LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
        }
      }
      // A complete separator may have come with the last chunk before EOF: look first.
      if (this.#eof) throw new IncompleteReadError(this.#takeAll(), null);
      return PENDING;
    };
  }

  /**
   * Reads up to and including `separator` (a string, bytes, or a list of either: the
   * shortest data ending with any of them is returned).
   *
   * **Cancellation**: as {@link StreamReader.read}: the bytes stay in the buffer.
   *
   * @throws {IncompleteReadError} at EOF before a separator (`partial` holds the rest of the
   * stream, `expected` is `null`; the buffer is emptied).
   * @throws {LimitOverrunError} when no separator is found within `limit` bytes, or the data
   * before it is longer than `limit`; the data stays in the buffer, `consumed` says how much
   * to skip.
   * @throws {RangeError} for an empty separator or an empty list.
   *
   * asyncio: `StreamReader.readuntil(separator=b'\n')` (lists of separators: 3.13).
   */
  readuntil(separator: Separator = NEWLINE): Future<Buffer> {
    let seps: Buffer[];
    try {
      seps = toSeparators(separator);
    } catch (error) {
      return failed(this.#loopForRead(), error);
    }
    return this.#read("readuntil", this.#untilAttempt(seps));
  }

  /**
   * Reads exactly `n` bytes (`n` may exceed the limit). `n = 0` returns an empty buffer.
   *
   * **Cancellation**: as {@link StreamReader.read}: the bytes stay in the buffer.
   *
   * @throws {IncompleteReadError} at EOF before `n` bytes ("18 bytes read on a total of 36
   * expected bytes"; `partial` holds them, the buffer is emptied).
   * @throws {RangeError} when `n` is negative.
   *
   * asyncio: `StreamReader.readexactly(n)`.
   */
  readexactly(n: number): Future<Buffer> {
    try {
      checkSize("n", n);
      if (n < 0) throw new RangeError(`readexactly size can not be less than zero, got ${n}`);
    } catch (error) {
      return failed(this.#loopForRead(), error);
    }
    return this.#read("readexactly", () => {
      if (n === 0) return EMPTY;
      if (this.#end - this.#start < n) {
        if (this.#eof) throw new IncompleteReadError(this.#takeAll(), n);
        return PENDING;
      }
      const data = this.#take(n);
      this.#maybeResumeTransport();
      return data;
    });
  }

  /**
   * The lines of the stream, until EOF: `for await (const line of reader)`. Each line ends
   * with `\n` but maybe the last.
   *
   * **Cancellation**: as {@link StreamReader.readline}.
   *
   * Throws {@link RuntimeError} at once, as `readline()` does, when the reader has no loop and
   * none runs.
   */
  [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    this.#loopForRead();
    return this.#lines();
  }

  async *#lines(): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  toString(): string {
    const parts: string[] = [];
    const length = this.#end - this.#start;
    if (length > 0) parts.push(`${length} bytes`);
    if (this.#eof) parts.push("eof");
    if (this.#limit !== DEFAULT_LIMIT) parts.push(`limit=${this.#limit}`);
    if (this.#waiter !== null) parts.push(`waiter=${this.#waiter.toString()}`);
    if (this.#exception !== null) parts.push(`exception=${reprValue(this.#exception)}`);
    if (this.#transport !== null) parts.push(`transport=${String(this.#transport)}`);
    if (this.#paused) parts.push("paused");
    return formatRepr("StreamReader", parts);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
