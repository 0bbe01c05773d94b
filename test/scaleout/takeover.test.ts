/**
 * Takeover across hosts: a run whose process lived on another host (its pid cannot be checked
 * from here) blocks its tenant only while its cs_runs heartbeat is fresher than the lease TTL.
 * The dead host's run is made for real (a run that met an outage, leaving a batch journaled) and
 * its row then dressed as another host's live run; a daemon with PostgreSQL leases must leave it
 * alone while it heartbeats, then take the tenant at the next fire after the TTL, replaying the
 * journaled batch first.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LoadedConfig, loadConfig } from '../../src/config/load.js';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { openTenant } from '../../src/engine/open-tenant.js';
import { runSync } from '../../src/engine/sync.js';
import { LocalRateGateRegistry } from '../../src/http/rate-gate.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { type Scaleout, scaleoutFor } from '../../src/scaleout/wire.js';
import type { SourceContact } from '../../src/source/contact.js';
import { importCsv } from '../../src/source/import.js';
import { openSource } from '../../src/source/reader.js';
import { type StateStore, openStateStore } from '../../src/state/store.js';
import { contactRows, tempDir, writeCsv } from '../cli/helpers.js';
import { waitFor } from '../daemon/helpers.js';
import { expectedRemote, sandboxView } from '../engine/sandbox-tenant.js';
import { describePg } from '../helpers/postgres.js';
import { pgSchema } from '../helpers/stores.js';
import { fastRetry } from '../providers/helpers.js';

const tenant = 'far-away';
const leaseTtlMs = 1_000;
const otherHost = 'host-b.example:4242';

describePg('takeover of a run that died on another host', () => {
  let sb: Sandbox;
  let schema: Awaited<ReturnType<typeof pgSchema>>;
  let state: StateStore;
  let scaleout: Scaleout | undefined;
  let daemon: Daemon | undefined;
  let loaded: LoadedConfig;
  let rows: SourceContact[];
  const log: { msg: string }[] = [];

  beforeAll(async () => {
    sb = await startSandbox({ phoneValidation: 'format' });
    schema = await pgSchema('cs_test_takeover');
    const dir = tempDir('cs-takeover-');
    const file = join(dir, `${tenant}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        tenant,
        state: schema.url,
        source: { url: `sqlite:${join(dir, 'contacts.db')}`, defaultCountry: 'US' },
        schedule: '* * * * * *',
        providers: [{ name: 'oliai', type: 'oliai', baseUrl: sb.baseUrl('oliai'), apiKey: sb.credentials.oliai.apiKey }],
      }),
    );
    loaded = await loadConfig(file, {});
    await importCsv(loaded, writeCsv(join(dir, 'contacts.csv'), contactRows(50)), { replace: true });
    const reader = openSource(loaded.config.source, loaded.baseDir);
    rows = [];
    for await (const page of reader.pages()) rows.push(...page);
    await reader.close();
    state = await openStateStore(schema.url);
  });

  afterAll(async () => {
    await daemon?.stop();
    await scaleout?.close();
    await state?.close();
    await sb?.close();
    await schema?.cleanup();
  });

  /** The dead host's run, for real: batches of 10, OliAI down after the second, so one batch stays journaled. */
  async function runThatMetAnOutage(): Promise<string> {
    const small = { ...loaded, config: { ...loaded.config, providers: loaded.config.providers.map((p) => ({ ...p, batchSize: 10 })) } };
    const runtime = await openTenant(small, { gates: new LocalRateGateRegistry(), retry: fastRetry }, { tuning: { concurrency: 1 } });
    try {
      const result = await runSync(runtime, {
        onProgress: ({ done }) => {
          if (done === 20) sb.faults.set({ errorRate: 1, providers: ['oliai'] });
        },
      });
      expect(result.report.status).toBe('failed');
      return result.report.runId;
    } finally {
      await runtime.close();
      sb.faults.clear();
    }
  }

  it('leaves a heartbeating remote run alone, then takes the tenant within a fire of the lease TTL and replays its journaled batch first', async () => {
    const deadRun = await runThatMetAnOutage();
    const journaled = await state.db.selectFrom('cs_outbox').select(['run_id']).where('tenant', '=', tenant).execute();
    expect(journaled.map((r) => r.run_id)).toEqual(Array(10).fill(deadRun));
    // Another host's run, still heartbeating. Its lease is gone (say its extensions failed), so only
    // the run row stands between the daemon and the tenant.
    const beat = (): Promise<unknown> =>
      state.db.updateTable('cs_runs').set({ status: 'running', finished_at: null, summary: null, error: null, holder: otherHost, heartbeat_at: new Date().toISOString() }).where('run_id', '=', deadRun).execute();
    await beat();
    const heartbeats = setInterval(() => void beat(), 200);

    sb.clearRequests();
    scaleout = (await scaleoutFor(schema.url, { holder: 'host-a.example:1' }))!;
    daemon = await startDaemon({
      configPaths: [loaded.file],
      logger: pino({ level: 'info' }, { write: (line: string) => log.push(JSON.parse(line) as { msg: string }) }),
      coordinator: scaleout.coordinator,
      gates: scaleout.gates,
      leaseMs: leaseTtlMs,
    });
    try {
      // Several fires while the other host heartbeats: each is refused by the run row.
      await waitFor(() => log.filter((l) => l.msg.includes('running in another process')).length >= 3, 'fires skipped as busy', 10_000);
    } finally {
      clearInterval(heartbeats);
    }
    const diedAt = Date.now();
    expect(sb.requests).toEqual([]);
    expect(await state.db.selectFrom('cs_runs').select(['run_id', 'status']).where('tenant', '=', tenant).execute()).toEqual([{ run_id: deadRun, status: 'running' }]);

    // The other host has stopped: the next fire after the TTL takes over (the engine's own horizon
    // without leases would be five minutes).
    const takeover = await waitFor(
      () => state.db.selectFrom('cs_runs').selectAll().where('tenant', '=', tenant).where('status', '=', 'ok').orderBy('started_at').executeTakeFirst(),
      'a run of the daemon to complete the tenant',
      15_000,
    );
    const waited = Date.parse(takeover.started_at) - diedAt;
    expect(waited).toBeGreaterThanOrEqual(leaseTtlMs - 300); // not while it still heartbeated (200 ms between beats)
    expect(waited).toBeLessThan(leaseTtlMs + 2_500); // the TTL, one fire of slack, run start-up
    expect(takeover.holder).not.toBe(otherHost);
    const dead = await state.db.selectFrom('cs_runs').selectAll().where('run_id', '=', deadRun).executeTakeFirstOrThrow();
    expect(dead).toMatchObject({ status: 'failed', error: expect.stringMatching(/^abandoned/) });

    // The journaled batch of 10 went first, then the 20 never sent, in one request.
    const posts = sb.requests.filter((r) => r.method === 'POST' && r.status === 201).map((r) => r.items);
    expect(posts).toEqual([10, 20]);
    expect(sandboxView(sb).remote.oliai).toEqual(expectedRemote(rows).oliai);
    expect(await state.db.selectFrom('cs_outbox').select('contact_id').where('tenant', '=', tenant).execute()).toEqual([]);
  });
});
