/**
 * Group commit: work queued while a transaction is running goes into the next transaction
 * together, so a run with many small batches in flight (Twilio: 25 contacts each) commits once for
 * several of them instead of twice for each. A commit's fixed cost (SQLite writes every dirty page to
 * the WAL again; PostgreSQL flushes its log) is paid per group. A group starts after one turn of the
 * event loop, so the responses already received queue their settles into it (a transaction on
 * SQLite runs without yielding to I/O: without the turn, nearly every group held one piece).
 * Pieces of the same mergeable kind next to each other in a group run as one piece of work
 * (GroupCommitOptions.merge): one statement instead of one each. Where a transaction costs round
 * trips (PostgreSQL), a group of one-statement pieces runs without one (GroupCommitOptions.autocommit).
 */
export type CommitWork<S> = (state: S) => Promise<void>;

/** A piece that can share its work with its neighbours of the same `kind`. */
export interface MergeablePiece {
  kind: string;
  value: unknown;
}

/** What the group may do with a piece besides running its work in a transaction. */
export interface PieceTraits {
  /** Adjacent pieces of the same kind run as one (GroupCommitOptions.merge). */
  merge?: MergeablePiece;
  /** The work is one statement, so atomic on its own (GroupCommitOptions.autocommit). */
  oneStatement?: boolean;
}

interface Queued<S> {
  work: CommitWork<S>;
  traits: PieceTraits;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Work the group runs as one: a piece, or adjacent mergeable pieces merged. */
interface Unit<S> {
  work: CommitWork<S>;
  oneStatement: boolean;
  pieces: readonly Queued<S>[];
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
  /**
   * Runs one-statement work outside a transaction. Given, a group whose every piece (merged or not)
   * is one statement runs them one after another so, each committing alone: on PostgreSQL a
   * transaction costs two more round trips (begin, commit), and a lone merged settle is the usual
   * group (a Twilio first sync: 1,482 groups of 1.26 pieces).
   */
  autocommit?: (work: (state: S) => Promise<void>) => Promise<void>;
}

/** Runs of one transaction after a transient failure. */
const transientAttempts = 3;

export class GroupCommit<S> {
  readonly #transaction: (work: (state: S) => Promise<void>) => Promise<void>;
  readonly #lanes: number;
  readonly #transient: (error: unknown) => boolean;
  readonly #merge: GroupCommitOptions<S>['merge'];
  readonly #autocommit: GroupCommitOptions<S>['autocommit'];
  #queue: Queued<S>[] = [];
  #running = 0;
  /** A lane is waiting out its turn to gather the queue into its next group. */
  #gathering = false;

  constructor(transaction: (work: (state: S) => Promise<void>) => Promise<void>, options: GroupCommitOptions<S> = {}) {
    this.#transaction = transaction;
    this.#lanes = Math.max(1, options.lanes ?? 1);
    this.#transient = options.transient ?? (() => false);
    this.#merge = options.merge;
    this.#autocommit = options.autocommit;
  }

  /**
   * Resolves once `work` is committed; rejects, with nothing of it committed, if it failed. A
   * mergeable piece's work must be what `merge(kind, [value])` does, and pieces of one kind must
   * agree on `oneStatement`.
   */
  run(work: CommitWork<S>, traits: PieceTraits = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ work, traits, resolve, reject });
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
    const units = this.#units(group);
    const autocommit = this.#autocommit;
    if (autocommit !== undefined && units.every((u) => u.oneStatement)) {
      for (const unit of units) await this.#resolveAfter(unit.pieces, () => this.#attempt(unit.work, autocommit));
      return;
    }
    await this.#resolveAfter(group, () =>
      this.#attempt(async (state) => {
        for (const unit of units) await unit.work(state);
      }),
    );
  }

  /**
   * Resolves `pieces` once `commit` (their work) succeeds. If it fails, each piece runs again on
   * its own (nothing of the failed attempt was committed), so one failure fails only itself.
   */
  async #resolveAfter(pieces: readonly Queued<S>[], commit: () => Promise<void>): Promise<void> {
    try {
      await commit();
      for (const piece of pieces) piece.resolve();
    } catch (error) {
      if (pieces.length === 1) {
        pieces[0]!.reject(error);
        return;
      }
      for (const piece of pieces) {
        try {
          await this.#attempt(piece.work, piece.traits.oneStatement ? this.#autocommit : undefined);
          piece.resolve();
        } catch (alone) {
          piece.reject(alone);
        }
      }
    }
  }

  /** The group's work in order, each run of adjacent mergeable pieces of one kind as one unit. */
  #units(group: readonly Queued<S>[]): Unit<S>[] {
    const merge = this.#merge;
    const units: Unit<S>[] = [];
    for (let i = 0; i < group.length; ) {
      const kind = merge === undefined ? undefined : group[i]!.traits.merge?.kind;
      let end = i + 1;
      while (kind !== undefined && end < group.length && group[end]!.traits.merge?.kind === kind) end++;
      const pieces = group.slice(i, end);
      const work = pieces.length === 1 ? pieces[0]!.work : merge!(kind!, pieces.map((q) => q.traits.merge!.value));
      units.push({ work, oneStatement: pieces[0]!.traits.oneStatement === true, pieces });
      i = end;
    }
    return units;
  }

  /** Runs `work` through `runner` (default: in a transaction), again after a transient failure. */
  async #attempt(work: CommitWork<S>, runner = this.#transaction): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await runner(work);
      } catch (error) {
        if (attempt >= transientAttempts || !this.#transient(error)) throw error;
      }
    }
  }
}
