/**
 * Error helpers shared by the tests: catching a rejection, and the Python error classes that
 * ported CPython tests raise (their names kept so the ports read like the originals).
 */
import assert from "node:assert/strict";

/** Awaits `aw` and returns the error it rejects with; fails the test when it resolves. */
export async function errorOf(aw: PromiseLike<unknown>): Promise<unknown> {
  try {
    await aw;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

/** Runs `fn` and returns the error it throws or rejects with; fails the test when it does not. */
export async function caught(fn: () => PromiseLike<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

/** Python's `ZeroDivisionError`, as CPython's tests raise it. */
export class ZeroDivisionError extends Error {
  override name = "ZeroDivisionError";
}

/** Python's `KeyError`. */
export class KeyError extends Error {
  override name = "KeyError";
}

/** Python's `ValueError`. */
export class ValueError extends Error {
  override name = "ValueError";
}
