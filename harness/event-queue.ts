/** One scheduled event of a discrete-event simulation: run `run` at virtual time `t`. */
export interface Queued<R> {
  t: number;
  /** Insertion order: events at the same instant run in the order they were scheduled. */
  n: number;
  run: R;
}

/** A binary heap of events ordered by (time, insertion order), for simulations in virtual time. */
export class EventQueue<R> {
  readonly #heap: Queued<R>[] = [];
  #n = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(t: number, run: R): void {
    const heap = this.#heap;
    heap.push({ t, n: this.#n++, run });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  pop(): Queued<R> | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before<R>(a: Queued<R>, b: Queued<R>): boolean {
  return a.t < b.t || (a.t === b.t && a.n < b.n);
}
