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
import { constants } from "node:os";
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

/**
 * Runs `fn` in the loop's next iteration (asyncio's `call_soon`), with no context. Nothing
 * runs once the loop is closed: `loop.close()` closed the transports it made, and their
 * protocols hear nothing more.
 */
export function schedule(loop: EventLoop, fn: () => void): void {
  loop._enqueue(new LoopCallback(loop, fn));
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

/**
 * Whether a transport hands a fatal error to the exception handler. An error a protocol
 * callback threw always (whatever it carries: a Node API error thrown by user code has a
 * string `code` too); the transport's own I/O errors (`ECONNRESET`, `EPIPE`…) only in debug
 * mode, as asyncio does not report `OSError`s.
 */
export function reportsFatal(loop: EventLoop, exc: unknown, fromProtocol: boolean): boolean {
  return fromProtocol || !isSystemError(exc) || loop.getDebug();
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
/**
 * What `protocolFactory()` returned, checked before a transport calls it: an object with a
 * `connectionMade` method (the first callback every transport makes), as the subclasses of
 * `BaseProtocol` have. Else the `TypeError` that says so, where asyncio fails later with an
 * error about a missing attribute inside the loop.
 */
export function checkMadeProtocol(protocol: unknown): void {
  const made = protocol as { connectionMade?: unknown } | null;
  if (typeof made !== "object" || made === null || typeof made.connectionMade !== "function") {
    throw new TypeError(
      `the protocol factory returned ${describe(protocol)}, not a protocol (an object with connectionMade(), ` +
        "as the subclasses of BaseProtocol have)",
    );
  }
}

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

/**
 * The size of `sun_path` in `struct sockaddr_un` on this platform (108 bytes on Linux, 104 on
 * macOS and the BSDs), or `null` where it is not known.
 */
export function unixPathSize(platform: NodeJS.Platform = process.platform): number | null {
  switch (platform) {
    case "linux":
    case "android":
    case "sunos":
      return 108;
    case "darwin":
    case "freebsd":
    case "openbsd":
    case "netbsd":
      return 104;
    default:
      return null;
  }
}

/**
 * Refuses a Unix socket path the kernel would silently truncate (a connect would reach another
 * socket, a bind would leave a file under the truncated name): an `Error` with
 * `code: "ENAMETOOLONG"` naming the limit, as CPython's `OSError: AF_UNIX path too long`. The
 * limit counts UTF-8 bytes: `sun_path` less its terminating NUL, or all of it for a name in
 * Linux's abstract namespace (a leading NUL). A NUL anywhere else is a `RangeError`.
 */
export function checkUnixPath(path: string, syscall: string): void {
  const nul = path.indexOf("\0", 1);
  if (nul !== -1) {
    throw new RangeError(
      `\`path\` must not contain a NUL byte (one is allowed only first, for Linux's abstract namespace), got one at index ${nul}`,
    );
  }
  const size = unixPathSize();
  if (size === null) return;
  const bytes = Buffer.byteLength(path, "utf8");
  const abstract = path.startsWith("\0");
  const limit = abstract ? size : size - 1;
  if (bytes <= limit) return;
  const room = abstract
    ? `a name in the abstract namespace may fill all ${size} bytes of sun_path, its leading NUL included`
    : `sun_path holds ${size} bytes with the terminating NUL`;
  const error = new Error(
    `AF_UNIX path too long: ${bytes} bytes; the limit on ${process.platform} is ${limit} bytes (${room})`,
  ) as CodedError & { errno: number; syscall: string; path: string };
  error.code = "ENAMETOOLONG";
  error.errno = -(constants.errno.ENAMETOOLONG ?? 36);
  error.syscall = syscall;
  error.path = path;
  throw error;
}
