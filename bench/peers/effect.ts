/**
 * Effect (v4): every workload as an Effect program — `Effect.gen` for coroutines, fibers forked
 * with `Effect.forEach(…, { concurrency: "unbounded" })` or `Effect.forkChild`, `Effect.yieldNow`
 * for `sleep(0)`, `Latch` for an event, `Queue.bounded`, `Semaphore`, `Effect.timeout`, and
 * `Fiber.interruptAll` for cancellation. Each program runs with `Effect.runPromise`.
 */
import { Duration, Effect, Fiber, Latch, Queue, Semaphore } from "effect";
import { type Metrics, type Params, type PeerModule, heapAfterGc, now, timerDelaysMs, timerMetrics } from "../common.js";

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
  },
};
