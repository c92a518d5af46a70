/**
 * The high-level entry points: `createSubprocessExec` and `createSubprocessShell`, each a thin
 * layer over the loop's subprocess methods with a stream protocol, as in asyncio.
 *
 * asyncio: `asyncio.subprocess` (`create_subprocess_exec`, `create_subprocess_shell`).
 */
import type { EventLoop } from "../events/loop.js";
import { getRunningLoop } from "../events/running.js";
import { DEFAULT_LIMIT } from "../streams/reader.js";
import { _spawnSubprocess } from "./loop-methods.js";
import {
  type CreateSubprocessExecOptions,
  type CreateSubprocessShellOptions,
  SUBPROCESS_KEYS,
  type SpawnPlan,
  checkCommand,
  checkProgram,
  makePlan,
  processOptions,
} from "./options.js";
import { Process } from "./process.js";
import { SubprocessStreamProtocol } from "./protocol.js";

async function createProcess(
  loop: EventLoop,
  plan: SpawnPlan,
  options: CreateSubprocessExecOptions | CreateSubprocessShellOptions | undefined,
): Promise<Process> {
  const [limit, grace] = processOptions(options, DEFAULT_LIMIT);
  const [transport, protocol] = await _spawnSubprocess(loop, () => new SubprocessStreamProtocol(limit, loop), plan);
  return new Process(transport, protocol, loop, grace);
}

/**
 * Starts `program` with the arguments `args` (no shell: each argument reaches the program as
 * it is, so nothing needs quoting) and resolves a {@link Process} once it runs. `program` is
 * looked up on the `PATH` of `env` when it has no slash. `stdin`, `stdout` and `stderr` are
 * inherited unless set to `PIPE` (then `process.stdin`… are streams), `DEVNULL`, a file, or,
 * for `stderr`, `STDOUT`. `env` replaces the environment. Beyond asyncio: `killOnCancel`.
 *
 * **Cancellation**: cancelling the awaiting task before the child runs kills the child (if it
 * started) and waits for it; the task gets `CancelledError`. For cancelling `wait()` and
 * `communicate()`, see {@link Process}.
 *
 * @throws an error with Node's `code` when the program cannot be started (`ENOENT`: not found
 * or `cwd` missing; `EACCES`: not executable), naming the program.
 * @throws {TypeError}/{@link RangeError} for bad arguments (an `args` that is not an array of
 * strings, an unknown option, `STDOUT` for stdin), naming the argument.
 * @throws {RuntimeError} synchronously when no loop runs.
 *
 * @example
 * const proc = await createSubprocessExec(process.execPath, ["-e", "console.log(6 * 7)"], { stdout: PIPE });
 * const [out] = await proc.communicate();     // <Buffer 34 32 0a>
 * proc.returncode;                            // 0
 *
 * asyncio: `asyncio.create_subprocess_exec(program, *args, stdin, stdout, stderr, limit, **kwds)`
 * (the arguments are one array here).
 */
export function createSubprocessExec(
  program: string,
  args: readonly string[],
  options?: CreateSubprocessExecOptions,
): Promise<Process> {
  return startExec(getRunningLoop(), program, args, options);
}

async function startExec(
  loop: EventLoop,
  program: string,
  args: readonly string[],
  options?: CreateSubprocessExecOptions,
): Promise<Process> {
  const [file, list] = checkProgram(program, args);
  const plan = makePlan("createSubprocessExec()", file, list, false, options, SUBPROCESS_KEYS.createExec, "inherit");
  return createProcess(loop, plan, options);
}

/**
 * Runs the command line `cmd` with the shell (`/bin/sh -c cmd`; `cmd.exe` on Windows) and
 * resolves a {@link Process} once it runs; options as {@link createSubprocessExec}, plus
 * `shell` (which shell). The shell does the parsing and quoting: never put untrusted text in
 * `cmd` (use {@link createSubprocessExec} with an array of arguments). The `pid` is the
 * shell's; a signal reaches the shell, not necessarily what it started.
 *
 * **Cancellation**: as {@link createSubprocessExec}.
 *
 * @throws {TypeError}/{@link RangeError} for bad arguments, naming the argument.
 * @throws {RuntimeError} synchronously when no loop runs.
 *
 * @example
 * const proc = await createSubprocessShell("ls | wc -l", { stdout: PIPE });
 * const [out] = await proc.communicate();
 *
 * asyncio: `asyncio.create_subprocess_shell(cmd, stdin, stdout, stderr, limit, **kwds)`.
 */
export function createSubprocessShell(cmd: string, options?: CreateSubprocessShellOptions): Promise<Process> {
  return startShell(getRunningLoop(), cmd, options);
}

async function startShell(loop: EventLoop, cmd: string, options?: CreateSubprocessShellOptions): Promise<Process> {
  const command = checkCommand(cmd);
  const plan = makePlan("createSubprocessShell()", command, [], true, options, SUBPROCESS_KEYS.createShell, "inherit");
  return createProcess(loop, plan, options);
}
