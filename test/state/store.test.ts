import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareKeys } from '../../src/engine/key-order.js';
import { type StateStore, openStateStore, tenantState } from '../../src/state/store.js';

let dir: string;
let store: StateStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cs-state-'));
  store = await openStateStore(`sqlite:${join(dir, 'state.db')}`);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const row = (provider: string, id: string, phone = `+1${id.length}`) => ({
  provider,
  contact_id: id,
  source_key: 'k',
  hash: `h-${id}`,
  payload: '{}',
  phone,
  remote_id: null,
  delivered_at: '2024-01-01T00:00:00Z',
});

describe('state store', () => {
  it('pages the baseline in binary id order per tenant and provider, in batched upserts', async () => {
    const ids = ['b', 'a', 'é', '😀', '\uE000', 'a10', 'a2', 'Z', ...Array.from({ length: 40 }, (_, i) => `n${i}`)];
    const one = tenantState(store.db, 'one');
    await one.baseline.upsert(ids.map((id) => row('p', id)));
    await one.baseline.upsert([row('q', 'other')]);
    await tenantState(store.db, 'two').baseline.upsert([row('p', 'zz')]);
    const seen: string[] = [];
    for await (const page of one.baseline.keyPages('p', 7)) seen.push(...page.map((r) => r.contact_id));
    expect(seen).toEqual([...ids].sort(compareKeys));
    expect(await one.baseline.countsByProvider()).toEqual(new Map([['p', ids.length], ['q', 1]]));
  });

  it('re-opening migrates once and keeps rows', async () => {
    await tenantState(store.db, 't').baseline.upsert([row('p', 'a')]);
    await store.close();
    store = await openStateStore(`sqlite:${join(dir, 'state.db')}`);
    expect((await tenantState(store.db, 't').baseline.byIds('p', ['a'])).size).toBe(1);
  });

  it('a transaction that fails leaves nothing behind', async () => {
    const t = tenantState(store.db, 't');
    await expect(
      t.transaction(async (tx) => {
        await tx.baseline.upsert([row('p', 'a')]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await t.baseline.byIds('p', ['a'])).size).toBe(0);
  });

  it('dropClaims drops a contact only while it is on that phone, and says which', async () => {
    const t = tenantState(store.db, 't');
    await t.baseline.upsert([row('p', 'a', '+1555'), row('p', 'b', '+1666'), row('p', 'c', '+1777'), row('q', 'a', '+1555')]);
    const dropped = await t.baseline.dropClaims('p', [
      { contactId: 'a', phone: '+1555' },
      { contactId: 'b', phone: '+1555' }, // b has moved on to +1666: its row stands
      { contactId: 'x', phone: '+1555' }, // no such row
    ]);
    expect(dropped).toEqual(['a']);
    expect([...(await t.baseline.byIds('p', ['a', 'b', 'c'])).keys()].sort()).toEqual(['b', 'c']);
    expect((await t.baseline.byIds('q', ['a'])).size).toBe(1);
  });
});
