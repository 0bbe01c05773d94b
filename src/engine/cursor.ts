/**
 * One side of the planner's merge: a keyed, ascending page stream that is advanced to each source
 * id in turn. Entries passed over (keys below the id asked for) are absent from the source and are
 * handed to `onAbsent`. The fill step is async; taking from a filled buffer is not, so the per-row
 * path does not pay for a promise.
 */
import { compareKeys } from './key-order.js';

export class KeyedCursor<T extends { contact_id: string }> {
  readonly #pages: AsyncIterator<T[]>;
  readonly #onAbsent: (entry: T) => void;
  #buffer: T[] = [];
  #position = 0;
  #done = false;

  constructor(pages: AsyncIterable<T[]>, onAbsent: (entry: T) => void) {
    this.#pages = pages[Symbol.asyncIterator]();
    this.#onAbsent = onAbsent;
  }

  /** True when `take(id)` cannot answer from the buffer: call `fill(id)` first. */
  needsFill(id: string): boolean {
    if (this.#done) return false;
    const last = this.#buffer[this.#buffer.length - 1];
    return last === undefined || this.#position >= this.#buffer.length || compareKeys(last.contact_id, id) < 0;
  }

  async fill(id: string): Promise<void> {
    while (this.needsFill(id)) {
      while (this.#position < this.#buffer.length) this.#onAbsent(this.#buffer[this.#position++]!);
      const next = await this.#pages.next();
      this.#done = next.done === true;
      this.#buffer = next.done ? [] : next.value;
      this.#position = 0;
    }
  }

  /** The entry for `id`, if any; entries before it are passed to `onAbsent`. */
  take(id: string): T | undefined {
    while (this.#position < this.#buffer.length) {
      const entry = this.#buffer[this.#position]!;
      const order = compareKeys(entry.contact_id, id);
      if (order > 0) return undefined;
      this.#position++;
      if (order === 0) return entry;
      this.#onAbsent(entry);
    }
    return undefined;
  }

  /** After the complete source read: every remaining entry is absent. */
  async drain(): Promise<void> {
    for (;;) {
      while (this.#position < this.#buffer.length) this.#onAbsent(this.#buffer[this.#position++]!);
      if (this.#done) return;
      const next = await this.#pages.next();
      this.#done = next.done === true;
      this.#buffer = next.done ? [] : next.value;
      this.#position = 0;
    }
  }

  /** Stops the underlying page stream early (a failed read). */
  async close(): Promise<void> {
    await this.#pages.return?.();
  }
}
