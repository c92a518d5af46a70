/**
 * What may still wake a blocked loop from outside: real work, as opposed to its own timers.
 *
 * Provisional: this answer reads Node's active resources (sockets, servers, pipes, child
 * processes, file-system and DNS requests, workers) and counts those that were not there when
 * the loop first asked, so that the process's own stdio and whatever a test runner keeps open
 * do not count. Timers and immediates never count: the loop's own are not real work, and a
 * timer made before a virtual-clock test started wakes nobody the test waits for.
 */
import type { EventLoop } from "../events/loop.js";

/** Resource kinds that are bookkeeping, not work that can wake a task. */
const NOT_WORK = new Set(["Timeout", "Immediate", "TTYWrap", "CloseReq"]);

/** Per loop: how many resources of each kind were active when it first asked. */
const baselines = new WeakMap<EventLoop, Map<string, number>>();

function activeWork(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (!NOT_WORK.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

/**
 * @internal True when something real — a socket, a server, a child process, a file-system or
 * DNS request, a worker — may still wake one of `loop`'s tasks, so a virtual clock must not
 * jump past it and a blocked loop is not (yet) deadlocked. The first call for a loop records
 * what is open already; only what opens later counts.
 */
export function _realWorkPending(loop: EventLoop): boolean {
  const now = activeWork();
  let baseline = baselines.get(loop);
  if (baseline === undefined) {
    baseline = now;
    baselines.set(loop, baseline);
    return false;
  }
  for (const [kind, count] of now) if (count > (baseline.get(kind) ?? 0)) return true;
  return false;
}
