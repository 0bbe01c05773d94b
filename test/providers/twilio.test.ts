import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { attempts, byId, contact, phones, sandboxAdapter, upsertItem, upsertThroughFault, waitsAfter429 } from './helpers.js';
import { startRecordingProxy } from './recording-proxy.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const ada = contact({ id: 'ada', phone: '+14155552671', country: 'US', zip: '94105' });
const bob = contact({ id: 'bob', phone: '+442071838750', phoneCountry: 'GB' });

describe('Twilio adapter against the sandbox', () => {
  it('states its capabilities: 25 per request, 100/min, no list, no delete', () => {
    const { adapter } = sandboxAdapter(sb, 'twilio');
    expect(adapter.capabilities).toEqual({
      maxBatch: 25,
      maxDeleteBatch: 1,
      rateLimits: [{ requests: 100, perSeconds: 60, scope: 'all' }],
      canList: false,
      deleteMode: 'none',
    });
    expect(adapter.list).toBeUndefined();
    expect(sandboxAdapter(sb, 'twilio', { batchSize: 10 }).adapter.capabilities.maxBatch).toBe(10);
    expect(sandboxAdapter(sb, 'twilio', { rateLimit: { requests: 5, perSeconds: 1 } }).adapter.capabilities.rateLimits).toEqual([{ requests: 5, perSeconds: 1, scope: 'all' }]);
  });

  it('upserts contacts, each stored under its correlation id', async () => {
    const { adapter } = sandboxAdapter(sb, 'twilio');
    const items = [upsertItem(adapter, ada), upsertItem(adapter, bob)];
    expect(await adapter.upsert(items)).toEqual([
      { contactId: 'ada', status: 'ok' },
      { contactId: 'bob', status: 'ok' },
    ]);
    expect(sb.twilio.contacts.get('+14155552671')).toMatchObject({ country_iso_code: 'US', zip_code: '94105', correlation_id: items[0]!.correlationId });
    expect(sb.twilio.contacts.get('+442071838750')).toMatchObject({ country_iso_code: 'GB', zip_code: null });
    expect(adapter.phoneOf(items[0]!.payload)).toBe('+14155552671');
  });

  it('turns every 30647 reason into a rejection a person can act on', async () => {
    const { adapter } = sandboxAdapter(sb, 'twilio');
    const outcomes = byId(
      await adapter.upsert([
        upsertItem(adapter, ada),
        upsertItem(adapter, contact({ id: 'zip', phone: '+14155552672', country: 'US', zip: 'ABC' })),
        upsertItem(adapter, contact({ id: 'country', phone: '+14155552673', country: 'XX' })),
        upsertItem(adapter, contact({ id: 'phone', phone: '+19', phoneCountry: null })),
      ]),
    );
    expect(outcomes.get('ada')).toEqual({ contactId: 'ada', status: 'ok' });
    expect(outcomes.get('zip')).toEqual({
      contactId: 'zip',
      status: 'rejected',
      code: 'INVALID_ZIP_CODE',
      reason: 'zip "ABC" is not a valid postal code for US: fix or clear the contact\'s zip',
    });
    expect(outcomes.get('country')).toMatchObject({ status: 'rejected', code: 'INVALID_COUNTRY_ISO_CODE', reason: expect.stringContaining('country "XX" is not an ISO 3166-1 alpha-2 code') });
    expect(outcomes.get('phone')).toMatchObject({ status: 'rejected', code: 'INVALID_CONTACT_ID', reason: 'phone "+19" is not a valid E.164 number for Twilio' });
    expect(sb.twilio.contacts.size).toBe(1);
  });

  it('rejects an item whose correlation id Twilio refuses, as a connector bug', async () => {
    const { adapter } = sandboxAdapter(sb, 'twilio');
    const a = upsertItem(adapter, ada);
    const outcomes = await adapter.upsert([a, { ...upsertItem(adapter, bob), correlationId: a.correlationId }]);
    expect(outcomes.map((o) => o.status === 'rejected' && o.code)).toEqual(['INVALID_CORRELATION_ID', 'INVALID_CORRELATION_ID']);
    expect(outcomes[0]).toMatchObject({ reason: expect.stringContaining('a connector bug, please report it') });
  });

  it('sends nothing for an empty batch', async () => {
    const { adapter } = sandboxAdapter(sb, 'twilio');
    expect(await adapter.upsert([])).toEqual([]);
    expect(sb.requests).toHaveLength(0);
  });

  it('makes a per-item INTERNAL_SERVER_ERROR retryable', async () => {
    sb.faults.set({ itemErrorRate: 1 });
    const { adapter } = sandboxAdapter(sb, 'twilio');
    expect(await adapter.upsert([upsertItem(adapter, ada)])).toEqual([
      { contactId: 'ada', status: 'retryable', code: 'INTERNAL_SERVER_ERROR', reason: expect.stringContaining('it is sent again') },
    ]);
  });

  it('never sends more than 25 contacts in one request', async () => {
    const { adapter } = sandboxAdapter(sb, 'twilio');
    const items = phones(26).map((phone, i) => upsertItem(adapter, contact({ id: `c${i}`, phone })));
    const outcomes = await adapter.upsert(items);
    expect(outcomes.filter((o) => o.status === 'ok')).toHaveLength(26);
    expect(sb.requests.map((r) => r.items)).toEqual([25, 1]);

    sb.clearRequests();
    const { adapter: small } = sandboxAdapter(sb, 'twilio', { batchSize: 10 });
    await small.upsert(items);
    expect(sb.requests.map((r) => r.items)).toEqual([10, 10, 6]);
  });

  it('reports the old phone as orphaned when a phone changes', async () => {
    const { adapter } = sandboxAdapter(sb, 'twilio');
    const moved = contact({ ...ada, phone: '+14155552699' });
    const [outcome] = await adapter.upsert([upsertItem(adapter, moved, { previous: adapter.map(ada) })]);
    expect(outcome).toEqual({ contactId: 'ada', status: 'ok', orphanedKey: '+14155552671' });
    expect([...sb.twilio.contacts.keys()]).toEqual(['+14155552699']);
  });

  it('refuses to delete: Twilio cannot, the engine records orphans', () => {
    const { adapter } = sandboxAdapter(sb, 'twilio');
    expect(() => adapter.delete([])).toThrow(/cannot delete/);
  });

  it('throws PROVIDER_AUTH for a wrong auth token, never showing it', async () => {
    const { adapter } = sandboxAdapter(sb, 'twilio', { authToken: 'wrong_secret_token' });
    const error = (await adapter.upsert([upsertItem(adapter, ada)]).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('PROVIDER_AUTH');
    expect(error.message).toMatch(/HTTP 401: 20003 Authentication Error/);
    expect(error.message).not.toContain('wrong_secret_token');
    expect(sb.requests).toHaveLength(1);
  });

  it('retries a 429 without Retry-After (as Twilio documents it) after a backoff, and then delivers', async () => {
    sb.faults.set({ rateLimitBursts: 2 });
    const { adapter, events } = sandboxAdapter(sb, 'twilio');
    expect(await adapter.upsert([upsertItem(adapter, ada)])).toEqual([{ contactId: 'ada', status: 'ok' }]);
    expect(attempts(events)).toEqual([[429, 1], [429, 2], [201, 3]]);
    // fastRetry's backoff is at most 20 ms: nothing made the client wait a second.
    expect(waitsAfter429(sb)).toEqual([expect.any(Number), expect.any(Number)]);
    expect(Math.max(...waitsAfter429(sb))).toBeLessThan(500);
  });

  it('honours a Retry-After when a 429 carries one (undocumented for Twilio)', async () => {
    const { outcomes, events } = await upsertThroughFault(sb, 'twilio', [ada], { rateLimitBursts: 1, rateLimitBurstRetryAfterSeconds: 1 });
    expect(outcomes).toEqual([{ contactId: 'ada', status: 'ok' }]);
    expect(attempts(events)).toEqual([[429, 1], [201, 2]]);
    const [wait] = waitsAfter429(sb);
    expect(wait).toBeGreaterThanOrEqual(1_000);
    expect(wait).toBeLessThan(2_000);
  });

  it('retries after a client timeout; the replay carries the same correlation id', async () => {
    const { items, outcomes, events } = await upsertThroughFault(sb, 'twilio', [ada], { slowRate: 1, slowMs: 2_000 }, { timeoutMs: 300 });
    expect(outcomes).toEqual([{ contactId: 'ada', status: 'ok' }]);
    expect(attempts(events)).toEqual([['timeout', 1], [201, 2]]);
    expect(sb.twilio.contacts.get(ada.phone)).toMatchObject({ upserts: 2, correlation_id: items[0]!.correlationId });
    expect(sb.twilio.contacts.size).toBe(1);
  });

  it("answers 504 at Twilio's 3 s server timeout (the write applied); the adapter retries and the replay is harmless", async () => {
    // Slower than the server's 3 s but within the adapter's default 5 s: the server's answer arrives.
    const { items, outcomes, events } = await upsertThroughFault(sb, 'twilio', [ada], { slowRate: 1, slowMs: 4_500 });
    expect(outcomes).toEqual([{ contactId: 'ada', status: 'ok' }]);
    expect(attempts(events)).toEqual([[504, 1], [201, 2]]);
    expect(events[0]!.durationMs).toBeGreaterThanOrEqual(2_900);
    expect(events[0]!.durationMs).toBeLessThan(4_000);
    expect(sb.requests.map((r) => [r.status, r.fault])).toEqual([[504, 'slow'], [201, undefined]]);
    expect(sb.twilio.contacts.get(ada.phone)).toMatchObject({ upserts: 2, correlation_id: items[0]!.correlationId });
    expect(sb.twilio.contacts.size).toBe(1);
  });

  it('retries when the connection drops after the write; the replay is idempotent', async () => {
    const { outcomes, events } = await upsertThroughFault(sb, 'twilio', [ada, bob], { dropAfterApplyRate: 1 });
    expect(outcomes).toEqual([
      { contactId: 'ada', status: 'ok' },
      { contactId: 'bob', status: 'ok' },
    ]);
    expect(attempts(events)).toEqual([['network', 1], [201, 2]]);
    expect(sb.requests.map((r) => r.status)).toEqual(['dropped', 201]);
    expect([...sb.twilio.contacts.values()].map((c) => [c.contact_id, c.upserts])).toEqual([
      [ada.phone, 2],
      [bob.phone, 2],
    ]);
  });

  it('throws PROVIDER_UNAVAILABLE when nothing got through, but keeps what a first request delivered', async () => {
    sb.faults.set({ errorRate: 1 });
    const { adapter } = sandboxAdapter(sb, 'twilio');
    const items = phones(30).map((phone, i) => upsertItem(adapter, contact({ id: `c${i}`, phone })));
    await expect(adapter.upsert(items)).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', status: 500, providerCode: '20500' });

    sb.reset();
    const { adapter: second } = sandboxAdapter(sb, 'twilio', {}, { observer: { onRequest: () => sb.faults.set({ errorRate: 1 }) } });
    const outcomes = await second.upsert(items);
    expect(outcomes.filter((o) => o.status === 'ok')).toHaveLength(25);
    expect(outcomes.slice(25)).toEqual(
      items.slice(25).map((i) => ({ contactId: i.contactId, status: 'retryable', code: 'provider_unavailable', reason: expect.stringContaining('HTTP 500') })),
    );
  });
});

describe('Twilio adapter and the official twilio client', () => {
  const items = [
    ada,
    bob,
    contact({ id: 'zip', phone: '+14155552672', country: 'US', zip: "AB C!'(*)" }),
    contact({ id: 'phone', phone: '+19', phoneCountry: null }),
    contact({ id: 'fr', phone: '+33612345678', country: 'FR', zip: '75001' }),
  ];

  it('send byte-identical bodies and get the same results from the sandbox', async () => {
    const proxy = await startRecordingProxy(sb.baseUrl('twilio'));
    try {
      const { adapter } = sandboxAdapter(sb, 'twilio', { baseUrl: proxy.url });
      const upserts = items.map((c) => upsertItem(adapter, c));
      const ours = await adapter.upsert(upserts);

      sb.reset();
      const client = twilio(sb.credentials.twilio.accountSid, sb.credentials.twilio.authToken);
      client.accounts.baseUrl = proxy.url;
      const official = await client.accounts.v1.bulkContacts.create({
        items: upserts.map(({ payload, correlationId }) => ({
          contact_id: payload.contact_id,
          correlation_id: correlationId,
          country_iso_code: payload.country_iso_code,
          zip_code: payload.zip_code,
        })),
      });

      expect(proxy.recorded).toHaveLength(2);
      const [adapterRequest, officialRequest] = proxy.recorded;
      expect(adapterRequest!.path).toBe(officialRequest!.path);
      expect(adapterRequest!.contentType).toBe(officialRequest!.contentType);
      expect(adapterRequest!.body).toBe(officialRequest!.body);
      expect(adapterRequest!.body.match(/(^|&)Items=/g)).toHaveLength(items.length);

      const results = official.items as { correlation_id: string; error_code: number; error_messages: string[] }[];
      upserts.forEach((u, i) => {
        const result = results.find((r) => r.correlation_id === u.correlationId)!;
        const outcome = ours[i]!;
        expect(outcome.status === 'ok').toBe(result.error_code === 0);
        if (outcome.status === 'rejected') expect(result.error_messages).toContain(outcome.code);
      });
      expect(ours.map((o) => o.status)).toEqual(['ok', 'ok', 'rejected', 'rejected', 'ok']);
    } finally {
      await proxy.close();
    }
  });
});
