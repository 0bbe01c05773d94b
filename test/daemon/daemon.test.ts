/**
 * The daemon in-process, on second-level schedules against sandboxes over loopback: tenants
 * converge, a tenant whose provider is down neither delays the others nor overlaps itself, and
 * /metrics (parsed as Prometheus text) counts exactly the requests, 429s and retries the sandbox
 * received, and the orphans the runs recorded.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import type { DaemonHealth } from '../../src/daemon/health-server.js';
import { createLogger } from '../../src/log/logger.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { importCsv } from '../../src/source/import.js';
import { type TenantSetup, contactRows, phoneFor, tempDir, writeCsv, writeTenant } from '../cli/helpers.js';
import { waitFor } from './helpers.js';
import { parsePrometheus, sumOf } from './prometheus.js';

let sandbox: Sandbox;
let downSandbox: Sandbox;
let dir: string;
let daemon: Daemon;
let beta: TenantSetup;
const env: Record<string, string> = {};
const logLines: string[] = [];

beforeAll(async () => {
  // Trackly answers its first requests 429: the client retries them (backoff, no Retry-After).
  sandbox = await startSandbox({ port: 0, timeScale: 60, faults: { rateLimitBursts: 3, providers: ['trackly'] } });
  // A provider that is down: its port refuses connections.
  downSandbox = await startSandbox({ port: 0 });
  await downSandbox.close();
  dir = tempDir('cs-daemon-');
  const tenants = [
    writeTenant(dir, { tenant: 'alpha', sandbox, providers: ['oliai', 'trackly'], schedule: '* * * * * *' }),
    writeTenant(dir, { tenant: 'beta', sandbox, providers: ['twilio'], schedule: '* * * * * *' }),
    writeTenant(dir, { tenant: 'down', sandbox: downSandbox, providers: ['oliai'], schedule: '* * * * * *' }),
  ];
  beta = tenants[1]!;
  for (const [i, tenant] of tenants.entries()) {
    Object.assign(env, tenant.env);
    const csv = writeCsv(join(dir, `${i}.csv`), contactRows(30 + i * 10, i * 1000));
    await importCsv(await loadConfig(tenant.file, env), csv, { replace: true });
  }
  const logs = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const { logger } = createLogger({ destination: logs, pretty: false, level: 'info' });
  daemon = await startDaemon({ configPaths: [dir], port: 0, logger, env, stuckAfterMs: 60_000 });
});

afterAll(async () => {
  await daemon?.stop({ timeoutMs: 5_000 });
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

async function metrics(): Promise<ReturnType<typeof parsePrometheus>> {
  const response = await fetch(`http://127.0.0.1:${daemon.port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parsePrometheus(await response.text());
}

describe('daemon', () => {
  it('converges every healthy tenant while one whose provider is down keeps retrying, and skips its overlapping fires', async () => {
    // Two finished runs of each healthy tenant: the second one finds nothing left to send.
    await waitFor(async () => {
      const m = await metrics();
      return ['alpha', 'beta'].every((tenant) => sumOf(m, 'contact_sync_runs_total', { tenant, status: 'ok' }) >= 2);
    }, 'two ok runs of alpha and beta');
    expect(sandbox.oliai.contacts().size).toBe(30);
    expect([...sandbox.trackly.listContacts().values()].filter((c) => c.active)).toHaveLength(30);
    expect(sandbox.twilio.contacts.size).toBe(40);

    const down = daemon.health().tenants.find((t) => t.tenant === 'down')!;
    expect(down.running).toBe(true);
    expect(down.lastRun).toBeNull();
    await waitFor(async () => sumOf(await metrics(), 'contact_sync_runs_skipped_total', { tenant: 'down', reason: 'overlap' }) >= 1, 'a skipped overlapping fire');
    expect(logLines.some((line) => line.includes('"tenant":"down"') && line.includes('skipped a scheduled run'))).toBe(true);

    const health = (await (await fetch(`http://127.0.0.1:${daemon.port}/healthz`)).json()) as DaemonHealth;
    expect(health.status).toBe('ok');
    expect(health.tenants.map((t) => t.tenant).sort()).toEqual(['alpha', 'beta', 'down']);
    expect(health.tenants.find((t) => t.tenant === 'alpha')?.lastSuccessAt).not.toBeNull();
  });

  it('serves /metrics whose request counters match the sandbox request log', async () => {
    const m = await metrics();
    const expected = new Map<string, number>();
    for (const r of sandbox.requests) expected.set(`${r.provider} ${r.status}`, (expected.get(`${r.provider} ${r.status}`) ?? 0) + 1);
    const counted = new Map<string, number>();
    for (const s of m.filter((s) => s.name === 'contact_sync_requests_total' && s.labels.tenant !== 'down')) {
      counted.set(`${s.labels.provider} ${s.labels.status}`, (counted.get(`${s.labels.provider} ${s.labels.status}`) ?? 0) + s.value);
    }
    expect(counted).toEqual(expected);
    expect(sumOf(m, 'contact_sync_requests_total', { tenant: 'down', status: 'network' })).toBeGreaterThan(0);

    // Every 429 in the log was counted; so was every retry, by the status it got. Each endpoint
    // here sees one request at a time, so a request that follows a retryable answer on its
    // endpoint is that request's retry.
    const rateLimited = new Map<string, number>();
    const retries = new Map<string, number>();
    const lastStatus = new Map<string, number | 'dropped'>();
    for (const r of sandbox.requests) {
      const endpoint = `${r.account} ${r.provider} ${r.method} ${r.path}`;
      const before = lastStatus.get(endpoint);
      if (before !== undefined && (before === 'dropped' || before === 429 || before >= 500)) retries.set(`${r.provider} ${r.status}`, (retries.get(`${r.provider} ${r.status}`) ?? 0) + 1);
      lastStatus.set(endpoint, r.status);
      if (r.status === 429) rateLimited.set(r.provider, (rateLimited.get(r.provider) ?? 0) + 1);
    }
    expect(rateLimited.get('trackly')).toBe(3);
    expect(retries).toEqual(new Map([['trackly 429', 2], ['trackly 201', 1]]));
    const healthy = m.filter((s) => s.labels.tenant !== 'down');
    expect(new Map(healthy.filter((s) => s.name === 'contact_sync_rate_limited_total' && s.value > 0).map((s) => [s.labels.provider, s.value]))).toEqual(rateLimited);
    expect(new Map(healthy.filter((s) => s.name === 'contact_sync_retries_total' && s.value > 0).map((s) => [`${s.labels.provider} ${s.labels.status}`, s.value]))).toEqual(retries);
    // The daemon's runs log like the CLI's: the HTTP client's warnings name the tenant, run and provider.
    const warnings = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'provider request failed; retrying');
    for (const line of warnings) expect(line).toMatchObject({ tenant: expect.any(String), runId: expect.any(String), provider: expect.any(String) });
    expect(warnings.filter((line) => line.tenant !== 'down')).toMatchObject(Array(3).fill({ tenant: 'alpha', provider: 'trackly', outcome: 429 }));
    expect(warnings.filter((line) => line.tenant === 'down')[0]).toMatchObject({ provider: 'oliai', outcome: 'network' });

    expect(sumOf(m, 'contact_sync_contacts_total', { tenant: 'beta', provider: 'twilio', outcome: 'applied' })).toBe(40);
    expect(m.some((s) => s.name === 'contact_sync_seconds_since_last_success' && s.labels.tenant === 'alpha')).toBe(true);
    expect(m.some((s) => s.name === 'contact_sync_run_duration_seconds_count' && s.labels.tenant === 'beta')).toBe(true);
    expect(sumOf(m, 'contact_sync_run_in_progress', { tenant: 'down' })).toBe(1);
  });

  it('counts the orphans runs record, those of phone changes included', async () => {
    // Twilio cannot delete: a contact removed from the source and the old phones of two changed
    // ones become orphans.
    const rows = contactRows(40, 1000);
    const changed = rows.slice(1).map((r, i) => (i < 2 ? { ...r, phone: phoneFor(5000 + i) } : r));
    const before = sumOf(await metrics(), 'contact_sync_runs_total', { tenant: 'beta', status: 'ok' });
    await importCsv(await loadConfig(beta.file, env), writeCsv(join(dir, 'beta-changed.csv'), changed), { replace: true });
    await waitFor(async () => sumOf(await metrics(), 'contact_sync_runs_total', { tenant: 'beta', status: 'ok' }) >= before + 2, 'two more ok runs of beta');
    const state = new Database(beta.stateDb, { readonly: true });
    const { n } = state.prepare("select count(*) as n from cs_orphans where tenant = 'beta'").get() as { n: number };
    state.close();
    expect(n).toBe(3);
    expect(sumOf(await metrics(), 'contact_sync_contacts_total', { tenant: 'beta', provider: 'twilio', outcome: 'orphaned' })).toBe(n);
  });
});
