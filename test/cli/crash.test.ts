/**
 * Crash safety (issue 4): the real CLI syncs a few thousand contacts to a slow sandbox, is
 * SIGKILLed at seeded random moments several times, restarted each time, and finally left to
 * finish. Then every provider holds exactly the mapping of the source's valid contacts, the
 * baseline agrees with it, and the contacts sent more than once are no more than the batches that
 * can be in flight when a process dies.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedConfig, loadConfig } from '../../src/config/load.js';
import { defaultTuning } from '../../src/engine/runtime.js';
import { LocalRateGateRegistry } from '../../src/http/rate-gate.js';
import { createProvider, type Payload } from '../../src/providers/index.js';
import { mulberry32 } from '../../src/random.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import type { ProviderType } from '../../src/sandbox/types.js';
import { importCsv } from '../../src/source/import.js';
import { toContact } from '../../src/source/normalise.js';
import { openSource } from '../../src/source/reader.js';
import type { BaselineRow } from '../../src/state/baseline.js';
import { openStateStore, tenantState } from '../../src/state/store.js';
import { type CsvRow, contactRows, finished, startCli, tempDir, type TenantSetup, writeCsv, writeTenant } from './helpers.js';

const seed = 0x5eed_0004;
const validContacts = 3_000;
const batchSize = 20;
/** Every response is held this long after the write is applied: the window a kill lands in. */
const latencyMs = 40;
const providers: readonly ProviderType[] = ['twilio', 'trackly', 'oliai'];

/**
 * The bound on re-sends. applyProvider (src/engine/apply.ts) runs each provider's batches through a
 * p-queue of `concurrency` (the CLI runs with defaultTuning), and a batch is journaled inside its
 * queue task (Journal.send: outbox write, request, outcome); a dead run's batches are replayed one
 * at a time. So when a process dies, at most `concurrency` batches per provider can have reached the
 * provider without their outcome being recorded, and only those are sent again by a later run.
 */
const inFlightBatches = defaultTuning.concurrency;

const random = mulberry32(seed);
const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));

/** When a run is killed: once its n-th request reached the sandbox, plus a delay shorter than the sandbox's answer. */
interface KillMoment {
  afterRequests: number;
  delayMs: number;
}

const kills = between(4, 6);
const batchesPerProvider = Math.ceil(validContacts / batchSize);
// Spread so that the runs together cover at most about half the work: the last run always has some left.
const killMoments: KillMoment[] = Array.from({ length: kills }, () => ({
  afterRequests: between(1, Math.floor((providers.length * batchesPerProvider) / (2 * kills))),
  delayMs: between(0, latencyMs / 2),
}));

/** Rows the source holds but no provider may receive. */
const invalidRows: CsvRow[] = [
  { id: 'bad-1', phone: 'not a phone', name: 'Broken' },
  { id: 'bad-2', phone: '', name: 'No phone' },
  { id: 'bad-3', phone: '+1415555', name: 'Too short' },
];

let sandbox: Sandbox;
let dir: string;
let tenant: TenantSetup;
let loaded: LoadedConfig;

beforeAll(async () => {
  sandbox = await startSandbox({ enforceRateLimits: false, faults: { latencyMs } });
  dir = tempDir('cs-crash-');
  tenant = writeTenant(dir, {
    tenant: 'crash',
    sandbox,
    providers,
    // The sandbox enforces no limits; the client's own gate is lifted to match.
    providerSettings: [`batchSize: ${batchSize}`, 'rateLimit: { requests: 100000, perSeconds: 1 }'],
  });
  loaded = await loadConfig(tenant.file, tenant.env);
  const csv = writeCsv(join(dir, 'contacts.csv'), [...invalidRows, ...contactRows(validContacts)]);
  const imported = await importCsv(loaded, csv);
  expect(imported).toMatchObject({ inserted: validContacts + invalidRows.length, errors: 0 });
});

afterAll(async () => {
  await sandbox?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** What each provider should hold: the mapping of every valid source contact, by phone. */
async function desiredRemote(): Promise<Map<string, Map<string, Payload>>> {
  const gates = new LocalRateGateRegistry();
  const adapters = loaded.config.providers.map((config) => createProvider(config, { gates }));
  const desired = new Map(adapters.map((a) => [a.name, new Map<string, Payload>()]));
  const source = openSource(loaded.config.source, loaded.baseDir);
  try {
    for await (const page of source.pages()) {
      for (const row of page) {
        const result = toContact(row, loaded.config.source.defaultCountry);
        if (!result.ok) continue;
        for (const adapter of adapters) desired.get(adapter.name)!.set(result.contact.phone, adapter.map(result.contact));
      }
    }
  } finally {
    await source.close();
  }
  return desired;
}

interface RemoteRecord {
  payload: Payload;
  /** The provider's own id, where it has one (OliAI). */
  remoteId: string | null;
}

/** What a sandbox provider holds, by phone, in the shape the adapter's map() produces. */
function remoteState(provider: ProviderType): Map<string, RemoteRecord> {
  const held = new Map<string, RemoteRecord>();
  if (provider === 'twilio') {
    for (const c of sandbox.twilio.contacts.values()) {
      const payload: Payload = { contact_id: c.contact_id };
      if (c.country_iso_code !== null) payload.country_iso_code = c.country_iso_code;
      if (c.zip_code !== null) payload.zip_code = c.zip_code;
      held.set(c.contact_id, { payload, remoteId: null });
    }
  } else if (provider === 'trackly') {
    for (const c of sandbox.trackly.listContacts().values()) {
      if (c.active) held.set(c.phone_number, { payload: { phone_number: c.phone_number, list_number: c.list_number, custom_fields: c.custom_fields }, remoteId: null });
    }
  } else {
    for (const c of sandbox.oliai.contacts().values()) {
      held.set(c.phoneNumber, { payload: { name: c.name, phoneNumber: c.phoneNumber, language: c.language, metadata: c.metadata }, remoteId: c.id });
    }
  }
  return held;
}

/** The state store as a dead (or finished) run left it. */
async function readState(): Promise<{ baseline: Map<string, BaselineRow[]>; outbox: Map<string, number> }> {
  const store = await openStateStore(loaded.config.state);
  try {
    const state = tenantState(store.db, loaded.config.tenant);
    const baseline = new Map<string, BaselineRow[]>();
    for (const provider of providers) {
      const rows: BaselineRow[] = [];
      for await (const page of state.baseline.rowPages(provider)) rows.push(...page);
      baseline.set(provider, rows);
    }
    return { baseline, outbox: await state.outbox.countsByProvider() };
  } finally {
    await store.close();
  }
}

/** The journal's promise: every baseline row is held by the provider, with the payload it records. */
function expectBaselineHeld(baseline: Map<string, BaselineRow[]>, when: string): void {
  for (const provider of providers) {
    const remote = remoteState(provider);
    for (const row of baseline.get(provider)!) {
      const held = remote.get(row.phone);
      expect(held?.payload, `${when}: ${provider} baseline claims ${row.contact_id} (${row.phone})`).toEqual(JSON.parse(row.payload));
      if (provider === 'oliai') expect(row.remote_id, `${when}: ${provider} remote id of ${row.contact_id}`).toBe(held!.remoteId);
    }
  }
}

/** Resolves once `count` requests arrived at the sandbox after `from`, or rejects if the run ended first. */
function requestsArrived(from: number, count: number, run: ReturnType<typeof startCli>): Promise<void> {
  return new Promise((resolve, reject) => {
    // Polled every millisecond: well inside the sandbox's latency, so the kill precedes the answer.
    const timer = setInterval(() => {
      if (sandbox.requests.length - from >= count) {
        clearInterval(timer);
        resolve();
      } else if (run.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`the run exited ${run.exitCode} before its request ${count}: ${run.output.stderr}`));
      }
    }, 1);
  });
}

/** Contact deliveries the providers applied (2xx bulk writes), per provider. */
function itemsApplied(provider: ProviderType): number {
  return sandbox.requests.filter((r) => r.provider === provider && typeof r.status === 'number' && r.status >= 200 && r.status < 300).reduce((sum, r) => sum + r.items, 0);
}

describe(`sync killed ${kills} times (seed ${seed})`, () => {
  it('converges to the source, loses nothing and re-sends no more than the batches in flight', async () => {
    const desired = await desiredRemote();
    for (const provider of providers) expect(desired.get(provider)!.size).toBe(validContacts);

    for (const [i, moment] of killMoments.entries()) {
      const run = startCli(['sync', '--config', tenant.file], { env: tenant.env });
      const exited = finished(run);
      await requestsArrived(sandbox.requests.length, moment.afterRequests, run);
      await new Promise((r) => setTimeout(r, moment.delayMs));
      run.kill('SIGKILL');
      await exited;
      expect(run.signalCode, `run ${i + 1} was to be killed: ${run.output.stderr}`).toBe('SIGKILL');
      expectBaselineHeld((await readState()).baseline, `after kill ${i + 1}`);
    }

    const last = await finished(startCli(['sync', '--config', tenant.file, '--json'], { env: tenant.env }));
    expect(last.code, last.stderr).toBe(3); // done, with the invalid rows not sent

    const { baseline, outbox } = await readState();
    expect([...outbox.values()].reduce((a, b) => a + b, 0), 'batches left in flight').toBe(0);
    expectBaselineHeld(baseline, 'at the end');
    const resentBound = kills * inFlightBatches * batchSize;
    for (const provider of providers) {
      const want = desired.get(provider)!;
      const remote = remoteState(provider);
      expect(new Map([...remote].map(([phone, r]) => [phone, r.payload])), `${provider} holds the source's valid contacts`).toEqual(want);
      expect(new Map(baseline.get(provider)!.map((b) => [b.phone, JSON.parse(b.payload) as Payload])), `${provider} baseline`).toEqual(want);

      const resent = itemsApplied(provider) - validContacts;
      expect(resent, `${provider} contacts sent more than once`).toBeGreaterThanOrEqual(0);
      expect(resent, `${provider} contacts sent more than once`).toBeLessThanOrEqual(resentBound);
    }
    // Twilio counts the upserts of each contact: the request log and the provider agree.
    const twilioUpserts = [...sandbox.twilio.contacts.values()].reduce((sum, c) => sum + c.upserts, 0);
    expect(twilioUpserts).toBe(itemsApplied('twilio'));
    // The kills land before the sandbox answers a write it applied: some batches really were replayed.
    expect(providers.reduce((sum, p) => sum + itemsApplied(p) - validContacts, 0)).toBeGreaterThan(0);
    // About 20-35 s with two busy cores; the margin is for a machine loaded by other suites.
  }, 120_000);
});
