// A program written against the packed package, as a user would: `scripts/check-package.mjs`
// type-checks it against the package's declarations (strict) and runs it on the built code.
// It is not part of the unit tests; it imports "asyncio-ts" by its package name.
import {
  Queue,
  TimeoutError,
  gather,
  openConnection,
  run,
  sleep,
  startServer,
  taskGroup,
  timeout,
  toThread,
} from "asyncio-ts";
import { runTest } from "asyncio-ts/testing";

const [n, s] = await run(() => gather(sleep(0.01, 1), (async () => "x")()));
const typed: [number, string] = [n, s];
console.log("gather", typed.join(" "));

await runTest(async () => {
  const queue = new Queue<number>(2);
  let sum = 0;
  await taskGroup(async (tg) => {
    tg.createTask(async () => {
      for (let i = 1; i <= 5; i++) await queue.put(i);
    });
    tg.createTask(async () => {
      for (let i = 0; i < 5; i++) sum += await queue.get();
    });
  });
  console.log("queue", sum);
  try {
    await timeout(1, () => sleep(3600));
  } catch (error) {
    console.log("timeout", error instanceof TimeoutError);
  }
});

await run(async () => {
  const server = await startServer(async (reader, writer) => {
    writer.write(await reader.readline());
    await writer.drain();
    writer.close();
  }, "127.0.0.1", 0);
  const [host, port] = server.sockets[0]?.getsockname() as [string, number];
  const [reader, writer] = await openConnection(host, port);
  writer.write("hello\n");
  console.log("echo", (await reader.readline()).toString().trim());
  writer.close();
  server.close();
  await server.waitClosed();
  console.log("thread", await toThread((x: number) => x * 2, 21));
});
