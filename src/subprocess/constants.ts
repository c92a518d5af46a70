/**
 * What a child's standard streams can be connected to: `PIPE`, `STDOUT`, `DEVNULL`, inherited,
 * a file descriptor or a Node stream.
 *
 * asyncio takes these from the `subprocess` module (`subprocess.PIPE == -1`…). Here they are
 * Node's own words where Node has one (`"pipe"`, `"ignore"`, `"inherit"`), so a Node user may
 * write either `PIPE` or `"pipe"`.
 *
 * @module
 */
import type { Stream } from "node:stream";

/**
 * Connect the stream to a pipe: `Process.stdin` becomes a `StreamWriter`, `Process.stdout` /
 * `Process.stderr` a `StreamReader`. Node's `"pipe"`.
 *
 * asyncio: `asyncio.subprocess.PIPE`.
 */
export const PIPE = "pipe";

/**
 * For `stderr` only: send the child's standard error into the same pipe (or file) as its
 * standard output, interleaved in the order the child writes them. `Process.stderr` is then
 * `null`.
 *
 * asyncio: `asyncio.subprocess.STDOUT`.
 */
export const STDOUT = "stdout";

/**
 * Connect the stream to the null device (`/dev/null`): reads see EOF, writes are dropped.
 * Node's `"ignore"`.
 *
 * asyncio: `asyncio.subprocess.DEVNULL`.
 */
export const DEVNULL = "ignore";

/**
 * Where a child's stdin or stdout goes:
 * - {@link PIPE} (`"pipe"`): a pipe to this process;
 * - {@link DEVNULL} (`"ignore"`): the null device;
 * - `"inherit"`, `null` or `undefined`: this process's own stream (asyncio's `None`);
 * - a file descriptor number open in this process, an object with a numeric `fd` (an
 *   `fs.promises.FileHandle`), or a Node stream that has one (a `net.Socket`, an open
 *   `fs.WriteStream`): the child gets a duplicate of it.
 */
export type StdioOption =
  | typeof PIPE
  | typeof DEVNULL
  | "inherit"
  | null
  | undefined
  | number
  | Stream
  | {
      /** A file descriptor open in this process. */
      readonly fd: number;
    };

/** Where a child's stderr goes: a {@link StdioOption}, or {@link STDOUT} (with its stdout). */
export type StderrOption = StdioOption | typeof STDOUT;
