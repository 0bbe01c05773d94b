/**
 * Keeps the benchmark code from rotting: the generator and the plan figure at N = 2,000 (counts
 * only, never times). The full benchmarks run with `npm run bench`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeContact, sampleIndexes } from '../../bench/fake-contacts.js';
import { planFigure, preparePlanDataset } from '../../bench/figures/plan.js';
import { timeFirstSyncPlans } from '../../bench/first-sync-plan.js';
import { normalisePhone } from '../../src/source/normalise.js';
import type { ContactsTable } from '../../src/db/schema.js';

const root = mkdtempSync(join(tmpdir(), 'cs-bench-smoke-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const params = { n: 2_000, seed: 7, runs: 1, providers: ['twilio', 'trackly', 'oliai'] as const, root };

describe('bench generator', () => {
  it('writes N rows whose phones are all valid and distinct, and changes 1 % of them', async () => {
    const dataset = await preparePlanDataset(params);
    const read = (path: string): ContactsTable[] => {
      const db = new SQLite(path, { readonly: true });
      try {
        return db.prepare('select * from contacts order by id').all() as ContactsTable[];
      } finally {
        db.close();
      }
    };
    const rows = read(dataset.sourcePath);
    expect(rows).toHaveLength(2_000);
    const phones = rows.map((r) => normalisePhone(r.phone, { country: r.country, defaultCountry: 'US' }));
    expect(phones.filter((p) => !p.ok)).toEqual([]);
    expect(new Set(phones.map((p) => (p.ok ? p.e164 : ''))).size).toBe(2_000);
    expect(new Set(rows.map((r) => r.country)).size).toBeGreaterThan(8);

    const changed = read(dataset.changedSourcePath);
    const differing = changed.filter((row, i) => row.zip !== rows[i]!.zip);
    expect(differing.map((r) => r.id)).toEqual(dataset.changedIds);
    expect(dataset.changedIds).toHaveLength(20);
    expect(differing.every((row) => row.phone === rows.find((r) => r.id === row.id)!.phone)).toBe(true);

    const baseline = new SQLite(dataset.statePath!, { readonly: true });
    try {
      expect(baseline.prepare('select provider, count(*) as n from cs_baseline group by provider order by provider').all()).toEqual([
        { provider: 'oliai', n: 2_000 },
        { provider: 'trackly', n: 2_000 },
        { provider: 'twilio', n: 2_000 },
      ]);
    } finally {
      baseline.close();
    }
  });

  it('is deterministic per (seed, row, version)', () => {
    expect(fakeContact(7, 123)).toEqual(fakeContact(7, 123));
    expect(fakeContact(7, 123, 1).zip).not.toBe(fakeContact(7, 123).zip);
    expect(fakeContact(8, 123).phone).not.toBe(fakeContact(7, 123).phone);
    expect(new Set(sampleIndexes(7, 100, 30)).size).toBe(30);
  });
});

describe('bench plan figure', () => {
  it('plans exactly the changed rows against the generated baseline and reads every row bare', async () => {
    const figure = await planFigure(params);
    const correct = figure.checks.find((c) => c.name.startsWith('plan is correct'));
    expect(correct).toMatchObject({ pass: true, measured: 'yes' });
    expect(figure.data.planMs).toHaveLength(1);
    expect(figure.data.readMs).toHaveLength(1);
    expect(figure.checks.map((c) => c.name)).toContain('plan / bare read');
  });
});

describe('bench first-sync plan (A/B helper)', () => {
  it('plans every contact as a create for each provider, nothing sent', async () => {
    const plans = await timeFirstSyncPlans({ n: 2_000, seed: 7, runs: 2, providers: ['twilio', 'trackly'], root });
    expect(plans.map((p) => p.planned)).toEqual([4_000, 4_000]);
  });
});
