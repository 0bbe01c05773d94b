/**
 * Keeps PostgreSQL's planner statistics of the state tables fresh while a run fills them. Tables
 * that were never analyzed (a new tenant's first sync) get default selectivities, under which
 * PostgreSQL takes `tenant = $1 and provider = $2` for a selective index condition and scans every
 * row of the provider for each `= any($keys)` lookup: a first sync of 100,000 contacts to Twilio took
 * 105 s instead of about 10. Autovacuum analyzes only after its next nap (a minute by default), so
 * the state analyzes its tables itself after 1,000, 10,000, 100,000… baseline rows written in this
 * process: a handful of times ever, each in the background. SQLite plans these lookups by index
 * without statistics.
 */
import { type Kysely, sql } from 'kysely';
import { isPostgres } from '../db/postgres.js';
import type { StateDatabase } from '../db/schema.js';

export class StatisticsKeeper {
  readonly #db: Kysely<StateDatabase>;
  readonly #postgres: boolean;
  #written = 0;
  #next = 1_000;

  constructor(db: Kysely<StateDatabase>) {
    this.#db = db;
    this.#postgres = isPostgres(db);
  }

  /** `rows` baseline rows were written. */
  wrote(rows: number): void {
    if (!this.#postgres) return;
    this.#written += rows;
    if (this.#written < this.#next) return;
    while (this.#next <= this.#written) this.#next *= 10;
    // Best effort, outside the writer's transaction: only the speed of later lookups depends on it.
    sql`analyze cs_baseline, cs_outbox`.execute(this.#db).catch(() => undefined);
  }
}
