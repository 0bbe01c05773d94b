import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/errors.js';
import { HttpClient, type HttpClientOptions, redactHeaders } from '../../src/http/client.js';
import type { Clock } from '../../src/http/clock.js';
import { SlidingWindowGate } from '../../src/http/rate-gate.js';
import type { RateGate, RequestEvent } from '../../src/http/types.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { startScriptedServer } from './scripted-server.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ enforceRateLimits: false });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

/** A clock whose sleeps return at once and are recorded: retries are counted, not waited for. */
function recordingClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => performance.now(), sleep: async (ms) => void slept.push(ms) };
}

/** Counts permits taken and released around a real gate. */
function countingGate(): RateGate & { taken: number; released: number } {
  const inner = new SlidingWindowGate([{ requests: 1_000, perSeconds: 1, scope: 'all' }]);
  const gate = {
    taken: 0,
    released: 0,
    async acquire(...args: Parameters<RateGate['acquire']>) {
      const permit = await inner.acquire(...args);
      gate.taken++;
      return { release: () => (gate.released++, permit.release()) };
    },
  };
  return gate;
}

function oliaiClient(overrides: Partial<HttpClientOptions> = {}) {
  const events: RequestEvent[] = [];
  const clock = recordingClock();
  const gate = countingGate();
  const client = new HttpClient({
    provider: 'voice',
    baseUrl: sb.baseUrl('oliai'),
    timeoutMs: 2_000,
    gate,
    retry: { maxRetries: 3, baseDelayMs: 40, maxDelayMs: 100, maxElapsedMs: 60_000 },
    headers: { 'x-api-key': sb.credentials.oliai.apiKey },
    observer: { onRequest: (e) => events.push(e) },
    clock,
    ...overrides,
  });
  return { client, events, clock, gate };
}

const listContacts = { method: 'GET', path: '/contacts', kind: 'single' } as const;
const bulkUpsert = {
  method: 'POST',
  path: '/contacts/bulk',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ contacts: [{ name: 'Priya', phoneNumber: '+919876543210' }] }),
  kind: 'bulk',
} as const;

describe('HttpClient over HTTP', () => {
  it('returns a 2xx answer parsed, reporting one attempt and taking one permit', async () => {
    const { client, events, gate } = oliaiClient();
    const res = await client.send({ ...listContacts, query: { page: 1, limit: 5, search: undefined } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ data: [], page: 1, limit: 5 });
    expect(events).toEqual([expect.objectContaining({ provider: 'voice', method: 'GET', path: '/contacts', status: 200, attempt: 1 })]);
    expect([gate.taken, gate.released]).toEqual([1, 1]);
  });

  it('retries a 429 after its Retry-After seconds, through the gate each time', async () => {
    sb.faults.set({ rateLimitBursts: 2, rateLimitBurstRetryAfterSeconds: 3 });
    const { client, events, clock, gate } = oliaiClient();
    expect((await client.send(listContacts)).status).toBe(200);
    expect(clock.slept).toEqual([3_000, 3_000]);
    expect(events.map((e) => [e.attempt, e.status])).toEqual([[1, 429], [2, 429], [3, 200]]);
    expect(sb.requests.map((r) => r.status)).toEqual([429, 429, 200]);
    expect([gate.taken, gate.released]).toEqual([3, 3]);
  });

  it('backs off with full jitter on a 429 without Retry-After', async () => {
    sb.faults.set({ rateLimitBursts: 3 });
    const { client, clock } = oliaiClient();
    expect((await client.send(listContacts)).status).toBe(200);
    expect(clock.slept).toHaveLength(3);
    clock.slept.forEach((ms, i) => expect(ms).toBeLessThan(Math.min(100, 40 * 2 ** i)));
  });

  it('honours a Retry-After given as an HTTP date', async () => {
    const server = await startScriptedServer([
      { status: 429, headers: { 'retry-after': new Date(Date.now() + 5_000).toUTCString() }, body: { message: 'slow down' } },
      { status: 200, body: { ok: true } },
    ]);
    try {
      const { client, clock } = oliaiClient({ baseUrl: server.url });
      expect((await client.send(listContacts)).json).toEqual({ ok: true });
      expect(clock.slept).toHaveLength(1);
      expect(clock.slept[0]).toBeGreaterThan(3_000);
      expect(clock.slept[0]).toBeLessThanOrEqual(5_000);
    } finally {
      await server.close();
    }
  });

  it('gives up after maxRetries on 5xx with PROVIDER_UNAVAILABLE naming the last answer', async () => {
    sb.faults.set({ errorRate: 1 });
    const { client, events } = oliaiClient();
    const error = await client.send(bulkUpsert).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', provider: 'voice', status: 500 });
    expect((error as Error).message).toMatch(/POST \/contacts\/bulk failed 4 time\(s\), last: HTTP 500: .*Internal server error/);
    expect(events).toHaveLength(4);
    expect(sb.requests).toHaveLength(4);
    expect(sb.oliai.contacts().size).toBe(0);
  });

  it('gives up at once when Retry-After reaches past the time budget', async () => {
    sb.faults.set({ rateLimitBursts: 5, rateLimitBurstRetryAfterSeconds: 120 });
    const { client } = oliaiClient();
    await expect(client.send(listContacts)).rejects.toThrow(/failed 1 time\(s\), last: HTTP 429.*asked to wait 120 s/);
    expect(sb.requests).toHaveLength(1);
  });

  it('retries a timed-out request; the replayed upsert is idempotent', async () => {
    sb.faults.set({ slowRate: 1, slowMs: 1_500 });
    const { client, events } = oliaiClient({
      timeoutMs: 300,
      observer: { onRequest: (e) => (events.push(e), sb.faults.clear()) },
    });
    expect((await client.send(bulkUpsert)).status).toBe(201);
    expect(events.map((e) => e.status)).toEqual(['timeout', 201]);
    expect(sb.oliai.contacts().size).toBe(1);
  });

  it('retries when the connection drops after the write', async () => {
    sb.faults.set({ dropAfterApplyRate: 1 });
    const { client, events } = oliaiClient({ observer: { onRequest: (e) => (events.push(e), sb.faults.clear()) } });
    expect((await client.send(bulkUpsert)).status).toBe(201);
    expect(events.map((e) => e.status)).toEqual(['network', 201]);
    expect(sb.requests.map((r) => r.status)).toEqual(['dropped', 201]);
    expect(sb.oliai.contacts().size).toBe(1);
  });

  it('names the socket error when the connection drops on every attempt', async () => {
    sb.faults.set({ dropAfterApplyRate: 1 });
    const { client } = oliaiClient({ retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1, maxElapsedMs: 10_000 } });
    await expect(client.send(bulkUpsert)).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', message: expect.stringMatching(/failed 2 time\(s\), last: network error \(ECONNRESET: /) });
  });

  it('reports a timeout on every attempt as PROVIDER_UNAVAILABLE', async () => {
    sb.faults.set({ slowRate: 1, slowMs: 1_000 });
    const { client } = oliaiClient({ timeoutMs: 100, retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1, maxElapsedMs: 10_000 } });
    await expect(client.send(listContacts)).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', message: expect.stringContaining('no answer within 100 ms') });
  });

  it('throws PROVIDER_AUTH on 401 without retrying, and never shows the credential', async () => {
    const { client, events } = oliaiClient({ headers: { 'x-api-key': 'sk_live_wrong_and_secret' } });
    const error = (await client.send(listContacts).catch((e: unknown) => e)) as ProviderError;
    expect(error).toMatchObject({ code: 'PROVIDER_AUTH', status: 401 });
    expect(error.message).toContain('Invalid or revoked API key');
    expect(error.message).not.toContain('sk_live_wrong_and_secret');
    expect(events).toHaveLength(1);
  });

  it('returns other 4xx answers for the adapter to read', async () => {
    const { client, events } = oliaiClient();
    const res = await client.send({ method: 'GET', path: '/contacts/nope', kind: 'single' });
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ statusCode: 404, message: 'Contact not found' });
    expect(events).toHaveLength(1);
  });

  it('scrubs credentials a provider echoes from its errors', async () => {
    const secret = 'trk_echoed_secret_key';
    const server = await startScriptedServer([{ status: 500, body: { code: 'internal_error', error: `key ${secret} broke us` } }]);
    try {
      const { client } = oliaiClient({ baseUrl: server.url, headers: { 'x-api-key': secret }, retry: { maxRetries: 0 } });
      const error = (await client.send(listContacts).catch((e: unknown) => e)) as Error;
      expect(error.message).toContain('internal_error key [redacted] broke us');
      expect(error.message).not.toContain(secret);
      expect(server.received[0]?.headers['x-api-key']).toBe(secret);
    } finally {
      await server.close();
    }
  });

  it('stops at once when the caller aborts, in flight or while backing off', async () => {
    sb.faults.set({ slowRate: 1, slowMs: 5_000 });
    const inFlight = new AbortController();
    const { client } = oliaiClient({ clock: undefined });
    const pending = client.send(listContacts, inFlight.signal);
    setTimeout(() => inFlight.abort(new Error('shutting down')), 50);
    await expect(pending).rejects.toThrow('shutting down');

    sb.faults.set({ rateLimitBursts: 1, rateLimitBurstRetryAfterSeconds: 30 });
    const backingOff = new AbortController();
    const { client: patient } = oliaiClient({ clock: undefined, observer: { onRequest: () => backingOff.abort(new Error('stop waiting')) } });
    await expect(patient.send(listContacts, backingOff.signal)).rejects.toThrow('stop waiting');
  });
});

describe('redactHeaders', () => {
  it('hides credential headers whatever their case, and nothing else', () => {
    expect(redactHeaders({ Authorization: 'Basic QUM6dG9rZW4=', 'X-Api-Key': 'trk_1', 'x-api-key': 'sk_1', accept: 'application/json' })).toEqual({
      Authorization: '[redacted]',
      'X-Api-Key': '[redacted]',
      'x-api-key': '[redacted]',
      accept: 'application/json',
    });
    expect(redactHeaders(new Headers({ authorization: 'Bearer x' }))).toEqual({ authorization: '[redacted]' });
  });
});
