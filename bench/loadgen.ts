/**
 * The one load generator of the TCP echo workload, the same for every server:
 * `node bench/out/bench/loadgen.js JSON` with JSON `{ port, clients, size, warmupS, durationS }`.
 *
 * `clients` connections to 127.0.0.1:port, each with one request in flight: it sends `size`
 * bytes, waits until `size` bytes came back, and sends again. Requests that complete inside the
 * measured window (after the warm-up) are counted, and their latencies kept. Prints one line
 * `@@RESULT {…}` with req_per_s, p50_ms, p99_ms, total_requests and its own CPU use
 * (loadgen_cpu_pct). Bounded in time: everything stops after
 * warmupS + durationS, and the process gives up a few seconds later whatever happens.
 */
import { type Socket, connect } from "node:net";
import type { WorkerResult } from "./common.js";

interface LoadParams {
  port: number;
  clients: number;
  size: number;
  warmupS: number;
  durationS: number;
}

function print(result: WorkerResult): void {
  process.stdout.write(`@@RESULT ${JSON.stringify(result)}\n`);
}

const params = JSON.parse(process.argv[2] ?? "{}") as LoadParams;
const HOST = "127.0.0.1";
const payload = Buffer.alloc(params.size, 0x61);
const t0 = performance.now();
const measureFrom = t0 + params.warmupS * 1000;
const measureTo = measureFrom + params.durationS * 1000;

let latencies = new Float64Array(1 << 16);
let count = 0;
let total = 0;
const cpuAtStart = process.cpuUsage();
let errors = 0;
let firstError = "";

function record(latency: number): void {
  if (count === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[count++] = latency;
}

const giveUp = setTimeout(() => {
  print({ status: "error", reason: "load generator did not finish in time" });
  process.exit(1);
}, (params.warmupS + params.durationS) * 1000 + 10_000);

function client(): Promise<void> {
  return new Promise<void>((resolve) => {
    const socket: Socket = connect({ host: HOST, port: params.port, noDelay: true });
    let received = 0;
    let sentAt = 0;
    const send = (): void => {
      sentAt = performance.now();
      socket.write(payload);
    };
    socket.on("connect", send);
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      while (received >= params.size) {
        received -= params.size;
        const at = performance.now();
        total++;
        if (at >= measureFrom && at < measureTo) record(at - sentAt);
        if (at >= measureTo) {
          socket.destroy();
          return;
        }
        send();
      }
    });
    socket.on("error", (error) => {
      errors++;
      if (firstError === "") firstError = error.message;
    });
    socket.on("close", () => resolve());
  });
}

const clients: Promise<void>[] = [];
for (let i = 0; i < params.clients; i++) clients.push(client());
await Promise.all(clients);
clearTimeout(giveUp);

if (count === 0) {
  print({ status: "error", reason: `no request completed${errors > 0 ? `: ${firstError}` : ""}` });
} else {
  const sorted = latencies.subarray(0, count).sort();
  const at = (q: number): number => sorted[Math.min(count - 1, Math.floor(count * q))] as number;
  const cpu = process.cpuUsage(cpuAtStart);
  const wallUs = (performance.now() - t0) * 1000;
  print({
    status: "ok",
    metrics: {
      req_per_s: count / params.durationS,
      p50_ms: at(0.5),
      p99_ms: at(0.99),
      errors,
      // Every request answered, warm-up included (the harness divides the server's CPU time by it),
      // and how busy this load generator was: near 100% means it, not the server, set the pace.
      total_requests: total,
      loadgen_cpu_pct: ((cpu.user + cpu.system) / wallUs) * 100,
    },
  });
}
