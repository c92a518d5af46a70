#!/usr/bin/env node
/**
 * The `asyncio-ts` command: `asyncio-ts ps PID` and `asyncio-ts pstree PID` show the tasks of
 * a running Node process that uses asyncio-ts, as `python -m asyncio ps|pstree PID` does for
 * Python (3.14). It attaches through the target's inspector (see inspector-client.ts), reads
 * the snapshot the library registered under `Symbol.for("asyncio-ts.introspect")`, and prints
 * it (format.ts). It changes nothing in the target, and closes the inspector if it opened it.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { AwaitCycleError, type TasksSnapshot, formatCycles, formatTable, formatTree, readSnapshot } from "./format.js";
import { CliError, evaluateInProcess } from "./inspector-client.js";

const USAGE = `Usage: asyncio-ts <command> [options] PID

Show the asyncio-ts tasks of a running Node.js process.

Commands:
  ps PID        a table of the tasks: id, name, state, what each awaits,
                which tasks await it, the task that created it, its task group
  pstree PID    the awaited-by tree: the tasks nobody awaits at the roots,
                under each task the tasks it awaits; task groups between the
                task running them and their tasks

Options:
  --json            print the snapshots as JSON instead (an array: one snapshot
                    per copy of asyncio-ts loaded in the process)
  --timeout SEC     seconds to wait for the process's inspector (default 5)
  --port PORT       the inspector port to use instead of finding it
  -h, --help        show this help
  -v, --version     show the version of this command

The command opens the target's inspector (SIGUSR1; the target prints "Debugger
listening on ..." on its stderr), reads the tasks, and closes the inspector
again; one that was already open is left open. It needs to run as the target's
user or as root. Finding the inspector's port works on Linux; elsewhere it tries
9229 (or --port). Bun and Deno processes are not supported.`;

/** The snapshot function of every copy of the library, called in the target; `null` if there is none. */
const SNAPSHOT_EXPRESSION = `(() => {
  const introspectors = globalThis[Symbol.for("asyncio-ts.introspect")];
  if (!Array.isArray(introspectors)) return null;
  return JSON.stringify(introspectors.map((fn) => {
    try { return { snapshot: String(fn()) }; }
    catch (error) { return { error: String(error && error.stack || error) }; }
  }));
})()`;

/** A mistake in the command line: reported with the usage line, exit status 2. */
class UsageError extends Error {}

interface Command {
  command: "ps" | "pstree";
  pid: number;
  json: boolean;
  timeout: number;
  port: number | null;
}

function parse(argv: string[]): Command | "help" | "version" {
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

/** Reads the snapshots of process `pid`: one per copy of the library. */
async function readSnapshots(command: Command): Promise<unknown[]> {
  const result = await evaluateInProcess(command.pid, SNAPSHOT_EXPRESSION, {
    timeout: command.timeout,
    port: command.port,
  });
  if (result.opened && !result.closed) {
    process.stderr.write(
      `asyncio-ts: warning: the inspector of process ${command.pid} still listens on ${result.host}:${result.port}; ` +
        "while it is open any local user can run code in that process\n",
    );
  }
  if (result.value === null || result.value === undefined) {
    throw new CliError(
      `process ${command.pid} does not use asyncio-ts (or a version without task snapshots): ` +
        "nothing is registered under Symbol.for('asyncio-ts.introspect')",
    );
  }
  let entries: { snapshot?: string; error?: string }[];
  try {
    entries = JSON.parse(String(result.value)) as typeof entries;
  } catch {
    throw new CliError(`process ${command.pid} answered with something that is not a snapshot`);
  }
  if (entries.length === 0) {
    throw new CliError(`process ${command.pid} has the asyncio-ts registry but no copy of asyncio-ts in it`);
  }
  return entries.map((entry, i) => {
    if (typeof entry.snapshot !== "string") {
      throw new CliError(`copy ${i + 1} of asyncio-ts in process ${command.pid} failed to take a snapshot: ${entry.error?.split("\n")[0] ?? "no reason given"}`);
    }
    try {
      return JSON.parse(entry.snapshot) as unknown;
    } catch {
      throw new CliError(`copy ${i + 1} of asyncio-ts in process ${command.pid} gave a snapshot that is not JSON`);
    }
  });
}

function version(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return String((JSON.parse(text) as { version?: unknown }).version);
}

/** Runs the command line `argv`; resolves the exit status. */
async function main(argv: string[]): Promise<number> {
  let command: Command;
  try {
    const parsed = parse(argv);
    if (parsed === "help") {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (parsed === "version") {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    command = parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`asyncio-ts: ${error.message}\nUsage: asyncio-ts ps|pstree [--json] [--timeout SEC] [--port PORT] PID (see --help)\n`);
    return 2;
  }
  try {
    const raw = await readSnapshots(command);
    if (command.json) {
      process.stdout.write(`${JSON.stringify(raw, null, 2)}\n`);
      return 0;
    }
    const snapshots: TasksSnapshot[] = raw.map(readSnapshot);
    process.stdout.write(`${command.command === "ps" ? formatTable(snapshots) : formatTree(snapshots)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof AwaitCycleError) {
      process.stderr.write(`${formatCycles(error)}\n`);
      return 1;
    }
    if (error instanceof CliError) {
      process.stderr.write(`asyncio-ts: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
