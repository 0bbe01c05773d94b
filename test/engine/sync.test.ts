import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSync } from '../../src/engine/sync.js';
import { type Harness, contact, openHarness } from './harness.js';
import { stateBackends } from '../helpers/stores.js';

let h: Harness;
afterEach(async () => h?.close());

function remoteOf(h: Harness, i = 0): Record<string, unknown> {
  return Object.fromEntries([...h.providers[i]!.remote.entries()].sort());
}

describe.each(stateBackends)('runSync with a fake provider ($name)', (backend) => {
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
