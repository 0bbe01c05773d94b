/**
 * Rate limits shared through PostgreSQL. The log's arithmetic on its own, then real adapters in
 * several simulated processes (each its own pool and registry), and in several OS processes,
 * pushing one Trackly account against a sandbox that enforces the limit: judged on what the
 * sandbox saw.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Store, openStore } from '../../src/db/open.js';
import type { StateDatabase } from '../../src/db/schema.js';
import type { ProviderAdapter } from '../../src/providers/types.js';
import { startSandbox } from '../../src/sandbox/server.js';
import { PgRateGateRegistry } from '../../src/scaleout/pg-rate-gate.js';
import { SharedWindowLog } from '../../src/scaleout/shared-window-log.js';
import { openStateStore } from '../../src/state/store.js';
import { describePg } from '../helpers/postgres.js';
import { pgSchema } from '../helpers/stores.js';
import { contact, phones, sandboxAdapter, upsertItem } from '../providers/helpers.js';
import { busiestWindow, utilisation } from './windows.js';

const taker = join(import.meta.dirname, 'fixtures/budget-taker.mjs');

describePg('rate gates shared through PostgreSQL', () => {
  let schema: Awaited<ReturnType<typeof pgSchema>>;
  const stores: Store<StateDatabase>[] = [];
  const open = (): Store<StateDatabase> => {
    const store = openStore<StateDatabase>(schema.url, { poolSize: 2 });
    stores.push(store);
    return store;
  };
  beforeAll(async () => {
    schema = await pgSchema('cs_test_gate');
    stores.push(await openStateStore(schema.url));
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await schema.cleanup();
  });

  it('the shared log: a full window makes the next start wait; each scope counts its own requests', async () => {
    const log = new SharedWindowLog(open().db, 'log-test');
    await log.register([
      { requests: 3, perSeconds: 60, scope: 'all' },
      { requests: 2, perSeconds: 60, scope: 'bulk' },
    ]);
    const bulk = [await log.tryStart('bulk'), await log.tryStart('bulk'), await log.tryStart('bulk')];
    expect(bulk.map((a) => 'started' in a)).toEqual([true, true, false]);
    expect(await log.tryStart('single')).toHaveProperty('started');
    const full = await log.tryStart('single');
    // The 'all' window holds three requests still in flight: each counts until its start plus the
    // allowance (5 s for a minute's window), then the window must pass.
    expect(full).toHaveProperty('waitMs');
    expect((full as { waitMs: number }).waitMs).toBeGreaterThan(59_000);
    expect((full as { waitMs: number }).waitMs).toBeLessThanOrEqual(65_000);
  });

  it('a stricter limit registered by another process holds for every process', async () => {
    const [a, b] = [new SharedWindowLog(open().db, 'union-test'), new SharedWindowLog(open().db, 'union-test')];
    await a.register([{ requests: 5, perSeconds: 60, scope: 'all' }]);
    await b.register([{ requests: 2, perSeconds: 60, scope: 'all' }]);
    const starts = [await a.tryStart('bulk'), await b.tryStart('bulk'), await a.tryStart('bulk')];
    expect(starts.map((s) => 'started' in s)).toEqual([true, true, false]);
  });

  /** `chains` request chains per simulated process, one contact per request, `total` in all. */
  async function burst(adapters: ProviderAdapter[], chains: number, total: number): Promise<void> {
    let next = 0;
    await Promise.all(
      adapters.flatMap((adapter) =>
        Array.from({ length: chains }, async () => {
          for (let n = next++; n < total; n = next++) {
            const [outcome] = await adapter.upsert([upsertItem(adapter, contact({ id: `c${n}`, phone: phones(1, n)[0]! }))]);
            expect(outcome?.status).toBe('ok');
          }
        }),
      ),
    );
  }

  async function pushThrough(processes: number, total: number): Promise<number[]> {
    // Each simulated process has its own pool and registry; they share only the database. A fresh
    // sandbox (its own port) is a fresh account.
    const sb = await startSandbox({ phoneValidation: 'format' });
    try {
      const adapters = Array.from({ length: processes }, () => sandboxAdapter(sb, 'trackly', { batchSize: 1 }, { gates: new PgRateGateRegistry(open()) }).adapter);
      await burst(adapters, 2, total);
      expect(sb.requests.filter((r) => r.status === 429)).toHaveLength(0);
      return sb.requests
        .filter((r) => r.method === 'POST')
        .map((r) => r.receivedAt)
        .sort((a, b) => a - b);
    } finally {
      await sb.close();
    }
  }

  it('one process alone uses the whole budget (Trackly, 10 bulk requests/s)', async () => {
    const arrivals = await pushThrough(1, 41);
    expect(arrivals).toHaveLength(41);
    expect(busiestWindow(arrivals, 1_000)).toBe(10);
    const used = utilisation(arrivals, 10, 1_000);
    console.info(`PostgreSQL gate, one process: ${(used * 100).toFixed(1)} % of the limit`);
    expect(used).toBeGreaterThanOrEqual(0.9);
  });

  it('four processes on one account: no window of a second ever sees more than 10', async () => {
    const arrivals = await pushThrough(4, 51);
    expect(arrivals).toHaveLength(51);
    expect(busiestWindow(arrivals, 1_000)).toBeLessThanOrEqual(10);
    const used = utilisation(arrivals, 10, 1_000);
    console.info(`PostgreSQL gate, four processes on one account: ${(used * 100).toFixed(1)} % of the limit`);
    expect(used).toBeGreaterThanOrEqual(0.6);
  });

  it('four OS processes take from one account at once: no window of a second, placed anywhere, sees more than 10', async () => {
    const sb = await startSandbox({ phoneValidation: 'format' });
    const perProcess = 13;
    try {
      const takers = Array.from({ length: 4 }, (_, i) => startTaker([schema.url, sb.baseUrl('trackly'), sb.credentials.trackly.apiKey, String(i * perProcess), String(perProcess)]));
      await Promise.all(takers.map((t) => t.ready));
      for (const t of takers) t.go();
      expect(await Promise.all(takers.map((t) => t.done))).toEqual(Array(4).fill(perProcess));
      expect(sb.requests.filter((r) => r.status === 429)).toHaveLength(0);
      const arrivals = sb.requests.map((r) => r.receivedAt).sort((a, b) => a - b);
      expect(arrivals).toHaveLength(4 * perProcess);
      expect(busiestWindow(arrivals, 1_000)).toBeLessThanOrEqual(10);
      const used = utilisation(arrivals, 10, 1_000);
      console.info(`PostgreSQL gate, four OS processes on one account: ${(used * 100).toFixed(1)} % of the limit`);
      expect(used).toBeGreaterThanOrEqual(0.75);
    } finally {
      await sb.close();
    }
  });
});

/** A budget-taker process: `ready` once it can send, `go()` starts it, `done` resolves with the upserts that succeeded. */
function startTaker(args: string[]): { ready: Promise<void>; go(): void; done: Promise<number> } {
  const child = spawn(process.execPath, [taker, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('ready\n')) onReady();
  });
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const ok = /done (\d+)/.exec(out);
      if (code === 0 && ok !== null) resolve(Number(ok[1]));
      else reject(new Error(`budget taker exited ${code}: ${out}`));
    });
  });
  // A taker that dies before it is ready fails the test through `done`, not by hanging on `ready`.
  return { ready: Promise.race([ready, done.then(() => undefined)]), go: () => child.stdin.end('go\n'), done };
}
