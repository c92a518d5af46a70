/**
 * `Event`: a flag tasks can wait for.
 */
import type { EventLoop } from "../events/loop.js";
import { _requireRunningLoop } from "../events/running.js";
import { formatRepr, inspectCustom } from "../internal/inspect.js";
import { Waiter, WaiterQueue } from "../internal/waiters.js";
import { RESOLVED_TRUE, bindLoop } from "./mixins.js";

/**
 * A flag that tasks wait for: `set()` raises it and wakes every waiting task, in the order
 * they started waiting; `clear()` lowers it; `wait()` resolves `true` once it is set (at once
 * if it is set already).
 *
 * A task woken by `set()` resumes even if `clear()` is called before it runs.
 *
 * @example
 * const ready = new Event();
 * createTask(async () => { await ready.wait(); console.log("go"); });
 * ready.set();
 *
 * asyncio: `asyncio.Event`.
 */
export class Event {
  #value = false;
  #waiters: WaiterQueue<Waiter<true>, true> | null = null;
  #loop: EventLoop | null = null;

  /** A new event, not set. It binds to the running loop the first time a task waits on it. */
  constructor() {
    if (arguments.length > 0) throw new TypeError("Event() takes no arguments");
  }

  /** Whether the flag is set. asyncio: `Event.is_set()`. */
  isSet(): boolean {
    return this.#value;
  }

  /** Sets the flag and wakes every waiting task. Setting a set event does nothing. */
  set(): void {
    if (this.#value) return;
    this.#value = true;
    this.#waiters?.wakeAll(true);
  }

  /** Clears the flag: later `wait()` calls wait for the next `set()`. */
  clear(): void {
    this.#value = false;
  }

  /**
   * Waits until the flag is set; resolves `true`. Resolves at once (no suspension) when it
   * is set already.
   *
   * **Cancellation**: cancelling the waiting task takes it off the event; nothing else
   * changes.
   *
   * @throws {RuntimeError} when no loop runs (even when the flag is set), or when it must wait
   * and the event is bound to another loop.
   *
   * asyncio: `Event.wait()`.
   */
  wait(): PromiseLike<true> {
    _requireRunningLoop();
    if (this.#value) return RESOLVED_TRUE;
    this.#loop = bindLoop(this.#loop, this);
    return new Waiter<true>(this.#loop, (this.#waiters ??= new WaiterQueue(this)), null);
  }

  /** `<Event [unset, waiters:2]>`, as asyncio's repr. */
  toString(): string {
    const waiting = this.#waiters?.size ?? 0;
    const state = this.#value ? "set" : "unset";
    return formatRepr(this.constructor.name, [`[${waiting > 0 ? `${state}, waiters:${waiting}` : state}]`]);
  }

  [inspectCustom](): string {
    return this.toString();
  }
}
