import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { payloadHash } from '../../src/engine/hash.js';
import type { RemoteContact } from '../../src/providers/types.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { attempts, byId, contact, deleteItem, faultOnce, phones, sandboxAdapter, upsertItem, upsertThroughFault, waitsAfter429 } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const list = '+18005551234';
const ada = contact({ id: 'ada', phone: '+14155552671', name: 'Ada', language: 'en', country: 'US', zip: '94105', attributes: { tier: 'gold', visits: 3, vip: true, tags: ['x'] } });
const bob = contact({ id: 'bob', phone: '+14155552672', name: 'Bob' });

async function listAll(iterable: AsyncIterable<RemoteContact>): Promise<RemoteContact[]> {
  const all: RemoteContact[] = [];
  for await (const c of iterable) all.push(c);
  return all;
}

describe('Trackly adapter against the sandbox', () => {
  it('states its capabilities: 1,000 per request, 10/s bulk and 100/s single, unsubscribe, list', () => {
    const { adapter } = sandboxAdapter(sb, 'trackly');
    expect(adapter.capabilities).toEqual({
      maxBatch: 1_000,
      maxDeleteBatch: 1,
      rateLimits: [
        { requests: 100, perSeconds: 1, scope: 'single' },
        { requests: 10, perSeconds: 1, scope: 'bulk' },
      ],
      canList: true,
      deleteMode: 'unsubscribe',
    });
  });

  it('subscribes contacts with their custom fields, and lists them back with the same payload hashes', async () => {
    const { adapter } = sandboxAdapter(sb, 'trackly');
    const items = [upsertItem(adapter, ada), upsertItem(adapter, bob)];
    expect(await adapter.upsert(items)).toEqual([
      { contactId: 'ada', status: 'ok' },
      { contactId: 'bob', status: 'ok' },
    ]);
    expect(sb.trackly.listContacts(list).get(ada.phone)).toMatchObject({
      active: true,
      custom_fields: { tier: 'gold', visits: 3, vip: true, name: 'Ada', language: 'en', country: 'US', zip: '94105' },
    });
    const remote = await listAll(adapter.list!());
    expect(remote.map((r) => [r.remoteId, r.active, payloadHash(r.payload)]).sort()).toEqual(items.map((i) => [adapter.phoneOf(i.payload), true, i.hash]).sort());
  });

  it('turns per-contact error codes into rejections a person can act on', async () => {
    const { adapter } = sandboxAdapter(sb, 'trackly');
    const outcomes = byId(
      await adapter.upsert([
        upsertItem(adapter, ada),
        upsertItem(adapter, contact({ id: 'voip', phone: '+12015550123' })),
        upsertItem(adapter, contact({ id: 'bad', phone: '+1999' })),
      ]),
    );
    expect(outcomes.get('ada')?.status).toBe('ok');
    expect(outcomes.get('voip')).toEqual({
      contactId: 'voip',
      status: 'rejected',
      code: 'not_sendable',
      reason: 'Trackly cannot send to +12015550123: it failed carrier validation or is a VOIP number Trackly rejects; use a mobile number',
    });
    expect(outcomes.get('bad')).toMatchObject({ status: 'rejected', code: 'invalid_phone', reason: 'phone "+1999" is not a valid E.164 number for Trackly' });
  });

  it('names the config setting when the sending list does not exist', async () => {
    const { adapter } = sandboxAdapter(sb, 'trackly', { listNumber: '+18885550199' });
    const [outcome] = await adapter.upsert([upsertItem(adapter, ada)]);
    expect(outcome).toMatchObject({ status: 'rejected', code: 'list_not_found', reason: expect.stringContaining('check listNumber in the config') });
    const { adapter: malformed } = sandboxAdapter(sb, 'trackly', { listNumber: '+1999' });
    const [invalid] = await malformed.upsert([upsertItem(malformed, ada)]);
    expect(invalid).toMatchObject({ status: 'rejected', code: 'invalid_list_number', reason: 'list number "+1999" is not a valid E.164 number: check listNumber in the config' });
  });

  it('rejects a contact over 4 KB without sending it', async () => {
    const { adapter } = sandboxAdapter(sb, 'trackly');
    const big = contact({ id: 'big', phone: '+14155552673', attributes: { notes: 'x'.repeat(5_000) } });
    const outcomes = byId(await adapter.upsert([upsertItem(adapter, big), upsertItem(adapter, bob)]));
    expect(outcomes.get('big')).toMatchObject({ status: 'rejected', code: 'payload_too_large', reason: expect.stringMatching(/is \d+ bytes as sent; Trackly accepts at most 4,000/) });
    expect(outcomes.get('bob')?.status).toBe('ok');
    expect(sb.requests.map((r) => r.items)).toEqual([1]);
  });

  it('splits by batchSize', async () => {
    const { adapter } = sandboxAdapter(sb, 'trackly', { batchSize: 2 });
    await adapter.upsert(phones(5).map((phone, i) => upsertItem(adapter, contact({ id: `c${i}`, phone }))));
    expect(sb.requests.map((r) => r.items)).toEqual([2, 2, 1]);
  });

  it('deletes by unsubscribing, one request each; an unsubscribed contact counts as done', async () => {
    const { adapter } = sandboxAdapter(sb, 'trackly');
    await adapter.upsert([upsertItem(adapter, ada), upsertItem(adapter, bob)]);
    sb.clearRequests();
    expect(await adapter.delete([deleteItem(adapter, ada), deleteItem(adapter, bob)])).toEqual([
      { contactId: 'ada', status: 'ok' },
      { contactId: 'bob', status: 'ok' },
    ]);
    expect(sb.requests.map((r) => `${r.method} ${r.path} ${r.items}`)).toEqual(['DELETE /contacts 1', 'DELETE /contacts 1']);
    expect(sb.trackly.listContacts(list).get(ada.phone)?.active).toBe(false);
    expect(await adapter.delete([deleteItem(adapter, ada)])).toEqual([{ contactId: 'ada', status: 'ok' }]);
    expect((await listAll(adapter.list!())).map((r) => r.active)).toEqual([false, false]);
  });

  it('on a phone change subscribes the new number and unsubscribes the old one', async () => {
    const { adapter } = sandboxAdapter(sb, 'trackly');
    await adapter.upsert([upsertItem(adapter, ada)]);
    const moved = contact({ ...ada, phone: '+14155552699' });
    expect(await adapter.upsert([upsertItem(adapter, moved, { previous: adapter.map(ada) })])).toEqual([{ contactId: 'ada', status: 'ok' }]);
    expect(sb.trackly.listContacts(list).get('+14155552699')?.active).toBe(true);
    expect(sb.trackly.listContacts(list).get(ada.phone)?.active).toBe(false);
  });

  it('does not unsubscribe an old phone that another contact of the batch takes (a swap)', async () => {
    const { adapter } = sandboxAdapter(sb, 'trackly');
    await adapter.upsert([upsertItem(adapter, ada), upsertItem(adapter, bob)]);
    const adaNow = contact({ ...ada, phone: bob.phone });
    const bobNow = contact({ ...bob, phone: ada.phone });
    const outcomes = await adapter.upsert([upsertItem(adapter, adaNow, { previous: adapter.map(ada) }), upsertItem(adapter, bobNow, { previous: adapter.map(bob) })]);
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
    expect([...sb.trackly.listContacts(list).values()].map((c) => c.active)).toEqual([true, true]);
    expect(sb.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);
  });

  it('makes the item retryable when the old phone cannot be unsubscribed', async () => {
    const { adapter } = sandboxAdapter(sb, 'trackly', {}, { observer: { onRequest: () => sb.faults.set({ errorRate: 1 }) } });
    const moved = contact({ ...ada, phone: '+14155552699' });
    const [outcome] = await adapter.upsert([upsertItem(adapter, moved, { previous: adapter.map(ada) })]);
    expect(outcome).toMatchObject({ status: 'retryable', code: 'provider_unavailable', reason: expect.stringContaining('unsubscribing the old +14155552671 failed') });
    expect(sb.trackly.listContacts(list).get('+14155552699')?.active).toBe(true);
  });

  it('clears a custom field the contact no longer has (Trackly merges custom fields)', async () => {
    const { adapter } = sandboxAdapter(sb, 'trackly');
    await adapter.upsert([upsertItem(adapter, ada)]);
    const trimmed = contact({ ...ada, attributes: { visits: 4 } });
    await adapter.upsert([upsertItem(adapter, trimmed, { previous: adapter.map(ada) })]);
    expect(sb.trackly.listContacts(list).get(ada.phone)?.custom_fields).toEqual({ visits: 4, name: 'Ada', language: 'en', country: 'US', zip: '94105' });
  });

  it('retries a 500 internal_error for the batch, then delivers', async () => {
    const { adapter, events } = sandboxAdapter(sb, 'trackly', {}, faultOnce(sb, { errorRate: 1 }));
    expect(await adapter.upsert([upsertItem(adapter, ada)])).toEqual([{ contactId: 'ada', status: 'ok' }]);
    expect(attempts(events)).toEqual([[500, 1], [201, 2]]);
  });

  it('retries a 429 without Retry-After (as Trackly sends it) after a backoff, then delivers', async () => {
    const { outcomes, events } = await upsertThroughFault(sb, 'trackly', [ada], { rateLimitBursts: 1 });
    expect(outcomes).toEqual([{ contactId: 'ada', status: 'ok' }]);
    expect(attempts(events)).toEqual([[429, 1], [201, 2]]);
    // fastRetry's backoff is at most 20 ms: nothing made the client wait a second.
    expect(waitsAfter429(sb)).toEqual([expect.any(Number)]);
    expect(waitsAfter429(sb)[0]).toBeLessThan(500);
  });

  it('honours a Retry-After when a 429 carries one', async () => {
    const { outcomes, events } = await upsertThroughFault(sb, 'trackly', [ada], { rateLimitBursts: 1, rateLimitBurstRetryAfterSeconds: 1 });
    expect(outcomes).toEqual([{ contactId: 'ada', status: 'ok' }]);
    expect(attempts(events)).toEqual([[429, 1], [201, 2]]);
    const [wait] = waitsAfter429(sb);
    expect(wait).toBeGreaterThanOrEqual(1_000);
    expect(wait).toBeLessThan(2_000);
  });

  it('retries after a timeout (the write was applied); the replay leaves one subscription', async () => {
    const { outcomes, events } = await upsertThroughFault(sb, 'trackly', [ada], { slowRate: 1, slowMs: 2_000 }, { timeoutMs: 300 });
    expect(outcomes).toEqual([{ contactId: 'ada', status: 'ok' }]);
    expect(attempts(events)).toEqual([['timeout', 1], [201, 2]]);
    expect(sb.requests.map((r) => [r.status, r.fault, r.items])).toEqual([[201, 'slow', 1], [201, undefined, 1]]);
    expect([...sb.trackly.listContacts(list).entries()].map(([phone, c]) => [phone, c.active])).toEqual([[ada.phone, true]]);
    expect(sb.trackly.contacts().size).toBe(1);
  });

  it('retries when the connection drops after the write; the replay is harmless', async () => {
    const { outcomes, events } = await upsertThroughFault(sb, 'trackly', [ada, bob], { dropAfterApplyRate: 1 });
    expect(outcomes).toEqual([
      { contactId: 'ada', status: 'ok' },
      { contactId: 'bob', status: 'ok' },
    ]);
    expect(attempts(events)).toEqual([['network', 1], [201, 2]]);
    expect(sb.requests.map((r) => r.status)).toEqual(['dropped', 201]);
    expect([...sb.trackly.listContacts(list).keys()].sort()).toEqual([ada.phone, bob.phone]);
    expect(sb.trackly.listContacts(list).get(ada.phone)?.custom_fields).toMatchObject({ tier: 'gold', name: 'Ada' });
    expect(sb.trackly.contacts().size).toBe(2);
  });

  it('gives up after the bounded retries when every attempt is dropped; no replay stored the contact twice', async () => {
    sb.faults.set({ dropAfterApplyRate: 1 });
    const { adapter, events } = sandboxAdapter(sb, 'trackly');
    await expect(adapter.upsert([upsertItem(adapter, ada)])).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', message: expect.stringContaining('failed 4 time(s), last: network error') });
    expect(attempts(events)).toEqual([1, 2, 3, 4].map((n) => ['network', n])); // fastRetry: 3 retries
    expect(sb.requests.map((r) => r.status)).toEqual(['dropped', 'dropped', 'dropped', 'dropped']);
    expect(sb.trackly.contacts().size).toBe(1);
    expect(sb.trackly.listContacts(list).get(ada.phone)?.active).toBe(true);
  });

  it('throws PROVIDER_AUTH for a wrong API key, never showing it', async () => {
    const { adapter } = sandboxAdapter(sb, 'trackly', { apiKey: 'trk_wrong_secret' });
    const error = (await adapter.upsert([upsertItem(adapter, ada)]).catch((e: unknown) => e)) as Error & { code: string };
    expect(error).toMatchObject({ code: 'PROVIDER_AUTH', providerCode: 'unauthorized' });
    expect(error.message).not.toContain('trk_wrong_secret');
  });

  it('lists page by page (1,000 per page)', async () => {
    const { adapter } = sandboxAdapter(sb, 'trackly');
    const many = phones(1_001).map((phone, i) => upsertItem(adapter, contact({ id: `c${i}`, phone })));
    expect((await adapter.upsert(many)).every((o) => o.status === 'ok')).toBe(true);
    sb.clearRequests();
    const remote = await listAll(adapter.list!());
    expect(new Set(remote.map((r) => r.phone)).size).toBe(1_001);
    expect(sb.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'GET 200']);
  });
});
