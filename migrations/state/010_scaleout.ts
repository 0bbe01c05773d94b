/**
 * Scale-out: the request log a provider account's rate limits are enforced on when several
 * processes share it through PostgreSQL (src/scaleout/pg-rate-gate.ts). Created on SQLite too, so
 * both dialects run one set of migrations; only the PostgreSQL gate uses them.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The union of the limits every process enforces on the account: each request is checked
  // against all of them, even those only another process's tenants name.
  await db.schema
    .createTable('cs_rate_limits')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('requests', 'integer', (c) => c.notNull())
    .addColumn('window_ms', 'double precision', (c) => c.notNull())
    // The network delay allowed for in this window (src/http/sliding-window.ts: arrivalAllowanceMs).
    .addColumn('allowance_ms', 'double precision', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('cs_rate_limits_pk', ['account', 'requests', 'window_ms', 'scope'])
    .execute();

  // One row per request started (milliseconds since the epoch, on the database server's clock).
  // In a window, a request counts at least(ended_at, started_at + allowance): an upper bound of
  // its arrival at the provider.
  await db.schema
    .createTable('cs_rate_stamps')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('started_at', 'double precision', (c) => c.notNull())
    .addColumn('ended_at', 'double precision')
    .execute();
  await db.schema.createIndex('cs_rate_stamps_account').on('cs_rate_stamps').column('account').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('cs_rate_stamps').ifExists().execute();
  await db.schema.dropTable('cs_rate_limits').ifExists().execute();
}
