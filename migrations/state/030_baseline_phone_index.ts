/**
 * The baseline is no longer looked up by phone: a run works out which contacts may claim a phone
 * from what it reads anyway (src/engine/phone-claims.ts). The index cost every delivered row a
 * random b-tree insert, about a third of a first sync's apply on SQLite.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('cs_baseline_phone').ifExists().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('cs_baseline_phone').on('cs_baseline').columns(['tenant', 'provider', 'phone']).execute();
}
