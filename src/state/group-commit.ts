/**
 * Group commit: work queued while a transaction is running goes into the next transaction
 * together, so a run with many small batches in flight (Twilio: 25 contacts each) commits once for
 * several of them instead of twice for each. A commit's fixed cost (SQLite writes every dirty page to
 * the WAL again; PostgreSQL flushes its log) is paid per group. A group starts after one turn of the
 * event loop, so the responses already received queue their settles into it (a transaction on
 * SQLite runs without yielding to I/O: without the turn, nearly every group held one piece).
 * Pieces of the same mergeable kind next to each other in a group run as one piece of work
 * (GroupCommitOptions.merge): one statement instead of one each.
 */
export type CommitWork<S> = (state: S) => Promise<void>;

/** A piece that can share its work with its neighbours of the same `kind`. */
export interface MergeablePiece {
  kind: string;
  value: unknown;
}

interface Queued<S> {
  work: CommitWork<S>;
  mergeable: MergeablePiece | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Most pieces of work in one transaction (bounds how much one failure has to redo alone). */
const maxGroup = 64;

export interface GroupCommitOptions<S> {
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
  /** The work of adjacent mergeable pieces of one kind, together (in their order). */
  merge?: (kind: string, values: readonly unknown[]) => CommitWork<S>;
}

/** Runs of one transaction after a transient failure. */
const transientAttempts = 3;

export class GroupCommit<S> {
  readonly #transaction: (work: (state: S) => Promise<void>) => Promise<void>;
  readonly #lanes: number;
  readonly #transient: (error: unknown) => boolean;
  readonly #merge: GroupCommitOptions<S>['merge'];
  #queue: Queued<S>[] = [];
  #running = 0;
  /** A lane is waiting out its turn to gather the queue into its next group. */
  #gathering = false;

  constructor(transaction: (work: (state: S) => Promise<void>) => Promise<void>, options: GroupCommitOptions<S> = {}) {
    this.#transaction = transaction;
    this.#lanes = Math.max(1, options.lanes ?? 1);
    this.#transient = options.transient ?? (() => false);
    this.#merge = options.merge;
  }

  /**
   * Resolves once `work` is committed; rejects, with nothing of it committed, if it failed. A
   * `mergeable` piece's work must be what `merge(kind, [value])` does.
   */
  run(work: CommitWork<S>, mergeable?: MergeablePiece): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ work, mergeable, resolve, reject });
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
    const works = this.#works(group);
    try {
      await this.#attempt(async (state) => {
        for (const work of works) await work(state);
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

  /** The group's work in order, each run of adjacent mergeable pieces of one kind as one. */
  #works(group: readonly Queued<S>[]): CommitWork<S>[] {
    const merge = this.#merge;
    if (merge === undefined) return group.map((q) => q.work);
    const works: CommitWork<S>[] = [];
    for (let i = 0; i < group.length; ) {
      const kind = group[i]!.mergeable?.kind;
      let end = i + 1;
      while (kind !== undefined && end < group.length && group[end]!.mergeable?.kind === kind) end++;
      works.push(end - i === 1 ? group[i]!.work : merge(kind!, group.slice(i, end).map((q) => q.mergeable!.value)));
      i = end;
    }
    return works;
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
