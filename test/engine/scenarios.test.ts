import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderStatus } from '../../src/cli/output/status-view.js';
import { readStatus, statusReportSchema } from '../../src/engine/status.js';
import { runReconcile } from '../../src/engine/reconcile.js';
import { runSync } from '../../src/engine/sync.js';
import { type Harness, contact, openHarness } from './harness.js';
import { stateBackends } from '../helpers/stores.js';

let h: Harness;
afterEach(async () => h?.close());

const many = (n: number, from = 0) => Array.from({ length: n }, (_, i) => contact(`c${String(from + i).padStart(3, '0')}`, `+1415555${String(2000 + from + i)}`));

describe.each(stateBackends)('safety ($name)', (backend) => {
  it('refuses an empty read, a mostly-empty read and too many deletes; --allow-deletes proceeds', async () => {
    h = await openHarness({ backend });
    const rt = h.runtime();
    h.source.set(many(20));
    await runSync(rt);
    const calls = h.providers[0]!.calls.length;
    for (const rows of [[], many(5), many(17)]) {
      h.source.set(rows);
      const run = await runSync(rt);
      expect(run.report.status).toBe('refused');
      expect(run.error?.name).toBe('SafetyRefusal');
      expect(h.providers[0]!.calls.length).toBe(calls);
    }
    h.source.set(many(19));
    expect((await runSync(rt)).report.status).toBe('ok'); // 1 of 20 = 5 %
    h.source.set(many(17));
    const allowed = await runSync(rt, { allowDeletes: true });
    expect(allowed.report.providers.alpha!.applied.delete).toBe(2);
  });
});

describe.each(stateBackends)('--plan files ($name)', (backend) => {
  it('applies a current plan once; refuses a changed source, a changed state, or a second apply', async () => {
    h = await openHarness({ backend });
    const rt = h.runtime();
    h.source.set(many(10));
    await runSync(rt);
    h.source.set([...many(10).map((c, i) => (i < 2 ? { ...c, name: 'changed' } : c)), ...many(1, 10)]);
    const plan = join(h.dir, 'plan.jsonl');
    await runSync(rt, { dryRun: true, planOut: plan });
    const applied = await runSync(rt, { planFile: plan });
    expect(applied.report.status).toBe('ok');
    expect(applied.report.providers.alpha!.applied).toEqual({ create: 1, update: 2, delete: 0 });
    const again = await runSync(rt, { planFile: plan });
    expect(again.report.status).toBe('refused');
    expect(again.error?.message).toContain('already applied');

    const stale = join(h.dir, 'stale.jsonl');
    h.source.set([...many(11).map((c, i) => (i === 0 ? { ...c, name: 'again' } : c))]);
    await runSync(rt, { dryRun: true, planOut: stale });
    h.source.set([...many(11).map((c, i) => (i === 0 ? { ...c, name: 'and again' } : c))]);
    const changedSource = await runSync(rt, { planFile: stale });
    expect(changedSource.error?.message).toContain('the source changed');

    h.source.set([...many(11).map((c, i) => (i === 0 ? { ...c, name: 'again' } : c))]);
    const stateChanged = join(h.dir, 'state.jsonl');
    await runSync(rt, { dryRun: true, planOut: stateChanged });
    await runSync(rt); // another run delivers the change first
    const changedState = await runSync(rt, { planFile: stateChanged });
    expect(changedState.error?.message).toContain('sync state changed');
  });

  it('rejects a file that is not a plan', async () => {
    h = await openHarness({ backend });
    const file = join(h.dir, 'bad.jsonl');
    writeFileSync(file, 'hello\n');
    await expect(runSync(h.runtime(), { planFile: file })).rejects.toThrow('not a plan file');
  });
});

describe.each(stateBackends)('orphans, dead letters, status, isolation ($name)', (backend) => {
  it('records orphans at a provider that cannot delete (deletes and phone changes)', async () => {
    h = await openHarness({ backend, providers: [{ name: 'alpha', deleteMode: 'none' }] });
    const rt = h.runtime();
    h.source.set([contact('a', '+14155550001'), contact('b', '+14155550002'), ...many(20)]);
    await runSync(rt);
    h.source.set([contact('a', '+14155550009'), ...many(20)]);
    const run = await runSync(rt);
    expect(run.report.providers.alpha!.planned.orphan).toBe(1);
    const orphans = await h.store.db.selectFrom('cs_orphans').select(['phone', 'contact_id', 'reason']).orderBy('phone').execute();
    expect(orphans).toEqual([
      { phone: '+14155550001', contact_id: 'a', reason: 'phone_changed' },
      { phone: '+14155550002', contact_id: 'b', reason: 'deleted_in_source' },
    ]);
    const status = await readStatus(h.store, 'acme');
    expect(status.providers.alpha).toMatchObject({ synced: 21, orphaned: 2, pending: 0 });
  });

  it('a rejected contact is retried after its backoff and becomes a dead letter after 3 attempts', async () => {
    h = await openHarness({ backend });
    let now = Date.parse('2024-06-01T00:00:00Z');
    const rt = h.runtime({ tuning: { clock: () => new Date(now) } });
    h.providers[0]!.script = { item: (id) => (id === 'bad' ? 'rejected' : 'ok') };
    // An invalid row is stamped again on every read: it must not push the dead letter out of view.
    h.source.set([contact('bad', '+14155550001'), contact('good', '+14155550002'), contact('broken', 'nope')]);
    const sends = () => h.providers[0]!.calls.filter((c) => c.op === 'upsert').length;
    const first = await runSync(rt);
    expect(first.report.status).toBe('partial');
    expect(first.problems[0]).toEqual({ provider: 'alpha', contactId: 'bad', code: 'fake_rejected', reason: 'the fake provider rejected it' });
    const afterFirst = sends();
    const early = await runSync(rt); // within the backoff: skipped, counted as deferred
    expect(early.deferred.alpha).toBe(1);
    expect(sends()).toBe(afterFirst);
    expect((await readStatus(h.store, 'acme')).deadLetters).toEqual([]);
    for (let i = 0; i < 2; i++) {
      now += 2 * 60 * 60_000;
      await runSync(rt);
    }
    const deadSince = new Date(now).toISOString();
    now += 24 * 60 * 60_000;
    const calls = sends();
    const dead = await runSync(rt);
    expect(dead.deferred.alpha).toBe(1);
    expect(sends()).toBe(calls);
    const status = await readStatus(h.store, 'acme', { now: new Date(now), rejections: 1 });
    expect(status.providers.alpha).toMatchObject({ synced: 1, dead: 1 });
    // What a provider said comes before source rows never sent, however recently those were stamped.
    expect(status.rejections).toEqual([expect.objectContaining({ provider: 'alpha', contactId: 'bad' })]);
    expect((await readStatus(h.store, 'acme', { now: new Date(now), rejections: 2 })).rejections.map((r) => [r.provider, r.contactId])).toEqual([
      ['alpha', 'bad'],
      ['*', 'broken'],
    ]);
    const deadLetter = { provider: 'alpha', contactId: 'bad', code: 'fake_rejected', reason: 'the fake provider rejected it', attempts: 3, since: deadSince };
    expect(status.deadLetters).toEqual([deadLetter]);
    expect(statusReportSchema.parse(JSON.parse(JSON.stringify(status))).deadLetters).toEqual([deadLetter]); // status --json
    const text = renderStatus(status);
    expect(text).toContain('Dead letters, waiting until the contact changes:');
    expect(text).toMatch(/bad\s+│?\s*alpha\s+│?\s*fake_rejected\s+│?\s*the fake provider rejected it\s+│?\s*3\s+│?\s*2024-06-01 04:00:00Z/);
    expect(renderStatus(await readStatus(h.store, 'acme', { deadLetters: 0 }))).toContain('Dead letters, waiting until the contact changes (the latest 0 of 1):');
    // A change gives it fresh attempts.
    h.providers[0]!.script = {};
    h.source.set([contact('bad', '+14155550001', { name: 'fixed' }), contact('good', '+14155550002')]);
    expect((await runSync(rt)).report.status).toBe('ok');
    expect((await readStatus(h.store, 'acme')).deadLetters).toEqual([]);
  });

  it('two tenants in one state store never see each other rows', async () => {
    h = await openHarness({ backend });
    h.source.set(many(3));
    await runSync(h.runtime({ tenant: 'one' }));
    const other = await runSync(h.runtime({ tenant: 'two' }));
    expect(other.report.providers.alpha!.planned.create).toBe(3); // tenant two has no baseline of its own
    h.source.set([]);
    const refused = await runSync(h.runtime({ tenant: 'one' }));
    expect(refused.report.status).toBe('refused');
    const rows = await h.store.db.selectFrom('cs_baseline').select(['tenant']).execute();
    expect(rows.filter((r) => r.tenant === 'one')).toHaveLength(3);
    expect(rows.filter((r) => r.tenant === 'two')).toHaveLength(3);
    expect((await readStatus(h.store, 'two')).lastRuns).toHaveLength(1);
  });

  it('reconcile re-sends what was changed or removed at the provider, and leaves foreign contacts alone', async () => {
    h = await openHarness({ backend });
    const rt = h.runtime();
    h.source.set(many(4));
    await runSync(rt);
    const remote = h.providers[0]!.remote;
    remote.delete('+14155552000');
    remote.set('+14155552001', { phone: '+14155552001', name: 'edited there', zip: '' });
    remote.set('+19999999999', { phone: '+19999999999', name: 'not ours', zip: '' });
    const dry = await runReconcile(rt, { dryRun: true });
    expect(dry.report.providers.alpha).toMatchObject({ checked: true, delivered: 4, missing: 1, drifted: 1, repaired: 0 });
    const run = await runReconcile(rt);
    expect(run.report.providers.alpha).toMatchObject({ missing: 1, drifted: 1, repaired: 2 });
    expect(remote.get('+14155552001')!.name).toBe('name c001');
    expect(remote.has('+14155552000')).toBe(true);
    expect(remote.get('+19999999999')!.name).toBe('not ours');
  });
});
