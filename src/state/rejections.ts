/**
 * Queries on cs_rejections: contacts a provider rejected (with backoff and dead letters) and, under
 * the provider name INVALID_PROVIDER, source rows that are never sent (invalid or duplicate phone).
 */
import { type Kysely, sql } from 'kysely';
import type { RejectionsTable, StateDatabase } from '../db/schema.js';
import { chunksFor } from './chunks.js';
import { bulkSql } from './bulk.js';

/** Invalid source rows are a property of the row, not of a provider: one record per contact. */
export const INVALID_PROVIDER = '*';

export type RejectionRow = Omit<RejectionsTable, 'tenant'>;

/** What the planner needs to skip a contact that waits for backoff or for a change. */
export interface RejectionKey {
  contact_id: string;
  hash: string;
  dead: number;
  next_attempt_at: string | null;
}

export function rejectionQueries(db: Kysely<StateDatabase>, tenant: string) {
  const bulk = bulkSql(db);

  async function upsert(rows: readonly RejectionRow[]): Promise<void> {
    for (const chunk of chunksFor(rows, 12)) {
      await db
        .insertInto('cs_rejections')
        .values(chunk.map((r) => ({ tenant, ...r })))
        .onConflict((oc) =>
          oc.columns(['tenant', 'provider', 'contact_id']).doUpdateSet((eb) => ({
            hash: eb.ref('excluded.hash'),
            code: eb.ref('excluded.code'),
            reason: eb.ref('excluded.reason'),
            transient: eb.ref('excluded.transient'),
            attempts: eb.ref('excluded.attempts'),
            last_at: eb.ref('excluded.last_at'),
            next_attempt_at: eb.ref('excluded.next_attempt_at'),
            dead: eb.ref('excluded.dead'),
          })),
        )
        .execute();
    }
  }

  /**
   * The most recent first, providers' rejections before source rows that were never sent: those
   * are stamped on every read and counted apart, and would otherwise push out what a provider said.
   */
  async function mostRecent(limit: number, deadOnly: boolean): Promise<RejectionRow[]> {
    let query = db.selectFrom('cs_rejections').selectAll().where('tenant', '=', tenant);
    if (deadOnly) query = query.where('dead', '=', 1);
    const rows = await query
      .orderBy(sql`case when provider = ${INVALID_PROVIDER} then 1 else 0 end`)
      .orderBy('last_at', 'desc')
      .orderBy('provider')
      .orderBy('contact_id')
      .limit(limit)
      .execute();
    return rows.map(({ tenant: _t, ...row }) => row);
  }

  return {
    upsert,

    async *keyPages(provider: string, pageSize = 5_000): AsyncGenerator<RejectionKey[]> {
      let after: string | null = null;
      for (;;) {
        let query = db
          .selectFrom('cs_rejections')
          .select(['contact_id', 'hash', 'dead', 'next_attempt_at'])
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

    async byIds(provider: string, contactIds: readonly string[]): Promise<Map<string, RejectionRow>> {
      const found = new Map<string, RejectionRow>();
      if (contactIds.length === 0) return found;
      const rows = await db
        .selectFrom('cs_rejections')
        .selectAll()
        .where('tenant', '=', tenant)
        .where('provider', '=', provider)
        .where(bulk.anyOf('contact_id', contactIds))
        .execute();
      for (const { tenant: _t, ...row } of rows) found.set(row.contact_id, row);
      return found;
    },

    async remove(provider: string, contactIds: readonly string[]): Promise<void> {
      if (contactIds.length === 0) return;
      await db.deleteFrom('cs_rejections').where('tenant', '=', tenant).where('provider', '=', provider).where(bulk.anyOf('contact_id', contactIds)).execute();
    },

    /** Whether the provider has any row at all (settling a batch can then skip removing its contacts' rows). */
    async any(provider: string): Promise<boolean> {
      const row = await db.selectFrom('cs_rejections').select('contact_id').where('tenant', '=', tenant).where('provider', '=', provider).limit(1).executeTakeFirst();
      return row !== undefined;
    },

    /**
     * Records the invalid rows of a complete source read, all stamped `seenAt`, then forgets invalid
     * rows from earlier reads that this one no longer found (fixed or deleted).
     */
    async replaceInvalid(rows: readonly { contactId: string; code: string; reason: string }[], seenAt: string): Promise<void> {
      await upsert(
        rows.map((r) => ({
          provider: INVALID_PROVIDER,
          contact_id: r.contactId,
          hash: '',
          code: r.code,
          reason: r.reason,
          transient: 0,
          attempts: 0,
          first_at: seenAt,
          last_at: seenAt,
          next_attempt_at: null,
          dead: 0,
        })),
      );
      await db
        .deleteFrom('cs_rejections')
        .where('tenant', '=', tenant)
        .where('provider', '=', INVALID_PROVIDER)
        .where('last_at', '<>', seenAt)
        .execute();
    },

    /** Per provider: provider rejections still retried, dead letters, and transient (pending) ones. */
    async countsByProvider(): Promise<Map<string, { rejected: number; dead: number; transient: number }>> {
      const rows = await db
        .selectFrom('cs_rejections')
        .select(['provider', 'dead', 'transient', (eb) => eb.fn.countAll<number | string>().as('n')])
        .where('tenant', '=', tenant)
        .groupBy(['provider', 'dead', 'transient'])
        .execute();
      const counts = new Map<string, { rejected: number; dead: number; transient: number }>();
      for (const r of rows) {
        const c = counts.get(r.provider) ?? { rejected: 0, dead: 0, transient: 0 };
        const n = Number(r.n);
        if (r.dead) c.dead += n;
        else if (r.transient) c.transient += n;
        else c.rejected += n;
        counts.set(r.provider, c);
      }
      return counts;
    },

    /** Dead letters (they wait until the contact changes), the most recent first: their own listing, as invalid rows are stamped on every read. */
    deadLetters: (limit: number): Promise<RejectionRow[]> => mostRecent(limit, true),

    latest: (limit: number): Promise<RejectionRow[]> => mostRecent(limit, false),
  };
}

export type RejectionQueries = ReturnType<typeof rejectionQueries>;
