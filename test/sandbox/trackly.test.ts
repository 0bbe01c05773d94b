import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { jsonCall, send } from './helpers.js';

const list = '+18005551234';
const otherList = '+18005559999';
let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ enforceRateLimits: false, trackly: { sendingLists: [list, otherList] } });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const bulk = (contacts: unknown[]) => jsonCall(sb, 'trackly', 'POST', '/contacts/bulk', { contacts });
const phone = (n: number) => `+1212555${String(1000 + n)}`;

describe('Trackly sandbox: auth and request errors', () => {
  it('answers 401 {error, code: unauthorized} without or with a wrong X-Api-Key', async () => {
    for (const key of [null, 'trk_wrong']) {
      const reply = await jsonCall(sb, 'trackly', 'GET', '/contacts', undefined, key);
      expect(reply.status).toBe(401);
      expect(reply.json).toEqual({ error: expect.any(String), code: 'unauthorized' });
    }
  });

  it('answers 400 missing_contacts without a contacts array, 400 invalid_json for malformed JSON', async () => {
    for (const body of [{}, { contacts: 'x' }, { contacts: [] }]) {
      const reply = await jsonCall(sb, 'trackly', 'POST', '/contacts/bulk', body);
      expect(reply.status).toBe(400);
      expect(reply.json).toEqual({ error: expect.any(String), code: 'missing_contacts' });
    }
    const malformed = await jsonCall(sb, 'trackly', 'POST', '/contacts/bulk', '{"contacts": [');
    expect(malformed.status).toBe(400);
    expect(malformed.json.code).toBe('invalid_json');
  });

  it('refuses 1,001 contacts with 413 too_many_contacts and stores none; takes 1,000', async () => {
    const contacts = Array.from({ length: 1001 }, (_, i) => ({ phone_number: phone(i), list_number: list }));
    const tooMany = await bulk(contacts);
    expect(tooMany.status).toBe(413);
    expect(tooMany.json).toEqual({ error: expect.any(String), code: 'too_many_contacts' });
    expect(sb.trackly.contacts().size).toBe(0);
    const ok = await bulk(contacts.slice(0, 1000));
    expect(ok.status).toBe(201);
    expect(ok.json.success_count).toBe(1000);
    expect(sb.trackly.listContacts(list).size).toBe(1000);
  });

  it('refuses a body over 5 MB with 413 and applies nothing; a body under 5 MB is processed', async () => {
    // Items of ~5,100 bytes: each over the 4,000-byte item limit, 1,000 of them over 5 MB.
    const filler = 'x'.repeat(5000);
    const contacts = Array.from({ length: 1000 }, (_, i) => ({ phone_number: phone(i), list_number: list, custom_fields: { filler } }));
    expect(Buffer.byteLength(JSON.stringify({ contacts }))).toBeGreaterThan(5_000_000);
    const over = await bulk(contacts);
    expect(over.status).toBe(413);
    expect(over.json).toEqual({ error: expect.stringContaining('5 MB'), code: 'payload_too_large' });
    expect(sb.requests.at(-1)).toMatchObject({ status: 413, items: 0 });

    const under = await bulk(contacts.slice(0, 900));
    expect(under.status).toBe(201);
    expect(under.json).toMatchObject({ success_count: 0, error_count: 900 });
    expect(under.json.errors[0].code).toBe('payload_too_large');
    expect(sb.trackly.contacts().size).toBe(0);
  });

  it('answers 404 not_found for unknown paths and 405 for other methods', async () => {
    expect((await jsonCall(sb, 'trackly', 'GET', '/lists')).json).toEqual({ error: expect.any(String), code: 'not_found' });
    expect((await jsonCall(sb, 'trackly', 'PUT', '/contacts')).status).toBe(405);
  });
});

describe('Trackly sandbox: bulk upsert', () => {
  it('reports every per-item code with index and phone, and applies the rest', async () => {
    const reply = await bulk([
      { phone_number: phone(0), list_number: list, custom_fields: { first_name: 'Jane' } },
      { list_number: list },
      { phone_number: phone(2) },
      { phone_number: '2125551002', list_number: list },
      { phone_number: phone(4), list_number: '18005551234' },
      { phone_number: phone(5), list_number: '+18005550000' },
      { phone_number: '+12125550142', list_number: list },
      { phone_number: phone(7), list_number: list, custom_fields: { notes: 'x'.repeat(4000) } },
      'not an object',
    ]);
    expect(reply.status).toBe(201);
    expect(reply.json).toEqual({
      success_count: 1,
      error_count: 8,
      errors: [
        { index: 1, phone_number: null, code: 'missing_phone_number', error: expect.any(String) },
        { index: 2, phone_number: phone(2), code: 'missing_list_number', error: expect.any(String) },
        { index: 3, phone_number: '2125551002', code: 'invalid_phone', error: expect.any(String) },
        { index: 4, phone_number: phone(4), code: 'invalid_list_number', error: expect.any(String) },
        { index: 5, phone_number: phone(5), code: 'list_not_found', error: expect.any(String) },
        { index: 6, phone_number: '+12125550142', code: 'not_sendable', error: 'Phone number failed carrier validation' },
        { index: 7, phone_number: phone(7), code: 'payload_too_large', error: expect.any(String) },
        { index: 8, phone_number: null, code: 'missing_phone_number', error: expect.any(String) },
      ],
      contacts_created: 1,
      list_contacts_created: 1,
      journeys_enrolled: 0,
      warnings: [expect.stringContaining('use_journeys')],
    });
    expect([...sb.trackly.contacts().keys()]).toEqual([phone(0)]);
  });

  it('counts contacts, list contacts and journeys as the docs describe', async () => {
    await bulk([{ phone_number: phone(1), list_number: list }]);
    const reply = await bulk([
      { phone_number: phone(1), list_number: otherList, use_journeys: true }, // known contact, new list contact
      { phone_number: phone(2), list_number: list, use_journeys: true }, // new contact
      { phone_number: phone(1), list_number: list, use_journeys: true }, // existing list contact: no journey
    ]);
    expect(reply.json).toMatchObject({ success_count: 3, error_count: 0, contacts_created: 1, list_contacts_created: 2, journeys_enrolled: 2, warnings: [] });
  });

  it('merges custom fields on re-upsert (null removes one, non-scalars are dropped with a warning)', async () => {
    await bulk([{ phone_number: phone(1), list_number: list, custom_fields: { name: 'Jane', zip: '10001', vip: true } }]);
    const reply = await bulk([{ phone_number: phone(1), list_number: list, custom_fields: { zip: null, score: 7, tags: ['a'] } }]);
    expect(reply.json.warnings).toEqual([expect.stringContaining('custom_fields.tags')]);
    expect(sb.trackly.listContacts(list).get(phone(1))?.custom_fields).toEqual({ name: 'Jane', vip: true, score: 7 });
  });

  it('accepts an item of 4,000 bytes and refuses one of 4,001', async () => {
    const base = { phone_number: phone(1), list_number: list, custom_fields: { pad: '' } };
    const overhead = Buffer.byteLength(JSON.stringify(base));
    const fits = { ...base, custom_fields: { pad: 'x'.repeat(4000 - overhead) } };
    const over = { ...base, phone_number: phone(2), custom_fields: { pad: 'x'.repeat(4001 - overhead) } };
    const reply = await bulk([fits, over]);
    expect(reply.json.errors).toEqual([{ index: 1, phone_number: phone(2), code: 'payload_too_large', error: expect.any(String) }]);
  });
});

describe('Trackly sandbox: list, get, unsubscribe', () => {
  it('lists newest signup first, 50 per page by default, filtered by list and active', async () => {
    await bulk(Array.from({ length: 60 }, (_, i) => ({ phone_number: phone(i), list_number: list, signup_date: `2025-01-01T00:00:${String(i).padStart(2, '0')}Z` })));
    await bulk([{ phone_number: phone(0), list_number: otherList }]);
    await jsonCall(sb, 'trackly', 'DELETE', '/contacts', { phone_number: phone(59), list_number: list });

    const first = await jsonCall(sb, 'trackly', 'GET', `/contacts?list_number=${encodeURIComponent(list)}`);
    expect(first.status).toBe(200);
    expect(first.json.pagination).toEqual({ page: 1, per_page: 50, total: 60, total_pages: 2 });
    expect(first.json.contacts[0]).toMatchObject({ phone_number: phone(59), list_number: list, active: false, custom_fields: {}, signup_date: '2025-01-01T00:00:59' });
    const second = await jsonCall(sb, 'trackly', 'GET', `/contacts?list_number=${encodeURIComponent(list)}&page=2`);
    expect(second.json.contacts.map((c: { phone_number: string }) => c.phone_number)).toEqual(
      Array.from({ length: 10 }, (_, i) => phone(9 - i)),
    );

    const active = await jsonCall(sb, 'trackly', 'GET', `/contacts?list_number=${encodeURIComponent(list)}&active=true&per_page=1000`);
    expect(active.json.pagination.total).toBe(59);
    const inactive = await jsonCall(sb, 'trackly', 'GET', `/contacts?active=false`);
    expect(inactive.json.contacts.map((c: { phone_number: string }) => c.phone_number)).toEqual([phone(59)]);
    const everything = await jsonCall(sb, 'trackly', 'GET', `/contacts?per_page=1000`);
    expect(everything.json.pagination.total).toBe(61);
  });

  it('validates the list query', async () => {
    const cases: [string, number, string][] = [
      ['per_page=1001', 400, 'invalid_parameter'],
      ['page=0', 400, 'invalid_parameter'],
      ['active=yes', 400, 'invalid_parameter'],
      ['list_number=123', 400, 'invalid_list_number'],
      [`list_number=${encodeURIComponent('+18005550000')}`, 404, 'list_not_found'],
    ];
    for (const [query, status, code] of cases) {
      const reply = await jsonCall(sb, 'trackly', 'GET', `/contacts?${query}`);
      expect([query, reply.status, reply.json.code]).toEqual([query, status, code]);
    }
  });

  it('gets one contact by URL-encoded phone with all its list memberships', async () => {
    await bulk([
      { phone_number: phone(1), list_number: list, custom_fields: { name: 'Jane' } },
      { phone_number: phone(1), list_number: otherList },
    ]);
    const reply = await jsonCall(sb, 'trackly', 'GET', `/contacts/${encodeURIComponent(phone(1))}`);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({
      phone_number: phone(1),
      lists: [
        { list_number: list, active: true, custom_fields: { name: 'Jane' } },
        { list_number: otherList, active: true, custom_fields: {} },
      ],
    });
    const missing = await jsonCall(sb, 'trackly', 'GET', `/contacts/${encodeURIComponent(phone(2))}`);
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe('contact_not_found');
  });

  it('DELETE only unsubscribes: unsubscribed true once, then false; re-upsert re-activates', async () => {
    await bulk([{ phone_number: phone(1), list_number: list, custom_fields: { name: 'Jane' } }]);
    const del = { phone_number: phone(1), list_number: list };
    expect((await jsonCall(sb, 'trackly', 'DELETE', '/contacts', del)).json).toEqual({ success: true, unsubscribed: true });
    expect(sb.trackly.listContacts(list).get(phone(1))).toMatchObject({ active: false, custom_fields: { name: 'Jane' } });
    expect(sb.trackly.contacts().has(phone(1))).toBe(true);
    expect((await jsonCall(sb, 'trackly', 'DELETE', '/contacts', del)).json).toEqual({ success: true, unsubscribed: false });
    expect((await jsonCall(sb, 'trackly', 'DELETE', '/contacts', { phone_number: phone(2), list_number: list })).json).toEqual({
      success: true,
      unsubscribed: false,
    });

    const again = await bulk([{ phone_number: phone(1), list_number: list }]);
    expect(again.json).toMatchObject({ success_count: 1, contacts_created: 0, list_contacts_created: 0 });
    expect(sb.trackly.listContacts(list).get(phone(1))?.active).toBe(true);
  });

  it('DELETE validates its body', async () => {
    const cases: [unknown, string][] = [
      [{ list_number: list }, 'missing_phone_number'],
      [{ phone_number: phone(1) }, 'missing_list_number'],
      [{ phone_number: '12', list_number: list }, 'invalid_phone'],
      [{ phone_number: phone(1), list_number: '12' }, 'invalid_list_number'],
    ];
    for (const [body, code] of cases) {
      const reply = await jsonCall(sb, 'trackly', 'DELETE', '/contacts', body);
      expect([reply.status, reply.json]).toEqual([400, { error: expect.any(String), code }]);
    }
  });

  it('treats a non-JSON content type as no body', async () => {
    const reply = await send(`${sb.baseUrl('trackly')}/contacts/bulk`, {
      method: 'POST',
      headers: { 'X-Api-Key': sb.credentials.trackly.apiKey, 'content-type': 'text/plain' },
      body: JSON.stringify({ contacts: [{ phone_number: phone(1), list_number: list }] }),
    });
    expect(reply.json.code).toBe('missing_contacts');
  });
});
