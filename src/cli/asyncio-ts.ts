#!/usr/bin/env node
/**
 * The `asyncio-ts` command: `asyncio-ts ps PID` and `asyncio-ts pstree PID` show the tasks of
 * a running Node process that uses asyncio-ts, as `python -m asyncio ps|pstree PID` does for
 * Python (3.14). It attaches through the target's inspector (see inspector-client.ts), reads
 * the snapshot the library registered under `Symbol.for("asyncio-ts.introspect")`, and prints
 * it (format.ts). It changes nothing in the target, and closes the inspector if it opened it.
 */
import { readFileSync } from "node:fs";
import { type Command, SHORT_USAGE, USAGE, UsageError, parseCommandLine } from "./args.js";
import { AwaitCycleError, type TasksSnapshot, formatCycles, formatTable, formatTree, readSnapshot } from "./format.js";
import { CliError, evaluateInProcess } from "./inspector-client.js";

/** The snapshot function of every copy of the library, called in the target; `null` if there is none. */
const SNAPSHOT_EXPRESSION = `(() => {
  const introspectors = globalThis[Symbol.for("asyncio-ts.introspect")];
  if (!Array.isArray(introspectors)) return null;
  return JSON.stringify(introspectors.filter((fn) => typeof fn === "function").map((fn) => {
    try { return { snapshot: String(fn()) }; }
    catch (error) { return { error: String(error && error.stack || error) }; }
  }));
})()`;

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
  if (!Array.isArray(entries) || entries.length === 0) {
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
  if (argv[0] === "worker") {
    // Loaded only for this command: it needs bullmq and ioredis, which `ps` does not.
    const worker = await import("../bullmq/worker-cli.js");
    return worker.main(argv.slice(1));
  }
  let command: Command;
  try {
    const parsed = parseCommandLine(argv);
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
    process.stderr.write(`asyncio-ts: ${error.message}\n${SHORT_USAGE}\n`);
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
