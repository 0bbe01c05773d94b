/**
 * The engine end to end against the real sandbox emulators over HTTP on loopback: tenants opened
 * from a config file as the CLI opens them, the real adapters, the rate limits enforced
 * (time-scaled), and each provider's resulting state compared with what the providers' mapping
 * functions make of the source (providers.md, last table). Each suite runs for every pair of
 * source and state backends (SQLite, PostgreSQL).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, exitCodeForStatus } from '../../src/cli/exit-codes.js';
import { renderStatus } from '../../src/cli/output/status-view.js';
import { type StatusReport, readStatus } from '../../src/engine/status.js';
import type { SyncResult } from '../../src/engine/sync.js';
import { ProviderError } from '../../src/errors.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import type { FaultKind, ProviderType } from '../../src/sandbox/types.js';
import type { SourceContact } from '../../src/source/contact.js';
import { phoneFor } from '../cli/helpers.js';
import { type StoreHandle, sourceStatePairs } from '../helpers/stores.js';
import { type RemoteState, type SandboxTenant, type SandboxTenantOptions, createSandboxTenant, expectedRemote, sandboxView } from './sandbox-tenant.js';

/** A minute of the providers' rate windows lasts 0.2 s, on the sandbox and in the adapters alike. */
const timeScale = 300;
const providers: readonly ProviderType[] = ['twilio', 'trackly', 'oliai'];
const retry = { maxRetries: 2, baseDelayMs: 5, maxDelayMs: 50, maxElapsedMs: 5_000 };

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ timeScale });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const idOf = (n: number): string => `c-${String(n).padStart(4, '0')}`;

/** Contact n: some numbers in national format, some without country, zip or attributes, so every mapping rule is used. */
function person(n: number, extra: Partial<SourceContact> = {}): SourceContact {
  const e164 = phoneFor(n);
  return {
    id: idOf(n),
    phone: n % 7 === 0 ? `(${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}` : e164,
    name: `Person ${n}`,
    language: n % 3 === 0 ? 'es' : null,
    country: n % 4 === 0 ? null : 'US',
    zip: n % 5 === 0 ? null : `9${String(4000 + n).padStart(4, '0')}`,
    attributes: n % 2 === 0 ? { tier: 'gold', score: n, ...(n % 6 === 0 ? { vip: true } : {}) } : {},
    updatedAt: '2024-05-01T00:00:00.000Z',
    ...extra,
  };
}

const people = (count: number): SourceContact[] => Array.from({ length: count }, (_, n) => person(n));

/**
 * The edits the change tests make to people(n >= 50): three edited (name and zip), one losing its
 * attributes, three deleted, two moved to a new phone, one whose phone turns invalid, one new.
 */
function changeSet(rows: readonly SourceContact[]) {
  const later = { updatedAt: '2024-06-01T00:00:00.000Z' };
  const byId = new Map(rows.map((r) => [r.id, r]));
  const at = (n: number) => byId.get(idOf(n))!;
  const deleted = [20, 21, 22];
  const moved = [30, 31].map((n) => ({ id: idOf(n), from: phoneFor(n), to: phoneFor(500 + n) }));
  const changed = new Map<string, SourceContact>([
    ...[0, 1, 2].map((n): [string, SourceContact] => [idOf(n), { ...at(n), ...later, name: `Edited ${n}`, zip: '10001' }]),
    [idOf(10), { ...at(10), ...later, attributes: {} }],
    ...moved.map(({ id, to }): [string, SourceContact] => [id, { ...byId.get(id)!, ...later, phone: to }]),
    [idOf(40), { ...at(40), ...later, phone: 'call me maybe' }],
  ]);
  const after = [...rows.filter((r) => !deleted.includes(Number(r.id.slice(2)))).map((r) => changed.get(r.id) ?? r), person(1000)];
  return {
    after,
    /** An invalid row is never sent and never deleted: the providers keep what was delivered for it. */
    expected: expectedRemote(after.map((r) => (r.id === idOf(40) ? at(40) : r))),
    deletedPhones: deleted.map((n) => phoneFor(n)),
    moved,
    invalidId: idOf(40),
  };
}

/** What Twilio held for these phones in an earlier view. */
const heldByTwilio = (view: RemoteState, phones: readonly string[]) => Object.fromEntries(phones.map((p) => [p, view.twilio[p]]));

/** Per provider, requests the sandbox logged that reached the emulator (429s are not applied). */
function applyingRequests(): Record<string, { method: string; path: string }[]> {
  const by: Record<string, { method: string; path: string }[]> = { twilio: [], trackly: [], oliai: [] };
  for (const r of sb.requests) if (r.status !== 429) by[r.provider]!.push({ method: r.method, path: r.path });
  return by;
}

/** Polls `status` (with this stuck threshold) until `until` holds. */
async function waitForStatus(tenant: SandboxTenant, until: (status: StatusReport) => boolean, stuckAfterMs: number): Promise<StatusReport> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await readStatus(tenant.store, tenant.tenant, { stuckAfterMs });
    if (until(status)) return status;
    if (Date.now() > deadline) throw new Error(`status never matched: ${JSON.stringify(status.stuck)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs until a run finishes (not `failed`): a run that could not finish resumes in the next. */
async function syncUntilFinished(tenant: SandboxTenant, maxRuns: number): Promise<SyncResult[]> {
  const runs: SyncResult[] = [];
  while (runs.length < maxRuns) {
    const result = await tenant.sync();
    runs.push(result);
    if (result.report.status !== 'failed') return runs;
  }
  throw new Error(`still failing after ${maxRuns} runs: ${runs.map((r) => r.error?.message).join(' | ')}`);
}

describe.each(sourceStatePairs)('sync against the sandbox emulators ($label)', (backends) => {
  let tenant: SandboxTenant | undefined;
  let handles: StoreHandle[] = [];
  afterEach(async () => {
    await tenant?.close();
    await Promise.all(handles.map((h) => h.cleanup()));
    tenant = undefined;
    handles = [];
  });

  async function open(options: Partial<SandboxTenantOptions> = {}): Promise<SandboxTenant> {
    handles = await Promise.all([backends.source.makeUrl(), backends.state.makeUrl()]);
    const [source, state] = handles as [StoreHandle, StoreHandle];
    tenant = await createSandboxTenant({ sandbox: sb, timeScale, sourceUrl: source.url, stateUrl: state.url, retry, ...options });
    return tenant;
  }

  async function baselineOf(t: SandboxTenant, provider: string) {
    return t.store.db.selectFrom('cs_baseline').select(['contact_id', 'phone', 'remote_id']).where('tenant', '=', t.tenant).where('provider', '=', provider).orderBy('contact_id').execute();
  }

  /** The state the change set must leave: OliAI deletes by id and PATCHes moved phones, Trackly unsubscribes, Twilio keeps orphans. */
  async function expectChangesApplied(t: SandboxTenant, changes: ReturnType<typeof changeSet>, before: ReturnType<typeof sandboxView>): Promise<void> {
    const view = sandboxView(sb);
    const oldPhones = changes.moved.map((m) => m.from);
    expect(view.remote.oliai).toEqual(changes.expected.oliai);
    expect(view.oliaiCount).toBe(Object.keys(changes.expected.oliai).length);
    for (const { from, to } of changes.moved) expect(view.oliaiIds[to]).toBe(before.oliaiIds[from]);
    expect(view.remote.trackly).toEqual(changes.expected.trackly);
    expect(view.tracklyInactive).toEqual([...changes.deletedPhones, ...oldPhones].sort());
    // Twilio cannot delete: what it held for deleted contacts and replaced phones stays, as orphans.
    const leftBehind = [...changes.deletedPhones, ...oldPhones];
    expect(view.remote.twilio).toEqual({ ...changes.expected.twilio, ...heldByTwilio(before.remote, leftBehind) });
    const orphans = await t.state.orphans.list('twilio');
    expect(orphans.map((o) => [o.phone, o.reason]).sort()).toEqual(
      [...changes.deletedPhones.map((p) => [p, 'deleted_in_source']), ...oldPhones.map((p) => [p, 'phone_changed'])].sort(),
    );
    const status = await readStatus(t.store, t.tenant);
    expect(status.providers.twilio).toMatchObject({ orphaned: 5, pending: 0 });
    for (const name of providers) expect(status.providers[name]!.synced).toBe(Object.keys(changes.expected.oliai).length);
    expect(await t.state.outbox.countsByProvider()).toEqual(new Map());
  }

  it('converges: each provider holds the mapping of the valid contacts; a second run sends no request', async () => {
    const t = await open();
    // Ids whose order differs between byte order and a linguistic collation (en_US puts 'C-x' beside
    // 'c-x' and ignores punctuation): source and baseline must merge in the same order on every backend.
    const mixedCase = [person(902, { id: 'C-0005' }), person(903, { id: 'c_0005' }), person(904, { id: 'Ca' })];
    const rows = [...people(120), ...mixedCase, person(900, { id: 'bad-phone', phone: 'call me maybe' }), person(901, { id: 'no-phone', phone: null })];
    await t.setSource(rows);

    const first = await t.sync();
    expect(first.report.status).toBe('partial');
    expect(exitCodeForStatus(first.report.status)).toBe(EXIT.partial);
    expect(first.problems.map((p) => [p.provider, p.contactId, p.code]).sort()).toEqual([
      ['*', 'bad-phone', 'invalid_phone'],
      ['*', 'no-phone', 'missing_phone'],
    ]);
    for (const name of providers) {
      expect(first.report.providers[name]!.planned).toEqual({ create: 123, update: 0, delete: 0, unchanged: 0, invalid: 2, orphan: 0 });
      expect(first.report.providers[name]!.applied).toEqual({ create: 123, update: 0, delete: 0 });
    }
    const view = sandboxView(sb);
    expect(view.remote).toEqual(expectedRemote(rows));
    expect(view.oliaiCount).toBe(123);
    expect(view.tracklyInactive).toEqual([]);
    // Full batches: ceil(123 / 25) for Twilio, one request each for Trackly and OliAI (1,000 per request).
    const sent = applyingRequests();
    expect([sent.twilio!.length, sent.trackly!.length, sent.oliai!.length]).toEqual([5, 1, 1]);
    // The OliAI ids the state keeps are the ones OliAI gave (its only way to find a contact again).
    const oliaiBaseline = await baselineOf(t, 'oliai');
    expect(Object.fromEntries(oliaiBaseline.map((b) => [b.phone, b.remote_id]))).toEqual(view.oliaiIds);

    sb.clearRequests();
    const second = await t.sync();
    expect(sb.requests).toEqual([]);
    for (const name of providers) {
      expect(second.report.providers[name]).toMatchObject({ planned: { create: 0, update: 0, delete: 0, unchanged: 123 }, requests: 0 });
    }
    expect(sandboxView(sb).remote).toEqual(expectedRemote(rows));
  });

  it('applies edits, deletes, phone changes, a new contact and a newly invalid phone as providers.md says', async () => {
    const t = await open();
    const rows = people(60);
    await t.setSource(rows);
    expect((await t.sync()).report.status).toBe('ok');
    const before = sandboxView(sb);

    const changes = changeSet(rows);
    await t.setSource(changes.after);
    sb.clearRequests();
    const result = await t.sync();
    expect(result.report.status).toBe('partial');
    expect(result.problems).toEqual([{ provider: '*', contactId: changes.invalidId, code: 'invalid_phone', reason: expect.stringContaining('call me maybe') }]);
    // Twilio's payload has no name or attributes: the attribute-only edit is no change there.
    expect(result.report.providers.twilio!.planned).toEqual({ create: 1, update: 5, delete: 0, unchanged: 51, invalid: 1, orphan: 3 });
    expect(result.report.providers.twilio!.applied).toEqual({ create: 1, update: 5, delete: 0 });
    for (const name of ['trackly', 'oliai']) {
      expect(result.report.providers[name]!.planned).toEqual({ create: 1, update: 6, delete: 3, unchanged: 50, invalid: 1, orphan: 0 });
      expect(result.report.providers[name]!.applied).toEqual({ create: 1, update: 6, delete: 3 });
    }
    await expectChangesApplied(t, changes, before);
    const sent = applyingRequests();
    expect(sent.oliai!.filter((r) => r.method === 'PATCH')).toHaveLength(2);
    expect(sent.oliai!.filter((r) => r.path === '/contacts/bulk-delete')).toHaveLength(1);
    expect(sent.trackly!.filter((r) => r.method === 'DELETE')).toHaveLength(5);

    sb.clearRequests();
    const again = await t.sync();
    expect(sb.requests).toEqual([]);
    expect(again.report.status).toBe('partial'); // the invalid row is still there
  });

  it('converges through 500s, 429 bursts, timeouts and dropped-after-apply answers, applying each change once in effect', async () => {
    const t = await open({
      providers: { twilio: { batchSize: 10, timeoutMs: 300 }, trackly: { batchSize: 10, timeoutMs: 300 }, oliai: { batchSize: 10, timeoutMs: 300 } },
    });
    sb.faults.set({
      errorRate: 0.1,
      rateLimitBursts: 3,
      rateLimitBurstRetryAfterSeconds: 1,
      slowRate: 0.1,
      slowMs: 700,
      dropAfterApplyRate: 0.1,
      itemErrorRate: 0.02,
      seed: 20240601,
    });
    const rows = people(300);
    await t.setSource(rows);

    await syncUntilFinished(t, 10);
    expect(sandboxView(sb).remote).toEqual(expectedRemote(rows));
    expect(sandboxView(sb).oliaiCount).toBe(300);
    for (const name of providers) expect(await baselineOf(t, name)).toHaveLength(300);
    expect(await t.state.outbox.countsByProvider()).toEqual(new Map());
    const before = sandboxView(sb);

    const changes = changeSet(rows);
    await t.setSource(changes.after);
    await syncUntilFinished(t, 10);
    await expectChangesApplied(t, changes, before);

    const met = new Set<FaultKind | undefined>(sb.requests.map((r) => r.fault));
    for (const kind of ['error', 'rateLimitBurst', 'slow', 'dropAfterApply', 'itemError'] as const) expect(met, kind).toContain(kind);

    // Converged means converged: with the faults still on, nothing is left to send.
    sb.clearRequests();
    expect((await t.sync()).report.status).toBe('partial');
    expect(sb.requests).toEqual([]);
  });

  it('status reports a run that heartbeats but gets no answer as stuck (no progress), and not once answers come', async () => {
    const stuckAfterMs = 400;
    // One Twilio batch at a time (25, then 5), so the run goes on after the first answers.
    const t = await open({ tuning: { heartbeatMs: 40, concurrency: 1 } });
    await t.setSource(people(30));
    // Every provider holds each answer back: the run's process is alive and heartbeating, but hung.
    sb.faults.set({ latencyMs: 1_500 });
    const running = t.sync();
    let stuckStatus: StatusReport;
    let moving: StatusReport;
    try {
      stuckStatus = await waitForStatus(t, (s) => s.stuck.length > 0, stuckAfterMs);
      moving = await waitForStatus(t, (s) => s.stuck.length === 0 && s.lastRuns[0]?.status === 'running', stuckAfterMs);
    } finally {
      // The run ends before the test's stores go away.
      expect((await running).report.status).toBe('ok');
      sb.faults.clear();
    }
    const [stuck] = stuckStatus.stuck;
    expect(stuck).toMatchObject({ status: 'running', reason: 'no_progress' });
    // Not abandoned: it beat within the threshold (and after its last progress), from a live pid.
    expect(Date.parse(stuck!.heartbeatAt)).toBeGreaterThan(Date.parse(stuck!.progressAt));
    const view = renderStatus(stuckStatus).slice(renderStatus(stuckStatus).indexOf('Stuck runs:'));
    expect(view).toContain('last progress');
    expect(view).toContain('alive, but no progress');
    // The first answers moved the run's progress on while it still ran.
    expect(moving.lastRuns[0]!.runId).toBe(stuck!.runId);
    expect(Date.parse(moving.lastRuns[0]!.progressAt)).toBeGreaterThanOrEqual(Date.parse(stuck!.progressAt) + 1_000);
    expect((await readStatus(t.store, t.tenant, { stuckAfterMs })).stuck).toEqual([]);
  });

  it('a run that cannot finish fails (exit 1) with its work journaled, and the next run finishes it', async () => {
    // One OliAI batch of 10 in flight at a time, so the outage starts exactly after the second.
    const t = await open({ providers: { oliai: { batchSize: 10 } }, tuning: { concurrency: 1 } });
    const rows = people(80);
    await t.setSource(rows);

    const failed = await t.sync({
      onProgress: ({ provider, done }) => {
        if (provider === 'oliai' && done === 20) sb.faults.set({ errorRate: 1, providers: ['oliai'] });
      },
    });
    expect(failed.report.status).toBe('failed');
    expect(exitCodeForStatus(failed.report.status)).toBe(EXIT.failed);
    expect(failed.error).toBeInstanceOf(ProviderError);
    expect((failed.error as ProviderError).code).toBe('PROVIDER_UNAVAILABLE');
    expect(failed.report.providers.oliai!.applied.create).toBe(20);
    expect(failed.pending.oliai).toBe(60);
    for (const name of ['twilio', 'trackly']) expect(failed.report.providers[name]!.applied.create).toBe(80);

    const [run] = await t.state.runs.latest(1);
    expect(run).toMatchObject({ status: 'failed', error: failed.error!.message });
    expect(JSON.parse(run!.summary!)).toMatchObject({ status: 'failed', pending: { oliai: 60, twilio: 0, trackly: 0 } });

    // The baseline claims exactly what OliAI holds; the batch that met the outage stays journaled.
    const view = sandboxView(sb);
    const baseline = await baselineOf(t, 'oliai');
    expect(baseline).toHaveLength(20);
    const delivered = new Set(baseline.map((b) => b.contact_id));
    expect(view.remote.oliai).toEqual(expectedRemote(rows.filter((r) => delivered.has(r.id))).oliai);
    expect(Object.fromEntries(baseline.map((b) => [b.phone, b.remote_id]))).toEqual(view.oliaiIds);
    const journaled = (await t.state.outbox.pendingBatches('oliai')).flat();
    expect(journaled).toHaveLength(10);
    expect(journaled.filter((row) => delivered.has(row.contact_id))).toEqual([]);
    expect(await readStatus(t.store, t.tenant)).toMatchObject({ providers: { oliai: { synced: 20, pending: 10 }, twilio: { synced: 80, pending: 0 } } });

    sb.faults.clear();
    sb.clearRequests();
    const resumed = await t.sync();
    expect(resumed.report.status).toBe('ok');
    // The journaled batch is replayed, then the 50 never sent go in full batches; the others had nothing to do.
    const sent = applyingRequests();
    expect([sent.twilio!.length, sent.trackly!.length, sent.oliai!.length]).toEqual([0, 0, 6]);
    expect(sandboxView(sb).remote).toEqual(expectedRemote(rows));
    expect(await baselineOf(t, 'oliai')).toHaveLength(80);
    expect(await t.state.outbox.countsByProvider()).toEqual(new Map());

    sb.clearRequests();
    expect((await t.sync()).report.status).toBe('ok');
    expect(sb.requests).toEqual([]);
  });
});
