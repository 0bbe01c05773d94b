import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { openStateStore, tenantState } from '../../src/state/store.js';
import { describePg } from '../helpers/postgres.js';
import { pgSchema } from '../helpers/stores.js';

describePg('state statistics on PostgreSQL', () => {
  it('analyzes the state tables once 1,000 baseline rows were written, not before', async () => {
    const schema = await pgSchema('cs_test_stats');
    const store = await openStateStore(schema.url);
    try {
      const state = tenantState(store.db, 'acme');
      const lastAnalyze = async (): Promise<unknown> => {
        const { rows } = await sql<{ at: unknown }>`select last_analyze as at from pg_stat_user_tables where schemaname = ${schema.schema} and relname = 'cs_baseline'`.execute(store.db);
        return rows[0]?.at ?? null;
      };
      const rows = (from: number, n: number) =>
        Array.from({ length: n }, (_, i) => ({
          provider: 'twilio', contact_id: `ct-${String(from + i).padStart(6, '0')}`, source_key: 'k', hash: 'h', payload: '{}',
          phone: `+1415555${String(from + i).padStart(4, '0')}`, remote_id: null, delivered_at: '2026-01-01T00:00:00.000Z',
        }));
      await state.commit((tx) => tx.baseline.upsert(rows(0, 999)));
      await new Promise((r) => setTimeout(r, 300));
      expect(await lastAnalyze()).toBeNull();
      await state.commit((tx) => tx.baseline.upsert(rows(999, 1)));
      const deadline = Date.now() + 10_000;
      while ((await lastAnalyze()) === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await lastAnalyze()).not.toBeNull();
    } finally {
      await store.close();
      await schema.cleanup();
    }
  });
});
