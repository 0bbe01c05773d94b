import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { payloadHash } from '../../src/engine/hash.js';
import type { ItemOutcome, RemoteContact } from '../../src/providers/types.js';
import type { Contact } from '../../src/source/contact.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { attempts, byId, contact, deleteItem, phones, sandboxAdapter, upsertItem, upsertThroughFault, waitsAfter429 } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  // 60/min and 10/min would make this file wait: the limiter has its own test.
  sb = await startSandbox({ enforceRateLimits: false });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const priya = contact({ id: 'priya', phone: '+919876543210', phoneCountry: 'IN', name: 'Priya Sharma', language: 'hi-IN', country: 'IN', zip: '400001', attributes: { city: 'Mumbai', tier: { level: 2 } } });
const ravi = contact({ id: 'ravi', phone: '+919123456789', phoneCountry: 'IN' });

function remoteIdOf(outcome: ItemOutcome | undefined): string {
  if (outcome?.status !== 'ok' || !outcome.remoteId) throw new Error(`no remote id in ${JSON.stringify(outcome)}`);
  return outcome.remoteId;
}

async function listAll(iterable: AsyncIterable<RemoteContact>): Promise<RemoteContact[]> {
  const all: RemoteContact[] = [];
  for await (const c of iterable) all.push(c);
  return all;
}

describe('OliAI adapter against the sandbox', () => {
  it('states its capabilities: 1,000 per bulk, 60/min and 10/min bulk, delete by id, list', () => {
    const { adapter } = sandboxAdapter(sb, 'oliai', { batchSize: 500 });
    expect(adapter.capabilities).toEqual({
      maxBatch: 500,
      maxDeleteBatch: 500,
      rateLimits: [
        { requests: 60, perSeconds: 60, scope: 'all' },
        { requests: 10, perSeconds: 60, scope: 'bulk' },
      ],
      canList: true,
      deleteMode: 'delete',
    });
  });

  it('creates contacts in bulk and returns their OliAI ids; lists them back with equal payload hashes', async () => {
    const { adapter } = sandboxAdapter(sb, 'oliai');
    const items = [upsertItem(adapter, priya), upsertItem(adapter, ravi)];
    const outcomes = byId(await adapter.upsert(items));
    const priyaId = remoteIdOf(outcomes.get('priya'));
    expect(sb.oliai.contacts().get(priyaId)).toMatchObject({
      name: 'Priya Sharma',
      phoneNumber: priya.phone,
      language: 'hi-IN',
      metadata: { city: 'Mumbai', tier: { level: 2 }, country: 'IN', zip: '400001' },
    });
    expect(sb.oliai.contacts().get(remoteIdOf(outcomes.get('ravi')))?.name).toBe(ravi.phone);

    const remote = await listAll(adapter.list!());
    expect(remote.map((r) => [r.remoteId, r.phone, payloadHash(r.payload)]).sort()).toEqual(
      items.map((i) => [remoteIdOf(outcomes.get(i.contactId)), adapter.phoneOf(i.payload), i.hash]).sort(),
    );
  });

  it('updates by phone on a second bulk, keeping the id, and clears a removed language', async () => {
    const { adapter } = sandboxAdapter(sb, 'oliai');
    const [first] = await adapter.upsert([upsertItem(adapter, priya)]);
    const changed = contact({ ...priya, language: null, name: 'Priya S.' });
    const [second] = await adapter.upsert([upsertItem(adapter, changed, { previous: adapter.map(priya), remoteId: remoteIdOf(first) })]);
    expect(remoteIdOf(second)).toBe(remoteIdOf(first));
    expect(sb.oliai.contacts().get(remoteIdOf(first))).toMatchObject({ name: 'Priya S.', language: null });
    expect(sb.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /contacts/bulk', 'POST /contacts/bulk']);
  });

  it('rejects contacts OliAI refuses, with its reason', async () => {
    const { adapter } = sandboxAdapter(sb, 'oliai');
    const outcomes = byId(await adapter.upsert([upsertItem(adapter, priya), upsertItem(adapter, contact({ id: 'bad', phone: '+1999' }))]));
    expect(outcomes.get('priya')?.status).toBe('ok');
    expect(outcomes.get('bad')).toEqual({
      contactId: 'bad',
      status: 'rejected',
      code: 'validation_failed',
      reason: 'OliAI refused the contact: phoneNumber must be a valid phone number in E.164 format',
    });
  });

  it('moves a known contact to its new phone with PATCH by id', async () => {
    const { adapter } = sandboxAdapter(sb, 'oliai');
    const id = remoteIdOf((await adapter.upsert([upsertItem(adapter, priya)]))[0]);
    sb.clearRequests();
    const moved = contact({ ...priya, phone: '+919876500000' });
    const outcomes = await adapter.upsert([upsertItem(adapter, moved, { previous: adapter.map(priya), remoteId: id }), upsertItem(adapter, ravi)]);
    expect(outcomes).toEqual([
      { contactId: 'priya', status: 'ok', remoteId: id },
      { contactId: 'ravi', status: 'ok', remoteId: expect.any(String) },
    ]);
    expect(sb.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH /contacts/${id}`, 'POST /contacts/bulk']);
    expect(sb.oliai.contacts().get(id)?.phoneNumber).toBe('+919876500000');
    expect(sb.oliai.contacts().size).toBe(2);
  });

  it('creates the contact again when the one to move is gone at OliAI', async () => {
    const { adapter } = sandboxAdapter(sb, 'oliai');
    const moved = contact({ ...priya, phone: '+919876500000' });
    const [outcome] = await adapter.upsert([upsertItem(adapter, moved, { previous: adapter.map(priya), remoteId: 'clgone' })]);
    expect(outcome).toMatchObject({ status: 'ok', remoteId: expect.not.stringMatching(/^clgone$/) });
    expect(sb.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['PATCH 404', 'POST 201']);
  });

  it('rejects a move onto a phone another OliAI contact has', async () => {
    const { adapter } = sandboxAdapter(sb, 'oliai');
    const outcomes = await adapter.upsert([upsertItem(adapter, priya), upsertItem(adapter, ravi)]);
    const moved = contact({ ...priya, phone: ravi.phone });
    const [outcome] = await adapter.upsert([upsertItem(adapter, moved, { previous: adapter.map(priya), remoteId: remoteIdOf(outcomes[0]) })]);
    expect(outcome).toMatchObject({ status: 'rejected', code: 'phone_taken', reason: expect.stringContaining(`already has ${ravi.phone}`) });
  });

  it('deletes by id in bulk; an item without id or already gone counts as done', async () => {
    const { adapter } = sandboxAdapter(sb, 'oliai');
    const outcomes = await adapter.upsert([upsertItem(adapter, priya), upsertItem(adapter, ravi)]);
    sb.clearRequests();
    const result = await adapter.delete([
      deleteItem(adapter, priya, remoteIdOf(outcomes[0])),
      deleteItem(adapter, ravi, remoteIdOf(outcomes[1])),
      deleteItem(adapter, contact({ id: 'never', phone: '+919000000001' })),
      deleteItem(adapter, contact({ id: 'gone', phone: '+919000000002' }), 'clalreadydeleted'),
    ]);
    expect(byId(result)).toEqual(
      new Map(['priya', 'ravi', 'never', 'gone'].map((id) => [id, { contactId: id, status: 'ok' }])),
    );
    expect(sb.requests.map((r) => `${r.method} ${r.path} ${r.items}`)).toEqual(['POST /contacts/bulk-delete 3']);
    expect(sb.oliai.contacts().size).toBe(0);
  });

  it('retries a 429 after the Retry-After OliAI sends', async () => {
    const limited = await startSandbox({ limits: { oliai: [{ requests: 1, perSeconds: 1, scope: 'all' }] } });
    try {
      const { adapter, events } = sandboxAdapter(limited, 'oliai', { rateLimit: { requests: 100, perSeconds: 1 } });
      await adapter.upsert([upsertItem(adapter, priya)]);
      expect(await adapter.upsert([upsertItem(adapter, ravi)])).toMatchObject([{ status: 'ok' }]);
      expect(attempts(events)).toEqual([[201, 1], [429, 1], [201, 2]]);
      expect(limited.requests.filter((r) => r.status === 429)).toHaveLength(1);
      // Retry-After: 1 (whole seconds): the retry came no sooner, though fastRetry backs off at most 20 ms.
      const [wait] = waitsAfter429(limited);
      expect(wait).toBeGreaterThanOrEqual(1_000);
      expect(wait).toBeLessThan(2_000);
    } finally {
      await limited.close();
    }
  });

  it('retries a 429 without Retry-After (undocumented for OliAI) after a backoff', async () => {
    const { outcomes, events } = await upsertThroughFault(sb, 'oliai', [priya], { rateLimitBursts: 1 });
    expect(outcomes).toEqual([{ contactId: 'priya', status: 'ok', remoteId: expect.any(String) }]);
    expect(attempts(events)).toEqual([[429, 1], [201, 2]]);
    expect(waitsAfter429(sb)).toEqual([expect.any(Number)]);
    expect(waitsAfter429(sb)[0]).toBeLessThan(500);
  });

  /** The ids the adapter reported are those OliAI holds, one contact per phone: a replay created nothing twice. */
  function expectStoredOnce(outcomes: readonly ItemOutcome[], contacts: readonly Contact[]): void {
    const stored = sb.oliai.contacts();
    expect([...stored.values()].map((c) => c.phoneNumber).sort()).toEqual(contacts.map((c) => c.phone).sort());
    for (const outcome of outcomes) expect(stored.has(remoteIdOf(outcome))).toBe(true);
  }

  it('retries after a timeout (the write was applied); the replay updates the same contact', async () => {
    const { outcomes, events } = await upsertThroughFault(sb, 'oliai', [priya], { slowRate: 1, slowMs: 2_000 }, { timeoutMs: 300 });
    expect(outcomes).toEqual([{ contactId: 'priya', status: 'ok', remoteId: expect.any(String) }]);
    expect(attempts(events)).toEqual([['timeout', 1], [201, 2]]);
    expect(sb.requests.map((r) => [r.status, r.fault])).toEqual([[201, 'slow'], [201, undefined]]);
    expectStoredOnce(outcomes, [priya]);
  });

  it('retries when the connection drops after the write; the replay is harmless', async () => {
    const { outcomes, events } = await upsertThroughFault(sb, 'oliai', [priya, ravi], { dropAfterApplyRate: 1 });
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
    expect(attempts(events)).toEqual([['network', 1], [201, 2]]);
    expect(sb.requests.map((r) => r.status)).toEqual(['dropped', 201]);
    expectStoredOnce(outcomes, [priya, ravi]);
  });

  it('gives up after the bounded retries when every attempt is dropped; no replay stored the contact twice', async () => {
    sb.faults.set({ dropAfterApplyRate: 1 });
    const { adapter, events } = sandboxAdapter(sb, 'oliai');
    await expect(adapter.upsert([upsertItem(adapter, priya)])).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', message: expect.stringContaining('failed 4 time(s), last: network error') });
    expect(attempts(events)).toEqual([1, 2, 3, 4].map((n) => ['network', n])); // fastRetry: 3 retries
    expect(sb.requests.map((r) => r.status)).toEqual(['dropped', 'dropped', 'dropped', 'dropped']);
    expect([...sb.oliai.contacts().values()].map((c) => c.phoneNumber)).toEqual([priya.phone]);
  });

  it('throws PROVIDER_AUTH for a revoked key', async () => {
    const { adapter } = sandboxAdapter(sb, 'oliai', { apiKey: 'sk_live_revoked' });
    await expect(adapter.list!()[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'PROVIDER_AUTH', status: 401 });
  });

  it('splits a bulk by batchSize, and lists page by page (100 per page)', async () => {
    const { adapter } = sandboxAdapter(sb, 'oliai', { batchSize: 100 });
    const outcomes = await adapter.upsert(phones(150).map((phone, i) => upsertItem(adapter, contact({ id: `c${i}`, phone }))));
    expect(new Set(outcomes.map((o) => o.status === 'ok' && o.remoteId)).size).toBe(150);
    expect(sb.requests.map((r) => r.items)).toEqual([100, 50]);
    sb.clearRequests();
    expect(await listAll(adapter.list!())).toHaveLength(150);
    expect(sb.requests).toHaveLength(2);
  });
});
