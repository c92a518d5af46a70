// A short soak of a streams echo server in its own process (bench/soak.ts, which `npm run soak`
// runs for 60 s with 1,000 clients): 200 loopback clients reset, half-close, stall, flood and
// behave for 10 s while a probe sends a line every 250 ms. Only exact facts are asserted: every
// probe was answered, every echo checked was right, and once everything closed the server
// process has its start-up descriptors again (polled for up to 10 s). No timing, no memory.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { runSoak } from "../../bench/soak.js";
import { unsupportedOn } from "../support/runtime.js";

describe("soak", () => {
  const name = "a streams echo server under 200 misbehaving clients for 10 s answers every probe and gives back its descriptors";
  const LOST_ECHO =
    "under the soak's load a half-closed connection's last unterminated line now and then comes back empty (1 echo in several thousand; seen with Bun 1.4.5 on both ends, not reproduced outside the soak; cause not found)";
  it(name, { timeout: 180_000, skip: unsupportedOn({ bun: LOST_ECHO }) }, async () => {
    // Niceness 10: on a busy machine the other test files come first.
    const report = await runSoak({ seconds: 10, clients: 200, probeTimeout: 10, fdTimeout: 10, niceness: 10 });
    const summary = JSON.stringify(report);

    assert.ok(report.connections > report.clients, summary);
    assert.ok(report.probes.answered > 0, summary);
    assert.equal(report.probes.failed, 0, `probes failed: ${report.probes.failures.join("; ")}`);
    assert.equal(report.echoMismatches, 0, summary);
    assert.equal(report.server.open, 0, summary);

    if (!existsSync("/proc/self/fd")) return;
    assert.ok(report.fds !== null, summary);
    // After server.close() and closeClients(): the descriptors of start-up, less the listening socket.
    // Every descriptor the server took is given back (Node 26 may also close one of its own).
    assert.ok(report.fds.end <= report.fds.expectedEnd, summary);
    assert.equal(report.fds.expectedEnd, report.fds.baseline - report.fds.listeners);
  });
});
