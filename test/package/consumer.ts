// A program written against the packed package, as a user would: `scripts/check-package.mjs`
// installs the tarball (`npm pack`) with @types/node into a temporary project, type-checks this
// file with the tsconfig README.md documents (strict; `module` nodenext, node16 and bundler; on
// TypeScript 5.9, the newest 6.x and 7), then runs it on the built code and compares what it
// prints. It is not part of the unit tests; it imports "asyncio-ts" by its package name.
//
// Each documented use appears once, typed as a user would see it; `expectType<Equal<A, B>>()`
// fails to compile unless A and B are the same type. Buffer-typed APIs are asserted to give
// Buffer: without @types/node they would be errors (or, with skipLibCheck, silently `any`).
import {
  type AsCompletedItem,
  type Coroutine,
  EventLoop,
  Lock,
  PIPE,
  Protocol,
  Queue,
  SubprocessProtocol,
  type SubprocessTransport,
  type Task,
  type TaskGroup,
  TimeoutError,
  type Transport,
  asCompleted,
  createSubprocessExec,
  createTask,
  gather,
  getRunningLoop,
  openConnection,
  run,
  sleep,
  startServer,
  taskGroup,
  timeout,
  toThread,
} from "asyncio-ts";
import { TestLoop, advance, runTest } from "asyncio-ts/testing";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(..._values: unknown[]): T | void {}

// run, createTask, gather: a typed tuple.
const [n, s] = await run(async () => {
  const task = createTask(() => sleep(0.01, 1));
  expectType<Equal<typeof task, Task<number>>>(task);
  return gather(task, (async (): Promise<string> => "x")());
});
expectType<Equal<[typeof n, typeof s], [number, string]>>(n, s);
console.log("gather", n, s);

// asCompleted: `for await` gives the tasks (their `then` hidden from the types), `for…of` gives
// coroutines that resolve to the results.
await run(async () => {
  const tasks = [createTask(() => sleep(0.02, "slow")), createTask(() => sleep(0.01, "quick"))];
  const order: string[] = [];
  for await (const task of asCompleted(tasks)) {
    expectType<Equal<typeof task, AsCompletedItem<Task<string>>>>(task);
    const asTask: Task<string> = task;
    order.push(asTask.result());
  }
  let sum = 0;
  for (const next of asCompleted([sleep(0.02, 2), sleep(0.01, 1)])) {
    expectType<Equal<typeof next, Coroutine<number>>>(next);
    sum += await next;
  }
  console.log("asCompleted", order.join(" "), sum);
});

// The testing entry: a virtual clock. TaskGroup, Queue, Lock, timeout.
await runTest(async () => {
  const loop = getRunningLoop();
  expectType<Equal<typeof loop, EventLoop>>(loop);
  const start = loop.time();
  const queue = new Queue<number>(2);
  const lock = new Lock();
  let sum = 0;
  await taskGroup(async (tg) => {
    expectType<Equal<typeof tg, TaskGroup>>(tg);
    tg.createTask(async () => {
      for (let i = 1; i <= 5; i++) await queue.put(i);
    });
    tg.createTask(async () => {
      for (let i = 0; i < 5; i++) {
        const item = await queue.get();
        await lock.acquire();
        try {
          sum += item;
        } finally {
          lock.release();
        }
      }
    });
  });
  const held = await lock.withLock(async () => lock.locked());
  try {
    await timeout(1, () => sleep(3600));
  } catch (error) {
    console.log("queue", sum, "lock", held, "timeout", error instanceof TimeoutError);
  }
  await advance(10);
  console.log("virtual seconds", loop.time() - start, loop instanceof TestLoop);
});

// Streams, the transports API (loop.createConnection), subprocesses (createSubprocessExec and
// loop.subprocessExec), threads.
class Client extends Protocol {
  readonly reply = getRunningLoop().createFuture<string>();
  override connectionMade(transport: Transport): void {
    transport.write("ping\n");
  }
  override dataReceived(data: Buffer): void {
    this.reply.setResult(data.toString().trim());
  }
}

class Collect extends SubprocessProtocol {
  readonly output: Buffer[] = [];
  readonly exited = getRunningLoop().createFuture<number | null>();
  #transport: SubprocessTransport | null = null;
  override connectionMade(transport: SubprocessTransport): void {
    this.#transport = transport;
  }
  override pipeDataReceived(fd: number, data: Buffer): void {
    if (fd === 1) this.output.push(data);
  }
  override connectionLost(): void {
    this.exited.setResult(this.#transport?.getReturncode() ?? null);
  }
}

await run(async () => {
  const server = await startServer(
    async (reader, writer) => {
      const line = await reader.readline();
      expectType<Equal<typeof line, Buffer>>(line);
      writer.write(line);
      await writer.drain();
      writer.close();
    },
    "127.0.0.1",
    0,
  );
  const [host, port] = server.sockets[0]?.getsockname() as [string, number];
  const [reader, writer] = await openConnection(host, port);
  writer.write("hello\n");
  console.log("echo", (await reader.readline()).toString().trim());
  writer.close();

  const loop = getRunningLoop();
  const [transport, client] = await loop.createConnection(() => new Client(), host, port);
  expectType<Equal<typeof client, Client>>(client);
  console.log("protocol", await client.reply);
  transport.close();
  server.close();
  await server.waitClosed();

  const proc = await createSubprocessExec(process.execPath, ["-e", "process.stdout.write('child')"], { stdout: PIPE });
  const [stdout] = await proc.communicate();
  expectType<Equal<typeof stdout, Buffer | null>>(stdout);
  console.log("subprocess", stdout?.toString(), await proc.wait());

  const [pipes, collect] = await loop.subprocessExec(() => new Collect(), process.execPath, [
    "-e",
    "process.stdout.write('low')",
  ]);
  expectType<Equal<typeof collect, Collect>>(collect);
  const code = await collect.exited;
  pipes.close();
  console.log("subprocessExec", Buffer.concat(collect.output).toString(), code);

  console.log("thread", await toThread((x: number) => x * 2, 21));
});
