import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import { basic, jsonCall, twilioBulk, twilioItem } from './helpers.js';

const open: Sandbox[] = [];
async function sandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const sb = await startSandbox({ enforceRateLimits: false, ...options });
  open.push(sb);
  return sb;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((sb) => sb.close()));
});

const list = '+18005551234';

/** A Twilio bulk request that gives up after `timeoutMs`; resolves to the status or the error name. */
async function twilioWithTimeout(sb: Sandbox, n: number, timeoutMs: number): Promise<number | string> {
  const form = new URLSearchParams({ Items: JSON.stringify(twilioItem(n)) });
  try {
    const response = await fetch(`${sb.baseUrl('twilio')}/v1/Contacts/Bulk`, {
      method: 'POST',
      headers: { authorization: basic(sb.credentials.twilio.accountSid, sb.credentials.twilio.authToken), 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return response.status;
  } catch (error) {
    return (error as Error).name;
  }
}

describe('sandbox faults', () => {
  it('errorRate answers 500 in each provider error format before applying anything', async () => {
    const sb = await sandbox({ faults: { errorRate: 1 } });
    const t = await twilioBulk(sb, [twilioItem(1)]);
    expect([t.status, t.json]).toEqual([500, { code: 20500, message: expect.any(String), more_info: expect.any(String), status: 500 }]);
    const k = await jsonCall(sb, 'trackly', 'POST', '/contacts/bulk', { contacts: [{ phone_number: '+12125551001', list_number: list }] });
    expect([k.status, k.json]).toEqual([500, { error: expect.any(String), code: 'internal_error' }]);
    const o = await jsonCall(sb, 'oliai', 'POST', '/contacts', { name: 'x', phoneNumber: '+919876543210' });
    expect([o.status, o.json]).toEqual([500, { statusCode: 500, message: expect.any(String), error: 'Internal Server Error' }]);
    expect(sb.twilio.contacts.size + sb.trackly.contacts().size + sb.oliai.contacts().size).toBe(0);
    expect(sb.requests.map((r) => r.fault)).toEqual(['error', 'error', 'error']);

    sb.reset(); // back to the start's faults
    expect((await twilioBulk(sb, [twilioItem(1)])).status).toBe(500);
    sb.faults.clear();
    expect((await twilioBulk(sb, [twilioItem(1)])).status).toBe(201);
  });

  it('draws faults from a seeded PRNG: the same seed gives the same sequence', async () => {
    const sb = await sandbox();
    const run = async () => {
      sb.faults.set({ errorRate: 0.5, seed: 42 });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push((await twilioBulk(sb, [twilioItem(i)])).status);
      return out;
    };
    const first = await run();
    expect(first.filter((s) => s === 500).length).toBeGreaterThan(0);
    expect(first.filter((s) => s === 201).length).toBeGreaterThan(0);
    expect(await run()).toEqual(first);
  });

  it('rateLimitBursts: the next N requests get 429 (with or without Retry-After) and are not counted', async () => {
    const sb = await sandbox({ enforceRateLimits: true, limits: { twilio: [{ requests: 1, perSeconds: 60, scope: 'all' }] } });
    sb.faults.set({ rateLimitBursts: 2, rateLimitBurstRetryAfterSeconds: 3 });
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await twilioBulk(sb, [twilioItem(i)]));
    expect(replies.map((r) => r.status)).toEqual([429, 429, 201, 429]);
    expect(replies.map((r) => r.headers.get('retry-after'))).toEqual(['3', '3', null, null]);
    expect(replies[0]?.json.code).toBe(20429);
    expect(sb.requests.map((r) => r.fault ?? null)).toEqual(['rateLimitBurst', 'rateLimitBurst', null, null]);

    sb.faults.set({ rateLimitBursts: 1 });
    const bare = await jsonCall(sb, 'oliai', 'GET', '/contacts');
    expect([bare.status, bare.headers.get('retry-after')]).toEqual([429, null]);
    expect(sb.faults.current.rateLimitBursts).toBe(0);
  });

  it('latencyMs delays every response: a client with a shorter timeout gives up', async () => {
    const sb = await sandbox({ faults: { latencyMs: 3000 } });
    expect(await twilioWithTimeout(sb, 1, 150)).toBe('TimeoutError');
    expect(sb.twilio.contacts.size).toBe(1);
  });

  it('slowRate + slowMs: the write is applied, the answer comes after the client timed out', async () => {
    const sb = await sandbox();
    sb.faults.set({ slowRate: 1, slowMs: 3000 });
    expect(await twilioWithTimeout(sb, 1, 150)).toBe('TimeoutError');
    expect(sb.twilio.contacts.has(String(twilioItem(1).contact_id))).toBe(true);
    expect(sb.requests[0]).toMatchObject({ status: 201, fault: 'slow', items: 1 });
  });

  it('dropAfterApplyRate: the write is applied, then the socket is closed with no response', async () => {
    const sb = await sandbox({ faults: { dropAfterApplyRate: 1 } });
    await expect(jsonCall(sb, 'oliai', 'POST', '/contacts/bulk', { contacts: [{ name: 'x', phoneNumber: '+919876543210' }] })).rejects.toThrow();
    expect(sb.oliai.contacts().size).toBe(1);
    expect(sb.requests).toEqual([expect.objectContaining({ provider: 'oliai', status: 'dropped', fault: 'dropAfterApply', items: 1 })]);
  });

  it('itemErrorRate fails Twilio items with INTERNAL_SERVER_ERROR and leaves them unapplied', async () => {
    const sb = await sandbox({ faults: { itemErrorRate: 1 } });
    const reply = await twilioBulk(sb, [twilioItem(1), twilioItem(2, { contact_id: '+19' })]);
    expect(reply.json.items.map((r: { error_messages: string[] }) => r.error_messages)).toEqual([['INTERNAL_SERVER_ERROR'], ['INVALID_CONTACT_ID']]);
    expect(sb.twilio.contacts.size).toBe(0);
    expect(sb.requests[0]?.fault).toBe('itemError');
  });

  it('targets only the providers named', async () => {
    const sb = await sandbox({ faults: { errorRate: 1, providers: ['oliai'] } });
    expect((await twilioBulk(sb, [twilioItem(1)])).status).toBe(201);
    expect((await jsonCall(sb, 'trackly', 'GET', '/contacts')).status).toBe(200);
    expect((await jsonCall(sb, 'oliai', 'GET', '/contacts')).status).toBe(500);
  });

  it('refuses out-of-range settings', async () => {
    const sb = await sandbox();
    expect(() => sb.faults.set({ errorRate: 2 })).toThrow(RangeError);
  });
});
