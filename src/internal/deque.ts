/**
 * A double-ended queue on a growable ring buffer: O(1) push and shift at both ends, no
 * per-item allocation. Every waiter queue sits on it (the loop's ready queue on `fifo.ts`).
 *
 * Invariant: items live in `#buf[(#head + i) & #mask]` for `0 <= i < #size`; the capacity is a
 * power of two; vacated slots are set to `undefined` so the buffer holds no stale references.
 */
export class Deque<T> {
  #buf: (T | undefined)[];
  #mask: number;
  #head = 0;
  #size = 0;

  constructor(capacity = 16) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.#buf = new Array<T | undefined>(cap);
    this.#mask = cap - 1;
  }

  get length(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#size) & this.#mask] = item;
    this.#size++;
  }

  unshift(item: T): void {
    if (this.#size === this.#buf.length) this.#grow();
    this.#head = (this.#head - 1) & this.#mask;
    this.#buf[this.#head] = item;
    this.#size++;
  }

  /** Removes and returns the first item; `undefined` when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#buf[this.#head];
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#size--;
    return item;
  }

  /** Removes and returns the last item; `undefined` when empty. */
  pop(): T | undefined {
    if (this.#size === 0) return undefined;
    this.#size--;
    const index = (this.#head + this.#size) & this.#mask;
    const item = this.#buf[index];
    this.#buf[index] = undefined;
    return item;
  }

  peekFirst(): T | undefined {
    return this.#size === 0 ? undefined : this.#buf[this.#head];
  }

  peekLast(): T | undefined {
    return this.#size === 0 ? undefined : this.#buf[(this.#head + this.#size - 1) & this.#mask];
  }

  /** The item at position `index` from the front (0-based); `undefined` when out of range. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#size) return undefined;
    return this.#buf[(this.#head + index) & this.#mask];
  }

  /** Removes the first occurrence of `item`, keeping the order of the rest. O(n). */
  remove(item: T): boolean {
    for (let i = 0; i < this.#size; i++) {
      if (this.#buf[(this.#head + i) & this.#mask] === item) {
        for (let j = i; j < this.#size - 1; j++) {
          this.#buf[(this.#head + j) & this.#mask] = this.#buf[(this.#head + j + 1) & this.#mask];
        }
        this.#size--;
        this.#buf[(this.#head + this.#size) & this.#mask] = undefined;
        return true;
      }
    }
    return false;
  }

  clear(): void {
    this.#buf = new Array<T | undefined>(16);
    this.#mask = 15;
    this.#head = 0;
    this.#size = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.#buf[(this.#head + i) & this.#mask] as T;
  }

  #grow(): void {
    const old = this.#buf;
    const cap = old.length * 2;
    const buf = new Array<T | undefined>(cap);
    for (let i = 0; i < this.#size; i++) buf[i] = old[(this.#head + i) & this.#mask];
    this.#buf = buf;
    this.#mask = cap - 1;
    this.#head = 0;
  }
}
