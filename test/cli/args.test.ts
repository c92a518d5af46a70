// The command line of `asyncio-ts`, parsed in-process: what each form means, and the one-line
// message for each mistake (test/cli/ps.test.ts runs the command for real).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError, parseCommandLine } from "../../src/cli/args.js";

describe("asyncio-ts arguments", () => {
  it("reads a command, a PID and the options, in any order", () => {
    assert.deepEqual(parseCommandLine(["ps", "123"]), { command: "ps", pid: 123, json: false, timeout: 5, port: null });
    assert.deepEqual(parseCommandLine(["--json", "pstree", "--timeout", "1.5", "7", "--port=9230"]), {
      command: "pstree",
      pid: 7,
      json: true,
      timeout: 1.5,
      port: 9230,
    });
  });

  it("answers --help and --version before anything else", () => {
    assert.equal(parseCommandLine(["--help"]), "help");
    assert.equal(parseCommandLine(["ps", "-h"]), "help");
    assert.equal(parseCommandLine(["-v"]), "version");
  });

  for (const [args, message] of [
    [["ps", "--verbose", "12"], "unknown option '--verbose'"],
    [["ps", "-x", "12"], "unknown option '-x'"],
    [["top", "12"], "unknown command 'top': use ps or pstree"],
    [[], "a command is required: ps or pstree"],
    [["pstree"], "pstree needs the PID of the process to inspect"],
    [["ps", "12", "13"], "unexpected argument '13'"],
    [["ps", "12x"], "the PID must be a positive whole number, got '12x'"],
    [["ps", "0"], "the PID must be a positive whole number, got '0'"],
    [["ps", "99999999999999999999"], "the PID must be a positive whole number, got '99999999999999999999'"],
    [["ps", "--timeout", "soon", "12"], "--timeout must be a positive number of seconds, got 'soon'"],
    [["ps", "--timeout=0", "12"], "--timeout must be a positive number of seconds, got '0'"],
    [["ps", "--port", "70000", "12"], "--port must be a port number (1-65535), got '70000'"],
    [["ps", "12", "--timeout"], "Option '--timeout <value>' argument missing"],
    [["ps", "--json=yes", "12"], "Option '--json' does not take an argument"],
  ] as const) {
    it(`refuses ${JSON.stringify(args.join(" "))}: ${message}`, () => {
      assert.throws(
        () => parseCommandLine([...args]),
        (error: unknown) => error instanceof UsageError && error.message === message,
      );
    });
  }
});
