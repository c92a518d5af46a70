/**
 * `race` and `any`: the first awaitable to finish (or to succeed) wins, and the others are let
 * go of at once.
 *
 * WHY not `Promise.race`: V8 wraps each contender of a `Promise.race` in a promise of its own,
 * so the library cannot tell a dead loser from a live `await`; a loser that is a library future
 * stays registered as a waiter of the calling task, and a later `task.cancel()` can be absorbed
 * by it (design-notes.md). Here the contenders are followed with internal done callbacks,
 * never awaited by the calling task: the task waits on the race future alone, and when the
 * race is over every callback is removed from the losers.
 *
 * Which losers are cancelled: those that belong to this race alone. A task the race made (from
 * a thunk or a coroutine), the future it made to follow a promise, and a library operation
 * (`fut._isOperation()`: a sleep, a lock acquisition, an event wait, …, made for one awaiter).
 * Tasks and futures passed in may be awaited by someone else too: they are only let go of.
 */
import { ExceptionGroup } from "../errors.js";
import type { EventLoop } from "../events/loop.js";
import { getRunningLoop } from "../events/running.js";
import { Future, isFuture } from "../futures.js";
import { checkAwaitable, describe } from "../internal/validate.js";
import { type Awaitable, type AwaitableResult, _ensureFutureOn } from "../tasks.js";

type Mode = "race" | "any";

/** One distinct contender: its future, and whether the race may cancel it. */
interface Contender {
  readonly future: Future<unknown>;
  readonly owned: boolean;
}

/**
 * @internal The future `race()` and `any()` return. It follows its contenders with one done
 * callback; once it is settled (or cancelled) it holds on to none of them.
 */
class RaceFuture<T> extends Future<T> {
  readonly #mode: Mode;
  /** The distinct contenders, while the race runs; `null` once it is over. */
  #contenders: Contender[] | null;
  /** The future of each argument, in argument order (`any()` reports errors in that order). */
  #byArgument: Future<unknown>[] | null;
  /** How many distinct contenders failed (`any()`). */
  #failed = 0;
  /** The winner, when it belongs to this race: a lost wake-up is handed back to it. */
  #ownedWinner: Future<unknown> | null = null;
  readonly #onContenderDone = (fut: Future<unknown>): void => this.#contenderDone(fut);

  constructor(loop: EventLoop, mode: Mode, contenders: Contender[], byArgument: Future<unknown>[]) {
    super(loop);
    this.#mode = mode;
    this.#contenders = contenders;
    this.#byArgument = byArgument;
  }

  /** Follows every contender; one already done settles the race now (the first in argument order). */
  _start(): void {
    const contenders = this.#contenders as Contender[];
    const alreadyDone: Future<unknown>[] = [];
    for (const { future } of contenders) {
      if (future.done()) alreadyDone.push(future);
      else future._addInternalCallback(this.#onContenderDone, this);
    }
    for (const future of alreadyDone) this.#contenderDone(future);
  }

  /**
   * Cancels the contenders that belong to the race, lets go of the others, and ends the race
   * cancelled at once (it does not wait for the cancelled contenders to finish). Returns
   * `false` when the race was already over.
   */
  override cancel(msg?: string): boolean {
    if (msg !== undefined && typeof msg !== "string") {
      throw new TypeError(`\`msg\` must be a string, got ${describe(msg)}`);
    }
    if (this.done()) return false;
    this.#release(null, msg);
    return super.cancel(msg);
  }

  /** Made for its awaiter alone: an enclosing race that lets go of it cancels it. */
  override _isOperation(): boolean {
    return true;
  }

  /** Its awaiter was cancelled before resuming with the result: the winner hands it on. */
  override _lostWakeup(): void {
    const winner = this.#ownedWinner;
    this.#ownedWinner = null;
    winner?._lostWakeup();
  }

  #contenderDone(fut: Future<unknown>): void {
    if (this.done()) {
      // A contender that finished in the same iteration as the winner: its error is seen here.
      if (!fut.cancelled()) fut.exception();
      return;
    }
    const failed = fut.cancelled() || fut._hasException;
    if (this.#mode === "race" || !failed) {
      this.#settleLike(fut);
      return;
    }
    if (!fut.cancelled()) fut.exception(); // any(): the error is kept for the group
    this.#failed++;
    const contenders = this.#contenders as Contender[];
    if (this.#failed < contenders.length) return;
    const errors = (this.#byArgument as Future<unknown>[]).map((f) =>
      f.cancelled() ? f._makeCancelledError() : f.exception(),
    );
    this.#release(null, undefined);
    this.setException(new ExceptionGroup("any(): every awaitable failed", errors));
  }

  /** The race ends as `winner` did: its result, its error, or its `CancelledError`. */
  #settleLike(winner: Future<unknown>): void {
    const owned = this.#contenders?.some((c) => c.future === winner && c.owned) ?? false;
    this.#release(winner, undefined);
    if (winner.cancelled()) {
      this.setException(winner._makeCancelledError());
    } else if (winner._hasException) {
      this.setException(winner.exception());
    } else {
      if (owned) this.#ownedWinner = winner;
      this.setResult(winner.result() as T);
    }
  }

  /**
   * The race is over: removes the callback from every contender still pending and cancels
   * those that belong to the race. One of those that finished with a result it will never
   * deliver (a lock handed to it, a queue item) hands that wake-up on.
   */
  #release(winner: Future<unknown> | null, msg: string | undefined): void {
    const contenders = this.#contenders;
    if (contenders === null) return;
    this.#contenders = null;
    this.#byArgument = null;
    for (const { future, owned } of contenders) {
      if (future === winner) continue;
      if (!future.done()) {
        future.removeDoneCallback(this.#onContenderDone);
        if (owned) future.cancel(msg);
      } else if (owned && !future.cancelled() && !future._hasException) {
        future._lostWakeup();
      }
    }
  }
}

/** Validates the arguments and starts the contenders; the common part of `race` and `any`. */
function startRace(mode: Mode, args: readonly unknown[]): RaceFuture<unknown> {
  if (args.length === 0) {
    throw new RangeError(`${mode}() needs at least one awaitable: with none it would never settle`);
  }
  args.forEach((aw, i) => checkAwaitable(`${mode}(): argument ${i}`, aw));
  let loop: EventLoop | undefined;
  args.forEach((aw, i) => {
    if (!isFuture(aw)) return;
    if (loop === undefined) loop = aw._loop;
    else if (aw._loop !== loop) throw new RangeError(`${mode}(): argument ${i} belongs to a different event loop`);
  });
  loop ??= getRunningLoop();

  // The same awaitable given twice is one contender (a thunk given twice runs once).
  const made = new Map<unknown, Future<unknown>>();
  const contenders: Contender[] = [];
  const byArgument: Future<unknown>[] = [];
  try {
    for (const arg of args) {
      let fut = made.get(arg);
      if (fut === undefined) {
        fut = _ensureFutureOn(arg as Awaitable<unknown>, loop);
        made.set(arg, fut);
        // Made here (a task for a thunk or coroutine, a future following a promise), or an
        // operation made for one awaiter: the race may cancel it.
        contenders.push({ future: fut, owned: fut !== arg || fut._isOperation() });
      }
      byArgument.push(fut);
    }
  } catch (error) {
    for (const { future, owned } of contenders) if (owned) future.cancel();
    throw error;
  }
  const race = new RaceFuture<unknown>(loop, mode, contenders, byArgument);
  race._start();
  return race;
}

/**
 * Runs `aws` concurrently and settles like the first of them to finish: with its result, its
 * error, or, when that one ended cancelled, its `CancelledError` (the race itself is then not
 * `cancelled()`, it failed with that error, as `gather` does). Thunks and coroutines become
 * tasks; the same awaitable given twice counts once; an awaitable already done when `race` is
 * called wins at once (the first such, in argument order).
 *
 * As soon as the first one finishes, the race lets go of the others (no callback is left on
 * them) and cancels those that are its own: the tasks it made for thunks and coroutines, and
 * library operations made for one awaiter (`sleep()`, `lock.acquire()`, `event.wait()`, …). A
 * `Task` or `Future` passed in may be shared, so it is not cancelled: it runs on. The race does
 * not wait for the losers it cancelled to finish; their `finally` blocks run in the following
 * loop iterations.
 *
 * Use it instead of `Promise.race` over library awaitables: a `Promise.race` loser stays
 * registered as a waiter of the calling task and may absorb a later `cancel()` of it.
 *
 * **Cancellation**: cancelling the returned future (or the task awaiting it) cancels the
 * contenders that are the race's own, lets go of the others, and the race ends cancelled at
 * once.
 *
 * @throws {RangeError} synchronously when no awaitable is given, or futures of two event loops.
 * @throws {TypeError} synchronously when an argument is not an awaitable or a thunk (there are
 * no options).
 * @throws {RuntimeError} synchronously when no future is given and no loop is running.
 *
 * @example
 * const reply = await race(() => fetchFromMirror(1), () => fetchFromMirror(2), sleep(5, null));
 *
 * asyncio: no counterpart, an addition to asyncio (which has `wait(aws,
 * return_when=FIRST_COMPLETED)` and leaves cancelling the rest to you); Trio and AnyIO users
 * know it as a race in a nursery or task group whose first finisher cancels the scope.
 */
export function race<A extends readonly Awaitable<unknown>[]>(...aws: A): Future<AwaitableResult<A[number]>> {
  return startRace("race", aws) as Future<AwaitableResult<A[number]>>;
}

/**
 * Runs `aws` concurrently and resolves to the result of the first of them to succeed, as
 * `Promise.any` does. Failures, errors and contenders that end cancelled alike, are collected;
 * when every one has failed, `any` rejects with an {@link ExceptionGroup} of their errors in
 * argument order (a cancelled one is represented by its `CancelledError`). Thunks and
 * coroutines become tasks; the same awaitable given twice counts once.
 *
 * Once one succeeds, the others are let go of and cancelled as by {@link race}: the tasks `any`
 * made for thunks and coroutines and library operations are cancelled; tasks and futures
 * passed in are not.
 *
 * **Cancellation**: cancelling the returned future (or the task awaiting it) cancels the
 * contenders that are its own, lets go of the others, and `any` ends cancelled at once.
 *
 * @throws {RangeError} synchronously when no awaitable is given, or futures of two event loops.
 * @throws {TypeError} synchronously when an argument is not an awaitable or a thunk (there are
 * no options).
 * @throws {RuntimeError} synchronously when no future is given and no loop is running.
 *
 * @example
 * const data = await any(() => readCache(key), () => fetchOrigin(key)); // the first that works
 *
 * asyncio: no counterpart, an addition to asyncio (the JavaScript `Promise.any`, with
 * cancellation of the losers).
 */
export function any<A extends readonly Awaitable<unknown>[]>(...aws: A): Future<AwaitableResult<A[number]>> {
  return startRace("any", aws) as Future<AwaitableResult<A[number]>>;
}
