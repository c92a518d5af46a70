// The effect contract of every library wait: it either completes with its effect, or it ends
// (TimeoutError, CancelledError) with no effect at all, whichever way it is handed over:
//
// - as a thunk:                      waitFor(() => q.get(), t)
// - as the object the method made:   waitFor(q.get(), t), timeout(t, () => q.get())
// - as a plain await, cancelled from outside: createTask(async () => await q.get()).cancel()
//
// So a get that raises leaves its item queued, a put that raises never enqueues, an acquire or
// hold that raises holds nothing, and a stream read that raises consumes nothing. The races
// that matter are the ones where the wake-up (a put, a release, a feedData) and the deadline
// (or an outside cancel) land in the same loop iteration; the virtual clock builds them
// exactly: timers due at the same time run in the order they were scheduled.
//
// Part 1 pins each race and each zero timeout deterministically; part 2 runs random programs of
// several tasks with random deadlines (0 and deadlines equal to other events' times included),
// random outside cancels and random hand-over forms, and checks conservation at the end.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  Lock,
  Queue,
  StreamReader,
  type Task,
  TimeoutError,
  createTask,
  getRunningLoop,
  isCancelledError,
  sleep,
  timeout,
  wait,
  waitFor,
} from "../src/index.js";
import { runTest, waitAllTasksBlocked } from "../src/testing.js";

// ---------------------------------------------------------------------------------------------
// Hand-over forms and outcomes
// ---------------------------------------------------------------------------------------------

/** How the wait is handed over. "plain" has no deadline: only an outside cancel stops it. */
type Form = "thunk" | "object" | "timeout" | "plain";

const FORMS: readonly Form[] = ["thunk", "object", "timeout", "plain"];

/** Starts `op` in the calling task, handed over as `form`, with `deadline` seconds. */
function handOver<T>(form: Form, op: () => PromiseLike<T>, deadline: number): Promise<T> {
  switch (form) {
    case "thunk":
      return waitFor(() => op(), deadline);
    case "object":
      return waitFor(op(), deadline);
    case "timeout":
      return timeout(deadline, () => op());
    case "plain":
      return (async () => await op())();
  }
}

/** The call as a user writes it, for test names: `waitFor(q.get(), t)`. */
function spell(form: Form, call: string, deadline: string): string {
  switch (form) {
    case "thunk":
      return `waitFor(() => ${call}, ${deadline})`;
    case "object":
      return `waitFor(${call}, ${deadline})`;
    case "timeout":
      return `timeout(${deadline}, () => ${call})`;
    case "plain":
      return `await ${call}`;
  }
}

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Whether `error` is one a wait may end with when it is interrupted. */
function isInterruption(error: unknown): boolean {
  return error instanceof TimeoutError || isCancelledError(error);
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.message === "" ? error.name : `${error.name}: ${error.message}`;
}

/** Marks a finished task's error as seen: the outcome was recorded where it happened. */
function retrieve(task: Task<unknown>): void {
  if (!task.cancelled()) task.exception();
}

/** Lets everything that can still run, run (an orphaned wait included), past any deadline. */
async function settle(): Promise<void> {
  await sleep(20);
  await waitAllTasksBlocked();
}

// ---------------------------------------------------------------------------------------------
// Part 1: deterministic regressions
// ---------------------------------------------------------------------------------------------

/** A wait set up to block, the wake-up that unblocks it, and the check of what it did. */
interface Fixture<T> {
  op(): PromiseLike<T>;
  /** The wake-up: a put, a get that frees a slot, a release, a feedData. */
  wake(): void;
  /** After everything settled: the wait's effect matches its outcome, and nothing is lost. */
  check(outcome: Outcome<T>): Promise<void>;
}

/** The same wait, set up so it need not block (a zero timeout's fast path). */
interface ReadyFixture<T> {
  op(): PromiseLike<T>;
  check(outcome: Outcome<T>): Promise<void>;
}

interface Subject {
  /** The call, as written in test names. */
  readonly call: string;
  /** What the contract promises, for test names. */
  readonly contract: string;
  /** The state `ready()` sets up, and the one `blocked()` sets up, for test names. */
  readonly readyState: string;
  readonly blockedState: string;
  blocked(): Promise<Fixture<unknown>>;
  ready(): Promise<ReadyFixture<unknown>>;
}

function queueGetFixture(q: Queue<string>, item: string, wake: () => void): Fixture<unknown> {
  return {
    op: () => q.get(),
    wake,
    async check(outcome) {
      await settle();
      assert.doesNotMatch(String(q), /getters/, `a getter is still parked after the wait ended: ${q}`);
      if (outcome.ok) {
        assert.equal(outcome.value, item);
        assert.equal(q.qsize(), 0, `the item was got, yet the queue still holds ${q.qsize()}: ${q}`);
      } else {
        assert.equal(
          q.qsize(),
          1,
          `the get raised ${describeError(outcome.error)} and the item is gone from the queue: lost`,
        );
        assert.equal(q.getNowait(), item);
      }
    },
  };
}

function queuePutFixture(q: Queue<string>, wake: () => void): Fixture<unknown> {
  return {
    op: () => q.put("x"),
    wake,
    async check(outcome) {
      await settle();
      assert.doesNotMatch(String(q), /putters/, `a putter is still parked after the wait ended: ${q}`);
      const held: string[] = [];
      while (!q.empty()) held.push(q.getNowait());
      if (outcome.ok) {
        assert.deepEqual(held, ["x"], "the put resolved, so x must be queued exactly once");
      } else {
        assert.ok(
          !held.includes("x"),
          `the put raised ${describeError(outcome.error)}, yet x was enqueued (a retry would send it twice)`,
        );
      }
    },
  };
}

function lockFixture(lock: Lock, form: "acquire" | "hold", wake: () => void): Fixture<unknown> {
  return {
    op: () => (form === "acquire" ? lock.acquire() : lock.hold()),
    wake,
    async check(outcome) {
      await settle();
      if (outcome.ok) {
        assert.ok(lock.locked(), "the wait resolved, so the caller holds the lock");
        if (form === "acquire") {
          assert.equal(outcome.value, true);
          lock.release();
        } else {
          (outcome.value as { release(): void }).release();
        }
        await settle();
      }
      assert.equal(
        String(lock),
        "<Lock [unlocked]>",
        outcome.ok
          ? "every holder released, so the lock must be free"
          : `the wait raised ${describeError(outcome.error)}, yet the lock is left held by nobody`,
      );
    },
  };
}

/** A reader check: what the read returned plus what is left equals everything fed, in order. */
async function checkReader(reader: StreamReader, fed: string, outcome: Outcome<unknown>): Promise<void> {
  await settle();
  const got = outcome.ok ? (outcome.value as Buffer).toString() : "";
  reader.feedEof();
  const rest = (await reader.read()).toString();
  assert.equal(
    got + rest,
    fed,
    outcome.ok
      ? `read ${JSON.stringify(got)}, left ${JSON.stringify(rest)}: bytes lost or duplicated`
      : `the read raised ${describeError(outcome.error)} and consumed bytes: left ${JSON.stringify(rest)}`,
  );
}

function readerFixture(read: (reader: StreamReader) => PromiseLike<Buffer>, before: string, chunk: string): {
  blocked(): Promise<Fixture<unknown>>;
  ready(): Promise<ReadyFixture<unknown>>;
} {
  return {
    async blocked() {
      const reader = new StreamReader();
      if (before !== "") reader.feedData(before);
      return {
        op: () => read(reader),
        wake: () => reader.feedData(chunk),
        check: (outcome) => checkReader(reader, before + chunk, outcome),
      };
    },
    async ready() {
      const reader = new StreamReader();
      reader.feedData(before + chunk);
      return { op: () => read(reader), check: (outcome) => checkReader(reader, before + chunk, outcome) };
    },
  };
}

const SUBJECTS: Subject[] = [
  {
    call: "q.get()",
    readyState: "on a non-empty queue",
    blockedState: "on an empty queue, put into later",
    contract: "the item is got, or stays queued",
    async blocked() {
      const q = new Queue<string>();
      return queueGetFixture(q, "item", () => q.putNowait("item"));
    },
    async ready() {
      const q = new Queue<string>();
      q.putNowait("item");
      return queueGetFixture(q, "item", () => {});
    },
  },
  {
    call: "q.put(x)",
    readyState: "on a queue with room",
    blockedState: "on a full queue, got from later",
    contract: "x is enqueued exactly when the put resolves",
    async blocked() {
      const q = new Queue<string>(1);
      q.putNowait("old");
      return queuePutFixture(q, () => assert.equal(q.getNowait(), "old"));
    },
    async ready() {
      return queuePutFixture(new Queue<string>(1), () => {});
    },
  },
  {
    call: "lock.acquire()",
    readyState: "on a free lock",
    blockedState: "on a held lock, released later",
    contract: "true means held (and released after), a raise holds nothing",
    async blocked() {
      const lock = new Lock();
      await lock.acquire();
      return lockFixture(lock, "acquire", () => lock.release());
    },
    async ready() {
      return lockFixture(new Lock(), "acquire", () => {});
    },
  },
  {
    call: "lock.hold()",
    readyState: "on a free lock",
    blockedState: "on a held lock, released later",
    contract: "a handle means held (and released after), a raise holds nothing",
    async blocked() {
      const lock = new Lock();
      await lock.acquire();
      return lockFixture(lock, "hold", () => lock.release());
    },
    async ready() {
      return lockFixture(new Lock(), "hold", () => {});
    },
  },
  {
    call: "reader.readline()",
    readyState: "on a reader holding a line",
    blockedState: "on an empty reader, fed later",
    contract: "bytes read plus bytes left equal bytes fed",
    ...readerFixture((r) => r.readline(), "", "line\n"),
  },
  {
    call: "reader.read(2)",
    readyState: "on a reader holding bytes",
    blockedState: "on an empty reader, fed later",
    contract: "bytes read plus bytes left equal bytes fed",
    ...readerFixture((r) => r.read(2), "", "abc"),
  },
  {
    call: "reader.readexactly(3)",
    readyState: "on a reader holding enough bytes",
    blockedState: "on a short reader, fed later",
    contract: "bytes read plus bytes left equal bytes fed",
    ...readerFixture((r) => r.readexactly(3), "a", "bcd"),
  },
];

/** A same-iteration race between the wake-up and the end of the wait. */
interface Race {
  readonly label: string;
  /** Whether it needs a deadline (else the wait is stopped by an outside cancel). */
  readonly deadline: boolean;
  /** Arranges the race at loop time `at`; `start()` starts the wait and returns its promise. */
  arrange(at: number, fx: Fixture<unknown>, task: () => Task<unknown>, start: () => Promise<unknown>): Promise<unknown>;
}

const RACES: Race[] = [
  {
    label: "the wake-up and then the deadline land in one iteration",
    deadline: true,
    arrange(at, fx, _task, start) {
      getRunningLoop().callAt(at, fx.wake); // scheduled first: runs first
      return start();
    },
  },
  {
    label: "the deadline and then the wake-up land in one iteration",
    deadline: true,
    arrange(at, fx, _task, start) {
      const pending = start(); // the deadline's timer is scheduled first
      getRunningLoop().callAt(at, fx.wake);
      return pending;
    },
  },
  {
    label: "one callback wakes it and then cancels its task",
    deadline: false,
    arrange(at, fx, task, start) {
      getRunningLoop().callAt(at, () => {
        fx.wake();
        task().cancel();
      });
      return start();
    },
  },
  {
    label: "one callback cancels its task and then wakes it",
    deadline: false,
    arrange(at, fx, task, start) {
      getRunningLoop().callAt(at, () => {
        task().cancel();
        fx.wake();
      });
      return start();
    },
  },
];

/** Runs one race: a task starts the wait at time t0, the race lands at t0 + 0.5. */
async function runRace(subject: Subject, form: Form, race: Race): Promise<void> {
  await runTest(async () => {
    const loop = getRunningLoop();
    const fx = await subject.blocked();
    let outcome: Outcome<unknown> | null = null;
    const task: Task<void> = createTask(async () => {
      const at = loop.time() + 0.5;
      // Without a deadline race, the deadline is far: only the outside cancel stops the wait.
      const deadline = race.deadline ? 0.5 : 10;
      try {
        outcome = { ok: true, value: await race.arrange(at, fx, () => task, () => handOver(form, fx.op, deadline)) };
      } catch (error) {
        outcome = { ok: false, error };
        throw error;
      }
    });
    await wait([task]);
    retrieve(task);
    const result = outcome as Outcome<unknown> | null;
    assert.ok(result !== null, "the wait never ended");
    if (!result.ok) assert.ok(isInterruption(result.error), `unexpected error: ${describeError(result.error)}`);
    await fx.check(result);
  });
}

describe("a wait that races its wake-up completes with its effect or ends with none", () => {
  for (const subject of SUBJECTS) {
    describe(subject.call, () => {
      for (const form of FORMS) {
        for (const race of RACES) {
          if (form === "plain" && race.deadline) continue;
          const call = spell(form, subject.call, race.deadline ? "t" : "10");
          it(`${call}, ${race.label}: ${subject.contract}`, () => runRace(subject, form, race));
        }
      }
    });
  }
});

describe("a zero timeout completes with its effect or ends with none", () => {
  for (const subject of SUBJECTS) {
    describe(subject.call, () => {
      for (const form of FORMS) {
        if (form === "plain") continue;
        const call = spell(form, subject.call, "0");
        it(`${call} ${subject.readyState}: ${subject.contract}`, async () => {
          await runTest(async () => {
            const fx = await subject.ready();
            let outcome: Outcome<unknown>;
            try {
              outcome = { ok: true, value: await handOver(form, fx.op, 0) };
            } catch (error) {
              assert.ok(error instanceof TimeoutError, `unexpected error: ${describeError(error)}`);
              outcome = { ok: false, error };
            }
            await fx.check(outcome);
          });
        });
        it(`${call} ${subject.blockedState}: raises TimeoutError and the later wake-up is not taken`, async () => {
          await runTest(async () => {
            const fx = await subject.blocked();
            let outcome: Outcome<unknown>;
            try {
              outcome = { ok: true, value: await handOver(form, fx.op, 0) };
            } catch (error) {
              outcome = { ok: false, error };
            }
            assert.ok(!outcome.ok, `${call} resolved ${String(outcome.ok && outcome.value)} though it had to wait`);
            assert.ok(outcome.error instanceof TimeoutError, `unexpected error: ${describeError(outcome.error)}`);
            await sleep(1);
            fx.wake();
            await fx.check(outcome);
          });
        });
      }
    });
  }
});

describe("a lock wait that times out as the lock is handed to it passes the lock on", () => {
  for (const call of ["lock.acquire()", "lock.hold()"] as const) {
    for (const form of FORMS) {
      if (form === "plain") continue;
      const name = spell(form, call, "t");
      it(`${name}, released to it in the deadline's iteration: the next waiter gets the lock, which ends free`, async () => {
        await runTest(async () => {
          const loop = getRunningLoop();
          const lock = new Lock();
          await lock.acquire();
          const log: string[] = [];
          const op = (): PromiseLike<unknown> => (call === "lock.acquire()" ? lock.acquire() : lock.hold());
          const first = createTask(async () => {
            loop.callAt(loop.time() + 0.5, () => lock.release()); // before the deadline's timer
            try {
              const got = await handOver(form, op, 0.5);
              log.push("first holds");
              await sleep(1);
              if (got === true) lock.release();
              else (got as { release(): void }).release();
            } catch (error) {
              assert.ok(error instanceof TimeoutError, `unexpected error: ${describeError(error)}`);
              log.push("first timed out");
            }
          });
          await sleep(0.1); // the first waiter parks first
          const second = createTask(async () => {
            await lock.acquire();
            log.push("second holds");
            lock.release();
          });
          await wait([first, second], { timeout: 20 });
          assert.ok(first.done(), `${name} never ended: ${first}`);
          assert.ok(second.done(), `the next waiter is stuck (${log.join(", ")}): ${lock}`);
          assert.equal(log[log.length - 1], "second holds", log.join(", "));
          assert.equal(String(lock), "<Lock [unlocked]>", `every holder released, yet (${log.join(", ")})`);
        });
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Part 2: random programs
// ---------------------------------------------------------------------------------------------

/**
 * Every time in a program is a whole number of seconds, so deadlines, sleeps and events often
 * fall due at the same time. An event is scheduled with `callAt(at)` at loop time `reg` (0: at
 * the start), so it runs before the deadlines scheduled after `reg` that fall due at `at`, and
 * after those scheduled before: both orders of each same-iteration race come up.
 */
interface Timed {
  readonly at: number;
  readonly reg: number;
}

const form: fc.Arbitrary<Form> = fc.constantFrom<Form>("thunk", "object", "timeout", "plain");
const deadline = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) });
const pause = fc.integer({ min: 0, max: 2 });

/** The latest time an event of a program falls due. */
const LAST_EVENT = 6;

function timed<T extends object>(rest: fc.Arbitrary<T>): fc.Arbitrary<T & Timed> {
  return fc
    .tuple(fc.integer({ min: 0, max: LAST_EVENT }), fc.integer({ min: 0, max: LAST_EVENT }), rest)
    .map(([at, reg, r]) => ({ ...r, at, reg: Math.min(reg, at) }));
}

/** Schedules `action` at `ev.at`, registered at `ev.reg` (see {@link Timed}). */
function schedule(ev: Timed, action: () => void): void {
  const loop = getRunningLoop();
  if (ev.reg === 0) loop.callAt(ev.at, action);
  else loop.callAt(ev.reg, () => loop.callAt(ev.at, action));
}

/**
 * Runs `actors`, each a list of steps; each step runs in a task of its own (so an outside
 * cancel ends that step, not the actor), and `current[k]` is the step task actor `k` runs now.
 */
function startActors<S>(steps: readonly (readonly S[])[], run: (step: S) => Promise<void>) {
  const loop = getRunningLoop();
  const current: (Task<void> | null)[] = steps.map(() => null);
  const since: number[] = steps.map(() => 0);
  const all: Task<unknown>[] = [];
  const actors = steps.map((list, k) =>
    createTask(async () => {
      for (const step of list) {
        const t = createTask(() => run(step));
        current[k] = t;
        since[k] = loop.time();
        all.push(t);
        await wait([t]);
        retrieve(t);
      }
      current[k] = null;
    }),
  );
  all.push(...actors);
  return {
    all,
    actors,
    /** An outside cancel of the step actor `k` runs now (modulo the number of actors). */
    cancel(k: number): void {
      current[k % current.length]?.cancel();
    },
    /** Cancels the steps that have run for `seconds` or more (a get that nothing will feed). */
    cancelStuck(seconds: number): void {
      current.forEach((t, k) => {
        if (t !== null && loop.time() - (since[k] as number) >= seconds) t.cancel();
      });
    },
  };
}

/**
 * Runs a program to its end. Every time in a program is a whole number of seconds, so half a
 * second after each, everything due then has run: `quiet()` checks the invariants there. It
 * ends once every event is past and every actor is done. After the events, a step still running
 * after `stuckAfter` seconds is cancelled (at a whole second too); with `stuckAfter` null, none
 * is, and a waiter that never gets its turn stays.
 */
async function runToEnd(
  actors: ReturnType<typeof startActors>,
  quiet: () => void,
  stuckAfter: number | null,
): Promise<void> {
  await sleep(0.5);
  for (let i = 0; i < 80; i++) {
    await waitAllTasksBlocked();
    quiet();
    if (i > LAST_EVENT && actors.actors.every((t) => t.done())) return;
    if (stuckAfter !== null && i > LAST_EVENT) {
      await sleep(0.5);
      actors.cancelStuck(stuckAfter);
      await sleep(0.5);
    } else {
      await sleep(1);
    }
  }
}

/** The errors a wait in a program ended with that are neither TimeoutError nor CancelledError. */
function expectInterruption(bad: string[], what: string, error: unknown): void {
  if (!isInterruption(error)) bad.push(`${what} raised ${describeError(error)}`);
}

// --- Queues --------------------------------------------------------------------------------

interface QueueStep {
  readonly op: "get" | "put";
  readonly form: Form;
  readonly deadline: number;
  readonly pause: number;
}

type QueueEvent = Timed & {
  readonly kind: "put" | "get" | "cancel" | "putThenCancel" | "cancelThenPut" | "getThenCancel";
  readonly actor: number;
};

interface QueueProgram {
  readonly maxsize: number;
  readonly initial: number;
  readonly actors: QueueStep[][];
  readonly events: QueueEvent[];
}

const queueStep: fc.Arbitrary<QueueStep> = fc.record({ op: fc.constantFrom("get" as const, "put" as const), form, deadline, pause });

const queueProgram: fc.Arbitrary<QueueProgram> = fc.record({
  maxsize: fc.constantFrom(0, 1, 2),
  initial: fc.integer({ min: 0, max: 2 }),
  actors: fc.array(fc.array(queueStep, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  events: fc.array(
    timed(
      fc.record({
        kind: fc.constantFrom("put", "get", "cancel", "putThenCancel", "cancelThenPut", "getThenCancel" as const),
        actor: fc.nat({ max: 2 }),
      }),
    ),
    { maxLength: 4 },
  ),
});

async function checkQueueProgram(p: QueueProgram): Promise<void> {
  await runTest(async () => {
    const loop = getRunningLoop();
    const q = new Queue<number>(p.maxsize);
    let next = 0;
    const putOk = new Set<number>();
    const putRaised = new Set<number>();
    const got: number[] = [];
    const bad: string[] = [];
    const putNowait = (): void => {
      const x = next++;
      try {
        q.putNowait(x);
        putOk.add(x);
      } catch {
        // full: x was never put
      }
    };
    const getNowait = (): void => {
      if (!q.empty()) got.push(q.getNowait());
    };
    for (let i = 0; i < p.initial; i++) putNowait();

    const actors = startActors(p.actors, async (step) => {
      if (step.pause > 0) await sleep(step.pause);
      if (step.op === "get") {
        try {
          got.push(await handOver(step.form, () => q.get(), step.deadline));
        } catch (error) {
          expectInterruption(bad, spell(step.form, "q.get()", String(step.deadline)), error);
          throw error;
        }
      } else {
        const x = next++;
        try {
          await handOver(step.form, () => q.put(x), step.deadline);
          putOk.add(x);
        } catch (error) {
          putRaised.add(x);
          expectInterruption(bad, spell(step.form, `q.put(${x})`, String(step.deadline)), error);
          throw error;
        }
      }
    });
    for (const ev of p.events) {
      schedule(ev, () => {
        if (ev.kind === "cancelThenPut") actors.cancel(ev.actor);
        if (ev.kind === "put" || ev.kind === "putThenCancel" || ev.kind === "cancelThenPut") putNowait();
        if (ev.kind === "get" || ev.kind === "getThenCancel") getNowait();
        if (ev.kind === "cancel" || ev.kind === "putThenCancel" || ev.kind === "getThenCancel") actors.cancel(ev.actor);
      });
    }
    await runToEnd(
      actors,
      () => {
        // Nothing runs now: nobody may wait for what is there (a lost wake-up).
        if (bad.length > 0) return; // the first violation says it
        const state = String(q);
        if (!q.empty() && /getters/.test(state)) bad.push(`at ${loop.time()}: a getter waits while items are queued: ${state}`);
        if (!q.full() && /putters/.test(state)) bad.push(`at ${loop.time()}: a putter waits while there is room: ${state}`);
      },
      8,
    );

    assert.deepEqual(bad, []);
    for (const t of actors.all) assert.ok(t.done(), `left running: ${t}`);
    assert.doesNotMatch(String(q), /getters|putters/, "a wait that ended left a waiter parked");
    const left: number[] = [];
    while (!q.empty()) left.push(q.getNowait());
    const seen = [...got, ...left];
    const counts = new Map<number, number>();
    for (const x of seen) counts.set(x, (counts.get(x) ?? 0) + 1);
    for (const [x, n] of counts) {
      assert.ok(n === 1, `item ${x} was handed out ${n} times (got ${JSON.stringify(got)}, left ${JSON.stringify(left)})`);
      assert.ok(!putRaised.has(x), `the put of ${x} raised, yet ${x} was enqueued`);
      assert.ok(putOk.has(x), `item ${x} came out but was never put`);
    }
    for (const x of putOk) {
      assert.ok(counts.has(x), `item ${x} was put, but was neither got nor left queued: lost (got ${JSON.stringify(got)})`);
    }
  });
}

// --- Locks ---------------------------------------------------------------------------------

interface LockStep {
  readonly op: "acquire" | "hold";
  readonly form: Form;
  readonly deadline: number;
  readonly pause: number;
  readonly holdFor: number;
}

type LockEvent = Timed & { readonly actor: number };

interface LockProgram {
  /** When the lock starts held, the time it is released (by a callback). */
  readonly initial: Timed | null;
  readonly actors: LockStep[][];
  readonly cancels: LockEvent[];
}

const lockStep: fc.Arbitrary<LockStep> = fc.record({
  op: fc.constantFrom("acquire" as const, "hold" as const),
  form,
  deadline,
  pause,
  holdFor: fc.integer({ min: 0, max: 2 }),
});

const lockProgram: fc.Arbitrary<LockProgram> = fc.record({
  initial: fc.option(timed(fc.constant({})), { freq: 3 }),
  actors: fc.array(fc.array(lockStep, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  cancels: fc.array(timed(fc.record({ actor: fc.nat({ max: 2 }) })), { maxLength: 3 }),
});

async function checkLockProgram(p: LockProgram): Promise<void> {
  await runTest(async () => {
    const loop = getRunningLoop();
    const lock = new Lock();
    const bad: string[] = [];
    let holders = 0;
    const enter = (): void => {
      holders++;
      if (holders > 1) bad.push(`${holders} holders at once`);
    };
    if (p.initial !== null) {
      await lock.acquire();
      enter();
      schedule(p.initial, () => {
        holders--;
        lock.release();
      });
    }
    const actors = startActors(p.actors, async (step) => {
      if (step.pause > 0) await sleep(step.pause);
      let release: () => void;
      try {
        if (step.op === "acquire") {
          const value = await handOver(step.form, () => lock.acquire(), step.deadline);
          if (value !== true) bad.push(`acquire() resolved ${String(value)}`);
          release = () => lock.release();
        } else {
          const held = await handOver(step.form, () => lock.hold(), step.deadline);
          release = () => held.release();
        }
      } catch (error) {
        expectInterruption(bad, spell(step.form, `lock.${step.op}()`, String(step.deadline)), error);
        throw error;
      }
      enter();
      try {
        if (step.holdFor > 0) await sleep(step.holdFor);
      } finally {
        holders--;
        release();
      }
    });
    for (const ev of p.cancels) schedule(ev, () => actors.cancel(ev.actor));
    // Every holder releases after a while, so every waiter gets its turn: none may be stuck.
    await runToEnd(
      actors,
      () => {
        // Nothing runs now: the lock is held exactly when someone holds it.
        if (bad.length > 0) return; // the first violation says it
        if (lock.locked() !== holders > 0) bad.push(`at ${loop.time()}: ${lock} with ${holders} holders`);
      },
      null,
    );

    assert.deepEqual(bad, []);
    for (const t of actors.all) assert.ok(t.done(), `a waiter is stuck: ${t} on ${lock}`);
    assert.equal(holders, 0, "a holder never released");
    assert.equal(String(lock), "<Lock [unlocked]>", "every holder released, yet the lock is held (by nobody)");
  });
}

// --- Stream readers ------------------------------------------------------------------------

interface ReadStep {
  readonly op: "readline" | "read" | "readexactly";
  readonly n: number;
  readonly form: Form;
  readonly deadline: number;
  readonly pause: number;
}

type Feed = Timed & { readonly data: string };

interface ReaderProgram {
  readonly steps: ReadStep[];
  readonly feeds: Feed[];
  readonly cancels: Timed[];
}

const readStep: fc.Arbitrary<ReadStep> = fc.record({
  op: fc.constantFrom("readline" as const, "read" as const, "readexactly" as const),
  n: fc.integer({ min: 1, max: 4 }),
  form,
  deadline,
  pause,
});

const readerProgram: fc.Arbitrary<ReaderProgram> = fc.record({
  steps: fc.array(readStep, { minLength: 1, maxLength: 5 }),
  feeds: fc.array(timed(fc.record({ data: fc.string({ unit: fc.constantFrom("a", "b", "\n"), minLength: 1, maxLength: 4 }) })), {
    maxLength: 5,
  }),
  cancels: fc.array(timed(fc.constant({})), { maxLength: 3 }),
});

async function checkReaderProgram(p: ReaderProgram): Promise<void> {
  await runTest(async () => {
    const reader = new StreamReader();
    const fed: string[] = [];
    const read: string[] = [];
    const bad: string[] = [];
    // One reader task reading in turn: a stream allows one waiting read at a time.
    const actors = startActors([p.steps], async (step) => {
      if (step.pause > 0) await sleep(step.pause);
      const call = step.op === "readline" ? "reader.readline()" : `reader.${step.op}(${step.n})`;
      const op = (): PromiseLike<Buffer> =>
        step.op === "readline" ? reader.readline() : step.op === "read" ? reader.read(step.n) : reader.readexactly(step.n);
      try {
        read.push((await handOver(step.form, op, step.deadline)).toString());
      } catch (error) {
        expectInterruption(bad, spell(step.form, call, String(step.deadline)), error);
        throw error;
      }
    });
    for (const feed of p.feeds) {
      schedule(feed, () => {
        fed.push(feed.data);
        reader.feedData(feed.data);
      });
    }
    for (const ev of p.cancels) schedule(ev, () => actors.cancel(0));
    await runToEnd(actors, () => {}, 8);

    assert.deepEqual(bad, []);
    for (const t of actors.all) assert.ok(t.done(), `left running: ${t}`);
    reader.feedEof();
    const rest = (await reader.read()).toString();
    assert.equal(
      read.join("") + rest,
      fed.join(""),
      `bytes read ${JSON.stringify(read)} plus left ${JSON.stringify(rest)} differ from bytes fed ${JSON.stringify(fed)}`,
    );
  });
}

// --- The properties ------------------------------------------------------------------------

describe("random programs: every wait completes with its effect or ends with none (property)", () => {
  it("queue items are never lost or duplicated, and a put that raised never enqueued", async () => {
    await fc.assert(fc.asyncProperty(queueProgram, checkQueueProgram), { numRuns: 1000 });
  });

  it("a lock acquisition that raised holds nothing: the lock ends free and no waiter is stuck", async () => {
    await fc.assert(fc.asyncProperty(lockProgram, checkLockProgram), { numRuns: 1000 });
  });

  it("a stream read that raised consumed nothing: bytes read plus bytes left equal bytes fed", async () => {
    await fc.assert(fc.asyncProperty(readerProgram, checkReaderProgram), { numRuns: 1000 });
  });
});
