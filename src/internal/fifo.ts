/**
 * A first-in first-out queue on a chain of fixed-size segments: O(1) push and shift, and no
 * copying as it grows. The loop's ready queue sits on it.
 *
 * WHY not the ring buffer of `deque.ts`: the ready queue of a program that starts 100k tasks
 * holds 100k items at once. A ring buffer gets there by doubling, copying every item each time
 * into an array so large that V8 puts it among the large objects, where every store of a young
 * item goes through the write barrier (measured: the copying alone was 1.6 % of the time of
 * spawning 100k tasks on Node 24). Segments of 1,024 slots are ordinary young objects; a full
 * one is never copied, and an emptied one is kept for reuse so a queue that fills and drains
 * every iteration makes none.
 *
 * Invariant: the items are `#head.items[#head.start …]`, then every following segment's
 * `items[0 … end)`, the last being `#tail`; vacated slots are `undefined`.
 */
const SEGMENT_SIZE = 1024;

class Segment<T> {
  readonly items: (T | undefined)[] = new Array<T | undefined>(SEGMENT_SIZE);
  /** The first occupied slot (only the head segment has items taken from it). */
  start = 0;
  /** One past the last occupied slot. */
  end = 0;
  next: Segment<T> | null = null;
}

export class Fifo<T> {
  #head: Segment<T> = new Segment<T>();
  #tail: Segment<T> = this.#head;
  /** One emptied segment, kept to be the next tail. */
  #spare: Segment<T> | null = null;
  #size = 0;

  get length(): number {
    return this.#size;
  }

  push(item: T): void {
    let tail = this.#tail;
    if (tail.end === SEGMENT_SIZE) {
      const fresh = this.#spare ?? new Segment<T>();
      this.#spare = null;
      tail.next = fresh;
      this.#tail = tail = fresh;
    }
    tail.items[tail.end++] = item;
    this.#size++;
  }

  /** Removes and returns the first item; `undefined` when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const head = this.#head;
    const item = head.items[head.start];
    head.items[head.start++] = undefined;
    this.#size--;
    if (head.start === head.end) {
      const next = head.next;
      head.start = head.end = 0;
      if (next !== null) {
        // Emptied and not the last: the next one leads, this one waits to be reused.
        head.next = null;
        this.#head = next;
        this.#spare = head;
      }
    }
    return item;
  }

  clear(): void {
    this.#head = this.#tail = new Segment<T>();
    this.#spare = null;
    this.#size = 0;
  }
}
