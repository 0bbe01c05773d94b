/** Queries on cs_baseline: the payload last confirmed delivered, per tenant, provider and contact. */
import { type Kysely, type SqlBool, sql } from 'kysely';
import type { BaselineTable, StateDatabase } from '../db/schema.js';
import { type Deletion, bulkSql } from './bulk.js';
import type { StatisticsKeeper } from './statistics.js';

/** What the planner needs of a baseline row: no payload, so the merge stays cheap. */
export interface BaselineKey {
  contact_id: string;
  source_key: string;
  hash: string;
  phone: string;
}

export type BaselineRow = Omit<BaselineTable, 'tenant'>;

const columns = ['provider', 'contact_id', 'source_key', 'hash', 'payload', 'phone', 'remote_id', 'delivered_at'] as const;

export function baselineQueries(db: Kysely<StateDatabase>, tenant: string, statistics?: StatisticsKeeper) {
  const bulk = bulkSql(db);

  async function byIds(provider: string, contactIds: readonly string[]): Promise<Map<string, BaselineRow>> {
    const found = new Map<string, BaselineRow>();
    if (contactIds.length === 0) return found;
    const rows = await db
      .selectFrom('cs_baseline')
      .selectAll()
      .where('tenant', '=', tenant)
      .where('provider', '=', provider)
      .where(bulk.anyOf('contact_id', contactIds))
      .execute();
    for (const { tenant: _t, ...row } of rows) found.set(row.contact_id, row);
    return found;
  }

  /** `deleting`: rows of another table that go with this move (a settled batch's outbox rows). */
  async function upsert(rows: readonly BaselineRow[], deleting?: Deletion): Promise<void> {
    await bulk.upsert('cs_baseline', tenant, ['provider', 'contact_id'], columns, rows, deleting);
    statistics?.wrote(rows.length);
  }

  async function remove(provider: string, contactIds: readonly string[]): Promise<void> {
    if (contactIds.length === 0) return;
    await db.deleteFrom('cs_baseline').where('tenant', '=', tenant).where('provider', '=', provider).where(bulk.anyOf('contact_id', contactIds)).execute();
  }

  return {
    byIds,
    upsert,
    remove,

    /** Every row of one provider in ascending binary contact_id order, a keyset page at a time. */
    async *keyPages(provider: string, pageSize = 5_000): AsyncGenerator<BaselineKey[]> {
      let after: string | null = null;
      for (;;) {
        let query = db
          .selectFrom('cs_baseline')
          .select(['contact_id', 'source_key', 'hash', 'phone'])
          .where('tenant', '=', tenant)
          .where('provider', '=', provider);
        if (after !== null) query = query.where('contact_id', '>', after);
        const page = await query.orderBy('contact_id').limit(pageSize).execute();
        if (page.length === 0) return;
        yield page;
        if (page.length < pageSize) return;
        after = page[page.length - 1]!.contact_id;
      }
    },

    /** Full rows (with payload) of one provider, ascending contact_id, a keyset page at a time. */
    async *rowPages(provider: string, pageSize = 1_000): AsyncGenerator<BaselineRow[]> {
      let after: string | null = null;
      for (;;) {
        let query = db.selectFrom('cs_baseline').selectAll().where('tenant', '=', tenant).where('provider', '=', provider);
        if (after !== null) query = query.where('contact_id', '>', after);
        const page = await query.orderBy('contact_id').limit(pageSize).execute();
        if (page.length === 0) return;
        yield page.map(({ tenant: _t, ...row }) => row);
        if (page.length < pageSize) return;
        after = page[page.length - 1]!.contact_id;
      }
    },

    /**
     * Drops each claim (a contact's row, if it is still on that phone): a confirmed upsert keyed by
     * the phone made that remote record another contact's (see src/engine/phone-claims.ts).
     * Returns the contacts whose row was dropped.
     */
    async dropClaims(provider: string, claims: readonly { contactId: string; phone: string }[]): Promise<string[]> {
      if (claims.length === 0) return [];
      // One statement, so the phone is checked as each row is deleted: a concurrent batch
      // (PostgreSQL) may have moved that contact to another phone meanwhile, and its new claim stands.
      const rows = await db
        .deleteFrom('cs_baseline')
        .where('tenant', '=', tenant)
        .where('provider', '=', provider)
        .where(bulk.anyOf('contact_id', claims.map((c) => c.contactId)))
        .where(sql<SqlBool>`(contact_id, phone) in (select r.value->>0, r.value->>1 from ${bulk.rows(claims.map((c) => [c.contactId, c.phone]))} as r)`)
        .returning('contact_id')
        .execute();
      return rows.map((r) => r.contact_id);
    },

    /** The row's fingerprint changed but not its payload: remember the new fingerprint, nothing to send. */
    async rekey(provider: string, rows: readonly { contactId: string; sourceKey: string }[]): Promise<void> {
      const current = await byIds(provider, rows.map((r) => r.contactId));
      const updated: BaselineRow[] = [];
      for (const r of rows) {
        const row = current.get(r.contactId);
        if (row) updated.push({ ...row, source_key: r.sourceKey });
      }
      await upsert(updated);
    },

    async countsByProvider(): Promise<Map<string, number>> {
      const rows = await db
        .selectFrom('cs_baseline')
        .select(['provider', (eb) => eb.fn.countAll<number | string>().as('n')])
        .where('tenant', '=', tenant)
        .groupBy('provider')
        .execute();
      return new Map(rows.map((r) => [r.provider, Number(r.n)]));
    },
  };
}

export type BaselineQueries = ReturnType<typeof baselineQueries>;
