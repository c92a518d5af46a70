/**
 * `exploreSchedules`: the test again and again, with the ready callbacks of each loop
 * iteration run in a seeded random order that asyncio could also have produced.
 *
 * WHAT is permuted: one iteration runs the callbacks that were ready when it began. asyncio
 * runs them in the order they were scheduled, but which of two independent things got ready
 * first is incidental: a different timing of I/O, of a timer, of a task's step, would have
 * scheduled them the other way. Code whose result depends on that order has a race that the
 * default schedule hides. What asyncio does guarantee keeps its order, so that no run fails in
 * a way asyncio could never produce:
 *
 * - the callbacks of one future run in the order they were added (asyncio schedules them so);
 * - the waiters of one primitive (Lock, Event, Semaphore, Condition, Barrier) and the getters
 *   and putters of one queue wake in FIFO order (each future says which primitive it queues
 *   with: `Future._orderKey`);
 * - callbacks of `loop.callSoon` (and the transports' protocol callbacks, which asyncio
 *   schedules with `call_soon`) run in the order they were scheduled, as documented;
 * - timers run in deadline order; timers due at the same instant may run in any order
 *   (asyncio documents that order as undefined).
 *
 * Everything else is independent: the first steps of different tasks, `sleep(0)` of different
 * tasks, the wake-ups of different futures, the work of different primitives, the timers and
 * the rest. HOW: each ready item gets a key (the rules above); items with one key form a chain
 * that keeps its order; the chains are interleaved uniformly at random (a Fisher-Yates shuffle
 * of the chain labels, one per item), seeded with mulberry32. Seed 0 is the default order.
 */
import { ExplorationError } from "../errors.js";
import type { ReadyItem } from "../events/handles.js";
import type { LoopTestHooks } from "../events/loop.js";
import { Future } from "../futures.js";
import { checkFunction, checkInteger, checkOptions, describe } from "../internal/validate.js";
import { type RunTestOptions, runTest } from "../testing.js";
import { _withTestLoop } from "./loop-setup.js";
import { summary } from "./summary.js";

/** Options of {@link exploreSchedules}. */
export interface ExploreSchedulesOptions extends RunTestOptions {
  /** How many runs, with the seeds 0, 1, 2, … (0: the default order); default 100. */
  runs?: number;
  /** Exactly these seeds (integers from 0 to 2^32 - 1), instead of `runs`: to replay a failure. */
  seeds?: Iterable<number>;
}

const EXPLORE_SCHEDULES_KEYS = [
  "runs",
  "seeds",
  "debug",
  "autojump",
  "start",
  "virtualTimers",
  "signals",
  "trace",
] as const satisfies readonly (keyof ExploreSchedulesOptions)[];

/** What {@link exploreSchedules} resolves with when every run passed. */
export interface ScheduleReport {
  /** How many runs were made. */
  runs: number;
  /** How many of them ran a schedule no earlier run had (the rest repeated one). */
  schedules: number;
}

/**
 * Runs `test` under {@link runTest} once per seed, each run with the ready callbacks of every
 * loop iteration (and the timers due at the same instant) in an order drawn from the seed:
 * only the orders asyncio leaves open are drawn (a future's callbacks, a primitive's waiters
 * and `callSoon` callbacks keep their FIFO order), so a failing run is a race the default order
 * hides, never an order asyncio cannot produce. Seed 0 is the default order.
 *
 * Resolves with a report when every run passes; rejects with an {@link ExplorationError}
 * carrying the failing run's `seed` (the test's error as `cause`). A seed replays its schedule
 * exactly: `exploreSchedules(test, { seeds: [seed] })`.
 *
 * `test` runs once per seed, so it must make its own state.
 *
 * **Cancellation**: cancelling the awaiting code stops after the current run.
 *
 * @throws {TypeError} / {RangeError} synchronously for a `test` that is not a function or bad
 * options.
 * @throws {ExplorationError} (as a rejection) for the first seed whose run fails.
 *
 * @example
 * await exploreSchedules(async () => {
 *   const account = { balance: 0 };
 *   await gather(() => deposit(account, 10), () => deposit(account, 5));
 *   assert.equal(account.balance, 15);
 * });
 *
 * Not in asyncio: Trio shuffles its run queue (not seeded, not replayable); fast-check's
 * scheduler orders promises that a test hands it.
 */
export function exploreSchedules(
  test: () => PromiseLike<unknown>,
  options: ExploreSchedulesOptions = {},
): Promise<ScheduleReport> {
  checkFunction("test", test);
  checkOptions("exploreSchedules()", options, EXPLORE_SCHEDULES_KEYS);
  const { runs, seeds, ...runOptions } = options;
  if (runs !== undefined && seeds !== undefined) {
    throw new TypeError("exploreSchedules(): give `runs` or `seeds`, not both");
  }
  let list: number[];
  if (seeds !== undefined) {
    if (seeds === null || typeof (seeds as Iterable<number>)[Symbol.iterator] !== "function") {
      throw new TypeError(`\`seeds\` must be an iterable of integers, got ${describe(seeds)}`);
    }
    list = Array.from(seeds, (seed) => checkSeed(seed));
  } else {
    const count = runs === undefined ? 100 : checkInteger("runs", runs, 1);
    list = Array.from({ length: count }, (_, i) => i);
  }
  return explore(test, list, runOptions);
}

function checkSeed(seed: unknown): number {
  const value = checkInteger("seeds[i]", seed, 0);
  if (value > 0xffffffff) throw new RangeError(`a seed must be at most 2^32 - 1, got ${value}`);
  return value;
}

async function explore(test: () => PromiseLike<unknown>, seeds: number[], runOptions: RunTestOptions): Promise<ScheduleReport> {
  const seen = new Set<string>();
  for (const [i, seed] of seeds.entries()) {
    const order = new SeededOrder(seed);
    try {
      await _withTestLoop(
        (loop) => {
          loop._testHooks = order.hooks;
        },
        () => runTest(test, runOptions),
      );
    } catch (error) {
      const which = seeds.length === 1 ? "" : ` (run ${i + 1} of ${seeds.length})`;
      const kind = seed === 0 ? "the default order" : `seed ${seed}`;
      throw new ExplorationError(
        `exploreSchedules: the test fails with ${kind}${which}: ${summary(error)}. ` +
          `Replay it with { seeds: [${seed}] }`,
        { seed },
        { cause: error },
      );
    }
    seen.add(order.fingerprint());
  }
  return { runs: seeds.length, schedules: seen.size };
}

/** The key of the timers that came due: one chain, in deadline order (ties are shuffled). */
const TIMERS = {};
/** The key of `callSoon` callbacks and anything else: one chain, FIFO as asyncio documents. */
const CALL_SOON = {};

/** Which chain a ready item belongs to (see the module comment). */
function keyOf(item: ReadyItem): object {
  if (typeof (item as { _when?: unknown })._when === "number") return TIMERS;
  // A future that is its own step: a task's first step, `sleep(0)`, a queue operation, or
  // the wake-up of a woken wait that its task awaits inline.
  if (item instanceof Future) return item._orderKey();
  // A future's callback: an await, a done callback.
  const future = (item as { _future?: unknown })._future;
  if (future instanceof Future) return future._orderKey();
  return CALL_SOON;
}

/**
 * mulberry32: a tiny seeded generator of floats in [0, 1).
 */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The order of one run: permutes each iteration's ready items, and fingerprints the schedule. */
class SeededOrder {
  readonly hooks: LoopTestHooks;
  readonly #random: (() => number) | null;
  /** FNV-1a over the chain labels of every iteration, in the order they ran. */
  #hash = 0x811c9dc5;
  #iterations = 0;

  constructor(seed: number) {
    this.#random = seed === 0 ? null : mulberry32(seed);
    this.hooks = { reorder: (items) => this.#reorder(items) };
  }

  fingerprint(): string {
    return `${this.#iterations}:${(this.#hash >>> 0).toString(16)}`;
  }

  #reorder(items: ReadyItem[]): void {
    const keys = new Map<object, number>();
    const chains: ReadyItem[][] = [];
    const labels: number[] = [];
    for (const item of items) {
      const key = keyOf(item);
      let label = keys.get(key);
      if (label === undefined) {
        label = chains.length;
        keys.set(key, label);
        chains.push([]);
      }
      (chains[label] as ReadyItem[]).push(item);
      labels.push(label);
    }
    const random = this.#random;
    let hash = this.#hash;
    if (random !== null) {
      const timers = keys.get(TIMERS);
      if (timers !== undefined) {
        // Ties reorder within the timers' chain: the fingerprint notes their new order too.
        const chain = chains[timers] as ReadyItem[];
        const before = new Map(chain.map((item, i) => [item, i]));
        shuffleTies(chain, random);
        for (const item of chain) hash = Math.imul(hash ^ ((before.get(item) as number) + 1), 0x01000193);
      }
      shuffle(labels, random);
      const next = new Array<number>(chains.length).fill(0);
      for (let i = 0; i < labels.length; i++) {
        const label = labels[i] as number;
        items[i] = (chains[label] as ReadyItem[])[(next[label] as number)++] as ReadyItem;
      }
    }
    this.#iterations++;
    for (const label of labels) hash = Math.imul(hash ^ (label + 1), 0x01000193);
    this.#hash = Math.imul(hash ^ 0xff, 0x01000193);
  }
}

function shuffle<T>(array: T[], random: () => number): void {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const held = array[i] as T;
    array[i] = array[j] as T;
    array[j] = held;
  }
}

/** Shuffles each run of timers due at the same instant; deadline order stays. */
function shuffleTies(timers: ReadyItem[], random: () => number): void {
  let start = 0;
  while (start < timers.length) {
    const when = (timers[start] as unknown as { _when: number })._when;
    let end = start + 1;
    while (end < timers.length && (timers[end] as unknown as { _when: number })._when === when) end++;
    if (end - start > 1) {
      const run = timers.slice(start, end);
      shuffle(run, random);
      timers.splice(start, run.length, ...run);
    }
    start = end;
  }
}
