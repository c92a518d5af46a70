/**
 * The main module of a `ProcessPoolExecutor`'s child process (started with
 * `child_process.fork`). Not part of the public API: importing it anywhere else does nothing.
 *
 * HOW: the child runs an asyncio-ts event loop for as long as its IPC channel is open. Each
 * job runs as a task of that loop, so cancelling it is asyncio's cancellation: the job's code
 * gets `CancelledError` at its next await, its `finally` blocks run, and the child answers
 * `cancelled` and is ready for the next job. A job that does not end within the pool's grace
 * period (it blocks, or swallows the cancellation) is killed with its process by the pool.
 *
 * The pool closes the channel to retire a child: `disconnect` ends the process, whatever runs.
 */
import { EventLoop } from "../events/loop.js";
import "../index.js";
import type { Task } from "../tasks.js";
import { _serializeThrown } from "../threads/transfer.js";
import type { ModuleRef } from "../threads/worker.js";
import type { Done, FromChild, ToChild } from "./messages.js";

type AnyFunction = (...args: unknown[]) => unknown;

const imported = new Map<string, AnyFunction>();

async function load(fn: ModuleRef): Promise<AnyFunction> {
  const key = `${fn.url}#${fn.name}`;
  let f = imported.get(key);
  if (f === undefined) {
    const namespace = (await import(fn.url)) as Record<string, unknown>;
    const value = namespace[fn.name];
    if (typeof value !== "function") {
      throw new TypeError(`${fn.url} has no function export named "${fn.name}" (found ${typeof value})`);
    }
    f = value as AnyFunction;
    imported.set(key, f);
  }
  return f;
}

function send(message: FromChild): void {
  if (process.connected) process.send?.(message);
}

/**
 * Whether `process.send()` throws at the call for a value it cannot serialize, as Node's does;
 * Deno's serializes later and the error would end the child, so there the reply is cloned first.
 */
const SEND_THROWS_AT_CALL = process.versions.deno === undefined;

/** Sends `done`; a result the V8 serializer refuses fails the job with a TypeError naming it. */
function reply(message: Done, fnName: string): void {
  try {
    if (!SEND_THROWS_AT_CALL) structuredClone(message);
    send(message);
  } catch (error) {
    const failure = new TypeError(
      `the result of \`${fnName}\` cannot be sent back from the child process: ` +
        `${(error as Error).message}. Return what structured clone accepts (no functions; class ` +
        "instances lose their prototype)",
    );
    send({ type: "done", id: message.id, outcome: "error", error: _serializeThrown(failure) });
  }
}

function main(): void {
  if (process.send === undefined) {
    process.stderr.write("asyncio-ts: this module is the main module of a ProcessPoolExecutor's children\n");
    process.exitCode = 1;
    return;
  }
  const loop = new EventLoop();
  const running = new Map<number, Task<unknown>>();
  // Jobs may arrive before the initializer has finished: they wait for it.
  let initialized: Promise<void> = Promise.resolve();

  process.on("message", (message: ToChild) => {
    switch (message.type) {
      case "init":
        initialized = (async () => {
          try {
            if (message.initializer !== null) {
              await (await load(message.initializer))(...message.initargs);
            }
            send({ type: "ready" });
          } catch (error) {
            send({ type: "init-failed", error: _serializeThrown(error) });
            process.disconnect();
            await new Promise<never>(() => {});
          }
        })();
        return;
      case "run": {
        const task = loop.createTask(
          async () => {
            await initialized;
            return (await load(message.fn))(...message.args);
          },
          { name: `job-${message.id} ${message.fn.name}` },
        );
        running.set(message.id, task);
        task.addDoneCallback(() => {
          running.delete(message.id);
          if (task.cancelled()) {
            send({ type: "done", id: message.id, outcome: "cancelled" });
            return;
          }
          const error = task.exception();
          if (error !== null) {
            send({ type: "done", id: message.id, outcome: "error", error: _serializeThrown(error) });
          } else {
            reply({ type: "done", id: message.id, outcome: "ok", value: task.result() }, message.fn.name);
          }
        });
        return;
      }
      case "cancel":
        running.get(message.id)?.cancel();
        return;
    }
  });
  // The pool went away (shutdown, retirement, or its process ended): so does the child.
  process.on("disconnect", () => {
    loop.stop();
    process.exit(0);
  });
  void loop.runForever();
}

main();
