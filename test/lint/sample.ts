// The sample of docs/linting.md. test/lint.test.ts lints it with the ESLint setup that page
// documents and asserts exactly which lines are reported, by the comments at their ends:
//   `// flagged: promise`    a forgotten await on a Promise: no-floating-promises' defaults see it
//   `// flagged: thenable`   a forgotten await on a Future or Task (a thenable, not a Promise): only
//                            `checkThenables: true` sees it
//   `// safe call`           a task started on purpose and left to run: `checkThenables` alone
//                            reports it too, `allowForKnownSafeCalls` lets it through
// Every other line must not be reported. Not type-checked with the repository (tsconfig.json
// excludes it: "asyncio-ts" resolves to the package there) and never run.
import {
  Event,
  Lock,
  Queue,
  createTask,
  ensureFuture,
  gather,
  getRunningLoop,
  openConnection,
  runCoroutineThreadsafe,
  shield,
  sleep,
  taskGroup,
  timeout,
  wait,
} from "asyncio-ts";

async function work(): Promise<number> {
  await sleep(0.01);
  return 1;
}

export async function main(): Promise<void> {
  const loop = getRunningLoop();
  const queue = new Queue<number>(1);
  const lock = new Lock();
  const ready = new Event();

  work(); // flagged: promise
  timeout(1, () => work()); // flagged: promise
  sleep(1); // flagged: thenable
  queue.put(1); // flagged: promise
  lock.acquire(); // flagged: thenable
  ready.wait(); // flagged: thenable
  gather(() => work(), sleep(1)); // flagged: thenable
  shield(createTask(() => work())); // flagged: thenable
  loop.runInExecutor(null, () => 42); // flagged: thenable
  const task = createTask(() => work());
  task; // flagged: thenable
  wait([task]).then(() => undefined); // flagged: promise

  createTask(() => work()); // safe call
  ensureFuture(() => work()); // safe call
  loop.createTask(work()); // safe call
  runCoroutineThreadsafe(work(), loop); // safe call
  await taskGroup(async (tg) => {
    tg.createTask(() => work()); // safe call
    tg.createTask(sleep(1)); // safe call
  });

  // Not floating: awaited, handled, kept, or dropped on purpose with `void`.
  await sleep(0);
  await queue.put(2);
  const got = queue.get();
  await got;
  void sleep(1);
  lock.release();
  ready.set();
  task.cancel();
  loop.callSoon(() => undefined);
  work().catch(() => undefined);
  sleep(1).then(
    () => undefined,
    () => undefined,
  );
  const [reader, writer] = await openConnection("127.0.0.1", 8888);
  writer.write("ping\n");
  await writer.drain();
  await reader.readline();
  writer.close();
}
