/**
 * One measurement in a fresh process: `node --expose-gc bench/out/bench/worker.js PEER WORKLOAD JSON`
 * where JSON is `{ "params": {…}, "warmup": {…} | null, "warmupSeconds": s }`. Loads only that
 * peer's module, runs the warm-up (the same program, again and again until `warmupSeconds` have
 * passed, at least once), then the measured size, and prints one line
 * `@@RESULT {…}` (a {@link WorkerResult}). It adds `loop_turns`: how many turns Node's event loop
 * made during the measured run (libuv's loop count), which the harness turns into turns per
 * operation.
 */
import { NotAvailableYet, type Params, type PeerModule, type WorkerResult, type WorkloadName } from "./common.js";

const PEERS = new Set(["raw", "asyncio-ts", "effect", "effection", "p-queue"]);

/** How many turns Node's event loop (libuv) has made so far, where Node reports it (≥ 20.18). */
function loopTurns(): number | null {
  const timing = performance.nodeTiming as { uvMetricsInfo?: { loopCount: number } };
  return timing.uvMetricsInfo?.loopCount ?? null;
}

function print(result: WorkerResult): void {
  process.stdout.write(`@@RESULT ${JSON.stringify(result)}\n`);
}

async function main(): Promise<WorkerResult> {
  const [peerName, workload, json] = process.argv.slice(2);
  if (peerName === undefined || !PEERS.has(peerName) || workload === undefined || json === undefined) {
    return { status: "error", reason: `usage: worker.js PEER WORKLOAD JSON (got ${process.argv.slice(2).join(" ")})` };
  }
  const { params, warmup, warmupSeconds = 0 } = JSON.parse(json) as {
    params: Params;
    warmup: Params | null;
    warmupSeconds?: number;
  };
  const { peer } = (await import(`./peers/${peerName}.js`)) as { peer: PeerModule };
  const fn = peer.workloads[workload as WorkloadName];
  if (fn === undefined) return { status: "error", reason: `unknown workload ${workload}` };
  if (typeof fn === "string") return { status: "cannot", reason: fn };
  try {
    if (warmup !== null) {
      const until = performance.now() + warmupSeconds * 1000;
      do await fn(warmup);
      while (performance.now() < until);
    }
    const turnsBefore = loopTurns();
    const outcome = await fn(params);
    const turns = turnsBefore === null ? null : (loopTurns() as number) - turnsBefore;
    let result: WorkerResult;
    if ("metrics" in outcome && typeof outcome.metrics === "object") {
      const { metrics, note } = outcome as { metrics: Record<string, number>; note: string };
      result = { status: "ok", metrics, note };
    } else {
      result = { status: "ok", metrics: outcome as Record<string, number> };
    }
    if (turns !== null) result.metrics.loop_turns = turns;
    return result;
  } catch (error) {
    if (error instanceof NotAvailableYet) return { status: "unavailable", reason: error.message };
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { status: "error", reason: text.split("\n").slice(0, 4).join(" | ") };
  }
}

print(await main());
// Effect and Effection may keep handles (timers) alive after the measurement: the result is out.
process.exit(0);
