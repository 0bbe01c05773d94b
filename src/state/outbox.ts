/** Queries on cs_outbox: items written durably before their batch is sent, removed with their outcome. */
import type { Kysely } from 'kysely';
import type { OutboxTable, StateDatabase } from '../db/schema.js';
import { type Deletion, bulkSql } from './bulk.js';

export type OutboxRow = Omit<OutboxTable, 'tenant'>;

const columns = ['provider', 'contact_id', 'batch_id', 'run_id', 'op', 'source_key', 'hash', 'payload', 'previous', 'correlation_id', 'remote_id', 'created_at'] as const;

export function outboxQueries(db: Kysely<StateDatabase>, tenant: string) {
  const bulk = bulkSql(db);
  return {
    /** One statement (so atomic without a transaction of its own), however many rows. */
    async write(rows: readonly OutboxRow[]): Promise<void> {
      // A contact already pending from an earlier batch is superseded by the newer item.
      await bulk.upsert('cs_outbox', tenant, ['provider', 'contact_id'], columns, rows);
    },

    /** The rows `settle(provider, batchId, [])` removes for each of `batchIds`, for a statement that removes them on its way (bulk.ts). */
    settling(provider: string, batchIds: readonly string[]): Deletion {
      return { table: 'cs_outbox', where: [['provider', provider], ['batch_id', batchIds.length === 1 ? batchIds[0]! : batchIds]] };
    },

    /**
     * Removes the rows of one batch that still belong to it (a newer batch may have taken a contact
     * over), except those of `kept` (still in flight).
     */
    async settle(provider: string, batchId: string, kept: readonly string[]): Promise<void> {
      let query = db.deleteFrom('cs_outbox').where('tenant', '=', tenant).where('provider', '=', provider).where('batch_id', '=', batchId);
      if (kept.length > 0) query = query.where(bulk.noneOf('contact_id', kept));
      await query.execute();
    },

    /** Forgets pending deletes of these contacts: their phone now belongs to another contact. */
    async dropDeletes(provider: string, contactIds: readonly string[]): Promise<void> {
      await db
        .deleteFrom('cs_outbox')
        .where('tenant', '=', tenant)
        .where('provider', '=', provider)
        .where('op', '=', 'delete')
        .where(bulk.anyOf('contact_id', contactIds))
        .execute();
    },

    /** Every pending row of one provider, grouped by batch in the order the batches were written. */
    async pendingBatches(provider: string): Promise<OutboxRow[][]> {
      const rows = await db
        .selectFrom('cs_outbox')
        .selectAll()
        .where('tenant', '=', tenant)
        .where('provider', '=', provider)
        .orderBy('created_at')
        .orderBy('batch_id')
        .orderBy('contact_id')
        .execute();
      const batches = new Map<string, OutboxRow[]>();
      for (const { tenant: _t, ...row } of rows) {
        const batch = batches.get(row.batch_id) ?? [];
        batch.push(row);
        batches.set(row.batch_id, batch);
      }
      return [...batches.values()];
    },

    async countsByProvider(): Promise<Map<string, number>> {
      const rows = await db
        .selectFrom('cs_outbox')
        .select(['provider', (eb) => eb.fn.countAll<number | string>().as('n')])
        .where('tenant', '=', tenant)
        .groupBy('provider')
        .execute();
      return new Map(rows.map((r) => [r.provider, Number(r.n)]));
    },
  };
}

export type OutboxQueries = ReturnType<typeof outboxQueries>;
