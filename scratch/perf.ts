import { run, createTask, sleep, gather, Future, getRunningLoop } from "../src/index.js";
const N = 100_000;
async function rawFloor() {
  const t0 = performance.now();
  const ps = [];
  for (let i = 0; i < N; i++) ps.push((async () => { await new Promise<void>((r) => setImmediate(r)); return i; })());
  await Promise.all(ps);
  return performance.now() - t0;
}
async function rawPromise() {
  const t0 = performance.now();
  const ps = [];
  for (let i = 0; i < N; i++) ps.push((async () => { await null; return i; })());
  await Promise.all(ps);
  return performance.now() - t0;
}
async function ours() {
  return run(async () => {
    const t0 = performance.now();
    const ts = [];
    for (let i = 0; i < N; i++) ts.push(createTask(async () => { await sleep(0); return i; }));
    await gather(...ts);
    return performance.now() - t0;
  });
}
async function futs() {
  return run(async () => {
    const loop = getRunningLoop();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) { const f = new Future<number>({loop}); loop.callSoon(() => f.setResult(i)); await f; }
    return performance.now() - t0;
  });
}
for (let r = 0; r < 3; r++) {
  console.log(`raw setImmediate ${(await rawFloor() * 1000 / N).toFixed(3)}us  raw await null ${(await rawPromise() * 1000 / N).toFixed(3)}us  ours spawn+sleep0+gather ${(await ours() * 1000 / N).toFixed(3)}us  future roundtrip ${(await futs() * 1000 / N).toFixed(3)}us`);
}
