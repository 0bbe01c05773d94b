/**
 * The limiter end to end: two tenants on one provider account push a burst through a shared gate
 * registry against a sandbox enforcing the provider's limit (time-scaled so that each window lasts
 * a second or two). Judged on what the sandbox saw: no 429, no window of a limit's length placed
 * anywhere holding more than the limit, and the limit used over several windows.
 */
import { describe, expect, it } from 'vitest';
import { LocalRateGateRegistry } from '../../src/http/rate-gate.js';
import type { ProviderAdapter, RateLimit } from '../../src/providers/types.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/server.js';
import type { ProviderType } from '../../src/sandbox/types.js';
import { contact, phones, sandboxAdapter, upsertItem } from './helpers.js';

/** Windows measured after the first (which the burst fills at once). */
const windows = 3;
/**
 * Share of the limit the burst must use. The benchmark (BENCHMARKS.md, rate-limit use) measures
 * >= 97 % over 20 windows; here, with other test files loading the 2 cores, a window loses tens of
 * ms to scheduling (0.953 seen for Twilio at 1 s windows), so this asserts 95 % while the
 * never-above-the-limit check stays exact.
 */
const minShare = 0.95;

/**
 * Most requests in any window of `windowMs`, wherever it is placed (arrivals sorted): the busiest
 * window always starts at an arrival, so checking those is checking every placement.
 */
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
 * one window. k windows' worth of requests past the first, over the time they took.
 */
function utilisation(arrivals: readonly number[], limit: number, windowMs: number): number {
  const k = Math.floor((arrivals.length - 1) / limit);
  return (k * windowMs) / (arrivals[k * limit]! - arrivals[0]!);
}

/** Two tenants, each with `chains` batches in flight (as the engine runs them), one contact per request. */
async function burst(tenants: ProviderAdapter[], requests: number, chains: number): Promise<void> {
  const perChain = Math.ceil(requests / (tenants.length * chains));
  let next = 0;
  await Promise.all(
    tenants.flatMap((adapter) =>
      Array.from({ length: chains }, async () => {
        for (let i = 0; i < perChain; i++) {
          const n = next++;
          const [outcome] = await adapter.upsert([upsertItem(adapter, contact({ id: `c${n}`, phone: phones(1, n)[0]! }))]);
          expect(outcome?.status).toBe('ok');
        }
      }),
    ),
  );
}

interface Case {
  title: string;
  type: ProviderType;
  /** Sandbox windows are divided by this; the adapters are told the same. */
  timeScale: number;
  /** What the sandbox enforces (default: the documented limits). */
  sandboxLimits?: readonly RateLimit[];
  /** The tenant config's `rateLimit`, replacing the documented limits. */
  rateLimit?: { requests: number; perSeconds: number };
  /** The limits the adapter must state (already scaled), each checked against the sandbox's log. */
  expected: readonly RateLimit[];
  chains: number;
}

const cases: Case[] = [
  {
    // x30, not x60: 50 requests/s leave CPU to spare on a loaded machine, so the limiter is what is measured.
    title: 'Twilio: 100 requests/min (documented), time-scaled x30',
    type: 'twilio',
    timeScale: 30,
    expected: [{ requests: 100, perSeconds: 2, scope: 'all' }],
    chains: 6,
  },
  {
    title: 'Trackly: 10 bulk requests/s (documented)',
    type: 'trackly',
    timeScale: 1,
    expected: [
      { requests: 100, perSeconds: 1, scope: 'single' },
      { requests: 10, perSeconds: 1, scope: 'bulk' },
    ],
    chains: 2,
  },
  {
    title: 'OliAI: 10 bulk requests/min within 60/min (documented), time-scaled x60',
    type: 'oliai',
    timeScale: 60,
    expected: [
      { requests: 60, perSeconds: 1, scope: 'all' },
      { requests: 10, perSeconds: 1, scope: 'bulk' },
    ],
    chains: 2,
  },
  {
    // Above the documented 10/min bulk: the burst could not reach it if the documented limits still applied.
    title: "OliAI: the config's rateLimit (30/min) replaces the documented limits",
    type: 'oliai',
    timeScale: 60,
    sandboxLimits: [{ requests: 30, perSeconds: 60, scope: 'all' }],
    rateLimit: { requests: 30, perSeconds: 60 },
    expected: [{ requests: 30, perSeconds: 1, scope: 'all' }],
    chains: 3,
  },
];

/** Arrival times of the requests a limit counts (sorted). */
function arrivalsFor(sb: Sandbox, limit: RateLimit): number[] {
  const counted = limit.scope === 'all' ? sb.requests : sb.requests.filter((r) => (r.method === 'POST') === (limit.scope === 'bulk'));
  return counted.map((r) => r.receivedAt).sort((a, b) => a - b);
}

describe('rate limiting against a sandbox that enforces the limit', () => {
  it.each(cases)('$title', async ({ type, timeScale, sandboxLimits, rateLimit, expected, chains }) => {
    const options: SandboxOptions = { phoneValidation: 'format', timeScale, ...(sandboxLimits ? { limits: { [type]: sandboxLimits } } : {}) };
    const sb = await startSandbox(options);
    try {
      const gates = new LocalRateGateRegistry();
      const tenants = [0, 1].map(() => sandboxAdapter(sb, type, { batchSize: 1, ...(rateLimit ? { rateLimit } : {}) }, { gates, timeScale }).adapter);
      expect(tenants[0]!.capabilities.rateLimits).toEqual(expected);
      // The strictest limit on the bulk requests decides the pace.
      const pacing = expected.filter((l) => l.scope !== 'single').reduce((a, b) => (a.requests / a.perSeconds <= b.requests / b.perSeconds ? a : b));
      const requests = pacing.requests * (windows + 1) + 1;
      await burst(tenants, requests, chains);

      expect(sb.requests.filter((r) => r.status === 429)).toHaveLength(0);
      for (const limit of expected) {
        const arrivals = arrivalsFor(sb, limit);
        expect(busiestWindow(arrivals, limit.perSeconds * 1_000), `${limit.scope} limit`).toBeLessThanOrEqual(limit.requests);
      }
      const arrivals = arrivalsFor(sb, pacing);
      expect(arrivals.length).toBeGreaterThanOrEqual(requests);
      expect(busiestWindow(arrivals, pacing.perSeconds * 1_000)).toBe(pacing.requests);
      const share = utilisation(arrivals, pacing.requests, pacing.perSeconds * 1_000);
      expect(share).toBeGreaterThanOrEqual(minShare);
      expect(share).toBeLessThanOrEqual(1);
    } finally {
      await sb.close();
    }
  });
});
