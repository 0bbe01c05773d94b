import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import { basic, jsonCall, twilioBulk, twilioItem, type Reply } from './helpers.js';

const open: Sandbox[] = [];
async function sandbox(options: SandboxOptions): Promise<Sandbox> {
  const sb = await startSandbox(options);
  open.push(sb);
  return sb;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((sb) => sb.close()));
});

const statuses = (replies: Reply[]) => replies.map((r) => r.status);
const count = (values: number[], value: number) => values.filter((v) => v === value).length;

describe('sandbox rate limits', () => {
  it('Twilio: a burst of 130 within the minute gets exactly the 30 over 100 refused, 429 code 20429 without Retry-After', async () => {
    const sb = await sandbox({});
    const replies = await Promise.all(Array.from({ length: 130 }, (_, i) => twilioBulk(sb, [twilioItem(i)])));
    expect(count(statuses(replies), 201)).toBe(100);
    expect(count(statuses(replies), 429)).toBe(30);
    const refused = replies.find((r) => r.status === 429)!;
    expect(refused.json).toEqual({ code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 });
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(sb.twilio.contacts.size).toBe(100);
  });

  it('keeps each account in its own window', async () => {
    const other = { accountSid: `AC${'e'.repeat(32)}`, authToken: 't2' };
    const sb = await sandbox({ extraCredentials: { twilio: [other] }, limits: { twilio: [{ requests: 2, perSeconds: 60, scope: 'all' }] } });
    const a = await Promise.all([1, 2, 3].map((i) => twilioBulk(sb, [twilioItem(i)])));
    const b = await Promise.all([1, 2].map((i) => twilioBulk(sb, [twilioItem(i)], basic(other.accountSid, other.authToken))));
    expect(count(statuses(a), 429)).toBe(1);
    expect(count(statuses(b), 429)).toBe(0);
  });

  it('slides: no window of the limit length (scaled) ever holds more accepted requests than the limit', async () => {
    // 5 per second at time scale 5: 5 per 200 ms.
    const windowMs = 200;
    const sb = await sandbox({ timeScale: 5, limits: { twilio: [{ requests: 5, perSeconds: 1, scope: 'all' }] } });
    let accepted = 0;
    for (let i = 0; accepted < 20 && i < 2000; i++) {
      if ((await twilioBulk(sb, [twilioItem(i)])).status === 201) accepted += 1;
      await sleep(5);
    }
    const times = sb.requests.filter((r) => r.status === 201).map((r) => r.receivedAt);
    expect(times.length).toBe(20);
    for (let i = 0; i + 5 < times.length; i++) expect(times[i + 5]! - times[i]!).toBeGreaterThanOrEqual(windowMs);
    expect(sb.requests.filter((r) => r.status === 429).length).toBeGreaterThan(0);
  });

  it('does not count refused requests: once the accepted ones leave the window, a full limit is accepted again', async () => {
    // 3 per minute at time scale 60: 3 per second.
    const windowMs = 1000;
    const sb = await sandbox({ timeScale: 60, limits: { twilio: [{ requests: 3, perSeconds: 60, scope: 'all' }] } });
    const first = await Promise.all([1, 2, 3].map((i) => twilioBulk(sb, [twilioItem(i)])));
    await sleep(300); // refused ones come well inside the window, so they would still be in it if counted
    const refused = await Promise.all([4, 5, 6].map((i) => twilioBulk(sb, [twilioItem(i)])));
    expect(statuses(first)).toEqual([201, 201, 201]);
    expect(statuses(refused)).toEqual([429, 429, 429]);
    const lastAccepted = Math.max(...sb.requests.filter((r) => r.status === 201).map((r) => r.receivedAt));
    while (performance.timeOrigin + performance.now() < lastAccepted + windowMs + 5) await sleep(10);
    const again = await Promise.all([7, 8, 9].map((i) => twilioBulk(sb, [twilioItem(i)])));
    expect(statuses(again)).toEqual([201, 201, 201]);
  });

  it('OliAI: bulk requests count against both 10/min (bulk) and 60/min (all); 429 carries Retry-After', async () => {
    const sb = await sandbox({});
    const bulk = () => jsonCall(sb, 'oliai', 'POST', '/contacts/bulk', { contacts: [] });
    const bulks = await Promise.all(Array.from({ length: 11 }, bulk));
    expect(count(statuses(bulks), 201)).toBe(10);
    const refused = bulks.find((r) => r.status === 429)!;
    expect(refused.json).toEqual({ statusCode: 429, message: expect.any(String), error: 'Too Many Requests' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);

    const singles = await Promise.all(Array.from({ length: 51 }, () => jsonCall(sb, 'oliai', 'GET', '/contacts')));
    expect(count(statuses(singles), 200)).toBe(50);
    expect(count(statuses(singles), 429)).toBe(1);
  });

  it('Trackly: 10/s for bulk and 100/s for single endpoints, counted apart (time scale 0.05: 20 s windows)', async () => {
    const sb = await sandbox({ timeScale: 0.05 });
    const list = '+18005551234';
    const bulks = await Promise.all(
      Array.from({ length: 12 }, (_, i) => jsonCall(sb, 'trackly', 'POST', '/contacts/bulk', { contacts: [{ phone_number: `+1212555${1000 + i}`, list_number: list }] })),
    );
    expect(count(statuses(bulks), 201)).toBe(10);
    expect(count(statuses(bulks), 429)).toBe(2);
    const refused = bulks.find((r) => r.status === 429)!;
    expect(refused.json).toEqual({ error: expect.any(String), code: 'rate_limited' });
    const singles = await Promise.all(Array.from({ length: 101 }, () => jsonCall(sb, 'trackly', 'GET', '/contacts')));
    expect(count(statuses(singles), 200)).toBe(100);
    expect(count(statuses(singles), 429)).toBe(1);
  });

  it('refuses limits it cannot enforce', async () => {
    await expect(startSandbox({ limits: { oliai: [{ requests: 0, perSeconds: 60, scope: 'all' }] } })).rejects.toThrow(RangeError);
    await expect(startSandbox({ timeScale: 0 })).rejects.toThrow(RangeError);
  });

  it('enforceRateLimits: false never answers 429', async () => {
    const sb = await sandbox({ enforceRateLimits: false });
    const replies = await Promise.all(Array.from({ length: 120 }, (_, i) => twilioBulk(sb, [twilioItem(i)])));
    expect(count(statuses(replies), 201)).toBe(120);
  });
});
