import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { basic, correlation, send, twilioBulk, twilioItem } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ enforceRateLimits: false });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

function expectTwilioError(body: unknown, status: number, code: number): void {
  expect(body).toEqual({ code, message: expect.any(String), more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

describe('Twilio sandbox: auth and request errors', () => {
  it('refuses a missing or wrong Basic credential with 401 code 20003', async () => {
    const missing = await send(`${sb.baseUrl('twilio')}/v1/Contacts/Bulk`, { method: 'POST' });
    expect(missing.status).toBe(401);
    expectTwilioError(missing.json, 401, 20003);
    const wrong = await twilioBulk(sb, [twilioItem(1)], basic(sb.credentials.twilio.accountSid, 'not-the-token'));
    expect(wrong.status).toBe(401);
    expectTwilioError(wrong.json, 401, 20003);
    expect(sb.twilio.contacts.size).toBe(0);
    expect(sb.requests.map((r) => [r.status, r.account])).toEqual([
      [401, null],
      [401, null],
    ]);
  });

  it('requires Items (400 with Twilio error body), also when the body is not form-encoded', async () => {
    const auth = basic(sb.credentials.twilio.accountSid, sb.credentials.twilio.authToken);
    const none = await twilioBulk(sb, []);
    expect(none.status).toBe(400);
    expectTwilioError(none.json, 400, 20001);
    const asJson = await send(`${sb.baseUrl('twilio')}/v1/Contacts/Bulk`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ Items: [twilioItem(1)] }),
    });
    expect(asJson.status).toBe(400);
    expect(asJson.json.message).toMatch(/Items/);
  });

  it('refuses 26 items with 400 and stores none; accepts 25', async () => {
    const items = Array.from({ length: 26 }, (_, i) => twilioItem(i));
    const tooMany = await twilioBulk(sb, items);
    expect(tooMany.status).toBe(400);
    expectTwilioError(tooMany.json, 400, 20001);
    expect(sb.twilio.contacts.size).toBe(0);

    const ok = await twilioBulk(sb, items.slice(0, 25));
    expect(ok.status).toBe(201);
    expect(ok.json.items).toHaveLength(25);
    expect(ok.json.items.every((r: { error_code: number }) => r.error_code === 0)).toBe(true);
    expect(sb.twilio.contacts.size).toBe(25);
    expect(sb.requests.at(-1)).toMatchObject({ provider: 'twilio', path: '/v1/Contacts/Bulk', status: 201, items: 25 });
  });

  it('refuses an Items value that is not a JSON object', async () => {
    const form = new URLSearchParams({ Items: 'not json' });
    const reply = await send(`${sb.baseUrl('twilio')}/v1/Contacts/Bulk`, {
      method: 'POST',
      headers: { authorization: basic(sb.credentials.twilio.accountSid, sb.credentials.twilio.authToken), 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    expect(reply.status).toBe(400);
    expectTwilioError(reply.json, 400, 20001);
  });

  it('answers 404 (20404) for other paths and 405 for other methods', async () => {
    const auth = { authorization: basic(sb.credentials.twilio.accountSid, sb.credentials.twilio.authToken) };
    const other = await send(`${sb.baseUrl('twilio')}/v1/Contacts`, { headers: auth });
    expect(other.status).toBe(404);
    expectTwilioError(other.json, 404, 20404);
    const get = await send(`${sb.baseUrl('twilio')}/v1/Contacts/Bulk`, { headers: auth });
    expect(get.status).toBe(405);
  });
});

describe('Twilio sandbox: per-item results (error 30647)', () => {
  it('reports each invalid field with its reason and upserts only the valid items', async () => {
    const items = [
      twilioItem(1), // ok
      twilioItem(2, { contact_id: '+19' }),
      twilioItem(3, { contact_id: '4155552003' }),
      twilioItem(4, { country_iso_code: 'USA' }),
      twilioItem(5, { country_iso_code: 'XX' }),
      twilioItem(6, { zip_code: '1234' }),
      twilioItem(7, { correlation_id: 'a'.repeat(31) }),
      twilioItem(8, { correlation_id: 42 }),
      twilioItem(9, { contact_id: 'bad', zip_code: '1', correlation_id: 'short' }),
    ];
    const reply = await twilioBulk(sb, items);
    expect(reply.status).toBe(201);
    expect(reply.json.items).toEqual([
      { correlation_id: correlation(1), error_code: 0, error_messages: [] },
      { correlation_id: correlation(2), error_code: 30647, error_messages: ['INVALID_CONTACT_ID'] },
      { correlation_id: correlation(3), error_code: 30647, error_messages: ['INVALID_CONTACT_ID'] },
      { correlation_id: correlation(4), error_code: 30647, error_messages: ['INVALID_COUNTRY_ISO_CODE'] },
      { correlation_id: correlation(5), error_code: 30647, error_messages: ['INVALID_COUNTRY_ISO_CODE'] },
      { correlation_id: correlation(6), error_code: 30647, error_messages: ['INVALID_ZIP_CODE'] },
      { correlation_id: 'a'.repeat(31), error_code: 30647, error_messages: ['INVALID_CORRELATION_ID'] },
      { correlation_id: 42, error_code: 30647, error_messages: ['INVALID_CORRELATION_ID'] },
      { correlation_id: 'short', error_code: 30647, error_messages: ['INVALID_CORRELATION_ID', 'INVALID_CONTACT_ID', 'INVALID_ZIP_CODE'] },
    ]);
    expect([...sb.twilio.contacts.keys()]).toEqual(['+14155552001']);
  });

  it('rejects every item that shares a correlation_id within the request', async () => {
    const reply = await twilioBulk(sb, [twilioItem(1), twilioItem(2, { correlation_id: correlation(1) }), twilioItem(3)]);
    expect(reply.json.items.map((r: { error_messages: string[] }) => r.error_messages)).toEqual([
      ['INVALID_CORRELATION_ID'],
      ['INVALID_CORRELATION_ID'],
      [],
    ]);
    expect(sb.twilio.contacts.size).toBe(1);
  });

  it.each([
    ['US', '94105', true],
    ['US', '94105-1234', true],
    ['US', '9410', false],
    ['GB', 'SW1A 1AA', true],
    ['GB', '12345', false],
    ['IN', '110001', true],
    ['IN', '011000', false],
    ['DE', '10115', true],
    ['DE', '1011', false],
    ['FR', '75008', true],
    ['BR', '01310-100', true],
    ['BR', '0131', false],
    ['JP', '100-0001', true],
    ['JP', '1000', false],
    ['MX', '06600', true],
    ['CA', 'K1A 0B1', true],
    ['CA', '12345', false],
    ['ZA', '0001', true],
    ['ZA', '!!', false],
  ])('zip for %s %s is valid: %s', async (country, zip, valid) => {
    const reply = await twilioBulk(sb, [twilioItem(1, { country_iso_code: country, zip_code: zip })]);
    expect(reply.json.items[0].error_messages).toEqual(valid ? [] : ['INVALID_ZIP_CODE']);
  });

  it('checks a zip against the phone country when country_iso_code is absent, and accepts an item without zip', async () => {
    const reply = await twilioBulk(sb, [
      { contact_id: '+919876543210', correlation_id: correlation(1), zip_code: '110001' },
      { contact_id: '+919876543211', correlation_id: correlation(2), zip_code: '94105' },
      { contact_id: '+14155552003', correlation_id: correlation(3) },
    ]);
    expect(reply.json.items.map((r: { error_code: number }) => r.error_code)).toEqual([0, 30647, 0]);
    expect(sb.twilio.contacts.get('+14155552003')).toMatchObject({ country_iso_code: null, zip_code: null });
  });

  it('upserts by contact_id: a second write replaces the first', async () => {
    await twilioBulk(sb, [twilioItem(1)]);
    await twilioBulk(sb, [twilioItem(1, { correlation_id: correlation(99), zip_code: '10001' })]);
    expect(sb.twilio.contacts.size).toBe(1);
    expect(sb.twilio.contacts.get('+14155552001')).toEqual({
      contact_id: '+14155552001',
      country_iso_code: 'US',
      zip_code: '10001',
      correlation_id: correlation(99),
      upserts: 2,
    });
  });

  it('keeps each account apart', async () => {
    const other = { accountSid: `AC${'f'.repeat(32)}`, authToken: 'other-token' };
    const sb2 = await startSandbox({ enforceRateLimits: false, extraCredentials: { twilio: [other] } });
    try {
      await twilioBulk(sb2, [twilioItem(1)], basic(other.accountSid, other.authToken));
      expect(sb2.twilio.contacts.size).toBe(0);
      expect(sb2.twilio.contactsOf(other.accountSid).size).toBe(1);
      expect(sb2.requests[0]?.account).toBe(other.accountSid);
    } finally {
      await sb2.close();
    }
  });
});

describe('Twilio sandbox with the official twilio client', () => {
  function client() {
    delete process.env.TWILIO_REGION;
    delete process.env.TWILIO_EDGE;
    const c = twilio(sb.credentials.twilio.accountSid, sb.credentials.twilio.authToken);
    c.accounts.baseUrl = sb.baseUrl('twilio');
    return c;
  }

  it('bulkContacts.create({items}) gets per-item results and upserts', async () => {
    const result = await client().accounts.v1.bulkContacts.create({
      items: [
        { contact_id: '+14155552671', correlation_id: 'ad388b5a46b33b874b0d41f7226db2eh', country_iso_code: 'US', zip_code: '12345' },
        { contact_id: '+19', correlation_id: '02520cfa6c432f0e3ec3a38c122d428a', country_iso_code: 'US', zip_code: '12345' },
      ],
    });
    expect(result.items).toEqual([
      { correlation_id: 'ad388b5a46b33b874b0d41f7226db2eh', error_code: 0, error_messages: [] },
      { correlation_id: '02520cfa6c432f0e3ec3a38c122d428a', error_code: 30647, error_messages: ['INVALID_CONTACT_ID'] },
    ]);
    expect(sb.twilio.contacts.get('+14155552671')).toMatchObject({ zip_code: '12345', country_iso_code: 'US' });
  });

  it('surfaces the sandbox errors as RestException with Twilio codes', async () => {
    const items = Array.from({ length: 26 }, (_, i) => twilioItem(i) as Record<string, unknown>);
    await expect(client().accounts.v1.bulkContacts.create({ items })).rejects.toMatchObject({ status: 400, code: 20001 });
    const wrong = twilio(sb.credentials.twilio.accountSid, 'wrong');
    wrong.accounts.baseUrl = sb.baseUrl('twilio');
    await expect(wrong.accounts.v1.bulkContacts.create({ items: [twilioItem(1) as Record<string, unknown>] })).rejects.toMatchObject({
      status: 401,
      code: 20003,
    });
  });
});
