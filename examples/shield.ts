/**
 * shield: wait for work without letting a cancellation reach the work.
 *
 * If `main` were cancelled while waiting, `main` would get `CancelledError` at its `await`
 * while `work` ran on to the end.
 *
 * Like its Python twin, the program prints nothing: nothing cancels `main`, so `res` is
 * "done". (The cheat sheet's Python writes `shield` and `CancelledError` without the
 * `asyncio.` prefix, which would stop it with a NameError; with the prefix it prints nothing.)
 *
 * Catching `CancelledError` and going on, as this program does, swallows the cancellation:
 * the task was asked to stop and does not. Real code catches it to clean up, then rethrows.
 *
 * asyncio cheat sheet: "Shielding from Cancellation".
 */
import { CancelledError, run, shield } from "../src/index.js";

async function work(): Promise<string> {
  return "done";
}

async function main(): Promise<string | null> {
  let res: string | null;
  try {
    res = await shield(work);
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
    res = null;
  }
  return res;
}

await run(main);

// Expected output: (none)
