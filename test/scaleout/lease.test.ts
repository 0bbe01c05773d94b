/**
 * The PostgreSQL run coordinator under contention: racing acquirers (separate pools in this
 * process, and separate processes) take each fire exactly once; a tenant's run is never
 * overlapped; a holder that stops heartbeating (crash) loses the tenant after its TTL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Store, openStore } from '../../src/db/open.js';
import type { StateDatabase } from '../../src/db/schema.js';
import { createPgRunCoordinator, leaseNames, type PgRunCoordinator } from '../../src/scaleout/lease.js';
import { openStateStore } from '../../src/state/store.js';
import { describePg } from '../helpers/postgres.js';
import { pgSchema } from '../helpers/stores.js';

const racer = join(import.meta.dirname, 'fixtures/lease-racer.mjs');

/** `count` slots one second apart from a fixed start: the keys node-cron would pass. */
function slots(count: number, from = Date.UTC(2030, 0, 1)): string[] {
  return Array.from({ length: count }, (_, i) => new Date(from + i * 1000).toISOString());
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describePg('PostgreSQL run coordinator', () => {
  let schema: Awaited<ReturnType<typeof pgSchema>>;
  const stores: Store<StateDatabase>[] = [];
  const open = (): Store<StateDatabase> => {
    const store = openStore<StateDatabase>(schema.url, { poolSize: 2 });
    stores.push(store);
    return store;
  };
  beforeAll(async () => {
    schema = await pgSchema('cs_test_lease');
    stores.push(await openStateStore(schema.url));
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await schema.cleanup();
  });

  it('names the fire and the tenant from node-cron key', () => {
    expect(leaseNames('contact-sync:acme:2030-01-01T00:00:05.000Z')).toEqual({ run: 'run:contact-sync:acme', fire: 'fire:contact-sync:acme:2030-01-01T00:00:05.000Z' });
    expect(leaseNames('contact-sync:acme')).toEqual({ run: 'run:contact-sync:acme', fire: undefined });
  });

  it('eight racing acquirers on separate pools: exactly one runs each of 20 fires', async () => {
    const racers = Array.from({ length: 8 }, (_, i) => createPgRunCoordinator(open(), `racer-${i}`));
    const winners: string[][] = [];
    for (const slot of slots(20)) {
      const key = `contact-sync:race:${slot}`;
      const won = await Promise.all(racers.map(async (c) => ((await c.shouldRun(key, 5_000)) ? c : undefined)));
      const holders = won.filter((c): c is PgRunCoordinator => c !== undefined);
      winners.push(holders.map((c) => c.holder));
      await Promise.all(holders.map((c) => c.onComplete(key)));
    }
    expect(winners.map((w) => w.length)).toEqual(Array(20).fill(1));
  });

  it('a long run is never overlapped: later fires are refused until it completes, then the next fire runs', async () => {
    const [a, b] = [createPgRunCoordinator(open(), 'a'), createPgRunCoordinator(open(), 'b')];
    const [s1, s2, s3, s4] = slots(4, Date.UTC(2030, 1, 1)).map((s) => `contact-sync:long:${s}`) as [string, string, string, string];
    expect(await a.shouldRun(s1, 300)).toBe(true);
    // Heartbeats keep it across several TTLs.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await b.shouldRun(s2, 300)).toBe(false);
    expect(await a.shouldRun(s2, 300)).toBe(false); // nor by the holder's own next fire
    await a.onComplete(s1);
    expect(await b.shouldRun(s3, 300)).toBe(true);
    expect(await a.shouldRun(s3, 300)).toBe(false); // the fire is taken
    await b.onComplete(s3);
    expect(await a.shouldRun(s4, 300)).toBe(true);
    await a.close();
  });

  it('a holder that stops heartbeating loses the tenant after its TTL', async () => {
    const lost: string[] = [];
    const crashingStore = openStore<StateDatabase>(schema.url, { poolSize: 1 });
    const crashing = createPgRunCoordinator(crashingStore, 'crashing', { onLeaseLost: (lease) => lost.push(lease) });
    const other = createPgRunCoordinator(open(), 'other');
    const keys = slots(200, Date.UTC(2030, 2, 1)).map((s) => `contact-sync:crash:${s}`);
    expect(await crashing.shouldRun(keys[0]!, 500)).toBe(true);
    await crashingStore.close(); // its heartbeats now fail, as a dead process's would stop
    let next = 1;
    await waitUntil(async () => other.shouldRun(keys[next++]!, 500), 'the lease to expire');
    expect(next).toBeGreaterThan(2); // refused at first, while the lease was still live
    expect(lost).toContain('run:contact-sync:crash');
    await other.close();
  });

  it('three processes race for 30 fires: each fire runs exactly once', async () => {
    const fires = slots(30, Date.UTC(2030, 3, 1));
    const outputs = await Promise.all([0, 1, 2].map((i) => runRacer([schema.url, `proc-${i}`, 'procs', ...fires])));
    const won = outputs.flatMap((o) => o.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { key: string }).key));
    expect(won.sort()).toEqual(fires.map((s, n) => `contact-sync:procs-${n}:${s}`).sort());
  });

  it('SIGKILL of the holder: another process takes a later fire once the TTL has passed', async () => {
    const keys = slots(400, Date.UTC(2030, 4, 1));
    const holder = spawn(process.execPath, [racer, schema.url, 'doomed', 'killed', keys[0]!], { env: { ...process.env, HOLD: '1', TTL_MS: '600' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await firstLine(holder);
    expect(JSON.parse(first)).toMatchObject({ won: true });
    const other = createPgRunCoordinator(open(), 'survivor');
    const key = (i: number): string => `contact-sync:killed:${keys[i]}`;
    // While the holder lives (and heartbeats), nobody else gets the tenant.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await other.shouldRun(key(1), 600)).toBe(false);
    holder.kill('SIGKILL');
    let next = 2;
    await waitUntil(async () => other.shouldRun(key(next++), 600), 'the killed holder lease to expire');
    await other.close();
  });
});

function runRacer(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [racer, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && out.includes('done') ? resolve(out) : reject(new Error(`racer exited ${code}: ${out}`))));
  });
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const end = out.indexOf('\n');
      if (end >= 0) resolve(out.slice(0, end));
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before printing`)));
  });
}
