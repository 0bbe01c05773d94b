import { describe, expect, it } from 'vitest';
import { LocalRateGateRegistry, SlidingWindowGate, accountKey } from '../../src/http/rate-gate.js';
import type { RatePermit } from '../../src/http/types.js';
import { FakeClock, settle } from './fake-clock.js';

/** Acquires and records when (on the fake clock) the permit was granted. */
function track(gate: SlidingWindowGate, clock: FakeClock, kind: 'bulk' | 'single' = 'bulk', signal?: AbortSignal) {
  const state: { at?: number; permit?: RatePermit; error?: unknown } = {};
  gate.acquire(kind, signal).then(
    (permit) => {
      state.at = clock.now();
      state.permit = permit;
    },
    (error: unknown) => (state.error = error),
  );
  return state;
}

describe('SlidingWindowGate', () => {
  it('grants the limit at once, then the next one a window after the first ended', async () => {
    const clock = new FakeClock();
    const gate = new SlidingWindowGate([{ requests: 2, perSeconds: 1, scope: 'all' }], { clock });
    const [a, b, c] = [track(gate, clock), track(gate, clock), track(gate, clock)];
    await clock.advanceTo(10);
    expect([a.at, b.at, c.at]).toEqual([0, 0, undefined]);
    a.permit!.release();
    await clock.advanceTo(30);
    b.permit!.release();
    await clock.advanceTo(1_009);
    expect(c.at).toBeUndefined();
    await clock.advanceTo(1_010);
    expect(c.at).toBe(1_010);
  });

  it('counts a permit never released as arrived by its start plus the allowance', async () => {
    const clock = new FakeClock();
    const gate = new SlidingWindowGate([{ requests: 1, perSeconds: 1, scope: 'all' }], { clock });
    const [a, b] = [track(gate, clock), track(gate, clock)];
    await clock.advanceTo(5_000);
    expect(a.at).toBe(0);
    expect(b.at).toBe(1_500);
  });

  it('caps the requests in flight (p-queue) whatever the limits allow', async () => {
    const clock = new FakeClock();
    const gate = new SlidingWindowGate([{ requests: 100, perSeconds: 1, scope: 'all' }], { clock, concurrency: 2 });
    const states = [track(gate, clock), track(gate, clock), track(gate, clock)];
    await settle();
    expect(states.map((s) => s.at)).toEqual([0, 0, undefined]);
    expect(gate.inFlight).toBe(2);
    states[1]!.permit!.release();
    states[1]!.permit!.release(); // a second release is harmless
    await settle();
    expect(states[2]!.at).toBe(0);
    expect(gate.inFlight).toBe(2);
  });

  it('holds back only the kind whose limit is full', async () => {
    const clock = new FakeClock();
    const gate = new SlidingWindowGate(
      [
        { requests: 1, perSeconds: 1, scope: 'bulk' },
        { requests: 100, perSeconds: 1, scope: 'single' },
      ],
      { clock },
    );
    const bulk = [track(gate, clock, 'bulk'), track(gate, clock, 'bulk')];
    const single = track(gate, clock, 'single');
    await clock.advanceTo(1);
    expect(bulk.map((s) => s.at)).toEqual([0, undefined]);
    expect(single.at).toBe(0);
  });

  it('gives up waiting at once when the caller aborts, and frees its place', async () => {
    const clock = new FakeClock();
    const gate = new SlidingWindowGate([{ requests: 1, perSeconds: 1, scope: 'all' }], { clock, concurrency: 1 });
    const first = track(gate, clock);
    const controller = new AbortController();
    const waiting = track(gate, clock, 'bulk', controller.signal);
    const after = track(gate, clock);
    await settle();
    controller.abort(new Error('stop'));
    await settle();
    expect((waiting.error as Error).message).toBe('stop');
    first.permit!.release();
    await clock.advanceTo(1_000);
    expect(after.at).toBe(1_000);
    await expect(gate.acquire('bulk', AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });
});

describe('LocalRateGateRegistry', () => {
  it('hands every tenant of one account the same gate, enforcing the strictest limits named', () => {
    const registry = new LocalRateGateRegistry();
    const key = accountKey('oliai', 'https://api.oliai.in/v1', 'sk_live_x');
    const a = registry.gateFor(key, [{ requests: 60, perSeconds: 60, scope: 'all' }]);
    const b = registry.gateFor(key, [{ requests: 10, perSeconds: 60, scope: 'bulk' }]);
    expect(b).toBe(a);
    expect(a.limits).toHaveLength(2);
    expect(registry.gateFor(accountKey('oliai', 'https://api.oliai.in/v1', 'sk_live_y'), [])).not.toBe(a);
  });
});

describe('accountKey', () => {
  it('is a hash: never the credential, stable, and distinct per type, base URL and credential', () => {
    const key = accountKey('trackly', 'https://app.tracklysms.com/api/v2', 'trk_secret_value');
    expect(key).not.toContain('trk_secret_value');
    expect(key).toMatch(/^trackly:[0-9a-f]{32}$/);
    expect(accountKey('trackly', 'https://APP.tracklysms.com/api/v2/', 'trk_secret_value')).toBe(key);
    expect(accountKey('trackly', 'https://app.tracklysms.com/api/v3', 'trk_secret_value')).not.toBe(key);
    expect(accountKey('trackly', 'https://app.tracklysms.com/api/v2', 'trk_other')).not.toBe(key);
    expect(accountKey('oliai', 'https://app.tracklysms.com/api/v2', 'trk_secret_value')).not.toBe(key);
  });
});
