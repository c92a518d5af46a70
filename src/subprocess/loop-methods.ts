/**
 * The event loop's subprocess methods, `loop.subprocessExec` and `loop.subprocessShell`: the
 * low-level API under `createSubprocessExec`/`createSubprocessShell`, as in asyncio.
 *
 * They attach to `EventLoop` as `transports/loop-methods.ts` does: TypeScript declaration
 * merging for the types, the prototype for the code. Importing `asyncio-ts` installs them.
 *
 * @module
 */
import { isCancellation } from "../errors.js";
import { EventLoop } from "../events/loop.js";
import { checkFunction } from "../internal/validate.js";
import { checkMadeProtocol } from "../transports/util.js";
import type { SubprocessProtocol } from "../transports/protocols.js";
import type { SubprocessTransport } from "../transports/transports.js";
import { type SharedChannel, makeSharedChannel } from "./merge.js";
import {
  SUBPROCESS_KEYS,
  type SpawnPlan,
  type SubprocessOptions,
  type SubprocessShellOptions,
  checkCommand,
  checkProgram,
  makePlan,
} from "./options.js";
import { ChildProcessTransport } from "./transport.js";

export type { SubprocessOptions, SubprocessShellOptions };

declare module "../events/loop.js" {
  interface EventLoop {
    /**
     * Starts `program` with the arguments `args` (no shell) and resolves
     * `[transport, protocol]` once the child is running and the protocol's `connectionMade`
     * has run. `stdin`, `stdout` and `stderr` default to `PIPE`: the protocol gets the output
     * through `pipeDataReceived(fd, data)` and writes to the child with
     * `transport.getPipeTransport(0).write(…)`. The callbacks come in asyncio's order:
     * `connectionMade`; per pipe, `pipeDataReceived*` then `pipeConnectionLost`;
     * `processExited` (before or after the pipe callbacks); `connectionLost(null)` last, once
     * the child exited and every pipe closed.
     *
     * `transport.close()` kills the child if it still runs.
     *
     * **Cancellation**: cancelling the awaiting task before the child is running kills the
     * child (if it started) and waits for it, then the task gets `CancelledError`: nothing is
     * left behind.
     *
     * @throws an error with Node's `code` when the program cannot be started (`ENOENT`: not
     * found, or `cwd` does not exist; `EACCES`: not executable), naming the program.
     * @throws {TypeError}/{@link RangeError} for bad arguments, naming the argument.
     *
     * @example
     * const [transport, protocol] = await loop.subprocessExec(() => new Collect(), "ls", ["-l"]);
     *
     * asyncio: `loop.subprocess_exec(protocol_factory, *args, stdin, stdout, stderr, **kwargs)`.
     */
    subprocessExec<P extends SubprocessProtocol>(
      protocolFactory: () => P,
      program: string,
      args: readonly string[],
      options?: SubprocessOptions,
    ): Promise<[SubprocessTransport, P]>;

    /**
     * Runs the command line `cmd` with the shell (`/bin/sh -c cmd`; `cmd.exe` on Windows) and
     * resolves `[transport, protocol]` as {@link EventLoop.subprocessExec} does. The shell
     * does the quoting: never put untrusted text in `cmd`.
     *
     * **Cancellation**: as {@link EventLoop.subprocessExec}.
     *
     * asyncio: `loop.subprocess_shell(protocol_factory, cmd, stdin, stdout, stderr, **kwargs)`.
     */
    subprocessShell<P extends SubprocessProtocol>(
      protocolFactory: () => P,
      cmd: string,
      options?: SubprocessShellOptions,
    ): Promise<[SubprocessTransport, P]>;
  }
}

/**
 * @internal Spawns the child of `plan` with a protocol from `protocolFactory` (asyncio's
 * `_make_subprocess_transport`): a shared channel first for `stderr: STDOUT`, then the
 * transport; resolves once `connectionMade` ran. On a cancel or an error after the spawn, the
 * transport is closed (the child killed) and, for a cancel, the child awaited.
 */
export async function _spawnSubprocess<P extends SubprocessProtocol>(
  loop: EventLoop,
  protocolFactory: () => P,
  plan: SpawnPlan,
): Promise<[ChildProcessTransport, P]> {
  checkFunction("protocolFactory", protocolFactory);
  let channel: SharedChannel | null = null;
  if (plan.stdio[1].kind === "pipe" && plan.stdio[2].kind === "stdout") {
    channel = await makeSharedChannel(loop);
  }
  let transport: ChildProcessTransport;
  const waiter = loop.createFuture<void>();
  let protocol: P;
  try {
    protocol = protocolFactory();
    checkMadeProtocol(protocol);
    transport = new ChildProcessTransport(loop, protocol, plan, channel, waiter);
  } catch (error) {
    channel?.reader.destroy();
    channel?.writer.destroy();
    throw error;
  }
  try {
    await waiter;
  } catch (error) {
    transport.close();
    if (isCancellation(error)) {
      try {
        await transport._wait();
      } catch {
        // It never started (the spawn failed meanwhile): nothing to wait for.
      }
    }
    throw error;
  }
  return [transport, protocol];
}

const proto = EventLoop.prototype;

proto.subprocessExec = async function <P extends SubprocessProtocol>(
  this: EventLoop,
  protocolFactory: () => P,
  program: string,
  args: readonly string[],
  options?: SubprocessOptions,
): Promise<[SubprocessTransport, P]> {
  const [file, list] = checkProgram(program, args);
  const plan = makePlan("loop.subprocessExec()", file, list, false, options, SUBPROCESS_KEYS.exec, "pipe");
  return _spawnSubprocess(this, protocolFactory, plan);
};

proto.subprocessShell = async function <P extends SubprocessProtocol>(
  this: EventLoop,
  protocolFactory: () => P,
  cmd: string,
  options?: SubprocessShellOptions,
): Promise<[SubprocessTransport, P]> {
  const command = checkCommand(cmd);
  const plan = makePlan("loop.subprocessShell()", command, [], true, options, SUBPROCESS_KEYS.shell, "pipe");
  return _spawnSubprocess(this, protocolFactory, plan);
};
