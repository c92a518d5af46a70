/**
 * `asyncio-ts worker --queue NAME --redis URL --allow MODULE… [--root DIR] [--concurrency N]`:
 * runs {@link runWorker} from the command line until SIGTERM drains it (exit 0) or SIGINT
 * (Ctrl-C) cancels it (its running jobs are handed back to the queue; exit 130).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { KeyboardInterrupt } from "../errors.js";
import { run } from "../runners.js";
import { runWorker } from "./worker.js";

const USAGE =
  "usage: asyncio-ts worker --queue NAME --redis URL --allow MODULE [--allow MODULE…] [--root DIR]\n" +
  "                         [--concurrency N] [--shutdown-grace SECONDS] [--lock-duration SECONDS]\n" +
  "                         [--stalled-interval SECONDS] [--prefix PREFIX]\n" +
  "  --allow   a package name (allows its subpaths too) or a ./path under --root (a directory ends with /)\n" +
  "  --root    where ./paths are found; default the current directory\n";

function number(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new TypeError(`${flag} takes a number, got ${JSON.stringify(text)}`);
  return value;
}

/** Where the command writes (the process's streams by default; tests pass their own). */
export interface CommandOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * Runs the `worker` subcommand with `argv` (the arguments after `worker`); resolves the exit
 * code. Bad arguments print the usage to stderr and resolve 2.
 */
export async function main(
  argv: readonly string[],
  { stdout, stderr }: CommandOutput = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        queue: { type: "string" },
        redis: { type: "string" },
        allow: { type: "string", multiple: true },
        root: { type: "string" },
        concurrency: { type: "string" },
        "shutdown-grace": { type: "string" },
        "lock-duration": { type: "string" },
        "stalled-interval": { type: "string" },
        prefix: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    stderr.write(`asyncio-ts worker: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    stdout.write(USAGE);
    return 0;
  }
  if (values.queue === undefined || values.redis === undefined || values.allow === undefined) {
    stderr.write(`asyncio-ts worker: --queue, --redis and --allow are required\n${USAGE}`);
    return 2;
  }
  const { queue, redis, allow, root, prefix } = values;
  let options;
  try {
    options = {
      queue,
      connection: redis,
      allow,
      ...(root === undefined ? {} : { root: root.startsWith("file:") ? root : resolve(root) }),
      ...(values.concurrency === undefined ? {} : { concurrency: number("--concurrency", values.concurrency) as number }),
      ...(values["shutdown-grace"] === undefined ? {} : { shutdownGrace: number("--shutdown-grace", values["shutdown-grace"]) as number }),
      ...(values["lock-duration"] === undefined ? {} : { lockDuration: number("--lock-duration", values["lock-duration"]) as number }),
      ...(values["stalled-interval"] === undefined ? {} : { stalledInterval: number("--stalled-interval", values["stalled-interval"]) as number }),
      ...(prefix === undefined ? {} : { prefix }),
    };
  } catch (error) {
    stderr.write(`asyncio-ts worker: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  stderr.write(`asyncio-ts worker: serving queue ${JSON.stringify(queue)} (pid ${process.pid})\n`);
  try {
    // SIGTERM is the worker's own (a drain), not a cancel of main: run() handles SIGINT only.
    await run(() => runWorker(options), { signals: ["SIGINT"] });
    stderr.write("asyncio-ts worker: drained, exiting\n");
    return 0;
  } catch (error) {
    if (error instanceof KeyboardInterrupt) return 130;
    if (error instanceof TypeError || error instanceof RangeError) {
      stderr.write(`asyncio-ts worker: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
