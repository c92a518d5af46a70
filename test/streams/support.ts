/**
 * Helpers for the networking tests: a loop with an exception-handler log, loopback servers,
 * the TLS fixture, and Unix socket paths.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import tls from "node:tls";
import {
  type ExceptionContext,
  type Server,
  getRunningLoop,
  run,
  sleep,
} from "../../src/index.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/tls/", import.meta.url));

/** The self-signed certificate for localhost / 127.0.0.1 / ::1 kept as a fixture. */
export const CERT = readFileSync(join(FIXTURES, "localhost.crt"));
/** Its private key. */
export const KEY = readFileSync(join(FIXTURES, "localhost.key"));

/** TLS options for a server with the fixture certificate. */
export function serverTlsOptions(): tls.TlsOptions {
  return { key: KEY, cert: CERT };
}

/**
 * Why the tests that need a TLS connection's write buffer to follow its peer are skipped on Deno.
 */
export const DENO_TLS_BUFFER =
  "Deno's TLS sockets move written data into a buffer of their own within moments whether or not the peer reads (`writableLength` drops to 0), so the library's write buffer, flow control and drain() do not follow the peer on a TLS connection";

/** TLS options for a client that trusts the fixture certificate. */
export function clientTlsOptions(): tls.ConnectionOptions {
  return { ca: CERT };
}

/**
 * Runs `main` in a fresh loop (real clock) whose exception handler records what it gets;
 * resolves `main`'s result. `main` gets the list of recorded contexts.
 */
export function runNet<T>(main: (messages: ExceptionContext[]) => Promise<T>): Promise<T> {
  return run(async () => {
    const messages: ExceptionContext[] = [];
    getRunningLoop().setExceptionHandler((_loop, context) => {
      messages.push(context);
    });
    return main(messages);
  });
}

/** The port of a TCP server's first socket. */
export function portOf(server: Server): number {
  const name = server.sockets[0]?.getsockname();
  assert.ok(Array.isArray(name), `expected a TCP address, got ${String(name)}`);
  return name[1];
}

let counter = 0;
/** A fresh path for a Unix socket in the temp directory. */
export function unixPath(): string {
  return join(tmpdir(), `asyncio-ts-${process.pid}-${++counter}.sock`);
}

/** Runs loop iterations until `predicate()` holds (at most `limit` seconds). */
export async function until(predicate: () => boolean, limit = 5): Promise<void> {
  const loop = getRunningLoop();
  const deadline = loop.time() + limit;
  while (!predicate()) {
    if (loop.time() > deadline) throw new Error("condition not reached in time");
    await sleep(0.001);
  }
}

/** The error `promise` rejects with (fails when it resolves). */
export async function errorOf(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}
