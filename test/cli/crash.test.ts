/**
 * Crash safety (issue 4): the real CLI syncs a few thousand contacts to a slow sandbox, is
 * SIGKILLed several times at seeded random moments (while planning, while a write waits for its
 * answer, just as an answer comes back and its batch is being settled, anywhere from the journal's
 * replay to late in the run), restarted each time, and finally left to finish. After each kill the
 * baseline claims only what the providers hold and at most the batches in flight or journaled to go
 * next are journaled; the run after it re-sends (per the sandbox's request log) no more than those;
 * at the end every provider holds exactly the mapping of the source's valid contacts and the
 * baseline agrees.
 */
import { rmSync } from 'node:fs';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedConfig, loadConfig } from '../../src/config/load.js';
import { batchesInFlight, batchesJournaledAtOnce } from '../../src/engine/apply.js';
import { defaultTuning } from '../../src/engine/runtime.js';
import { LocalRateGateRegistry } from '../../src/http/rate-gate.js';
import { createProvider, type Payload } from '../../src/providers/index.js';
import { mulberry32 } from '../../src/random.js';
import { type Sandbox, sandboxPrefixes, startSandbox } from '../../src/sandbox/server.js';
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
 * What can be journaled without an outcome when a process dies. applyProvider
 * (src/engine/apply.ts) sends each provider's batches through a p-queue of
 * batchesInFlight(batchSize, concurrency) (the CLI runs with defaultTuning) and journals them
 * batchesJournaledAtOnce(...) to a statement as soon as a slot is free, while the other batches are
 * still out; the journal of a dead run is replayed one batch at a time. So at a kill at most
 * in-flight + at-once - 1 batches per provider are journaled without their outcome, and a later run
 * can re-send only those.
 */
const inFlightBatches = batchesInFlight(batchSize, defaultTuning.concurrency);
const journaledBatches = inFlightBatches + batchesJournaledAtOnce(batchSize, inFlightBatches) - 1;

const random = mulberry32(seed);

/**
 * Where a kill lands: `planning`, soon after the run finished the journal and began reading the
 * source; `inFlight`, while the sandbox holds the answer to a write it applied; `settling`, just
 * after the sandbox answered, while the run parses the answer and settles its batch.
 */
type Phase = 'planning' | 'inFlight' | 'settling';

interface KillMoment {
  phase: Phase;
  /** inFlight / settling: at which request, as a share of 60 % of the requests the work still needs (so work is always left). */
  share: number;
  /** Where in the phase's window the kill lands, in [0, 1). */
  jitter: number;
}

/** Each phase twice, in a seeded order. */
const phases: Phase[] = ['planning', 'planning', 'inFlight', 'inFlight', 'settling', 'settling'];
for (let i = phases.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [phases[i], phases[j]] = [phases[j]!, phases[i]!];
}
const killMoments: KillMoment[] = phases.map((phase) => ({ phase, share: random(), jitter: random() }));
const kills = killMoments.length;
/** A planning kill lands this long at most after the run logged that its journal was finished. */
const planningWindowMs = 5;
/** A settling kill lands this long at most after the answer was passed on to the run. */
const settlingWindowMs = 1;

/** Rows the source holds but no provider may receive. */
const invalidRows: CsvRow[] = [
  { id: 'bad-1', phone: 'not a phone', name: 'Broken' },
  { id: 'bad-2', phone: '', name: 'No phone' },
  { id: 'bad-3', phone: '+1415555', name: 'Too short' },
];

let sandbox: Sandbox;
let relay: Relay;
let dir: string;
let tenant: TenantSetup;
let loaded: LoadedConfig;

beforeAll(async () => {
  sandbox = await startSandbox({ enforceRateLimits: false, faults: { latencyMs } });
  relay = await startRelay(sandbox.port);
  dir = tempDir('cs-crash-');
  tenant = writeTenant(dir, {
    tenant: 'crash',
    sandbox: { credentials: sandbox.credentials, baseUrl: (type) => `http://127.0.0.1:${relay.port}${sandboxPrefixes[type]}` },
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
  await relay?.close();
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

/** Per provider: the batches journaled without their outcome, and the contacts in them. */
type InFlight = Map<ProviderType, { batches: number; items: number }>;

/** The state store as a dead (or finished) run left it. */
async function readState(): Promise<{ baseline: Map<string, BaselineRow[]>; inFlight: InFlight }> {
  const store = await openStateStore(loaded.config.state);
  try {
    const state = tenantState(store.db, loaded.config.tenant);
    const baseline = new Map<string, BaselineRow[]>();
    const inFlight: InFlight = new Map();
    for (const provider of providers) {
      const rows: BaselineRow[] = [];
      for await (const page of state.baseline.rowPages(provider)) rows.push(...page);
      baseline.set(provider, rows);
      const batches = await state.outbox.pendingBatches(provider);
      inFlight.set(provider, { batches: batches.length, items: batches.reduce((sum, b) => sum + b.length, 0) });
    }
    return { baseline, inFlight };
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

/** Resolves once `reached()` holds, or rejects if the run ended first. */
function until(reached: () => boolean, what: string, run: ReturnType<typeof startCli>): Promise<void> {
  return new Promise((resolve, reject) => {
    // Polled every millisecond: well inside the sandbox's latency, so an inFlight kill precedes the answer.
    const timer = setInterval(() => {
      if (reached()) {
        clearInterval(timer);
        resolve();
      } else if (run.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`the run exited ${run.exitCode} before ${what}: ${run.output.stderr}`));
      }
    }, 1);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Relay {
  port: number;
  /** Called synchronously as each HTTP answer is passed on to the run. */
  onAnswer: (() => void) | undefined;
  close(): Promise<void>;
}

/**
 * A TCP relay between the runs and the sandbox. The test's own event loop also runs the sandbox, so
 * a timer set for "just after the answer" fires late; the relay sees the answer go out and can
 * kill the run right then, before the run has settled the batch.
 */
async function startRelay(target: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const relay: Relay = {
    port: 0,
    onAnswer: undefined,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      if (chunk.subarray(0, 5).toString('latin1') === 'HTTP/') relay.onAnswer?.();
    });
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.address() as AddressInfo).port;
  return relay;
}

/** Starts a run and SIGKILLs it at `moment`; resolves once it is dead and the sandbox has taken in all it sent. */
async function killAt(moment: KillMoment, remainingRequests: number, label: string): Promise<void> {
  const from = sandbox.requests.length;
  const run = startCli(['sync', '--config', tenant.file], { env: tenant.env });
  const exited = finished(run);
  const count = Math.max(1, Math.ceil(moment.share * 0.6 * remainingRequests));
  if (moment.phase === 'settling') {
    let answers = 0;
    relay.onAnswer = () => {
      if (++answers < count) return;
      relay.onAnswer = undefined;
      // A busy wait of under a millisecond: a timer would fire far later.
      const deadline = performance.now() + moment.jitter * settlingWindowMs;
      while (performance.now() < deadline);
      run.kill('SIGKILL');
    };
  } else {
    if (moment.phase === 'planning') {
      await until(() => run.output.stderr.includes('journal of earlier runs finished'), 'its plan', run);
      await sleep(Math.floor(moment.jitter * planningWindowMs));
    } else {
      // The sandbox answers `latencyMs` after it applied the write.
      await until(() => sandbox.requests.length - from >= count, `its request ${count}`, run);
      await sleep(Math.floor((moment.jitter * latencyMs) / 2));
    }
    run.kill('SIGKILL');
  }
  await exited;
  relay.onAnswer = undefined;
  expect(run.signalCode, `${label} was to be killed: ${run.output.stderr}`).toBe('SIGKILL');
  if (moment.phase === 'planning') {
    // Killed before its plan was ready, so before it journaled anything of its own.
    expect(run.output.stderr, `${label} was to die while planning`).not.toContain('"plan ready"');
  }
  await sleep(latencyMs); // requests the dead process had written still reach the sandbox
}

/** Contact deliveries the providers applied (2xx bulk writes), per provider. */
function itemsApplied(provider: ProviderType): number {
  return sandbox.requests.filter((r) => r.provider === provider && typeof r.status === 'number' && r.status >= 200 && r.status < 300).reduce((sum, r) => sum + r.items, 0);
}

/** Per provider: deliveries applied so far and contacts held; a run's re-sends are the deliveries that added no contact. */
function deliveries(): Map<ProviderType, { applied: number; held: number }> {
  return new Map(providers.map((p) => [p, { applied: itemsApplied(p), held: remoteState(p).size }]));
}

describe(`sync killed ${kills} times (seed ${seed})`, () => {
  it('converges to the source, loses nothing and re-sends no more than the batches in flight', async () => {
    const desired = await desiredRemote();
    for (const provider of providers) expect(desired.get(provider)!.size).toBe(validContacts);

    // Per kill: what was journaled without its outcome, and what the next run then sent again. Only
    // creates (a first sync), so a delivery that adds no contact to the provider is a re-send.
    let inFlight: InFlight = new Map(providers.map((p) => [p, { batches: 0, items: 0 }]));
    let before = deliveries();
    let resentInAll = 0;
    const expectResendsWithin = (run: string) => {
      const now = deliveries();
      for (const provider of providers) {
        const { applied, held } = now.get(provider)!;
        const resent = applied - before.get(provider)!.applied - (held - before.get(provider)!.held);
        expect(resent, `${provider}: contacts ${run} re-sent`).toBeGreaterThanOrEqual(0);
        expect(resent, `${provider}: contacts ${run} re-sent, beyond those in flight at the kill before it`).toBeLessThanOrEqual(inFlight.get(provider)!.items);
        resentInAll += resent;
      }
      before = now;
    };

    for (const [i, moment] of killMoments.entries()) {
      const label = `run ${i + 1} (${moment.phase})`;
      const remaining = providers.reduce((sum, p) => sum + Math.ceil((validContacts - remoteState(p).size) / batchSize), 0);
      await killAt(moment, remaining, label);
      expectResendsWithin(label);
      const state = await readState();
      expectBaselineHeld(state.baseline, `after ${label}`);
      for (const provider of providers) {
        const journaled = state.inFlight.get(provider)!;
        expect(journaled.batches, `${provider}: batches journaled without an outcome when ${label} died`).toBeLessThanOrEqual(journaledBatches);
        // A run killed while planning had finished the journal and not yet journaled anything.
        if (moment.phase === 'planning') expect(journaled.batches, `${provider}: journal when ${label} died`).toBe(0);
      }
      inFlight = state.inFlight;
    }

    const last = await finished(startCli(['sync', '--config', tenant.file, '--json'], { env: tenant.env }));
    expect(last.code, last.stderr).toBe(3); // done, with the invalid rows not sent
    expectResendsWithin('the last run');

    const { baseline, inFlight: left } = await readState();
    expect([...left.values()].reduce((sum, j) => sum + j.items, 0), 'contacts left in flight').toBe(0);
    expectBaselineHeld(baseline, 'at the end');
    for (const provider of providers) {
      const want = desired.get(provider)!;
      const remote = remoteState(provider);
      expect(new Map([...remote].map(([phone, r]) => [phone, r.payload])), `${provider} holds the source's valid contacts`).toEqual(want);
      expect(new Map(baseline.get(provider)!.map((b) => [b.phone, JSON.parse(b.payload) as Payload])), `${provider} baseline`).toEqual(want);
    }
    // Twilio counts the upserts of each contact: the request log and the provider agree.
    const twilioUpserts = [...sandbox.twilio.contacts.values()].reduce((sum, c) => sum + c.upserts, 0);
    expect(twilioUpserts).toBe(itemsApplied('twilio'));
    expect(providers.reduce((sum, p) => sum + itemsApplied(p), 0) - providers.length * validContacts).toBe(resentInAll);
    // Some kills land before the sandbox answers a write it applied: some batches really were replayed.
    expect(resentInAll).toBeGreaterThan(0);
    // About 10-20 s with two busy cores; the margin is for a machine loaded by other suites.
  }, 60_000);
});
