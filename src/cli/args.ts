/**
 * The command line of `asyncio-ts`: its usage text and the parsing of its arguments. Kept
 * apart from the entry (which runs when loaded) so it can be tested in-process.
 */
import { parseArgs } from "node:util";

/** The text of `asyncio-ts --help`. */
export const USAGE = `Usage: asyncio-ts <command> [options] PID

Show the asyncio-ts tasks of a running Node.js process.

Commands:
  ps PID        a table of the tasks: id, name, state, what each awaits,
                which tasks await it, the task that created it, its task group
  pstree PID    the awaited-by tree: the tasks nobody awaits at the roots,
                under each task the tasks it awaits; task groups between the
                task running them and their tasks
  worker ...    serve the jobs of a BullMQ queue (asyncio-ts/bullmq):
                worker --queue NAME --redis URL --allow MODULE... [--root DIR]
                [--concurrency N]; see asyncio-ts worker --help

Options:
  --json            print the snapshots as JSON instead (an array: one snapshot
                    per copy of asyncio-ts loaded in the process)
  --timeout SEC     seconds to wait for the process's inspector to open, then
                    for each of its answers, then for it to close (default 5)
  --port PORT       the inspector port to use instead of finding it
  -h, --help        show this help
  -v, --version     show the version of this command

The command opens the target's inspector (SIGUSR1; the target prints "Debugger
listening on ..." on its stderr), reads the tasks, and closes the inspector
again; one that was already open is left open. It needs to run as the target's
user or as root. Finding the inspector's port works on Linux; elsewhere it tries
9229 (or --port). Bun processes are not supported (no inspector); Deno's in
part (port 9229 only, from about half a second after they start).`;

/** The line printed under a mistake in the command line. */
export const SHORT_USAGE = "Usage: asyncio-ts ps|pstree [--json] [--timeout SEC] [--port PORT] PID (see --help)";

/** A mistake in the command line: reported with the short usage line, exit status 2. */
export class UsageError extends Error {}

/** What to do: a command line that parsed. */
export interface Command {
  command: "ps" | "pstree";
  /** The process to inspect. */
  pid: number;
  /** Print the snapshots as JSON. */
  json: boolean;
  /** Seconds to wait for the target's inspector to open, then for each answer (default 5). */
  timeout: number;
  /** The inspector port to use; `null`: find it. */
  port: number | null;
}

/**
 * Parses the arguments after `asyncio-ts`: a {@link Command}, or `"help"`/`"version"`.
 * @throws {UsageError} for an unknown option or command, a missing or malformed PID, a bad value.
 */
export function parseCommandLine(argv: string[]): Command | "help" | "version" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: "boolean" },
        timeout: { type: "string" },
        port: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
    });
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    throw new UsageError(unknown !== null ? `unknown option '${unknown[1]}'` : (message.split("\n")[0] as string));
  }
  const { values, positionals } = parsed;
  if (values.help === true) return "help";
  if (values.version === true) return "version";
  const [command, pidText, ...extra] = positionals;
  if (command === undefined) throw new UsageError("a command is required: ps or pstree");
  if (command !== "ps" && command !== "pstree") throw new UsageError(`unknown command '${command}': use ps or pstree`);
  if (pidText === undefined) throw new UsageError(`${command} needs the PID of the process to inspect`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (!/^[1-9]\d*$/.test(pidText) || !Number.isSafeInteger(Number(pidText))) {
    throw new UsageError(`the PID must be a positive whole number, got '${pidText}'`);
  }
  let timeout = 5;
  if (values.timeout !== undefined) {
    timeout = Number(values.timeout);
    if (!/^\d+(\.\d+)?$/.test(values.timeout) || !(timeout > 0)) {
      throw new UsageError(`--timeout must be a positive number of seconds, got '${values.timeout}'`);
    }
  }
  let port: number | null = null;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port < 1 || port > 65535) {
      throw new UsageError(`--port must be a port number (1-65535), got '${values.port}'`);
    }
  }
  return { command, pid: Number(pidText), json: values.json === true, timeout, port };
}
