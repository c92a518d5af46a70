/**
 * The spawn workload built by hand from the parts a cancellable task needs, and nothing else:
 * what the design costs before any of the library's code runs. The raw peer's spawn variants
 * `thenable`, `frames`, `parts` and `parts-undrained` (bench/peers/raw.ts) run these, beside the
 * floor, so that RESULTS.md shows in one run how far above the floor's cost a task with real
 * cancellation must be, and how much of that is asyncio's step order (part 5's drain).
 *
 * The parts, each one the least that does its job:
 * 1. a wait is an object of its own that learns who awaits it: a thenable (`sleep(0)` returns
 *    one per call, so that one wait can be cancelled without the others), which V8 awaits by
 *    calling its `then` with a promise's resolving functions;
 * 2. the wait records which task awaits it, so a cancel can reach the `await`: the resolving
 *    functions and the task, kept in the wait itself (as the library keeps a task's plain
 *    `await sleep(0)`: a record of its own per await cost a tenth of the spawn);
 * 3. each task runs in an `AsyncLocalStorage` frame of its own, entered once at its start, so
 *    that `then` can tell which task awaits (the only way to know it across foreign awaits);
 * 4. a task object (the future of its outcome: state, result, callbacks; its id, context, flags
 *    and its links in the loop's list of live tasks), that learns the coroutine's end from a
 *    reaction on the promise its async function returns;
 * 5. a ready queue, run one item after another, and a drain of the microtask queue after each
 *    item that resumed a task, so a task runs to its next suspension before the next item (the
 *    order of asyncio's steps);
 * 6. `gather`: a done callback per child, run from the ready queue, counting the children.
 * No validation, no debug mode, no cancellation code: only the state that makes it possible.
 */
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";

const RESOLVED = Promise.resolve();

interface Item {
  run(): boolean;
}

/**
 * The ready queue: this iteration's items and the next's, one `setImmediate` per iteration.
 * `drain: false` runs the items back to back, with no microtask drain after a resumed task:
 * not asyncio's order (a task's microtasks interleave with the next items), only there to
 * measure what that order costs.
 */
class MiniLoop {
  constructor(readonly drain = true) {}

  ready: Item[] = [];
  running: Item[] = [];
  index = 0;
  scheduled = false;
  /** The resource task frames start from in this iteration (one per iteration). */
  scope: AsyncResource | null = null;

  enqueue(item: Item): void {
    this.ready.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.iterate);
    }
  }

  iterate = (): void => {
    this.scheduled = false;
    const items = this.ready;
    this.ready = this.running;
    this.running = items;
    this.index = 0;
    this.scope = null;
    this.runItems();
  };

  runItems = (): void => {
    const items = this.running;
    while (this.index < items.length) {
      const item = items[this.index] as Item;
      items[this.index++] = undefined as unknown as Item;
      if (item.run() && this.drain && this.index < items.length) {
        void RESOLVED.then(this.afterMicrotasks);
        return;
      }
    }
    items.length = 0;
  };

  /** Queued as a microtask: the tick runs once the microtask queue is empty. */
  afterMicrotasks = (): void => {
    process.nextTick(this.runItems);
  };
}

const storage = new AsyncLocalStorage<PartsTask>();

/**
 * Whether a store entered inside a resource's scope ends with that scope (frame-based stores:
 * Node ≥ 24, Node 22 with `--experimental-async-context-frame`). Then one frame per task is made
 * by entering it inside a resource; with the older hook-based stores (Node 22), `storage.run`
 * is the cheaper way (the one the library takes there too). Probed by behaviour, as the library
 * does.
 */
const FRAMES_STAY_PUT = ((): boolean => {
  const probe = new AsyncLocalStorage<number>();
  const resource = new AsyncResource("parts.probe", { requireManualDestroy: true });
  resource.runInAsyncScope(() => probe.enterWith(1));
  const staysPut = resource.runInAsyncScope(() => probe.getStore()) === undefined;
  probe.disable();
  return staysPut;
})();

/** Parts 1 and 2: what `sleep(0)` returns, queued to complete in the next iteration. */
class Wait implements Item {
  state = 0;
  /** Part 2: the await, kept in the wait (`resolve` null: nobody awaits yet). */
  task: PartsTask | undefined = undefined;
  resolve: ((value: unknown) => void) | null = null;
  reject: ((reason: unknown) => void) | null = null;

  constructor(readonly loop: MiniLoop) {
    loop.enqueue(this);
  }

  then(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
    const task = storage.getStore();
    this.task = task;
    this.resolve = resolve;
    this.reject = reject;
    if (task !== undefined) task.waiting = this;
  }

  run(): boolean {
    this.state = 1;
    const resolve = this.resolve;
    if (resolve === null) return false;
    this.resolve = null;
    this.reject = null;
    const task = this.task;
    if (task !== undefined) task.waiting = null;
    resolve(undefined);
    return true;
  }
}

/** Part 6: a callback run from the ready queue once a future is done. */
class DoneCallback implements Item {
  constructor(
    readonly future: PartsTask,
    readonly fn: (future: PartsTask) => void,
  ) {}

  run(): boolean {
    this.fn(this.future);
    return false;
  }
}

let ids = 0;

/** Part 4: the task. */
class PartsTask implements Item {
  state = 0;
  result: unknown = undefined;
  exception: unknown = undefined;
  callbacks: DoneCallback | null = null;
  context: object | null = null;
  readonly id = ++ids;
  flags = 0;
  waiting: Wait | null = null;
  prev: PartsTask | null = null;
  next: PartsTask | null = null;

  constructor(
    readonly loop: MiniLoop,
    readonly coro: () => Promise<unknown>,
  ) {
    loop.enqueue(this);
  }

  run(): boolean {
    // Part 3: the task's own frame, entered once (from the iteration's resource, where frames
    // stay put).
    if (!FRAMES_STAY_PUT) {
      storage.run(this, startCoro, this);
      return true;
    }
    this.loop.scope ??= new AsyncResource("parts.iteration", { requireManualDestroy: true });
    this.loop.scope.runInAsyncScope(enterAndStart, null, this);
    return true;
  }

  done(value: unknown): void {
    this.state = 1;
    this.result = value;
    const callback = this.callbacks;
    this.callbacks = null;
    if (callback !== null) this.loop.enqueue(callback);
  }
}

function enterAndStart(task: PartsTask): void {
  storage.enterWith(task);
  startCoro(task);
}

function startCoro(task: PartsTask): void {
  task.coro().then(onReturn, onThrow);
}

/** The coroutine ended: a shared handler, run in the task's frame, finds its task there. */
function onReturn(value: unknown): void {
  (storage.getStore() as PartsTask).done(value);
}

function onThrow(error: unknown): void {
  throw error;
}

/**
 * The spawn workload with every part: `n` tasks that each await one wait and return their
 * index, gathered. `onDone(i)` (tests) sees each task's result as the gather's callback does.
 */
export function spawnParts(n: number, onDone?: (result: number) => void): Promise<void> {
  return spawnOnLoop(new MiniLoop(), n, onDone);
}

/**
 * The same without part 5's drain: the items run back to back, so a task's microtasks
 * interleave with the next items' (not asyncio's order; `stepOrder` shows the difference).
 * What the drain costs is the difference between the two.
 */
export function spawnPartsUndrained(n: number, onDone?: (result: number) => void): Promise<void> {
  return spawnOnLoop(new MiniLoop(false), n, onDone);
}

async function spawnOnLoop(loop: MiniLoop, n: number, onDone?: (result: number) => void): Promise<void> {
  let left = n;
  let wake!: () => void;
  const all = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const childDone = (task: PartsTask): void => {
    if (onDone !== undefined) onDone(task.result as number);
    if (--left === 0) wake();
  };
  for (let i = 0; i < n; i++) {
    const task = new PartsTask(loop, async () => {
      await new Wait(loop);
      return i;
    });
    task.callbacks = new DoneCallback(task, childDone);
  }
  await all;
}

/**
 * What the drain is for: two tasks whose steps each go on through a microtask after their
 * wait (`await null`), on the loop with or without the drain. Returns the order of what they
 * log: with the drain each task runs to its next suspension before the other resumes (`a1 a2
 * b1 b2`, asyncio's order); without it the two interleave.
 */
export async function stepOrder(drain: boolean): Promise<string[]> {
  const loop = new MiniLoop(drain);
  const log: string[] = [];
  let left = 2;
  let wake!: () => void;
  const all = new Promise<void>((resolve) => {
    wake = resolve;
  });
  for (const name of ["a", "b"]) {
    const task = new PartsTask(loop, async () => {
      await new Wait(loop);
      log.push(`${name}1`);
      await null;
      log.push(`${name}2`);
    });
    task.callbacks = new DoneCallback(task, () => {
      if (--left === 0) wake();
    });
  }
  await all;
  return log;
}

/**
 * Part 1 alone: `n` async functions that each await a thenable of their own, completed in the
 * next turn of Node's loop, collected with `Promise.all` as the floor is. `onDone(i)` (tests)
 * sees each one resume.
 */
export async function spawnThenables(n: number, onDone?: (result: number) => void): Promise<void> {
  const waits: { resolve: (() => void) | null; then(resolve: () => void): void }[] = [];
  setImmediate(() => {
    for (const wait of waits) (wait.resolve as () => void)();
  });
  const tasks: Promise<number>[] = [];
  for (let i = 0; i < n; i++) {
    tasks.push((async () => {
      const wait = {
        resolve: null as (() => void) | null,
        then(resolve: () => void): void {
          this.resolve = resolve;
        },
      };
      waits.push(wait);
      await wait;
      if (onDone !== undefined) onDone(i);
      return i;
    })());
  }
  await Promise.all(tasks);
}

const frames = new AsyncLocalStorage<number>();

/**
 * Part 3 alone: the floor (`n` async functions awaiting one shared `setImmediate` promise,
 * collected with `Promise.all`), each function started in an `AsyncLocalStorage` frame of its
 * own, read back after its await. On Node 22 this also switches on the promise hooks that carry
 * such frames there, for every promise the process makes; on later Nodes a frame is a `Map` per
 * task and nothing else. `onDone(i)` (tests) sees each one read its own frame.
 */
export async function spawnFrames(n: number, onDone?: (result: number) => void): Promise<void> {
  const turn = new Promise<void>((resolve) => setImmediate(resolve));
  const body = async (): Promise<number> => {
    await turn;
    const i = frames.getStore() as number;
    if (onDone !== undefined) onDone(i);
    return i;
  };
  const tasks: Promise<number>[] = [];
  for (let i = 0; i < n; i++) tasks.push(frames.run(i, body));
  await Promise.all(tasks);
}
