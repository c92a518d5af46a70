/**
 * What travels through Redis: a job's payload (module id, export name, arguments), its result,
 * and its error.
 *
 * WHY the V8 serializer and not JSON: BullMQ stores job data and results as JSON, which turns a
 * `Date` into a string, a `Map` into `{}`, drops `undefined` and refuses `BigInt`. Arguments and
 * results are serialized with `v8.serialize` (what structured clone keeps: `Date`, `Map`, `Set`,
 * typed arrays, `Buffer`, `BigInt`) and stored as base64 text inside the JSON, so they arrive as
 * they were sent, or fail at the sender with a `TypeError` naming what cannot travel.
 *
 * Errors: BullMQ keeps a failed job's `message` (its `failedReason`) and `stack` (its
 * `stacktrace`). The worker throws an error whose message is the job's own, and whose stack is
 * the job's stack followed by one line carrying the serialized error; the executor rebuilds the
 * error from that line (class name, message, remote stack, `cause`, data properties), and shows
 * the stack without it.
 */
import { deserialize, serialize } from "node:v8";
import { _reviveThrown, _serializeThrown } from "../threads/transfer.js";
import type { SerializedThrown } from "../threads/worker.js";

/** The data of a job that asyncio-ts adds: what a worker runs, and with what. */
export interface JobPayload {
  /** Format version. */
  readonly v: 1;
  /** Portable module id: a bare specifier (`node:zlib`, `my-jobs/work.js`) or `./root-relative/path.js`. */
  readonly module: string;
  /** The export's name. */
  readonly name: string;
  /** `v8.serialize(args)`, base64. */
  readonly args: string;
}

/** The line of a transported error's stack that carries the serialized error. */
const ERROR_LINE = "asyncio-ts:error:";
/** The failure message of a job that its producer cancelled. */
export const CANCELLED_REASON = "cancelled by its producer (asyncio-ts): not retried";

function what(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\.$/, "");
}

/** Base64 `v8.serialize(value)`; a value that cannot travel is a TypeError naming `label`. */
export function encodeValue(value: unknown, label: string): string {
  try {
    return serialize(value).toString("base64");
  } catch (error) {
    throw new TypeError(
      `${label} cannot travel to another process: ${what(error)}. Pass what structured clone ` +
        "accepts (no functions or symbols; class instances lose their prototype)",
      { cause: error },
    );
  }
}

/** The arguments of a job, encoded; a failure names the argument (`argument 2 of fn()`). */
export function encodeArgs(args: readonly unknown[], fnLabel: string): string {
  try {
    return serialize(args).toString("base64");
  } catch {
    args.forEach((arg, i) => encodeValue(arg, `argument ${i + 1} of ${fnLabel}`));
    return encodeValue(args, `the arguments of ${fnLabel}`);
  }
}

export function decodeValue(text: string): unknown {
  return deserialize(Buffer.from(text, "base64"));
}

/**
 * The error a worker throws to BullMQ for `error` (what the job threw): same message, the job's
 * stack, and a last stack line the executor rebuilds the error from.
 */
export function errorForQueue(error: unknown): Error {
  const serialized = _serializeThrown(error);
  let line: string;
  try {
    line = ERROR_LINE + serialize(serialized).toString("base64");
  } catch {
    line = "";
  }
  const transport = new Error(
    serialized.kind === "error" ? serialized.message : `a non-error value was thrown: ${String(serialized.value)}`,
  );
  const stack = serialized.kind === "error" ? (serialized.stack ?? `${serialized.name}: ${serialized.message}`) : transport.message;
  Object.defineProperty(transport, "stack", { value: line === "" ? stack : `${stack}\n${line}`, configurable: true, writable: true });
  if (serialized.kind === "error") {
    Object.defineProperty(transport, "name", { value: serialized.name, configurable: true, writable: true });
  }
  return transport;
}

/**
 * Rebuilds what a job threw from a failed job's `failedReason` and last `stacktrace` entry; an
 * error of BullMQ's own (a job that stalled too often) becomes a plain `Error` with its reason.
 */
export function errorFromQueue(failedReason: string, stacktrace: readonly string[] | null | undefined): unknown {
  const last = stacktrace === null || stacktrace === undefined ? undefined : stacktrace[stacktrace.length - 1];
  const at = last === undefined ? -1 : last.lastIndexOf(`\n${ERROR_LINE}`);
  if (last !== undefined && at >= 0) {
    try {
      const serialized = deserialize(Buffer.from(last.slice(at + 1 + ERROR_LINE.length), "base64")) as SerializedThrown;
      return _reviveThrown(serialized);
    } catch {
      // Not ours after all: fall through.
    }
  }
  const error = new Error(failedReason);
  if (last !== undefined) {
    Object.defineProperty(error, "stack", { value: last, configurable: true, writable: true });
  }
  return error;
}
