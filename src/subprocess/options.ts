/**
 * @internal The options of the subprocess functions, their checks, and what they become: a
 * {@link SpawnPlan} that the transport hands to Node's `child_process.spawn`.
 *
 * Every message names the argument, the rule and what was given; an unknown option is a
 * `TypeError` listing the known ones (asyncio's `text=True`, `encoding=…`, `bufsize=…` are
 * refused the same way: the streams carry bytes).
 */
import { Stream } from "node:stream";
import { type CoversOptionKeys, checkOptions, describe } from "../internal/validate.js";
import { DEVNULL, PIPE, STDOUT, type StderrOption, type StdioOption } from "./constants.js";

/**
 * Options of `loop.subprocessExec` and `loop.subprocessShell` (and, with `limit` and
 * `killOnCancel`, of the high-level functions).
 */
export interface SubprocessOptions {
  /** The child's standard input (see {@link StdioOption}). Default: `PIPE` for the loop methods, inherited for `createSubprocess*`. */
  stdin?: StdioOption;
  /** The child's standard output. Default as `stdin`. */
  stdout?: StdioOption;
  /** The child's standard error; `STDOUT` sends it with the standard output. Default as `stdin`. */
  stderr?: StderrOption;
  /**
   * The child's whole environment: it replaces this process's (`{ ...process.env, FOO: "1" }`
   * to add to it). Values must be strings; an `undefined` value leaves the name out.
   * Default: `process.env`.
   */
  env?: Readonly<Record<string, string | undefined>> | null;
  /** The child's working directory (a path or a `file:` URL). Default: this process's. */
  cwd?: string | URL | null;
  /**
   * Run the child in a new session (POSIX `setsid()`, Node's `detached`), so a signal sent to
   * this process's group (Ctrl-C in a terminal) does not reach it. Default: false.
   * asyncio: `start_new_session=True`.
   */
  startNewSession?: boolean;
  /** POSIX: the user id the child runs as. */
  uid?: number;
  /** POSIX: the group id the child runs as. */
  gid?: number;
  /** The `argv[0]` the child sees; default: the program as given. Exec only. */
  argv0?: string;
  /** Windows: hide the console window of the child. Default: false. */
  windowsHide?: boolean;
}

/** Options of `loop.subprocessShell` and `createSubprocessShell`: adds the shell to use. */
export interface SubprocessShellOptions extends Omit<SubprocessOptions, "argv0"> {
  /**
   * The shell that runs the command: `/bin/sh` (POSIX) or `cmd.exe` (Windows) by default,
   * given the command with `-c` (`/d /s /c` on Windows), as Node's `shell: true` does.
   */
  shell?: string;
}

/** What the high-level functions add to the options of the loop methods. */
export interface ProcessOptions {
  /**
   * The line length limit of the `stdout`/`stderr` readers, in bytes; reading from the pipe
   * pauses while more than twice this much is buffered. Default 64 KiB.
   */
  limit?: number;
  /**
   * Beyond asyncio (Trio's behaviour): when the task awaiting `wait()` or `communicate()` is
   * cancelled, stop the child before the `CancelledError` goes on: send SIGTERM, wait this
   * many seconds (`true`: 5), send SIGKILL, and wait for the exit. `0` sends SIGKILL at once.
   * Default `false`: the child keeps running, as in asyncio.
   */
  killOnCancel?: boolean | number;
}

/** Options of {@link createSubprocessExec}. */
export interface CreateSubprocessExecOptions extends SubprocessOptions, ProcessOptions {}

/** Options of {@link createSubprocessShell}. */
export interface CreateSubprocessShellOptions extends SubprocessShellOptions, ProcessOptions {}

/** @internal Where one standard stream goes, checked. */
export type StdioPlan =
  | { readonly kind: "pipe" }
  | { readonly kind: "devnull" }
  | { readonly kind: "inherit" }
  | { readonly kind: "stdout" }
  | { readonly kind: "given"; readonly value: number | Stream | { readonly fd: number } };

/** @internal Everything `spawn` needs, checked. */
export interface SpawnPlan {
  /** The program (exec) or the command line (shell). */
  readonly file: string;
  readonly args: readonly string[];
  /** `false` for exec; `true` or the shell's path for shell. */
  readonly shell: boolean | string;
  readonly stdio: readonly [StdioPlan, StdioPlan, StdioPlan];
  readonly env: NodeJS.ProcessEnv | undefined;
  readonly cwd: string | URL | undefined;
  readonly detached: boolean;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly argv0: string | undefined;
  readonly windowsHide: boolean;
}

/** The default grace period of `killOnCancel: true`, in seconds. */
export const DEFAULT_KILL_GRACE = 5;

/** The keys the exec and shell forms share. */
const SPAWN_KEYS = ["stdin", "stdout", "stderr", "env", "cwd", "startNewSession", "uid", "gid", "windowsHide"] as const;
const EXEC_KEYS = [...SPAWN_KEYS, "argv0"] as const satisfies readonly (keyof SubprocessOptions)[];
const SHELL_KEYS = [...SPAWN_KEYS, "shell"] as const satisfies readonly (keyof SubprocessShellOptions)[];
const PROCESS_KEYS = ["limit", "killOnCancel"] as const satisfies readonly (keyof ProcessOptions)[];
const CREATE_EXEC_KEYS = [...EXEC_KEYS, ...PROCESS_KEYS] as const satisfies readonly (keyof CreateSubprocessExecOptions)[];
const CREATE_SHELL_KEYS = [...SHELL_KEYS, ...PROCESS_KEYS] as const satisfies readonly (keyof CreateSubprocessShellOptions)[];

/** @internal The option keys of each subprocess function: loop method or high-level, exec or shell. */
export const SUBPROCESS_KEYS = {
  exec: EXEC_KEYS,
  shell: SHELL_KEYS,
  createExec: CREATE_EXEC_KEYS,
  createShell: CREATE_SHELL_KEYS,
} as const;

/** asyncio's text-mode options, refused with a word on why. */
const TEXT_OPTIONS = ["text", "encoding", "errors", "universalNewlines", "bufsize"];

function textHint(unknown: readonly string[]): string {
  return unknown.some((key) => TEXT_OPTIONS.includes(key)) ? " (the pipes carry bytes: decode them yourself)" : "";
}

function isStreamLike(value: object): boolean {
  return value instanceof Stream || typeof (value as { fd?: unknown }).fd === "number";
}

function stdioPlan(name: string, value: unknown, fallback: StdioPlan): StdioPlan {
  if (value === undefined) return fallback;
  if (value === null || value === "inherit") return { kind: "inherit" };
  if (value === PIPE) return { kind: "pipe" };
  if (value === DEVNULL) return { kind: "devnull" };
  if (value === STDOUT) {
    if (name === "stderr") return { kind: "stdout" };
    throw new RangeError(`STDOUT can only be used for \`stderr\`, got it for \`${name}\``);
  }
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`\`${name}\` must be a file descriptor (an integer >= 0), got ${value}`);
    }
    return { kind: "given", value };
  }
  if (typeof value === "object" && isStreamLike(value)) return { kind: "given", value: value as Stream };
  throw new TypeError(
    `\`${name}\` must be PIPE, DEVNULL, ${name === "stderr" ? "STDOUT, " : ""}"inherit", null, a file ` +
      `descriptor or a stream, got ${describe(value)}`,
  );
}

function checkEnv(value: unknown): NodeJS.ProcessEnv | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`\`env\` must be an object of strings, got ${describe(value)}`);
  }
  const env: NodeJS.ProcessEnv = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (typeof v !== "string") throw new TypeError(`\`env.${key}\` must be a string, got ${describe(v)}`);
    if (key.includes("=") || key.includes("\0") || v.includes("\0")) {
      throw new RangeError(`\`env.${key}\`: names cannot contain "=" and values cannot contain NUL bytes`);
    }
    env[key] = v;
  }
  return env;
}

function checkOptionalString(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new TypeError(`\`${name}\` must be a string, got ${describe(value)}`);
  return value;
}

function checkOptionalBoolean(name: string, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw new TypeError(`\`${name}\` must be a boolean, got ${describe(value)}`);
  return value;
}

function checkId(name: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`\`${name}\` must be an integer >= 0, got ${describe(value)}`);
  }
  return value;
}

function checkCwd(value: unknown): string | URL | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" || value instanceof URL) return value;
  throw new TypeError(`\`cwd\` must be a path (a string or a file: URL), got ${describe(value)}`);
}

/** @internal Checks `program` and `args` of an exec function. */
export function checkProgram(program: unknown, args: unknown): [string, string[]] {
  if (typeof program !== "string") {
    throw new TypeError(`\`program\` must be a string, got ${describe(program)}`);
  }
  if (program.length === 0) throw new RangeError("`program` must not be empty");
  if (program.includes("\0")) throw new RangeError("`program` must not contain NUL bytes");
  if (!Array.isArray(args)) {
    throw new TypeError(
      `\`args\` must be an array of strings (pass [] for none), got ${describe(args)}`,
    );
  }
  const list: string[] = [];
  args.forEach((arg: unknown, i) => {
    if (typeof arg !== "string") throw new TypeError(`\`args[${i}]\` must be a string, got ${describe(arg)}`);
    if (arg.includes("\0")) throw new RangeError(`\`args[${i}]\` must not contain NUL bytes`);
    list.push(arg);
  });
  return [program, list];
}

/** @internal Checks `cmd` of a shell function. */
export function checkCommand(cmd: unknown): string {
  if (typeof cmd !== "string") {
    throw new TypeError(`\`cmd\` must be a string (the command line), got ${describe(cmd)}`);
  }
  if (cmd.length === 0) throw new RangeError("`cmd` must not be empty");
  if (cmd.includes("\0")) throw new RangeError("`cmd` must not contain NUL bytes");
  return cmd;
}

/**
 * @internal Checks the options of a subprocess function and makes its {@link SpawnPlan}.
 * `fn` names the function for messages; `known` is its option keys (one list of
 * {@link SUBPROCESS_KEYS}); `defaultStdio` is `pipe` for the loop methods and `inherit` for
 * `createSubprocess*`.
 */
export function makePlan<T, const K extends readonly string[]>(
  fn: string,
  file: string,
  args: readonly string[],
  shell: boolean,
  options: T,
  known: K & CoversOptionKeys<T, K>,
  defaultStdio: "pipe" | "inherit",
): SpawnPlan {
  // `null` means no options here, as it always did (the key list was checked by the signature).
  if (options !== null) checkOptions<unknown, K>(fn, options, known as K & CoversOptionKeys<unknown, K>, textHint);
  const o = (options ?? {}) as Record<string, unknown>;
  const fallback: StdioPlan = { kind: defaultStdio };
  const stdio: [StdioPlan, StdioPlan, StdioPlan] = [
    stdioPlan("stdin", o.stdin, fallback),
    stdioPlan("stdout", o.stdout, fallback),
    stdioPlan("stderr", o.stderr, fallback),
  ];
  let shellOption: boolean | string = false;
  if (shell) shellOption = checkOptionalString("shell", o.shell) ?? true;
  return {
    file,
    args,
    shell: shellOption,
    stdio,
    env: checkEnv(o.env),
    cwd: checkCwd(o.cwd),
    detached: checkOptionalBoolean("startNewSession", o.startNewSession),
    uid: checkId("uid", o.uid),
    gid: checkId("gid", o.gid),
    argv0: shell ? undefined : checkOptionalString("argv0", o.argv0),
    windowsHide: checkOptionalBoolean("windowsHide", o.windowsHide),
  };
}

/** @internal The `limit` and `killOnCancel` options, checked: `[limit, grace or null]`. */
export function processOptions(options: ProcessOptions | undefined, defaultLimit: number): [number, number | null] {
  const limit = options?.limit ?? defaultLimit;
  if (typeof limit !== "number" || Number.isNaN(limit)) {
    throw new TypeError(`\`limit\` must be a number of bytes, got ${describe(limit)}`);
  }
  if (limit <= 0) throw new RangeError(`\`limit\` must be > 0, got ${limit}`);
  const kill = options?.killOnCancel ?? false;
  let grace: number | null;
  if (kill === false) grace = null;
  else if (kill === true) grace = DEFAULT_KILL_GRACE;
  else if (typeof kill === "number" && kill >= 0) grace = kill;
  else if (typeof kill === "number") {
    throw new RangeError(`\`killOnCancel\` must be a boolean or a grace period >= 0 seconds, got ${kill}`);
  } else {
    throw new TypeError(
      `\`killOnCancel\` must be a boolean or a grace period in seconds, got ${describe(kill)}`,
    );
  }
  return [limit, grace];
}
