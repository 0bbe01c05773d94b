/**
 * What the planner remembers of every source row after it has passed: its id and the op it got
 * per provider, so rows that turn out to lose a duplicate-phone contest later in the read can be
 * reported and recounted. Ids are packed into one JSON string per chunk (about one byte per
 * character instead of a heap string each); ops are one byte per row and provider.
 */
const chunkSize = 1024;

export class RowLog {
  readonly #providers: number;
  readonly #idChunks: string[] = [];
  #current: string[] = [];
  #ops: Uint8Array;
  #length = 0;

  constructor(providers: number) {
    this.#providers = providers;
    this.#ops = new Uint8Array(chunkSize * providers);
  }

  get length(): number {
    return this.#length;
  }

  /** Appends a row whose ops are `ops[offset …]`, one per provider, and returns its ordinal. */
  append(contactId: string, ops: ArrayLike<number>, offset = 0): number {
    const ordinal = this.#length++;
    this.#current.push(contactId);
    if (this.#current.length === chunkSize) {
      this.#idChunks.push(JSON.stringify(this.#current));
      this.#current = [];
    }
    if ((ordinal + 1) * this.#providers > this.#ops.length) {
      const grown = new Uint8Array(this.#ops.length * 2);
      grown.set(this.#ops);
      this.#ops = grown;
    }
    for (let p = 0; p < this.#providers; p++) this.#ops[ordinal * this.#providers + p] = ops[offset + p]!;
    return ordinal;
  }

  contactId(ordinal: number): string {
    const chunk = Math.floor(ordinal / chunkSize);
    const ids = chunk < this.#idChunks.length ? (JSON.parse(this.#idChunks[chunk]!) as string[]) : this.#current;
    return ids[ordinal % chunkSize]!;
  }

  op(ordinal: number, provider: number): number {
    return this.#ops[ordinal * this.#providers + provider]!;
  }
}
