/**
 * The code that runs inside each worker thread of a `ThreadPoolExecutor`, and the messages it
 * exchanges with the pool.
 *
 * HOW it gets into the thread: {@link workerMain} is never called in the main thread. Its source
 * text (`workerMain.toString()`) is wrapped into {@link workerSource} and started with
 * `new Worker(source, { eval: true })`. There is no worker file to locate, so the same code works
 * from `src/` under tsx, from the compiled `dist/`, and from a bundle.
 *
 * WHY not a file next to this module: `tsc` does not copy `.js`/`.mjs` files into `dist/`, a
 * `.ts` worker file needs a TypeScript loader in the worker (tsx does not register itself in
 * worker threads on Node 20), and bundlers rename or inline files. A function's own source text
 * survives all three, and it stays type-checked and linted here.
 *
 * RULE for everything below `workerMain`'s opening line: it is serialized, so it must be
 * self-contained. It may use its parameter and globals (`process`, `structuredClone`, `import()`),
 * never an import or a module-level name of this file. Types are fine: they are erased.
 *
 * One job at a time per worker: the pool sends a `RunMessage` only to an idle worker, and the
 * worker answers each with exactly one `Reply`, after its console output reached the main thread.
 */
import type { MessagePort } from "node:worker_threads";

/** A function given by its source text; `source` is left out once this worker has it. */
export interface SourceRef {
  readonly kind: "source";
  /** The same for every function with the same source text (the worker's cache key). */
  readonly key: number;
  /** The function's name, for messages and stack traces. */
  readonly name: string;
  readonly source?: string;
}

/** A function exported by a module, given by the module's absolute URL and the export's name. */
export interface ModuleRef {
  readonly kind: "module";
  readonly url: string;
  readonly name: string;
}

export type FunctionRef = SourceRef | ModuleRef;

/** Main thread → worker: run `fn(...args)`. */
export interface RunMessage {
  readonly id: number;
  readonly fn: FunctionRef;
  readonly args: readonly unknown[];
}

/** An error (or any thrown value) in a form the structured clone keeps whole. */
export type SerializedThrown =
  | {
      readonly kind: "error";
      /** The nearest built-in class in its prototype chain: "TypeError", "RangeError", … */
      readonly base: string;
      readonly name: string;
      readonly message: string;
      readonly stack: string | undefined;
      /** Own enumerable properties that survive a structured clone (`code`, `errno`, …). */
      readonly props: Record<string, unknown>;
      readonly cause?: SerializedThrown;
      readonly errors?: SerializedThrown[];
    }
  | { readonly kind: "value"; readonly value: unknown };

/** Worker → main thread: the outcome of one `RunMessage`. */
export type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedThrown };

/**
 * The worker thread's main function. Serialized: see the RULE at the top of this file.
 * @internal
 */
export function workerMain(port: MessagePort): void {
  type AnyFunction = (...args: unknown[]) => unknown;
  const compiled = new Map<number, AnyFunction>();
  const imported = new Map<string, AnyFunction>();
  const builtins = [
    "AggregateError",
    "EvalError",
    "RangeError",
    "ReferenceError",
    "SyntaxError",
    "TypeError",
    "URIError",
    "Error",
  ];
  const indirectEval = eval;

  function isError(value: unknown): value is Error {
    return Object.prototype.toString.call(value) === "[object Error]";
  }

  function clones(value: unknown): boolean {
    try {
      structuredClone(value);
      return true;
    } catch {
      return false;
    }
  }

  function baseOf(error: Error): string {
    for (let p: unknown = Object.getPrototypeOf(error); p !== null; p = Object.getPrototypeOf(p)) {
      const ctor = (p as { constructor?: { name?: string } }).constructor;
      const name = ctor?.name ?? "";
      if (builtins.includes(name) && (globalThis as Record<string, unknown>)[name] === ctor) {
        return name;
      }
    }
    return "Error";
  }

  function serialize(thrown: unknown, depth: number): SerializedThrown {
    if (!isError(thrown)) {
      return { kind: "value", value: clones(thrown) ? thrown : String(thrown) };
    }
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(thrown)) {
      if (key === "name" || key === "message" || key === "stack" || key === "cause") continue;
      if (key === "errors") continue;
      const value = (thrown as unknown as Record<string, unknown>)[key];
      if (clones(value)) props[key] = value;
    }
    const out: {
      kind: "error";
      base: string;
      name: string;
      message: string;
      stack: string | undefined;
      props: Record<string, unknown>;
      cause?: SerializedThrown;
      errors?: SerializedThrown[];
    } = {
      kind: "error",
      base: baseOf(thrown),
      name: String(thrown.name),
      message: String(thrown.message),
      stack: typeof thrown.stack === "string" ? thrown.stack : undefined,
      props,
    };
    if (depth < 8 && "cause" in thrown) out.cause = serialize(thrown.cause, depth + 1);
    const errors = (thrown as { errors?: unknown }).errors;
    if (depth < 8 && Array.isArray(errors)) out.errors = errors.map((e) => serialize(e, depth + 1));
    return out;
  }

  /** A ReferenceError in a function sent as source text most likely means a captured variable. */
  function explain(error: SerializedThrown, fn: FunctionRef): SerializedThrown {
    if (fn.kind !== "source" || error.kind !== "error" || error.base !== "ReferenceError") {
      return error;
    }
    const hint =
      ` (in a worker thread: \`${fn.name}\` was rebuilt there from its source text, so the ` +
      "variables and imports of its enclosing scope do not exist; pass values as arguments and " +
      "import modules inside the function with `await import(...)`)";
    const head = `${error.name}: ${error.message}`;
    const stack =
      error.stack !== undefined && error.stack.startsWith(head)
        ? `${head}${hint}${error.stack.slice(head.length)}`
        : error.stack;
    return { ...error, message: `${error.message}${hint}`, stack };
  }

  async function load(fn: FunctionRef): Promise<AnyFunction> {
    if (fn.kind === "source") {
      let f = compiled.get(fn.key);
      if (f === undefined) {
        if (fn.source === undefined) throw new Error(`internal: no source for function ${fn.key}`);
        const label = fn.name.replace(/[^\w$.-]/g, "_") || "anonymous";
        // Strict, as the module code the function came from.
        const code = `"use strict";(${fn.source}\n)\n//# sourceURL=thread:${label}`;
        f = indirectEval(code) as AnyFunction;
        compiled.set(fn.key, f);
      }
      return f;
    }
    const key = `${fn.url}#${fn.name}`;
    let f = imported.get(key);
    if (f === undefined) {
      const namespace = (await import(fn.url)) as Record<string, unknown>;
      const value = namespace[fn.name];
      if (typeof value !== "function") {
        throw new TypeError(
          `${fn.url} has no function export named "${fn.name}" (found ${typeof value})`,
        );
      }
      f = value as AnyFunction;
      imported.set(key, f);
    }
    return f;
  }

  /**
   * Console output of a worker reaches the main thread through its own channel, acknowledged
   * asynchronously; a write made while the thread was blocked is still buffered here. Waiting for
   * the acknowledgement before replying keeps the output before the result, in order.
   */
  function flushStdio(): Promise<unknown> | null {
    const pending = [process.stdout, process.stderr].filter((s) => s.writableLength > 0);
    if (pending.length === 0) return null;
    return Promise.all(pending.map((s) => new Promise<void>((done) => s.write("", () => done()))));
  }

  async function run(message: RunMessage): Promise<void> {
    let reply: Reply;
    try {
      const f = await load(message.fn);
      const value: unknown = await f(...message.args);
      reply = { id: message.id, ok: true, value };
    } catch (error) {
      reply = { id: message.id, ok: false, error: explain(serialize(error, 0), message.fn) };
    }
    const flushing = flushStdio();
    if (flushing !== null) await flushing;
    try {
      port.postMessage(reply);
    } catch (error) {
      const failure = new TypeError(
        `the result of \`${message.fn.name}\` cannot be sent back from the worker thread: ` +
          `${isError(error) ? error.message : String(error)}. Return plain data (what ` +
          "structuredClone accepts): no functions, class instances lose their prototype",
      );
      port.postMessage({ id: message.id, ok: false, error: serialize(failure, 0) });
    }
  }

  port.on("message", (message: RunMessage) => {
    void run(message);
  });
}

let source: string | null = null;

/**
 * The script a pool worker runs (`new Worker(workerSource(), { eval: true })`).
 *
 * `__name` is the helper esbuild (and so tsx) inserts into functions when it keeps names; code
 * compiled that way, `workerMain` included under tsx, calls it, so the worker defines it.
 * @internal
 */
export function workerSource(): string {
  source ??= [
    '"use strict";',
    'if (typeof globalThis.__name !== "function") {',
    '  Object.defineProperty(globalThis, "__name", {',
    '    value: (target, value) => Object.defineProperty(target, "name", { value, configurable: true }),',
    "    configurable: true,",
    "    writable: true,",
    "  });",
    "}",
    `(${workerMain.toString()})(require("node:worker_threads").parentPort);`,
    "",
  ].join("\n");
  return source;
}
