// Types of scripts/runtimes.mjs, for the TypeScript that imports it (bench/setup.ts).

/** A runtime's id: a Node line, Bun or Deno. */
export type RuntimeId = "node20" | "node22" | "node24" | "node26" | "bun" | "deno";

/** A runtime's npm package, the version range taken and the binary inside the package. */
export interface RuntimeSpec {
  label: string;
  pkg: string;
  range: string;
  bin: string[];
  kind: "node" | "bun" | "deno";
}

/** The oldest Node line asyncio-ts supports (package.json `engines` says the same). */
export declare const OLDEST_NODE: number;

/** Every runtime by id. */
export declare const RUNTIMES: Readonly<Record<RuntimeId, RuntimeSpec>>;

/** The Node lines the project supports, oldest first. */
export declare const SUPPORTED_NODES: RuntimeId[];

/** The folder the runtimes are installed into. */
export declare function cacheDir(): string;

/** A runtime's binary and exact version, or why it cannot be had. */
export type EnsuredRuntime = { ok: true; bin: string; version: string; label: string } | { ok: false; reason: string };

/**
 * The runtime's binary, installed when missing (the newest version of its line on the registry,
 * or the newest cached one); `offline: true` uses the cache only.
 */
export declare function ensureRuntime(
  id: string,
  options?: { offline?: boolean; log?: (line: string) => void },
): EnsuredRuntime;
