import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { jsonCall } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({
    enforceRateLimits: false,
    extraCredentials: {
      oliai: [
        { apiKey: 'sk_live_rotated', organizationId: 'org_sandbox' },
        { apiKey: 'sk_live_other_org', organizationId: 'org_other' },
      ],
    },
  });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const call = (method: string, path: string, body?: unknown, key?: string) => jsonCall(sb, 'oliai', method, path, body, key);
const phone = (n: number) => `+9198765${String(43210 + n)}`;
const priya = { name: 'Priya Sharma', phoneNumber: phone(0), language: 'hi-IN', metadata: { city: 'Mumbai' } };

describe('OliAI sandbox: auth and errors', () => {
  it('answers 401 {statusCode, message, error: Unauthorized} for a missing or unknown key', async () => {
    for (const key of [null, 'sk_live_revoked']) {
      const reply = await jsonCall(sb, 'oliai', 'GET', '/contacts', undefined, key);
      expect(reply.status).toBe(401);
      expect(reply.json).toEqual({ statusCode: 401, message: expect.any(String), error: 'Unauthorized' });
    }
  });

  it('answers 404 with the NestJS body for unknown routes', async () => {
    const reply = await call('GET', '/audiences');
    expect(reply.json).toEqual({ statusCode: 404, message: 'Cannot GET /v1/audiences', error: 'Not Found' });
  });
});

describe('OliAI sandbox: single-contact endpoints', () => {
  it('creates (201) a contact with a cl… id and refuses the same phone again with 409', async () => {
    const created = await call('POST', '/contacts', priya);
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      id: expect.stringMatching(/^cl[a-z0-9]{23}$/),
      ...priya,
      organizationId: 'org_sandbox',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const again = await call('POST', '/contacts', { ...priya, name: 'Other' });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({ statusCode: 409, message: expect.any(String), error: 'Conflict' });
    expect(sb.oliai.contacts().size).toBe(1);
  });

  it('validates with an array of messages', async () => {
    const reply = await call('POST', '/contacts', { phoneNumber: '9876543210', language: 5, metadata: [], id: 'x' });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: [
        'property id should not exist',
        'name must be a string',
        'name should not be empty',
        'phoneNumber must be a valid phone number in E.164 format',
        'language must be a string',
        'metadata must be an object',
      ],
    });
    const malformed = await call('POST', '/contacts', '{"name":');
    expect(malformed.status).toBe(400);
  });

  it('gets, patches (partially) and deletes by id; 404 once gone', async () => {
    const { id } = (await call('POST', '/contacts', priya)).json;
    expect((await call('GET', `/contacts/${id}`)).json).toMatchObject(priya);

    const patched = await call('PATCH', `/contacts/${id}`, { language: 'en-IN', metadata: { city: 'Delhi' } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ id, name: 'Priya Sharma', phoneNumber: phone(0), language: 'en-IN', metadata: { city: 'Delhi' } });

    const moved = await call('PATCH', `/contacts/${id}`, { phoneNumber: phone(9) });
    expect(moved.json.phoneNumber).toBe(phone(9));
    expect((await call('POST', '/contacts', priya)).status).toBe(201); // the old phone is free again

    expect((await call('PATCH', `/contacts/${id}`, { createdAt: 'x' })).status).toBe(400);
    expect((await call('DELETE', `/contacts/${id}`)).json).toEqual({ success: true });
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const gone = await call(method, `/contacts/${id}`, method === 'PATCH' ? { name: 'x' } : undefined);
      expect(gone.json).toEqual({ statusCode: 404, message: 'Contact not found', error: 'Not Found' });
    }
  });

  it('refuses a PATCH to a phone another contact has (409)', async () => {
    const a = (await call('POST', '/contacts', priya)).json;
    await call('POST', '/contacts', { name: 'Ravi', phoneNumber: phone(1) });
    const reply = await call('PATCH', `/contacts/${a.id}`, { phoneNumber: phone(1) });
    expect(reply.status).toBe(409);
    expect(sb.oliai.contacts().get(a.id)?.phoneNumber).toBe(phone(0));
  });

  it('keeps organizations apart; keys of one organization share it', async () => {
    const { id } = (await call('POST', '/contacts', priya)).json;
    expect((await call('GET', `/contacts/${id}`, undefined, 'sk_live_rotated')).status).toBe(200);
    expect((await call('GET', `/contacts/${id}`, undefined, 'sk_live_other_org')).status).toBe(404);
    expect((await call('POST', '/contacts', priya, 'sk_live_other_org')).status).toBe(201);
    expect(sb.oliai.contacts('org_other').size).toBe(1);
  });
});

describe('OliAI sandbox: list and search', () => {
  beforeEach(async () => {
    const contacts = Array.from({ length: 45 }, (_, i) => ({ name: i === 7 ? 'Priya Sharma' : `Person ${i}`, phoneNumber: phone(i) }));
    expect((await call('POST', '/contacts/bulk', { contacts })).json.created).toBe(45);
  });

  it('pages 20 by default, oldest first, with total and totalPages', async () => {
    const first = await call('GET', '/contacts');
    expect(first.json).toMatchObject({ total: 45, page: 1, limit: 20, totalPages: 3 });
    expect(first.json.data).toHaveLength(20);
    expect(first.json.data[0].phoneNumber).toBe(phone(0));
    const last = await call('GET', '/contacts?page=3&limit=20');
    expect(last.json.data.map((c: { phoneNumber: string }) => c.phoneNumber)).toEqual(Array.from({ length: 5 }, (_, i) => phone(40 + i)));
    const all = await call('GET', '/contacts?limit=100');
    expect(all.json).toMatchObject({ total: 45, limit: 100, totalPages: 1 });
  });

  it('refuses limit over 100 and malformed page numbers', async () => {
    expect((await call('GET', '/contacts?limit=101')).json).toEqual({ statusCode: 400, message: ['limit must not be greater than 100'], error: 'Bad Request' });
    expect((await call('GET', '/contacts?page=0')).status).toBe(400);
    expect((await call('GET', '/contacts?limit=abc')).status).toBe(400);
  });

  it('searches by name (case-insensitive) or phone', async () => {
    const byName = await call('GET', '/contacts?search=priya');
    expect(byName.json.data.map((c: { name: string }) => c.name)).toEqual(['Priya Sharma']);
    const byPhone = await call('GET', `/contacts?search=${encodeURIComponent(phone(12))}`);
    expect(byPhone.json.total).toBe(1);
    expect((await call('GET', '/contacts?search=nobody')).json).toMatchObject({ data: [], total: 0, totalPages: 0 });
  });
});

describe('OliAI sandbox: bulk endpoints', () => {
  it('creates or updates by phone, and reports invalid items by index', async () => {
    const { id } = (await call('POST', '/contacts', priya)).json;
    const reply = await call('POST', '/contacts/bulk', {
      contacts: [
        { name: 'Priya S.', phoneNumber: phone(0), metadata: { tier: 'gold' } },
        { name: 'Ravi Kumar', phoneNumber: phone(1), language: 'en-IN' },
        { name: '', phoneNumber: phone(2) },
        { name: 'No phone' },
      ],
    });
    expect(reply.status).toBe(201);
    expect(reply.json).toEqual({
      created: 1,
      updated: 1,
      failed: 2,
      contacts: [
        expect.objectContaining({ id, name: 'Priya S.', language: 'hi-IN', metadata: { tier: 'gold' } }),
        expect.objectContaining({ name: 'Ravi Kumar', phoneNumber: phone(1) }),
      ],
      errors: [
        { index: 2, reason: 'name should not be empty' },
        { index: 3, reason: 'phoneNumber must be a valid phone number in E.164 format' },
      ],
    });
    expect(sb.oliai.contacts().size).toBe(2);
  });

  it('refuses more than 1,000 contacts or a missing array with 400', async () => {
    const contacts = Array.from({ length: 1001 }, (_, i) => ({ name: 'x', phoneNumber: phone(i) }));
    const reply = await call('POST', '/contacts/bulk', { contacts });
    expect(reply.json).toEqual({ statusCode: 400, message: ['contacts must contain no more than 1000 elements'], error: 'Bad Request' });
    expect((await call('POST', '/contacts/bulk', {})).status).toBe(400);
    expect(sb.oliai.contacts().size).toBe(0);
  });

  it('bulk-deletes by id, counting only the ids it found', async () => {
    const created = (await call('POST', '/contacts/bulk', { contacts: [0, 1, 2].map((i) => ({ name: 'x', phoneNumber: phone(i) })) })).json;
    const ids = created.contacts.map((c: { id: string }) => c.id);
    const reply = await call('POST', '/contacts/bulk-delete', { contactIds: [ids[0], ids[1], 'clnotthere', ids[0]] });
    expect(reply.json).toEqual({ deleted: 2 });
    expect([...sb.oliai.contacts().keys()]).toEqual([ids[2]]);
    const tooMany = await call('POST', '/contacts/bulk-delete', { contactIds: Array.from({ length: 1001 }, (_, i) => `cl${i}`) });
    expect(tooMany.status).toBe(400);
    expect((await call('POST', '/contacts/bulk-delete', { contactIds: [1] })).status).toBe(400);
  });
});
