/**
 * Effect (v4): every workload as an Effect program — `Effect.gen` for coroutines, fibers forked
 * with `Effect.forEach(…, { concurrency: "unbounded" })` or `Effect.forkChild`, `Effect.yieldNow`
 * for `sleep(0)`, `Latch` for an event, `Queue.bounded`, `Semaphore`, `Effect.timeout`, and
 * `Fiber.interruptAll` for cancellation, `Effect.promise` to await a promise, and
 * `Stream.mapEffect(…, { unordered: true })` to take results as they complete. Each program runs
 * with `Effect.runPromise`.
 */
import { Duration, Effect, Fiber, Latch, Queue, Semaphore, Stream } from "effect";
import {
  type Metrics,
  type Params,
  type PeerModule,
  completionYields,
  heapAfterGc,
  now,
  soakBatches,
  soakMetrics,
  timerDelaysMs,
  timerMetrics,
} from "../common.js";

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

const spawn = (p: Params): Promise<Metrics> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const t0 = now();
      yield* Effect.forEach(range(p.n), (i) => Effect.as(Effect.yieldNow, i), { concurrency: "unbounded" });
      return { us_per_task: ((now() - t0) * 1000) / p.n };
    }),
  );

/** Forks `n` fibers that each wait on the latch, and lets them all reach the wait. */
const blockOn = (latch: Latch.Latch, n: number) =>
  Effect.gen(function* () {
    const fibers: Fiber.Fiber<void>[] = [];
    for (let i = 0; i < n; i++) {
      fibers.push(
        yield* Effect.forkChild(
          Effect.gen(function* () {
            yield* latch.await;
          }),
        ),
      );
    }
    yield* Effect.yieldNow;
    yield* Effect.yieldNow;
    return fibers;
  });

const memory = (p: Params): Promise<Metrics> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const latch = yield* Latch.make();
      const before = heapAfterGc();
      const fibers = yield* blockOn(latch, p.n);
      const after = heapAfterGc();
      yield* latch.open;
      yield* Fiber.joinAll(fibers);
      return { bytes_per_task: (after - before) / p.n };
    }),
  );

const cancel = (p: Params): Promise<Metrics> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const latch = yield* Latch.make();
      const fibers = yield* blockOn(latch, p.n);
      const t0 = now();
      yield* Fiber.interruptAll(fibers);
      return { us_per_task: ((now() - t0) * 1000) / p.n };
    }),
  );

const queue = (p: Params): Promise<Metrics> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const producers = p.producers ?? 1;
      const consumers = p.consumers ?? 1;
      const q = yield* Queue.bounded<number>(p.size ?? 100);
      const produce = Effect.gen(function* () {
        for (let i = 0, m = p.n / producers; i < m; i++) yield* Queue.offer(q, i);
      });
      const consume = Effect.gen(function* () {
        for (let i = 0, m = p.n / consumers; i < m; i++) yield* Queue.take(q);
      });
      const t0 = now();
      yield* Effect.all(
        [...range(producers).map(() => produce), ...range(consumers).map(() => consume)],
        { concurrency: "unbounded", discard: true },
      );
      return { items_per_s: p.n / ((now() - t0) / 1000) };
    }),
  );

const locking = (p: Params, permits: number): Promise<Metrics> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const tasks = p.tasks ?? 100;
      const iterations = p.iterations ?? 1000;
      const sem = yield* Semaphore.make(permits);
      const worker = Effect.gen(function* () {
        for (let i = 0; i < iterations; i++) yield* sem.withPermit(Effect.yieldNow);
      });
      const t0 = now();
      yield* Effect.all(range(tasks).map(() => worker), { concurrency: "unbounded", discard: true });
      return { acq_per_s: (tasks * iterations) / ((now() - t0) / 1000) };
    }),
  );

const timers = (p: Params): Promise<Metrics> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const delays = timerDelaysMs(p.n, p.maxDelayMs ?? 100, p.seed ?? 1);
      const late = new Float64Array(p.n);
      const t0 = now();
      yield* Effect.forEach(
        range(p.n),
        (i) =>
          Effect.gen(function* () {
            const delay = delays[i] as number;
            yield* Effect.sleep(Duration.millis(delay));
            late[i] = now() - (t0 + delay);
          }),
        { concurrency: "unbounded", discard: true },
      );
      return timerMetrics(t0, now(), delays, late);
    }),
  );

const timeout = (p: Params): Promise<Metrics> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const limit = Duration.seconds(10);
      let sum = 0;
      const t0 = now();
      for (let i = 0; i < p.n; i++) sum += yield* Effect.timeout(Effect.succeed(i), limit);
      if (sum < 0) throw new Error("unreachable");
      return { us_per_scope: ((now() - t0) * 1000) / p.n };
    }),
  );

async function foreign(i: number): Promise<number> {
  await Promise.resolve();
  return i;
}

const checkSum = (sum: number, n: number): void => {
  if (sum !== (n * (n - 1)) / 2) throw new Error(`wrong sum ${sum}`);
};

/** gather: one fiber per thunk (`Effect.promise`), all at once, results collected in order. */
const gatherThunks = (p: Params): Promise<Metrics> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const t0 = now();
      const results = yield* Effect.forEach(range(p.n), (i) => Effect.promise(() => foreign(i)), { concurrency: "unbounded" });
      const us = ((now() - t0) * 1000) / p.n;
      checkSum(results.reduce((a, b) => a + b, 0), p.n);
      return { us_per_task: us };
    }),
  );

/**
 * The task group: `Effect.forEach` with unbounded concurrency and `discard` — it forks a fiber
 * per child, waits for them all and interrupts the rest when one fails, as a task group does.
 */
const group = (p: Params): Promise<Metrics> =>
  Effect.runPromise(
    Effect.gen(function* () {
      let finished = 0;
      const child = Effect.andThen(Effect.yieldNow, Effect.sync(() => void finished++));
      const t0 = now();
      yield* Effect.forEach(range(p.n), () => child, { concurrency: "unbounded", discard: true });
      const us = ((now() - t0) * 1000) / p.n;
      if (finished !== p.n) throw new Error(`${finished} of ${p.n} children done`);
      return { us_per_task: us };
    }),
  );

/** asCompleted: a stream of the tasks run all at once, their results in completion order. */
const completed = (p: Params): Promise<Metrics> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const yields = completionYields(p.n, p.maxYields ?? 8, p.seed ?? 1);
      const task = (i: number) =>
        Effect.gen(function* () {
          for (let k = yields[i] as number; k > 0; k--) yield* Effect.yieldNow;
          return i;
        });
      let sum = 0;
      const t0 = now();
      yield* Stream.fromIterable(range(p.n)).pipe(
        Stream.mapEffect(task, { concurrency: "unbounded", unordered: true }),
        Stream.runForEach((i) => Effect.sync(() => void (sum += i))),
      );
      const us = ((now() - t0) * 1000) / p.n;
      checkSum(sum, p.n);
      return { us_per_task: us };
    }),
  );

/** The soak: fibers blocked on a latch, interrupted, batch after batch. */
const soak = (p: Params): Promise<Metrics> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const { batches, batch } = soakBatches(p.n, p.batch ?? 1000);
      const latch = yield* Latch.make();
      const heap: number[] = [heapAfterGc()];
      let busy = 0;
      for (let half = 0; half < 2; half++) {
        const t0 = now();
        for (let b = 0; b < batches / 2; b++) {
          const fibers = yield* blockOn(latch, batch);
          yield* Fiber.interruptAll(fibers);
        }
        busy += now() - t0;
        heap.push(heapAfterGc());
      }
      return soakMetrics(heap as [number, number, number], batches * batch, busy);
    }),
  );

export const peer: PeerModule = {
  workloads: {
    spawn,
    memory,
    cancel,
    queue,
    lock: (p) => locking(p, 1),
    semaphore: (p) => locking(p, p.size ?? 10),
    timers,
    timeout,
    explore: "no peer explores cancellation points (asyncio-ts/testing's exploreCancellation has no counterpart)",
    gather: gatherThunks,
    taskgroup: group,
    ascompleted: completed,
    soak,
  },
};
