/**
 * The sliding-window log of src/http/sliding-window.ts, kept in PostgreSQL so every process that
 * uses one provider account shares it. Same rule: a request may start at `now` only if, in every
 * applicable window, fewer than `requests` requests count after `now - window`, where a request
 * counts at least(its end, its start + allowance), an upper bound of its arrival at the provider.
 * Then no window of the limit's length, placed anywhere, holds more than the limit, summed over
 * all processes.
 *
 * A start is taken atomically: one short transaction per attempt that holds an advisory lock on
 * the account (so two processes cannot both see the last free slot), reads the window state,
 * and inserts the request's row. Times are the database server's clock (./db-clock.ts).
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { StateDatabase } from '../db/schema.js';
import { arrivalAllowanceMs } from '../http/sliding-window.js';
import type { RateLimit, RequestKind } from '../providers/types.js';
import { dbEpochMs } from './db-clock.js';

export type StartAttempt = { started: string } | { waitMs: number };

export class SharedWindowLog {
  constructor(
    private readonly db: Kysely<StateDatabase>,
    readonly account: string,
  ) {}

  /** Adds limits to the account's (another process may enforce others: each request meets all of them). */
  async register(limits: readonly RateLimit[]): Promise<void> {
    if (limits.length === 0) return;
    await this.db
      .insertInto('cs_rate_limits')
      .values(
        limits.map((l) => ({
          account: this.account,
          requests: l.requests,
          window_ms: l.perSeconds * 1000,
          allowance_ms: arrivalAllowanceMs(l.perSeconds * 1000),
          scope: l.scope,
        })),
      )
      .onConflict((c) => c.columns(['account', 'requests', 'window_ms', 'scope']).doNothing())
      .execute();
  }

  /** Starts a request of `kind` if every window has room (its stamp id); else the ms until one may. */
  tryStart(kind: RequestKind): Promise<StartAttempt> {
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`cs_rate:${this.account}`}, 0))`.execute(trx);
      const waitMs = await this.#waitMs(trx, kind);
      if (waitMs > 0) return { waitMs };
      const id = randomUUID();
      await this.#prune(trx);
      // Stamped at insert time, after the check: the later the start, the safer its window.
      await trx
        .insertInto('cs_rate_stamps')
        .values({ id, account: this.account, kind, started_at: dbEpochMs(), ended_at: null })
        .execute();
      return { started: id };
    });
  }

  /** The request ended: it reached the provider by now, so it counts no later than this. */
  async finish(id: string): Promise<void> {
    await this.db.updateTable('cs_rate_stamps').set({ ended_at: dbEpochMs() }).where('id', '=', id).execute();
  }

  /**
   * For each applicable limit, the `requests`-th latest counted time: while it lies inside the
   * window, the window is full, until it leaves (that time + window).
   */
  async #waitMs(trx: Kysely<StateDatabase>, kind: RequestKind): Promise<number> {
    const { rows } = await sql<{ wait_ms: number | null }>`
      with now as (select ${dbEpochMs()} as ms)
      select max(full_until.at + l.window_ms - now.ms) as wait_ms
      from cs_rate_limits l cross join now
      cross join lateral (
        select least(coalesce(s.ended_at, 'Infinity'::float8), s.started_at + l.allowance_ms) as at
        from cs_rate_stamps s
        where s.account = l.account and (l.scope = 'all' or s.kind = l.scope)
        order by 1 desc
        offset l.requests - 1 limit 1
      ) as full_until
      where l.account = ${this.account} and (l.scope = 'all' or l.scope = ${kind})`.execute(trx);
    return Math.max(0, rows[0]?.wait_ms ?? 0);
  }

  /** Forgets requests no window of the account can count any more. */
  async #prune(trx: Kysely<StateDatabase>): Promise<void> {
    await sql`
      delete from cs_rate_stamps s
      using (select max(window_ms) as window_ms, max(allowance_ms) as allowance_ms from cs_rate_limits where account = ${this.account}) l
      where s.account = ${this.account}
        and least(coalesce(s.ended_at, 'Infinity'::float8), s.started_at + l.allowance_ms) <= ${dbEpochMs()} - l.window_ms`.execute(trx);
  }
}
