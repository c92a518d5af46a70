/**
 * @internal Helpers shared by the transports and streams: running Node's socket callbacks
 * outside any task's frame, scheduling a callback on the loop without a context, and the
 * argument checks and errors of the networking API.
 *
 * WHY outside any frame: a Node socket event runs in the async context that was current when
 * the operation behind it started. A write made by a task makes the 'drain', 'finish' or
 * 'error' that follows run inside that task's frame, and a protocol callback would then look
 * as if that task ran it (`currentTask()`, the waiters it records). Transports call protocols
 * as the loop does: outside any task.
 */
import type { EventLoop } from "../events/loop.js";
import type { ReadyItem } from "../events/handles.js";
import { _runOutsideFrame, frameStorage } from "../events/running.js";
import { describe } from "../internal/validate.js";

/** Wraps a one-argument Node event handler so it always runs outside any task's frame. */
export function outsideFrame<A>(fn: (arg: A) => void): (arg: A) => void {
  return (arg: A): void => {
    if (frameStorage.getStore() === undefined) fn(arg);
    else _runOutsideFrame(() => fn(arg));
  };
}

/** {@link outsideFrame} for a two-argument handler. */
export function outsideFrame2<A, B>(fn: (a: A, b: B) => void): (a: A, b: B) => void {
  return (a: A, b: B): void => {
    if (frameStorage.getStore() === undefined) fn(a, b);
    else _runOutsideFrame(() => fn(a, b));
  };
}

/** A ready-queue item that runs `fn` and reports what it throws. */
class LoopCallback implements ReadyItem {
  constructor(
    readonly loop: EventLoop,
    readonly fn: () => void,
  ) {}

  _run(): void {
    try {
      this.fn();
    } catch (exception) {
      this.loop.callExceptionHandler({ message: `Exception in callback ${this.fn.name || "transport"}()`, exception });
    }
  }

  toString(): string {
    return `<LoopCallback ${this.fn.name || "anonymous"}()>`;
  }
}

/**
 * Runs `fn` in the loop's next iteration (asyncio's `call_soon`), with no context; at once
 * when the loop is closed, so a transport's last callbacks are never lost.
 */
/**
 * Calls a protocol callback (`call`); an error it throws goes to the loop's exception handler
 * with the transport and protocol, as asyncio reports it. Never throws.
 */
export function callProtocol(
  loop: EventLoop,
  transport: object,
  protocol: object,
  name: string,
  call: () => void,
): void {
  try {
    call();
  } catch (exception) {
    loop.callExceptionHandler({
      message: `Exception in callback ${protocol.constructor.name}.${name}()`,
      exception,
      transport,
      protocol,
    });
  }
}

export function schedule(loop: EventLoop, fn: () => void): void {
  if (loop.isClosed()) new LoopCallback(loop, fn)._run();
  else loop._enqueue(new LoopCallback(loop, fn));
}

/** The bytes of `data` (a `Buffer`, any `Uint8Array`, or a string sent as UTF-8). */
export function toBuffer(data: unknown, what: string): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === "string") return Buffer.from(data, "utf8");
  throw new TypeError(
    `${what}: data must be a Buffer, a Uint8Array or a string, got ${describe(data)}`,
  );
}

/** True for Node's system and library errors (`ECONNRESET`, `EPIPE`, `ERR_SSL_…`): they carry a string `code`. */
export function isSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string";
}

/** A Node-style error with a `code`. */
export type CodedError = Error & { code: string };

/**
 * asyncio's `ConnectionResetError('Connection lost')`: the connection is gone and no error
 * says why. It has `code: "ECONNRESET"`, as Node's own resets do, so one check catches both.
 */
export function connectionLostError(detail?: string): CodedError {
  const error = new Error(detail === undefined ? "Connection lost" : `Connection lost: ${detail}`) as CodedError;
  error.code = "ECONNRESET";
  return error;
}

/**
 * Makes the `AggregateError` Node throws when every address of a host failed (happy
 * eyeballs) say what went wrong: its message is empty in Node 20.
 */
export function explainConnectError(error: unknown): unknown {
  if (error instanceof AggregateError && error.message === "") {
    const parts = error.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e)));
    error.message = `Multiple exceptions: ${parts.join(", ")}`;
  }
  return error;
}

/** A port: an integer 0–65535, or a string of digits. */
export function checkPort(value: unknown, name = "port"): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new RangeError(`\`${name}\` must be an integer from 0 to 65535, got ${describe(value)}`);
  }
  return n;
}

/** A timeout in seconds: a positive number, or `null`/`undefined` for the default. */
export function checkTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !(value > 0)) {
    throw new RangeError(`\`${name}\` must be a positive number of seconds, got ${describe(value)}`);
  }
  return value;
}
