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

export interface GroupCommitOptions {
  /**
   * Transactions that may run at once (default 1). SQLite has one writer, so one. On PostgreSQL a
   * commit is mostly the server's work: a second transaction lets it use another core while the
   * first one runs, and the pieces still commit in groups.
   */
  lanes?: number;
  /**
   * A failure the same transaction may simply run again after (PostgreSQL's deadlock_detected: two
   * lanes' groups that swapped phones between two contacts can lock the same rows crosswise).
   */
  transient?: (error: unknown) => boolean;
}

/** Runs of one transaction after a transient failure. */
const transientAttempts = 3;

export class GroupCommit<S> {
  readonly #transaction: (work: (state: S) => Promise<void>) => Promise<void>;
  readonly #lanes: number;
  readonly #transient: (error: unknown) => boolean;
  #queue: Queued<S>[] = [];
  #running = 0;
  /** A lane is waiting out its turn to gather the queue into its next group. */
  #gathering = false;

  constructor(transaction: (work: (state: S) => Promise<void>) => Promise<void>, options: GroupCommitOptions = {}) {
    this.#transaction = transaction;
    this.#lanes = Math.max(1, options.lanes ?? 1);
    this.#transient = options.transient ?? (() => false);
  }

  /** Resolves once `work` is committed; rejects, with nothing of it committed, if it failed. */
  run(work: CommitWork<S>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ work, resolve, reject });
      // A lane already gathering takes this piece into its group; only a queue that waits behind
      // busy lanes opens another.
      if (!this.#gathering && this.#running < this.#lanes) void this.#lane();
    });
  }

  async #lane(): Promise<void> {
    this.#running++;
    try {
      while (this.#queue.length > 0 && !this.#gathering) {
        this.#gathering = true;
        await new Promise((resolve) => setImmediate(resolve));
        this.#gathering = false;
        await this.#commit(this.#queue.splice(0, maxGroup));
      }
    } finally {
      this.#running--;
    }
  }

  /** `group` is never empty: no other lane takes from the queue while this one gathers. */
  async #commit(group: Queued<S>[]): Promise<void> {
    try {
      await this.#attempt(async (state) => {
        for (const item of group) await item.work(state);
      });
      for (const item of group) item.resolve();
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      // The whole group rolled back: each piece again on its own, so one failure fails only itself.
      for (const item of group) {
        try {
          await this.#attempt(item.work);
          item.resolve();
        } catch (alone) {
          item.reject(alone);
        }
      }
    }
  }

  async #attempt(work: CommitWork<S>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#transaction(work);
      } catch (error) {
        if (attempt >= transientAttempts || !this.#transient(error)) throw error;
      }
    }
  }
}
