import { EventLoop } from "../src/events/loop.js";
import { createTask, sleep, currentTask, Task } from "../src/tasks.js";
import { isCancellation } from "../src/errors.js";

const loop = new EventLoop();
const log: string[] = [];
async function a() { log.push("A start"); await sleep(0.02); log.push("A end"); return "a"; }
async function b() { log.push("B start"); await sleep(0.01); log.push("B end"); return "b"; }
async function helper() { try { await sleep(10); } finally { log.push("helper finally"); } }
async function main() {
  const ta = createTask(a), tb = createTask(b);
  log.push(`results ${await ta} ${await tb}`);
  const t = createTask(async () => { await Promise.all([helper(), sleep(5)]); });
  await sleep(0.01);
  t.cancel("stop!");
  try { await t; } catch (e) { log.push(`cancelled: ${isCancellation(e)} msg=${(e as Error).message} cancelled()=${t.cancelled()}`); }
  // foreign code
  const f = createTask(async () => { await new Promise((r) => setTimeout(r, 20)); log.push("foreign done, now library await"); await sleep(1); log.push("NOT REACHED"); });
  await sleep(0.005); f.cancel(); log.push(`signal aborted: ${f.signal.aborted}`);
  try { await f; } catch (e) { log.push(`foreign cancelled: ${f.cancelled()}`); }
  // sleep(0) ping pong ordering
  const order: string[] = [];
  const p1 = createTask(async () => { for (let i = 0; i < 3; i++) { order.push(`x${i}`); await sleep(0); } });
  const p2 = createTask(async () => { for (let i = 0; i < 3; i++) { order.push(`y${i}`); await sleep(0); } });
  await p1; await p2; log.push(order.join(","));
  log.push(`current ${currentTask()?.getName()}`);
  return 42;
}
const t0 = performance.now();
loop.runUntilComplete(main).then((v) => { console.log(log.join("\n")); console.log("result", v, (performance.now() - t0).toFixed(0), "ms"); loop.close(); }, (e) => { console.error("FAILED", e); });
