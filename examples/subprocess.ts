/**
 * Subprocesses: run child programs, talk to them with `communicate()`, stream their output line
 * by line, merge stderr into stdout, and stop a child when the wait for it is cancelled
 * (`killOnCancel`). The children are Node itself (`node -e …`), so the example runs anywhere.
 */
import {
  PIPE,
  STDOUT,
  createSubprocessExec,
  createSubprocessShell,
  isTimeoutError,
  run,
  waitFor,
} from "../src/index.js";

const node = process.execPath;

async function main(): Promise<void> {
  // communicate(): send stdin, close it, collect stdout and the exit code.
  const upper = await createSubprocessExec(
    node,
    ["-e", "process.stdin.on('data', (d) => process.stdout.write(String(d).toUpperCase()))"],
    { stdin: PIPE, stdout: PIPE },
  );
  const [shouted] = await upper.communicate("hello from the parent\n");
  console.log(`[exit ${upper.returncode}] ${String(shouted).trimEnd()}`);

  // Streaming: read the output line by line while the child runs.
  const ticker = await createSubprocessExec(
    node,
    ["-e", "let i = 0; const t = setInterval(() => { console.log(`tick ${++i}`); if (i === 3) clearInterval(t); }, 50)"],
    { stdout: PIPE },
  );
  for await (const line of ticker.stdout!) console.log(`got: ${line.toString().trimEnd()}`);
  console.log(`ticker exited with ${await ticker.wait()}`);

  // stderr: STDOUT — one stream, in the order the child wrote.
  const chatty = await createSubprocessExec(
    node,
    ["-e", "console.log('to stdout'); console.error('to stderr'); process.exitCode = 3"],
    { stdout: PIPE, stderr: STDOUT },
  );
  const [both] = await chatty.communicate();
  console.log(`[exit ${chatty.returncode}] ${String(both).trimEnd().split("\n").join(" | ")}`);

  // A shell command line.
  const shell = await createSubprocessShell("echo $((6 * 7))", { stdout: PIPE });
  const [answer] = await shell.communicate();
  console.log(`the shell says ${String(answer).trim()}`);

  // killOnCancel: when waitFor gives up, the child is terminated (SIGTERM; SIGKILL after the
  // 2-second grace period) before the TimeoutError arrives. No child outlives the wait.
  const sleeper = await createSubprocessExec(node, ["-e", "setTimeout(() => {}, 60_000)"], { killOnCancel: 2 });
  try {
    await waitFor(sleeper.wait(), 0.2);
  } catch (error) {
    if (!isTimeoutError(error)) throw error;
    console.log(`gave up waiting; the child was stopped: returncode ${sleeper.returncode}`);
  }
}

await run(main);

// Expected output:
// [exit 0] HELLO FROM THE PARENT
// got: tick 1
// got: tick 2
// got: tick 3
// ticker exited with 0
// [exit 3] to stdout | to stderr
// the shell says 42
// gave up waiting; the child was stopped: returncode -15
