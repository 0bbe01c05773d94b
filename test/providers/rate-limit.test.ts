/**
 * The limiter end to end: two tenants on one provider account push a burst through a shared
 * gate registry against a sandbox enforcing the provider's limit. Judged on what the sandbox saw:
 * no 429, no window of the limit's length holding more than the limit, and the limit well used.
 */
import { describe, expect, it } from 'vitest';
import { LocalRateGateRegistry } from '../../src/http/rate-gate.js';
import type { ProviderAdapter } from '../../src/providers/types.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { contact, phones, sandboxAdapter, upsertItem } from './helpers.js';

/** Most requests the sandbox accepted in any window of `windowMs` (arrivals sorted). */
function busiestWindow(arrivals: readonly number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; j < arrivals.length; j++) {
    while (arrivals[j]! - arrivals[i]! >= windowMs) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/**
 * Share of the limit used: after the first full window, each further `limit` requests should take
 * one window. k windows' worth of requests past the first over the time they took.
 */
function utilisation(arrivals: readonly number[], limit: number, windowMs: number): number {
  const windows = Math.floor((arrivals.length - 1) / limit);
  return (windows * windowMs) / (arrivals[windows * limit]! - arrivals[0]!);
}

/** Two tenants, each with two batches in flight (as the engine runs), one contact per request. */
async function burst(tenants: ProviderAdapter[], requests: number): Promise<void> {
  const perChain = Math.ceil(requests / (tenants.length * 2));
  let next = 0;
  await Promise.all(
    tenants.flatMap((adapter) =>
      [0, 1].map(async () => {
        for (let i = 0; i < perChain; i++) {
          const n = next++;
          const [outcome] = await adapter.upsert([upsertItem(adapter, contact({ id: `c${n}`, phone: phones(1, n)[0]! }))]);
          expect(outcome?.status).toBe('ok');
        }
      }),
    ),
  );
}

function bulkArrivals(sb: Sandbox): number[] {
  return sb.requests.filter((r) => r.method === 'POST').map((r) => r.receivedAt).sort((a, b) => a - b);
}

describe('rate limiting against a sandbox that enforces the limit', () => {
  it('Trackly: 10 bulk requests/s (documented), shared by two tenants of one account', async () => {
    const sb = await startSandbox({ phoneValidation: 'format' });
    try {
      const gates = new LocalRateGateRegistry();
      const tenants = [0, 1].map(() => sandboxAdapter(sb, 'trackly', { batchSize: 1 }, { gates }).adapter);
      await burst(tenants, 32);
      expect(sb.requests.filter((r) => r.status === 429)).toHaveLength(0);
      const arrivals = bulkArrivals(sb);
      expect(arrivals).toHaveLength(32);
      expect(busiestWindow(arrivals, 1_000)).toBe(10);
      expect(utilisation(arrivals, 10, 1_000)).toBeGreaterThanOrEqual(0.9);
    } finally {
      await sb.close();
    }
  });

  it('OliAI: 10 bulk requests/min within 60/min, time-scaled x60', async () => {
    const sb = await startSandbox({ phoneValidation: 'format', timeScale: 60 });
    try {
      const gates = new LocalRateGateRegistry();
      const tenants = [0, 1].map(() => sandboxAdapter(sb, 'oliai', { batchSize: 1 }, { gates, timeScale: 60 }).adapter);
      expect(tenants[0]!.capabilities.rateLimits).toEqual([
        { requests: 60, perSeconds: 1, scope: 'all' },
        { requests: 10, perSeconds: 1, scope: 'bulk' },
      ]);
      await burst(tenants, 32);
      expect(sb.requests.filter((r) => r.status === 429)).toHaveLength(0);
      const arrivals = bulkArrivals(sb);
      expect(busiestWindow(arrivals, 1_000)).toBe(10);
      expect(utilisation(arrivals, 10, 1_000)).toBeGreaterThanOrEqual(0.9);
    } finally {
      await sb.close();
    }
  });
});
