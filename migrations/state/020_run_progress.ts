/**
 * When a run last made progress, beside its heartbeat: a run whose process is alive keeps
 * heartbeating even when it is hung, so only this tells `status` that it is stuck.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('cs_runs').addColumn('progress_at', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('cs_runs').dropColumn('progress_at').execute();
}
