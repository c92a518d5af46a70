/**
 * `Barrier`: a meeting point for a fixed number of tasks.
 *
 * HOW (CPython's `asyncio.Barrier`, itself `threading.Barrier`): one {@link Condition} guards
 * a count and a state. Tasks arriving while the barrier is `filling` count themselves in and
 * wait; the last one to arrive switches it to `draining` and wakes them all. Tasks that arrive
 * while it drains (or resets) wait for it to be `filling` again, so the rounds never mix. The
 * last task out of a draining or resetting barrier switches it back to `filling`. `abort()`
 * makes it `broken` for good (until `reset()`).
 */
import { BrokenBarrierError } from "../errors.js";
import { _requireRunningLoop } from "../events/running.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { checkInteger } from "../internal/validate.js";
import { _asOwnTask } from "../tasks.js";
import { Condition } from "./condition.js";

/** The states of a {@link Barrier}, as CPython's `_BarrierState`. */
type BarrierState = "filling" | "draining" | "resetting" | "broken";

/**
 * Lets `parties` tasks wait for each other: each `wait()` blocks until `parties` tasks are
 * waiting, then all of them go on together, each with its own index from `0` to
 * `parties - 1`. The barrier can then be used again.
 *
 * @throws {TypeError} / {@link RangeError} from the constructor when `parties` is not an
 * integer ≥ 1.
 *
 * @example
 * const barrier = new Barrier(3);
 * await gather(...[1, 2, 3].map(() => async () => {
 *   await prepare();
 *   await barrier.wait(); // all three are prepared past this line
 * }));
 *
 * asyncio: `asyncio.Barrier(parties)` (3.11). `async with barrier as i` is `const i = await
 * barrier.wait()`.
 */
export class Barrier {
  readonly #cond = new Condition();
  readonly #parties: number;
  #state: BarrierState = "filling";
  #count = 0;

  /** A barrier for `parties` tasks. */
  constructor(parties: number) {
    this.#parties = checkInteger("parties", parties, 1);
  }

  /**
   * Waits until `parties` tasks are waiting, then resolves this task's index (`0` to
   * `parties - 1`; the last to arrive gets `parties - 1`).
   *
   * **Cancellation**: a task cancelled while waiting leaves the barrier (it is no longer
   * counted among the waiting tasks); the others keep waiting.
   *
   * @throws {BrokenBarrierError} (as a rejection) when the barrier is broken (`abort()`), or is
   * reset or aborted while this task waits.
   * @throws {RuntimeError} synchronously when no loop runs.
   *
   * asyncio: `Barrier.wait()`.
   */
  wait(): Promise<number> {
    return _asOwnTask("Barrier.wait", () => this.#pass());
  }

  async #pass(): Promise<number> {
    const cond = this.#cond;
    await cond.acquire();
    try {
      await this.#block();
      const index = this.#count++;
      try {
        if (index + 1 === this.#parties) this.#release();
        else await this.#wait();
        return index;
      } finally {
        this.#count--;
        this.#exit();
      }
    } finally {
      cond.release();
    }
  }

  /** Waits while the barrier drains or resets; raises if it is broken. */
  async #block(): Promise<void> {
    await this.#cond.waitFor(() => this.#state !== "draining" && this.#state !== "resetting");
    if (this.#state === "broken") throw new BrokenBarrierError("Barrier aborted");
  }

  /** The last party arrived: let everyone through. */
  #release(): void {
    this.#state = "draining";
    this.#cond.notifyAll();
  }

  /** Waits for the last party; raises if the barrier is reset or aborted meanwhile. */
  async #wait(): Promise<void> {
    await this.#cond.waitFor(() => this.#state !== "filling");
    if (this.#state === "broken" || this.#state === "resetting") {
      throw new BrokenBarrierError("Abort or reset of barrier");
    }
  }

  /** The last task out of a draining or resetting barrier makes it `filling` again. */
  #exit(): void {
    if (this.#count === 0) {
      if (this.#state === "resetting" || this.#state === "draining") this.#state = "filling";
      this.#cond.notifyAll();
    }
  }

  /**
   * Puts the barrier back to its initial, `filling` state. Tasks waiting on it get a
   * {@link BrokenBarrierError}.
   *
   * **Cancellation**: it only waits for the barrier's internal lock; cancelled there, nothing
   * changes.
   *
   * @throws {RuntimeError} synchronously when no loop runs.
   *
   * asyncio: `Barrier.reset()`.
   */
  reset(): Promise<void> {
    _requireRunningLoop();
    return this.#reset();
  }

  async #reset(): Promise<void> {
    const cond = this.#cond;
    await cond.acquire();
    try {
      if (this.#count > 0) {
        if (this.#state !== "resetting") this.#state = "resetting";
      } else {
        this.#state = "filling";
      }
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }

  /**
   * Breaks the barrier: tasks waiting on it, and every later `wait()`, get a
   * {@link BrokenBarrierError} (until `reset()`). Use it when a party fails and the others
   * must not wait forever.
   *
   * **Cancellation**: as {@link Barrier.reset}.
   *
   * @throws {RuntimeError} synchronously when no loop runs.
   *
   * asyncio: `Barrier.abort()`.
   */
  abort(): Promise<void> {
    _requireRunningLoop();
    return this.#abort();
  }

  async #abort(): Promise<void> {
    const cond = this.#cond;
    await cond.acquire();
    try {
      this.#state = "broken";
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }

  /** How many tasks must wait for the barrier to open. asyncio: `Barrier.parties`. */
  get parties(): number {
    return this.#parties;
  }

  /** How many tasks are waiting now (0 unless it is filling). asyncio: `Barrier.n_waiting`. */
  get nWaiting(): number {
    return this.#state === "filling" ? this.#count : 0;
  }

  /** @internal How many tasks are inside `wait()` (filling or draining). */
  get _count(): number {
    return this.#count;
  }

  /** Whether the barrier is broken (`abort()`). asyncio: `Barrier.broken`. */
  get broken(): boolean {
    return this.#state === "broken";
  }

  /** `<Barrier [filling, waiters:2/5]>`, `<Barrier [broken]>`, as asyncio's repr. */
  toString(): string {
    let state: string = this.#state;
    if (!this.broken) state += `, waiters:${this.nWaiting}/${this.#parties}`;
    return formatRepr(this.constructor.name, [`[${state}]`]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
