/**
 * A binary min-heap whose entries know their position, so any entry can be removed in
 * O(log n) (Node's `lib/internal/priority_queue.js` idea). The loop keeps its timers here:
 * cancelling a timer takes it out at once, so the heap never fills with dead entries.
 *
 * Entries are ordered by `_when`, then by `_seq` (insertion order), so timers due at the same
 * moment run in the order they were scheduled.
 *
 * Invariant: `entry._heapIndex` is the entry's index in `#items` while it is in the heap and
 * `-1` otherwise.
 */
export interface HeapEntry {
  _when: number;
  _seq: number;
  _heapIndex: number;
}

function before(a: HeapEntry, b: HeapEntry): boolean {
  return a._when < b._when || (a._when === b._when && a._seq < b._seq);
}

export class Heap<T extends HeapEntry> {
  #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(entry: T): void {
    const items = this.#items;
    entry._heapIndex = items.length;
    items.push(entry);
    this.#up(entry._heapIndex);
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    if (top === undefined) return undefined;
    this.#removeAt(0);
    return top;
  }

  /** Removes `entry` if it is in this heap; returns whether it was. */
  remove(entry: T): boolean {
    const i = entry._heapIndex;
    if (i < 0 || this.#items[i] !== entry) return false;
    this.#removeAt(i);
    return true;
  }

  clear(): T[] {
    const items = this.#items;
    this.#items = [];
    for (const item of items) item._heapIndex = -1;
    return items;
  }

  #removeAt(i: number): void {
    const items = this.#items;
    const removed = items[i] as T;
    const last = items.pop() as T;
    removed._heapIndex = -1;
    if (i === items.length) return;
    items[i] = last;
    last._heapIndex = i;
    if (i > 0 && before(last, items[(i - 1) >> 1] as T)) this.#up(i);
    else this.#down(i);
  }

  #up(i: number): void {
    const items = this.#items;
    const entry = items[i] as T;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex] as T;
      if (!before(entry, parent)) break;
      items[i] = parent;
      parent._heapIndex = i;
      i = parentIndex;
    }
    items[i] = entry;
    entry._heapIndex = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const entry = items[i] as T;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && before(items[right] as T, items[left] as T)) child = right;
      const c = items[child] as T;
      if (!before(c, entry)) break;
      items[i] = c;
      c._heapIndex = i;
      i = child;
    }
    items[i] = entry;
    entry._heapIndex = i;
  }
}
