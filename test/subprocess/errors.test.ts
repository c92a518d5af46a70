// Bad input and faults: a program that cannot be started, bad arguments and options. Each is a
// clear error naming what went wrong (Node's `code` kept), never a hang or a crashed loop.
// CPython: test_subprocess.py test_popen_error, test_create_subprocess_exec_text_mode_fails,
// test_create_subprocess_shell_text_mode_fails; test_events.py test_subprocess_exec_invalid_args.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  PIPE,
  STDOUT,
  SubprocessProtocol,
  createSubprocessExec,
  createSubprocessShell,
  getRunningLoop,
} from "../../src/index.js";
import { CAT, NODE, errorOf, runSub } from "./support.js";

type Coded = Error & { code?: string; syscall?: string; path?: string; cause?: unknown };

describe("a program that cannot be started", { timeout: 120_000 }, () => {
  it("ENOENT: rejects with an error that names the program and keeps Node's code", async () => {
    await runSub(async (messages) => {
      const error = (await errorOf(createSubprocessExec("no-such-program-asyncio-ts", ["x"], { stdout: PIPE }))) as Coded;
      assert.equal(error.code, "ENOENT");
      assert.match(error.message, /no-such-program-asyncio-ts/);
      assert.match(error.message, /not found/);
      assert.equal(error.path, "no-such-program-asyncio-ts");
      assert.equal((error.cause as Coded).code, "ENOENT");
      // The loop is fine: the next child runs.
      const proc = await createSubprocessExec(NODE, ["-e", "0"]);
      assert.equal(await proc.wait(), 0);
      assert.deepEqual(messages, []);
    });
  });

  it("ENOENT with stderr: STDOUT and every pipe: nothing is left open", async () => {
    await runSub(async (messages) => {
      const options = { stdin: PIPE, stdout: PIPE, stderr: STDOUT } as const;
      const error = (await errorOf(createSubprocessExec("/no/such/program", [], options))) as Coded;
      assert.equal(error.code, "ENOENT");
      assert.deepEqual(messages, []);
    });
  });

  it("a working directory that does not exist is named as the cause", async () => {
    await runSub(async () => {
      const error = (await errorOf(createSubprocessExec(NODE, ["-e", "0"], { cwd: "/no/such/dir/asyncio-ts" }))) as Coded;
      assert.equal(error.code, "ENOENT");
      assert.match(error.message, /working directory "\/no\/such\/dir\/asyncio-ts" does not exist/);
    });
  });

  it("EACCES: a file that is not executable", { skip: process.platform === "win32" }, async () => {
    await runSub(async () => {
      const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-test-"));
      try {
        const path = join(dir, "script.sh");
        writeFileSync(path, "#!/bin/sh\nexit 0\n");
        chmodSync(path, 0o644);
        const error = (await errorOf(createSubprocessExec(path, []))) as Coded;
        assert.equal(error.code, "EACCES");
        assert.match(error.message, /permission denied/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it("the low-level API rejects the same way and never calls the protocol", async () => {
    await runSub(async () => {
      const calls: string[] = [];
      class Watch extends SubprocessProtocol {
        override connectionMade(): void {
          calls.push("connectionMade");
        }
        override connectionLost(): void {
          calls.push("connectionLost");
        }
      }
      const error = (await errorOf(getRunningLoop().subprocessExec(() => new Watch(), "no-such-program-asyncio-ts", []))) as Coded;
      assert.equal(error.code, "ENOENT");
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(calls, []);
    });
  });
});

describe("bad arguments", () => {
  const cases: [string, () => Promise<unknown>, new (...a: never[]) => Error, RegExp][] = [
    ["a program that is not a string", () => createSubprocessExec(42 as unknown as string, []), TypeError, /`program` must be a string, got 42/],
    ["an empty program", () => createSubprocessExec("", []), RangeError, /`program` must not be empty/],
    ["args missing", () => createSubprocessExec(NODE, undefined as unknown as string[]), TypeError, /`args` must be an array of strings/],
    ["args as a string", () => createSubprocessExec(NODE, "-e 0" as unknown as string[]), TypeError, /`args` must be an array/],
    ["an argument that is not a string", () => createSubprocessExec(NODE, ["-e", 1 as unknown as string]), TypeError, /`args\[1\]` must be a string, got 1/],
    ["an argument with a NUL byte", () => createSubprocessExec(NODE, ["a\0b"]), RangeError, /`args\[0\]` must not contain NUL/],
    ["a command that is not a string", () => createSubprocessShell(["ls"] as unknown as string), TypeError, /`cmd` must be a string/],
    ["an empty command", () => createSubprocessShell(""), RangeError, /`cmd` must not be empty/],
    ["STDOUT for stdout", () => createSubprocessExec(NODE, [], { stdout: STDOUT as never }), RangeError, /STDOUT can only be used for `stderr`/],
    ["STDOUT for stdin", () => createSubprocessExec(NODE, [], { stdin: STDOUT as never }), RangeError, /STDOUT can only be used for `stderr`, got it for `stdin`/],
    ["an unknown stdio word", () => createSubprocessExec(NODE, [], { stdin: "pipes" as never }), TypeError, /`stdin` must be PIPE, DEVNULL, "inherit"/],
    ["a negative fd", () => createSubprocessExec(NODE, [], { stdout: -1 }), RangeError, /`stdout` must be a file descriptor/],
    ["an env that is not an object", () => createSubprocessExec(NODE, [], { env: "A=1" as never }), TypeError, /`env` must be an object of strings/],
    ["an env value that is not a string", () => createSubprocessExec(NODE, [], { env: { PORT: 8080 as unknown as string } }), TypeError, /`env.PORT` must be a string, got 8080/],
    ["a cwd that is not a path", () => createSubprocessExec(NODE, [], { cwd: 1 as never }), TypeError, /`cwd` must be a path/],
    ["a limit of 0", () => createSubprocessExec(NODE, [], { limit: 0 }), RangeError, /`limit` must be > 0, got 0/],
    ["a negative grace period", () => createSubprocessExec(NODE, [], { killOnCancel: -1 }), RangeError, /`killOnCancel` must be a boolean or a grace period >= 0/],
    ["a grace period that is not a number", () => createSubprocessExec(NODE, [], { killOnCancel: "5" as never }), TypeError, /`killOnCancel`/],
    ["an unknown option", () => createSubprocessExec(NODE, [], { stdot: PIPE } as never), TypeError, /unknown option `stdot` \(did you mean `stdout`\?\); known options: stdin, stdout/],
    ["text mode (asyncio refuses it too)", () => createSubprocessExec(NODE, [], { encoding: "utf-8" } as never), TypeError, /`encoding`.*decode them yourself/],
    ["text mode for a shell", () => createSubprocessShell("true", { text: true } as never), TypeError, /`text`/],
    ["argv0 for a shell", () => createSubprocessShell("true", { argv0: "x" } as never), TypeError, /`argv0`/],
    ["options that are not an object", () => createSubprocessExec(NODE, [], 5 as never), TypeError, /`options` of createSubprocessExec\(\) must be an options object/],
  ];
  for (const [what, call, type, message] of cases) {
    it(`${what} is a ${type.name}`, async () => {
      await runSub(async () => {
        const error = await errorOf(call());
        assert.ok(error instanceof type, `${String(error)}`);
        assert.match((error as Error).message, message);
      });
    });
  }

  it("communicate() checks its input at once", async () => {
    await runSub(async () => {
      const proc = await createSubprocessExec(NODE, CAT, { stdin: PIPE, stdout: PIPE });
      assert.throws(() => proc.communicate(42 as unknown as string), (e) => e instanceof TypeError && /`input`/.test(e.message));
      const [out] = await proc.communicate();
      assert.equal(out?.length, 0);
      const noStdin = await createSubprocessExec(NODE, ["-e", "0"]);
      assert.throws(() => noStdin.communicate("lost"), (e) => e instanceof RangeError && /stdin: PIPE/.test(e.message));
      assert.deepEqual(await noStdin.communicate(), [null, null]);
    });
  });
});
