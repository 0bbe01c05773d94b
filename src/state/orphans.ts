/** Queries on cs_orphans: remote records a provider that cannot delete still holds. */
import type { Kysely } from 'kysely';
import type { OrphansTable, StateDatabase } from '../db/schema.js';
import { bulkSql } from './bulk.js';

export type OrphanRow = Omit<OrphansTable, 'tenant'>;

const columns = ['provider', 'phone', 'contact_id', 'reason', 'payload', 'recorded_at'] as const;

export function orphanQueries(db: Kysely<StateDatabase>, tenant: string) {
  const bulk = bulkSql(db);
  return {
    async record(rows: readonly OrphanRow[]): Promise<void> {
      await bulk.upsert('cs_orphans', tenant, ['provider', 'phone'], columns, rows);
    },

    /** A phone the connector upserted again is no longer left behind. */
    async reclaim(provider: string, phones: readonly string[]): Promise<void> {
      if (phones.length === 0) return;
      await db.deleteFrom('cs_orphans').where('tenant', '=', tenant).where('provider', '=', provider).where(bulk.anyOf('phone', phones)).execute();
    },

    /** Whether the provider has any orphan at all (settling a batch can then skip reclaiming its phones). */
    async any(provider: string): Promise<boolean> {
      const row = await db.selectFrom('cs_orphans').select('phone').where('tenant', '=', tenant).where('provider', '=', provider).limit(1).executeTakeFirst();
      return row !== undefined;
    },

    async countsByProvider(): Promise<Map<string, number>> {
      const rows = await db
        .selectFrom('cs_orphans')
        .select(['provider', (eb) => eb.fn.countAll<number | string>().as('n')])
        .where('tenant', '=', tenant)
        .groupBy('provider')
        .execute();
      return new Map(rows.map((r) => [r.provider, Number(r.n)]));
    },

    async list(provider: string): Promise<OrphanRow[]> {
      const rows = await db.selectFrom('cs_orphans').selectAll().where('tenant', '=', tenant).where('provider', '=', provider).orderBy('phone').execute();
      return rows.map(({ tenant: _t, ...row }) => row);
    },
  };
}

export type OrphanQueries = ReturnType<typeof orphanQueries>;
