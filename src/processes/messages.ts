/**
 * The messages between a `ProcessPoolExecutor` and its child processes, over the IPC channel of
 * `child_process.fork` with `serialization: "advanced"` (the V8 serializer: what structured
 * clone keeps, `Map`, `Set`, `Date`, typed arrays, `BigInt`… arrive as they were sent).
 *
 * One job at a time per child: the pool sends a `run` only to an idle child; the child answers
 * each `run` with exactly one `done`, also after a `cancel`.
 */
import type { ModuleRef, SerializedThrown } from "../threads/worker.js";

/** Pool → child: run `fn(...args)` as a task of the child's loop. */
export interface RunJob {
  readonly type: "run";
  readonly id: number;
  readonly fn: ModuleRef;
  readonly args: readonly unknown[];
}

/** Pool → child: cancel the task of job `id` (its code gets `CancelledError`). */
export interface CancelJob {
  readonly type: "cancel";
  readonly id: number;
}

/** Pool → child: run the initializer, then say `ready`. Sent once, first. */
export interface Init {
  readonly type: "init";
  readonly initializer: ModuleRef | null;
  readonly initargs: readonly unknown[];
}

export type ToChild = RunJob | CancelJob | Init;

/** Child → pool: started (its initializer, if any, ran); or it could not start. */
export type Ready =
  | { readonly type: "ready" }
  | { readonly type: "init-failed"; readonly error: SerializedThrown };

/** Child → pool: the outcome of job `id`. */
export type Done =
  | { readonly type: "done"; readonly id: number; readonly outcome: "ok"; readonly value: unknown }
  | { readonly type: "done"; readonly id: number; readonly outcome: "error"; readonly error: SerializedThrown }
  | { readonly type: "done"; readonly id: number; readonly outcome: "cancelled" };

export type FromChild = Ready | Done;
