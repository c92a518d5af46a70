/**
 * One measurement in a fresh process: `node --expose-gc bench/out/bench/worker.js PEER WORKLOAD JSON`
 * where JSON is a {@link WorkerSpec}. Loads only that peer's module, runs the warm-up (the same
 * program, again and again until `warmupSeconds` have passed, at least once), then the measured
 * program again and again until `measureSeconds` have passed (at least once), and prints one
 * line `@@RESULT {…}` (a {@link WorkerResult}) with each metric averaged over those runs (see
 * {@link averageRuns}). It adds `loop_turns`: how many turns Node's event loop made per measured
 * run (libuv's loop count), which the harness turns into turns per operation.
 */
import {
  type Metrics,
  NotAvailableYet,
  type PeerModule,
  type WorkerResult,
  type WorkerSpec,
  type WorkloadName,
  averageRuns,
} from "./common.js";

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
  const { params, warmup, warmupSeconds = 0, measureSeconds = 0, rates = [] } = JSON.parse(json) as WorkerSpec;
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
    const runs: Metrics[] = [];
    let note: string | undefined;
    const until = performance.now() + measureSeconds * 1000;
    do {
      const outcome = await fn(params);
      if ("metrics" in outcome && typeof outcome.metrics === "object") {
        runs.push(outcome.metrics as Metrics);
        note = (outcome as { note: string }).note;
      } else {
        runs.push(outcome as Metrics);
      }
    } while (performance.now() < until);
    const metrics = averageRuns(runs, rates);
    if (turnsBefore !== null) metrics.loop_turns = ((loopTurns() as number) - turnsBefore) / runs.length;
    return note === undefined ? { status: "ok", metrics } : { status: "ok", metrics, note };
  } catch (error) {
    if (error instanceof NotAvailableYet) return { status: "unavailable", reason: error.message };
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { status: "error", reason: text.split("\n").slice(0, 4).join(" | ") };
  }
}

print(await main());
// Effect and Effection may keep handles (timers) alive after the measurement: the result is out.
process.exit(0);
