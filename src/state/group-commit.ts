/**
 * Group commit: work queued while a transaction is running goes into the next transaction
 * together, so a run with many small batches in flight (Twilio: 25 contacts each) commits once for
 * several of them instead of twice for each. A commit's fixed cost (SQLite writes every dirty page to
 * the WAL again; PostgreSQL flushes its log) is paid per group. A group starts after one turn of the
 * event loop, so the responses already received queue their settles into it (a transaction on
 * SQLite runs without yielding to I/O: without the turn, nearly every group held one piece).
 */
export type CommitWork<S> = (state: S) => Promise<void>;

interface Queued<S> {
  work: CommitWork<S>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Most pieces of work in one transaction (bounds how much one failure has to redo alone). */
const maxGroup = 64;

export class GroupCommit<S> {
  readonly #transaction: (work: (state: S) => Promise<void>) => Promise<void>;
  #queue: Queued<S>[] = [];
  #draining = false;

  constructor(transaction: (work: (state: S) => Promise<void>) => Promise<void>) {
    this.#transaction = transaction;
  }

  /** Resolves once `work` is committed; rejects, with nothing of it committed, if it failed. */
  run(work: CommitWork<S>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ work, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    while (this.#queue.length > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      const group = this.#queue.splice(0, maxGroup);
      try {
        await this.#transaction(async (state) => {
          for (const item of group) await item.work(state);
        });
        for (const item of group) item.resolve();
      } catch (error) {
        if (group.length === 1) {
          group[0]!.reject(error);
          continue;
        }
        // The whole group rolled back: each piece again on its own, so one failure fails only itself.
        for (const item of group) {
          try {
            await this.#transaction(item.work);
            item.resolve();
          } catch (alone) {
            item.reject(alone);
          }
        }
      }
    }
    this.#draining = false;
  }
}
