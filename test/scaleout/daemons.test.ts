/**
 * Three daemon processes (the real binary) sharing six tenants through one PostgreSQL state
 * schema, on two-second schedules, against one sandbox whose Trackly accounts allow 4 requests/s.
 * Two tenants share one Trackly account. Midway, the daemon running the biggest tenant is
 * SIGKILLed. Judged on the state database (fires and runs), on what the sandbox saw, and on what
 * each sandbox account holds against the providers' mapping of the tenants' sources.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type Store, openStore } from '../../src/db/open.js';
import type { StateDatabase } from '../../src/db/schema.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import type { SourceContact } from '../../src/source/contact.js';
import { importCsv } from '../../src/source/import.js';
import { openSource } from '../../src/source/reader.js';
import { contactRows, tempDir, writeCsv } from '../cli/helpers.js';
import { type DaemonProcess, startDaemonProcess, waitFor } from '../daemon/helpers.js';
import { expectedRemote, sandboxView, tracklyView } from '../engine/sandbox-tenant.js';
import { describePg } from '../helpers/postgres.js';
import { pgSchema } from '../helpers/stores.js';
import { busiestWindow, utilisation } from './windows.js';

const list = '+18005551234';
const limit = { requests: 4, perSeconds: 1 };
const everyTwoSeconds = '*/2 * * * * *';

interface TenantSpec {
  tenant: string;
  provider: 'trackly' | 'twilio' | 'oliai';
  key?: string; // Trackly / OliAI API key
  contacts: number;
  from: number;
  batchSize?: number;
}

const tenants: TenantSpec[] = [
  { tenant: 'shared-one', provider: 'trackly', key: 'trk_shared', contacts: 16, from: 0, batchSize: 1 },
  { tenant: 'shared-two', provider: 'trackly', key: 'trk_shared', contacts: 16, from: 100, batchSize: 1 },
  { tenant: 'big', provider: 'trackly', key: 'trk_big', contacts: 48, from: 200, batchSize: 2 },
  { tenant: 'small', provider: 'trackly', key: 'trk_small', contacts: 6, from: 300, batchSize: 2 },
  { tenant: 'voice', provider: 'oliai', key: 'oli_voice', contacts: 10, from: 400 },
  { tenant: 'sms', provider: 'twilio', contacts: 10, from: 500 },
];

function providerBlock(spec: TenantSpec, sb: Sandbox, envVar: string): string {
  const common = `${spec.batchSize === undefined ? '' : `\n    batchSize: ${spec.batchSize}`}`;
  if (spec.provider === 'trackly') {
    return `  - name: trackly\n    type: trackly\n    baseUrl: "${sb.baseUrl('trackly')}"\n    apiKey: \${${envVar}}\n    listNumber: "${list}"\n    rateLimit: { requests: ${limit.requests}, perSeconds: ${limit.perSeconds} }${common}`;
  }
  if (spec.provider === 'oliai') return `  - name: oliai\n    type: oliai\n    baseUrl: "${sb.baseUrl('oliai')}"\n    apiKey: \${${envVar}}${common}`;
  return `  - name: twilio\n    type: twilio\n    baseUrl: "${sb.baseUrl('twilio')}"\n    accountSid: "${sb.credentials.twilio.accountSid}"\n    authToken: \${${envVar}}${common}`;
}

describePg('three daemons sharing tenants through PostgreSQL', () => {
  let sb: Sandbox;
  let dir: string;
  let schema: Awaited<ReturnType<typeof pgSchema>>;
  let state: Store<StateDatabase>;
  const daemons: DaemonProcess[] = [];
  let killedPid = 0;
  const started = Date.now();
  /** Each tenant's source rows, as the engine reads them. */
  const sources = new Map<string, SourceContact[]>();

  beforeAll(async () => {
    sb = await startSandbox({
      phoneValidation: 'format',
      limits: { trackly: [{ ...limit, scope: 'all' }] },
      credentials: { trackly: [{ apiKey: 'trk_shared' }, { apiKey: 'trk_big' }, { apiKey: 'trk_small' }], oliai: [{ apiKey: 'oli_voice' }] },
    });
    schema = await pgSchema('cs_test_daemons');
    dir = tempDir('cs-scaleout-');
    const env: Record<string, string> = {};
    for (const spec of tenants) {
      const envVar = `CS_SCALEOUT_${spec.tenant.toUpperCase().replace(/-/g, '_')}_KEY`;
      env[envVar] = spec.key ?? sb.credentials.twilio.authToken;
      const file = join(dir, `${spec.tenant}.yaml`);
      const yaml = [
        `tenant: ${spec.tenant}`,
        `state: "${schema.url}"`,
        'source:',
        `  url: "sqlite:${join(dir, `${spec.tenant}.db`)}"`,
        '  defaultCountry: US',
        `schedule: "${everyTwoSeconds}"`,
        'providers:',
        providerBlock(spec, sb, envVar),
        '',
      ].join('\n');
      writeFileSync(file, yaml);
      const loaded = await loadConfig(file, env);
      await importCsv(loaded, writeCsv(join(dir, `${spec.tenant}.csv`), contactRows(spec.contacts, spec.from)), { replace: true });
      const reader = openSource(loaded.config.source, loaded.baseDir);
      const rows: SourceContact[] = [];
      for await (const page of reader.pages()) rows.push(...page);
      await reader.close();
      sources.set(spec.tenant, rows);
    }
    for (let i = 0; i < 3; i++) daemons.push(await startDaemonProcess(['--config', dir, '--lease-ttl', '2'], env));
    state = openStore<StateDatabase>(schema.url, { poolSize: 2 });
  });

  afterAll(async () => {
    for (const d of daemons) d.signal('SIGTERM');
    await Promise.all(daemons.map((d) => d.exited));
    await state?.close();
    await sb?.close();
    await schema?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every fire once, shares the account limit, and survives a SIGKILLed daemon', async () => {
    // Kill whichever daemon runs the big tenant, once its run is under way.
    const running = await waitFor(
      async () => {
        const requests = sb.requests.filter((r) => r.account === 'trk_big').length;
        if (requests < 4) return undefined;
        return state.db.selectFrom('cs_runs').select(['holder', 'run_id']).where('tenant', '=', 'big').where('status', '=', 'running').executeTakeFirst();
      },
      'the big tenant to be mid-run',
    ).catch((error: unknown) => {
      console.error(daemons.map((d) => d.output.stderr.slice(-3000)).join('\n-----\n'), JSON.stringify(sb.requests.slice(0, 5)));
      throw error;
    });
    killedPid = Number(running.holder!.split(':')[1]);
    const victim = await (async () => {
      for (const d of daemons) if ((await d.health()).pid === killedPid) return d;
      throw new Error(`no daemon with pid ${killedPid}`);
    })();
    victim.signal('SIGKILL');
    await victim.exited;

    // Another daemon takes the tenant after the lease expires and completes it. Every account ends
    // up holding exactly the mapping of its tenants' sources (the two shared-account tenants together).
    const heldBy = (spec: TenantSpec): Record<string, Record<string, unknown>> =>
      spec.provider === 'trackly' ? tracklyView(sb, spec.key).active : sandboxView(sb).remote[spec.provider];
    const expectedAt = (spec: TenantSpec): Record<string, Record<string, unknown>> =>
      expectedRemote(tenants.filter((t) => t.provider === spec.provider && t.key === spec.key).flatMap((t) => sources.get(t.tenant)!))[spec.provider];
    const holdsExpected = (spec: TenantSpec): boolean => isDeepStrictEqual(heldBy(spec), expectedAt(spec));
    await waitFor(() => tenants.every(holdsExpected), 'every sandbox to hold every tenant', 45_000).catch((error: unknown) => {
      for (const spec of tenants.filter((t) => !holdsExpected(t))) expect(heldBy(spec), spec.tenant).toEqual(expectedAt(spec));
      throw error;
    });
    const completedBig = await waitFor(
      () => state.db.selectFrom('cs_runs').selectAll().where('tenant', '=', 'big').where('status', '=', 'ok').where('holder', 'not like', `%:${killedPid}`).executeTakeFirst(),
      'a surviving daemon to complete the big tenant',
    );
    expect(completedBig.holder).not.toContain(`:${killedPid}`);
    // Let a few more fires pass with nothing left to send.
    await new Promise((r) => setTimeout(r, 4_000));

    // Each fire taken is one run; a tenant's runs never overlap.
    const byKilled = (holder: string | null): boolean => holder?.split('/')[0]?.endsWith(`:${killedPid}`) === true;
    const readRunsAndFires = async () => ({
      runs: await state.db.selectFrom('cs_runs').select(['tenant', 'started_at', 'finished_at', 'status', 'holder']).orderBy('started_at').execute(),
      fires: await state.db.selectFrom('cs_leases').select(['name', 'holder']).where('name', 'like', 'fire:%').execute(),
    });
    const ownOf = (snapshot: Awaited<ReturnType<typeof readRunsAndFires>>, tenant: string) => ({
      own: snapshot.runs.filter((r) => r.tenant === tenant),
      ownFires: snapshot.fires.filter((f) => f.name.startsWith(`fire:contact-sync:${tenant}:`)),
    });
    // The surviving daemons keep firing: a fire's lease row is written a moment before its run
    // row, and a read can fall in between. Read again (up to 10 s) until no survivor's fire is in
    // that moment; the counts below must then match exactly.
    let snapshot = await readRunsAndFires();
    const settled = (): boolean =>
      tenants.every(({ tenant }) => {
        const { own, ownFires } = ownOf(snapshot, tenant);
        return own.filter((r) => !byKilled(r.holder)).length === ownFires.filter((f) => !byKilled(f.holder)).length;
      });
    await waitFor(async () => settled() || ((snapshot = await readRunsAndFires()), false), 'a read with no fire between its lease and its run row', 10_000).catch(() => undefined);
    const { runs } = snapshot;
    for (const { tenant } of tenants) {
      const { own, ownFires } = ownOf(snapshot, tenant);
      // The killed daemon may have died between taking a fire and writing its run row.
      expect(own.filter((r) => !byKilled(r.holder)).length, `runs of ${tenant}`).toBe(ownFires.filter((f) => !byKilled(f.holder)).length);
      expect(ownFires.filter((f) => byKilled(f.holder)).length - own.filter((r) => byKilled(r.holder)).length, `fires of ${tenant} the killed daemon took without a run`).toBeOneOf([0, 1]);
      for (let i = 1; i < own.length; i++) {
        const previous = own[i - 1]!;
        expect(previous.finished_at, `${tenant}: a run still open before another started`).not.toBeNull();
        expect(own[i]!.started_at >= previous.finished_at!, `${tenant}: runs overlap`).toBe(true);
      }
      // Short runs: (nearly) every two-second slot since the daemons started was taken by some process.
      const slotsPassed = Math.floor((Date.now() - started) / 2_000);
      if (tenant === 'small' || tenant === 'voice' || tenant === 'sms') expect(ownFires.length, `fires of ${tenant}`).toBeGreaterThanOrEqual(slotsPassed - 6);
    }
    // The work was shared: more than one process ran something.
    expect(new Set(runs.map((r) => r.holder)).size).toBeGreaterThan(1);
    for (const d of daemons.filter((d) => d !== victim)) {
      expect(d.output.stderr).not.toMatch(/running in another process/);
    }

    // Nothing was left behind or doubled at any account, and no unsubscribe was sent.
    for (const spec of tenants) expect(heldBy(spec), spec.tenant).toEqual(expectedAt(spec));
    for (const key of ['trk_shared', 'trk_big', 'trk_small']) expect(tracklyView(sb, key).inactive, key).toEqual([]);

    // The sandbox saw no 429 and, on the shared account, never more than the limit in a second,
    // counting every request: the limit applies to all methods.
    expect(sb.requests.filter((r) => r.status === 429)).toHaveLength(0);
    const shared = sb.requests
      .filter((r) => r.account === 'trk_shared')
      .map((r) => r.receivedAt)
      .sort((a, b) => a - b);
    // 16 + 16 contacts, one per request (a batch in flight in the killed daemon may be sent again).
    expect(shared.length).toBeGreaterThanOrEqual(32);
    expect(busiestWindow(shared, 1_000)).toBeLessThanOrEqual(limit.requests);
    console.info(`three daemons on one shared account: ${(utilisation(shared, limit.requests, 1_000) * 100).toFixed(1)} % of its limit`);
  });
});
