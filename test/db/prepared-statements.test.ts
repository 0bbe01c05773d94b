/**
 * The state layer's bulk statements go to PostgreSQL as named statements: each connection
 * prepares one once and runs it on a generic plan afterwards (src/db/prepared-statements.ts).
 */
import { afterEach, expect, it } from 'vitest';
import { sql } from 'kysely';
import { type StateStore, openStateStore, tenantState } from '../../src/state/store.js';
import { describePg } from '../helpers/postgres.js';
import { type StoreHandle, pgSchema } from '../helpers/stores.js';

const row = (id: string, batch: string) => ({
  provider: 'p', contact_id: id, batch_id: batch, run_id: 'r', op: 'upsert', source_key: 'k', hash: `h-${id}`,
  payload: '{}', previous: null, correlation_id: `c-${id}`, remote_id: null, created_at: '2024-01-01T00:00:00Z',
});

describePg('prepared statements on PostgreSQL', () => {
  let handle: StoreHandle | undefined;
  let store: StateStore | undefined;
  afterEach(async () => {
    await store?.close();
    await handle?.cleanup();
  });

  it('prepares the outbox write and the settle once per connection, with generic plans, and they still do their work', async () => {
    handle = await pgSchema('cs_test_prepared');
    // One connection, so the statements below all run on the session whose prepared statements we read.
    store = await openStateStore(handle.url, { poolSize: 1 });
    const state = tenantState(store.db, 't');
    for (let batch = 0; batch < 8; batch++) {
      await state.writeOutbox([row(`a${batch}`, `b${batch}`), row(`b${batch}`, `b${batch}`)]);
      await state.settleDelivered('p', `b${batch}`, [
        { provider: 'p', contact_id: `a${batch}`, source_key: 'k', hash: 'h', payload: '{}', phone: `+1555000${batch}`, remote_id: null, delivered_at: '2024-01-01T00:00:00Z' },
      ]);
    }
    const prepared = await sql<{ statement: string; generic_plans: string; custom_plans: string }>`
      select statement, generic_plans, custom_plans from pg_prepared_statements order by statement`.execute(store.db);
    const texts = prepared.rows.map((r) => r.statement);
    expect(texts.some((t) => t.startsWith('insert into "cs_outbox"'))).toBe(true);
    expect(texts.some((t) => t.startsWith('with deleted as (delete from "cs_outbox"'))).toBe(true);
    for (const statement of prepared.rows) {
      expect(Number(statement.generic_plans)).toBe(8);
      expect(Number(statement.custom_plans)).toBe(0);
    }
    expect((await state.outbox.pendingBatches('p')).length).toBe(0);
    expect([...(await state.baseline.byIds('p', ['a0', 'a7', 'b0'])).keys()].sort()).toEqual(['a0', 'a7']);
  });
});
