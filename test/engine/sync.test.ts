import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { batchesInFlight, batchesJournaledAtOnce } from '../../src/engine/apply.js';
import { runReconcile } from '../../src/engine/reconcile.js';
import { defaultTuning } from '../../src/engine/runtime.js';
import { runSync } from '../../src/engine/sync.js';
import { FakeProvider } from './fake-provider.js';
import { type Harness, contact, openHarness } from './harness.js';
import { stateBackends } from '../helpers/stores.js';

let h: Harness;
afterEach(async () => h?.close());

function remoteOf(h: Harness, i = 0): Record<string, unknown> {
  return Object.fromEntries([...h.providers[i]!.remote.entries()].sort());
}

describe.each(stateBackends)('runSync with a fake provider ($name)', (backend) => {
  it('hands the state store its WAL checkpoints to do in the background only for a plan of many changes', async () => {
    h = await openHarness({ backend });
    const handed: number[] = [];
    (h.store as { checkpointInBackground?: () => void }).checkpointInBackground = () => handed.push(1);
    const rt = h.runtime({ tuning: { backgroundCheckpointChanges: 5 } });
    h.source.set([contact('a', '+14155550001'), contact('b', '+14155550002')]);
    await runSync(rt);
    await runSync(rt, { dryRun: true });
    expect(handed).toEqual([]);
    h.source.set(Array.from({ length: 5 }, (_, i) => contact(`k${i}`, `+1415555${1000 + i}`)));
    const run = await runSync(rt, { dryRun: true });
    expect(run.report.providers.alpha!.planned).toMatchObject({ create: 5 });
    expect(handed, 'a dry run writes nothing').toEqual([]);
    await runSync(rt, { allowDeletes: true });
    expect(handed).toEqual([1]);
  });

  it('creates, then sends nothing when nothing changed, then updates and deletes', async () => {
    h = await openHarness({ backend });
    const rt = h.runtime();
    h.source.set([contact('a', '+14155550001'), contact('b', '+14155550002'), contact('c', 'nope'), ...Array.from({ length: 17 }, (_, i) => contact(`k${i}`, `+1415555${1000 + i}`))]);
    const first = await runSync(rt);
    expect(first.report.status).toBe('partial'); // c is invalid
    expect(first.report.providers.alpha!.planned).toMatchObject({ create: 19, invalid: 1 });
    expect(first.report.providers.alpha!.applied.create).toBe(19);
    expect(first.problems).toEqual([{ provider: '*', contactId: 'c', code: 'invalid_phone', reason: 'not a phone number: nope' }]);
    expect(h.providers[0]!.remote.size).toBe(19);

    h.requests.reset();
    const callsBefore = h.providers[0]!.calls.length;
    const second = await runSync(rt);
    expect(second.report.providers.alpha!.planned).toMatchObject({ create: 0, update: 0, delete: 0, unchanged: 19 });
    expect(h.providers[0]!.calls.length).toBe(callsBefore);

    h.source.set([contact('a', '+14155550001', { name: 'Ann' }), contact('c', 'nope'), ...Array.from({ length: 17 }, (_, i) => contact(`k${i}`, `+1415555${1000 + i}`))]);
    const third = await runSync(rt);
    expect(third.report.providers.alpha!.planned).toMatchObject({ update: 1, delete: 1 });
    expect(third.report.providers.alpha!.applied).toEqual({ create: 0, update: 1, delete: 1 });
    expect(h.providers[0]!.remote.get('+14155550001')).toEqual({ phone: '+14155550001', name: 'Ann', zip: '' });
    expect(h.providers[0]!.remote.has('+14155550002')).toBe(false);
  });

  it('a dry run sends nothing and writes no state; --plan-out writes header and records', async () => {
    h = await openHarness({ backend });
    const rt = h.runtime();
    h.source.set([contact('a', '+14155550001'), contact('b', '+14155550002')]);
    const planOut = join(h.dir, 'plan.jsonl');
    const dry = await runSync(rt, { dryRun: true, planOut });
    expect(dry.report.dryRun).toBe(true);
    expect(dry.report.providers.alpha!.planned.create).toBe(2);
    expect(h.providers[0]!.calls).toHaveLength(0);
    expect(await h.store.db.selectFrom('cs_runs').selectAll().execute()).toHaveLength(0);
    expect(await h.store.db.selectFrom('cs_baseline').selectAll().execute()).toHaveLength(0);
    const lines = readFileSync(planOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ tenant: 'acme', options: { full: false, providers: ['alpha'] } });
    expect(lines.slice(1)).toEqual([
      { provider: 'alpha', contactId: 'a', op: 'create', before: null, after: { phone: '+14155550001', name: 'name a', zip: '' } },
      { provider: 'alpha', contactId: 'b', op: 'create', before: null, after: { phone: '+14155550002', name: 'name b', zip: '' } },
    ]);
    expect(dry.examples).toHaveLength(2);
  });

  it('--full re-sends every valid contact', async () => {
    h = await openHarness({ backend });
    const rt = h.runtime();
    h.source.set([contact('a', '+14155550001'), contact('b', '+14155550002')]);
    await runSync(rt);
    const full = await runSync(rt, { full: true });
    expect(full.report.providers.alpha!.applied.update).toBe(2);
    expect(remoteOf(h)).toEqual({
      '+14155550001': { phone: '+14155550001', name: 'name a', zip: '' },
      '+14155550002': { phone: '+14155550002', name: 'name b', zip: '' },
    });
  });
});

describe.each(stateBackends)("a dead run's journal is finished before the next run plans ($name)", (backend) => {
  let now = Date.parse('2024-06-01T00:00:00Z');
  const clock = () => new Date(now);
  const many = (n: number) => Array.from({ length: n }, (_, i) => contact(`c${String(i).padStart(3, '0')}`, `+1415555${2000 + i}`));
  const journaled = async (provider: string) =>
    (await h.store.db.selectFrom('cs_outbox').select('contact_id').where('provider', '=', provider).orderBy('contact_id').execute()).map((r) => r.contact_id);
  const baselineIds = async (provider: string) =>
    (await h.store.db.selectFrom('cs_baseline').select('contact_id').where('provider', '=', provider).orderBy('contact_id').execute()).map((r) => r.contact_id);

  /**
   * Runs a sync whose process dies at each provider's `hangAt`-th batch: that batch is journaled and
   * applied by the provider, and its answer never comes. One batch in flight, so nothing moves after.
   */
  async function dieDuring(hangAt: Record<string, number>): Promise<void> {
    const adapters = h.providers.map((p) => new FakeProvider(p.name, { remote: p.remote, observer: h.requests }));
    const hung = adapters.map((adapter) => {
      adapter.script = { batch: (call) => (call >= hangAt[adapter.name]! ? 'hang' : 'ok') };
      return new Promise<void>((resolve) => (adapter.onHang = resolve));
    });
    void runSync(h.runtime({ adapters, tuning: { clock, concurrency: 1 } }));
    await Promise.all(hung);
    now += 10 * 60_000; // its heartbeat is stale: the next run takes over
  }

  it('a run refused by safety still finishes the batch in flight, which an earlier run journaled', async () => {
    h = await openHarness({ backend });
    h.source.set(many(30));
    await dieDuring({ alpha: 2 });
    const inFlight = await journaled('alpha');
    expect(inFlight).toHaveLength(3);
    h.source.set([]);
    const refused = await runSync(h.runtime({ tuning: { clock } }));
    expect(refused.report.status).toBe('refused');
    expect(refused.error?.name).toBe('SafetyRefusal');
    expect(refused.report.providers.alpha).toMatchObject({ requests: 1, applied: { create: 0, update: 0, delete: 0 } });
    expect(await journaled('alpha')).toEqual([]);
    expect(await baselineIds('alpha')).toEqual(many(9).map((c) => c.id)); // 2 confirmed batches and the replayed one
    expect(h.providers[0]!.calls).toHaveLength(1);
  });

  it('a dry run sends nothing; a --provider run replays its providers first, then plans from what they confirmed', async () => {
    h = await openHarness({ backend, providers: [{ name: 'alpha' }, { name: 'beta' }] });
    h.source.set(many(12));
    await dieDuring({ alpha: 1, beta: 2 });
    const [alphaInFlight, betaInFlight] = [await journaled('alpha'), await journaled('beta')];
    expect([alphaInFlight.length, betaInFlight.length]).toEqual([3, 3]);

    const dry = await runSync(h.runtime({ tuning: { clock } }), { dryRun: true });
    expect(dry.report.providers.alpha!.planned).toMatchObject({ create: 6, unchanged: 6 });
    expect(h.providers.map((p) => p.calls.length)).toEqual([0, 0]);
    expect([await journaled('alpha'), await journaled('beta')]).toEqual([alphaInFlight, betaInFlight]);

    // The provider now rejects one contact of the journaled batch: the plan sees that rejection
    // (waiting for its backoff), not the journaled payload.
    const refused = alphaInFlight[0]!;
    h.providers[0]!.script = { item: (id) => (id === refused ? 'rejected' : 'ok') };
    const run = await runSync(h.runtime({ providers: ['alpha'], tuning: { clock } }));
    expect(run.report.status).toBe('partial');
    expect(run.problems).toEqual([{ provider: 'alpha', contactId: refused, code: 'fake_rejected', reason: 'the fake provider rejected it' }]);
    expect(run.deferred.alpha).toBe(1);
    expect(run.report.providers.alpha).toMatchObject({ rejected: 1, applied: { create: 6, update: 0, delete: 0 }, planned: { create: 6, unchanged: 5 } });
    expect(h.providers[0]!.calls[0]!.size).toBe(3); // the replay came first
    expect(await journaled('alpha')).toEqual([]);
    expect(await journaled('beta')).toEqual(betaInFlight); // not this run's provider
    expect(h.providers[1]!.calls).toHaveLength(0);

    const rest = await runSync(h.runtime({ tuning: { clock } }));
    expect(rest.report.providers.beta!.planned).toMatchObject({ create: 3, unchanged: 9 });
    expect(await journaled('beta')).toEqual([]);
    expect(await baselineIds('beta')).toEqual(many(12).map((c) => c.id));
    expect(remoteOf(h, 1)).toEqual(remoteOf(h, 0));
  });

  it('reconcile finishes the journal first instead of repairing back what a dead run sent', async () => {
    h = await openHarness({ backend });
    h.source.set(many(6));
    await runSync(h.runtime({ tuning: { clock } }));
    const edited = many(6).map((c, i) => (i < 3 ? { ...c, name: `edited ${i}` } : c));
    h.source.set(edited);
    await dieDuring({ alpha: 0 }); // the edits reach the provider; their answer never comes
    expect(await journaled('alpha')).toEqual(['c000', 'c001', 'c002']);
    const clean = { drifted: 0, missing: 0, repaired: 0 };
    const calls = h.providers[0]!.calls.length;

    // A dry run finishes nothing: the journaled contacts are left out of the comparison.
    const dry = await runReconcile(h.runtime({ tuning: { clock } }), { dryRun: true });
    expect(dry.report.providers.alpha).toMatchObject({ delivered: 6, ...clean });
    expect(h.providers[0]!.calls).toHaveLength(calls);

    const run = await runReconcile(h.runtime({ tuning: { clock } }));
    expect(run.report.providers.alpha).toMatchObject({ delivered: 6, ...clean, requests: 1 });
    expect(await journaled('alpha')).toEqual([]);
    expect(h.providers[0]!.remote.get('+14155552000')).toMatchObject({ name: 'edited 0' });
    expect((await runSync(h.runtime({ tuning: { clock } }))).report.providers.alpha!.planned).toMatchObject({ create: 0, update: 0, unchanged: 6 });
  });

  it('a --plan made while a batch was journaled is stale once the journal is finished', async () => {
    h = await openHarness({ backend });
    h.source.set(many(12));
    await dieDuring({ alpha: 1 });
    const early = join(h.dir, 'early.jsonl');
    await runSync(h.runtime({ tuning: { clock } }), { dryRun: true, planOut: early });
    const refused = await runSync(h.runtime({ tuning: { clock } }), { planFile: early });
    expect(refused.report.status).toBe('refused');
    expect(refused.error?.message).toContain('sync state changed');
    expect(await journaled('alpha')).toEqual([]);
    const current = join(h.dir, 'current.jsonl');
    await runSync(h.runtime({ tuning: { clock } }), { dryRun: true, planOut: current });
    const applied = await runSync(h.runtime({ tuning: { clock } }), { planFile: current });
    expect(applied.report.status).toBe('ok');
    expect(await baselineIds('alpha')).toEqual(many(12).map((c) => c.id));
  });

  it('a provider whose journal cannot be finished sits the run out; a --plan run then applies nothing', async () => {
    h = await openHarness({ backend, providers: [{ name: 'alpha' }, { name: 'beta' }] });
    h.source.set(many(12));
    await dieDuring({ alpha: 1, beta: 1 });
    const planFile = join(h.dir, 'plan.jsonl');
    await runSync(h.runtime({ tuning: { clock } }), { dryRun: true, planOut: planFile });
    const [alpha, beta] = h.providers as [FakeProvider, FakeProvider];
    alpha.script = { batch: () => 'throwBefore' };

    const planned = await runSync(h.runtime({ tuning: { clock } }), { planFile });
    expect(planned.report.status).toBe('failed');
    expect(planned.error?.message).toBe('fake alpha: unavailable');
    expect([alpha.calls.length, beta.calls.length]).toEqual([1, 1]); // the replays, nothing of the plan
    expect(await baselineIds('beta')).toEqual(many(6).map((c) => c.id));

    const run = await runSync(h.runtime({ tuning: { clock } }));
    expect(run.report.status).toBe('failed');
    expect(run.error?.message).toBe('fake alpha: unavailable');
    expect(run.report.providers.alpha).toMatchObject({ planned: { create: 0, unchanged: 0 }, applied: { create: 0 }, requests: 1 });
    expect(run.pending.alpha).toBe(3);
    expect(run.report.providers.beta).toMatchObject({ planned: { create: 6, unchanged: 6 }, applied: { create: 6 } });
    expect(await journaled('alpha')).toHaveLength(3);

    alpha.script = {};
    expect((await runSync(h.runtime({ tuning: { clock } }))).report.status).toBe('ok');
    expect(await journaled('alpha')).toEqual([]);
    expect(remoteOf(h, 0)).toEqual(remoteOf(h, 1));
    expect(await baselineIds('alpha')).toEqual(many(12).map((c) => c.id));
  });

  it('small batches are journaled a group to a statement while the others are out; a dead run leaves those, and the next run sends them first', async () => {
    h = await openHarness({ backend });
    h.source.set(many(60)); // 20 batches of 3
    const inFlight = batchesInFlight(3, defaultTuning.concurrency);
    const atOnce = batchesJournaledAtOnce(3, inFlight);
    expect([inFlight, atOnce]).toEqual([8, 8]);
    // The first batch is answered, the second hangs and the process dies: every later request hangs too.
    const adapter = new FakeProvider('alpha', { remote: h.providers[0]!.remote, observer: h.requests });
    adapter.script = { batch: (call) => (call === 0 ? 'ok' : 'hang') };
    const dies = new AbortController();
    const run = h.runtime({ adapters: [adapter], tuning: { clock } });
    void runSync(run, { signal: dies.signal });
    // The first answer freed a slot: the next group was journaled and its first batch sent.
    await vi.waitFor(() => expect(adapter.calls).toHaveLength(inFlight + 1));
    dies.abort();
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await run.state.commit(async () => {});
    expect(await journaled('alpha')).toEqual(many(60).slice(3, 3 * (inFlight + atOnce)).map((c) => c.id));
    now += 10 * 60_000;

    const next = await runSync(h.runtime({ tuning: { clock } }));
    expect(next.report.status).toBe('ok');
    expect(h.providers[0]!.calls.map((c) => c.size)).toEqual(Array(20 - 1).fill(3)); // the 15 journaled (replayed first), then the 4 never journaled
    expect(next.report.providers.alpha).toMatchObject({ planned: { create: 60 - 3 * (inFlight + atOnce) }, applied: { create: 60 - 3 * (inFlight + atOnce) } });
    expect(await journaled('alpha')).toEqual([]);
    expect(await baselineIds('alpha')).toEqual(many(60).map((c) => c.id));
  });
});
