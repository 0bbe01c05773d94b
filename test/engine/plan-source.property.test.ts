/**
 * The planner over its real inputs: a SQLite `contacts` table (the embedded source, created by the
 * source migration and read by the real reader) and the real phone normaliser, so national-format
 * numbers, numbers read in the row's country or the tenant's default, invalid numbers, extensions
 * and duplicates that only appear after normalisation all reach the plan. The plan (every
 * per-contact record of `--plan-out`) must equal a small reference model, first from an empty
 * baseline and then from the baseline the first run delivered.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tenantConfigSchema } from '../../src/config/schema.js';
import { openStore } from '../../src/db/open.js';
import { migrate } from '../../src/db/migrate.js';
import { planRecordSchema } from '../../src/engine/plan-records.js';
import { RequestTally } from '../../src/engine/request-tally.js';
import { createTenantRuntime } from '../../src/engine/runtime.js';
import { runSync } from '../../src/engine/sync.js';
import type { Payload } from '../../src/providers/types.js';
import { pageNormaliser } from '../../src/source/phone-pool.js';
import { openSource } from '../../src/source/reader.js';
import { openStateStore } from '../../src/state/store.js';
import { FakeProvider } from './fake-provider.js';

/** A phone as written in a row, the row's country, and what it must normalise to (defaultCountry US). */
interface PhoneForm {
  raw: string | null;
  country: string | null;
  expect: { e164: string } | { invalid: 'missing_phone' | 'invalid_phone' | 'phone_extension' };
}

// Several spellings of a few numbers, so that rows collide only once normalised.
const forms: PhoneForm[] = [
  { raw: '+14155552671', country: null, expect: { e164: '+14155552671' } },
  { raw: '(415) 555-2671', country: null, expect: { e164: '+14155552671' } }, // national, read in defaultCountry US
  { raw: '415.555.2671', country: 'us', expect: { e164: '+14155552671' } }, // the row's country, any case
  { raw: '001 415 555 2671', country: null, expect: { e164: '+14155552671' } }, // 00 international prefix
  { raw: '+44 20 7183 8750', country: null, expect: { e164: '+442071838750' } },
  { raw: '020 7183 8750', country: 'GB', expect: { e164: '+442071838750' } },
  { raw: '020 7183 8750', country: null, expect: { invalid: 'invalid_phone' } }, // not a US number
  { raw: '06 12 34 56 78', country: 'FR', expect: { e164: '+33612345678' } },
  { raw: '+33 6 12 34 56 78', country: 'DE', expect: { e164: '+33612345678' } }, // +code wins over the row's country
  { raw: '12', country: null, expect: { invalid: 'invalid_phone' } },
  { raw: 'not a phone', country: 'US', expect: { invalid: 'invalid_phone' } },
  { raw: '+1 415 555 2671 ext. 5', country: null, expect: { invalid: 'phone_extension' } },
  { raw: '   ', country: null, expect: { invalid: 'missing_phone' } },
  { raw: null, country: 'GB', expect: { invalid: 'missing_phone' } },
];

/** ASCII ids: JavaScript's string order is then the byte order the planner merges in. */
const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'A', 'a1', 'a10', 'a2'];

interface Row {
  id: string;
  form: PhoneForm;
  name: string | null;
  zip: string | null;
  updatedAt: string;
}

const rowArb = (id: string): fc.Arbitrary<Row> =>
  fc.record({
    form: fc.constantFrom(...forms),
    name: fc.constantFrom('Ann', 'Bob', null),
    zip: fc.constantFrom('94105', null),
    // Few distinct times: duplicate phones often tie and go to the smaller id.
    updated: fc.integer({ min: 1, max: 3 }),
  }).map((r) => ({ id, form: r.form, name: r.name, zip: r.zip, updatedAt: `2024-01-0${r.updated}T00:00:00Z` }));

const tableArb: fc.Arbitrary<Row[]> = fc.subarray(ids).chain((chosen) => fc.tuple(...chosen.map(rowArb)));

type Op = ['create' | 'update' | 'delete', string, Payload | null] | ['invalid', string, string];

/**
 * The reference: valid rows by normalised phone, the most recently updated winning (a tie: the
 * smaller id), the others invalid as duplicate_phone; a winner is created, or updated when its
 * payload differs from the delivered one; a delivered contact no longer in the table is deleted.
 */
function referencePlan(rows: readonly Row[], delivered: ReadonlyMap<string, Payload>): Op[] {
  const ops: Op[] = [];
  const winners = new Map<string, Row>();
  for (const row of rows) {
    if ('invalid' in row.form.expect) {
      ops.push(['invalid', row.id, row.form.expect.invalid]);
      continue;
    }
    const phone = row.form.expect.e164;
    const current = winners.get(phone);
    const wins = current === undefined || row.updatedAt > current.updatedAt || (row.updatedAt === current.updatedAt && row.id < current.id);
    if (current !== undefined) ops.push(['invalid', (wins ? current : row).id, 'duplicate_phone']);
    if (wins) winners.set(phone, row);
  }
  for (const [phone, row] of winners) {
    const payload = { phone, name: row.name ?? '', zip: row.zip ?? '' };
    const before = delivered.get(row.id);
    if (before === undefined) ops.push(['create', row.id, payload]);
    // Compared as values: the state stores a payload as its canonical JSON (keys sorted).
    else if (!isDeepStrictEqual(before, payload)) ops.push(['update', row.id, payload]);
  }
  const present = new Set(rows.map((r) => r.id));
  for (const id of delivered.keys()) if (!present.has(id)) ops.push(['delete', id, null]);
  return sortOps(ops);
}

function sortOps(ops: Op[]): Op[] {
  return ops.sort((a, b) => (a[0] + a[1] < b[0] + b[1] ? -1 : 1));
}

async function openSqliteTenant(dir: string) {
  const sourceUrl = `sqlite:${join(dir, 'source.db')}`;
  const config = tenantConfigSchema.parse({
    tenant: 'acme',
    source: { url: sourceUrl, defaultCountry: 'US' },
    providers: [{ name: 'alpha', type: 'twilio', accountSid: `AC${'0'.repeat(32)}`, authToken: 'secret' }],
  });
  const table = openStore<{ contacts: Record<'id' | 'phone' | 'name' | 'language' | 'country' | 'zip' | 'attributes' | 'updated_at', string | null> }>(sourceUrl);
  await migrate(table.db, 'source');
  const state = await openStateStore(`sqlite:${join(dir, 'state.db')}`);
  const provider = new FakeProvider('alpha');
  // The reader opens the file itself, as a tenant's run does.
  const source = openSource(config.source, dir);
  const runtime = createTenantRuntime({
    config,
    store: state,
    source,
    adapters: [provider],
    normalise: pageNormaliser(config.source.defaultCountry),
    requests: new RequestTally(),
    // Small pages: the merge crosses page boundaries.
    tuning: { heartbeatMs: 60_000, pageSize: 3 },
  });
  return {
    runtime,
    async fill(rows: readonly Row[]): Promise<void> {
      await table.db.deleteFrom('contacts').execute();
      if (rows.length === 0) return;
      await table.db
        .insertInto('contacts')
        .values(rows.map((r) => ({ id: r.id, phone: r.form.raw, name: r.name, language: null, country: r.form.country, zip: r.zip, attributes: null, updated_at: r.updatedAt })))
        .execute();
    },
    /** What the state says was delivered to alpha, by contact. */
    async delivered(): Promise<Map<string, Payload>> {
      const rows = await state.db.selectFrom('cs_baseline').select(['contact_id', 'payload']).where('provider', '=', 'alpha').execute();
      return new Map(rows.map((b) => [b.contact_id, JSON.parse(b.payload) as Payload]));
    },
    /** The dry run's per-contact plan, from its --plan-out file. */
    async plan(): Promise<Op[]> {
      const file = join(dir, 'plan.jsonl');
      await runSync(runtime, { dryRun: true, allowDeletes: true, planOut: file });
      const records = readFileSync(file, 'utf8').trim().split('\n').slice(1).map((line) => planRecordSchema.parse(JSON.parse(line)));
      return sortOps(records.map((r): Op => (r.op === 'invalid' ? ['invalid', r.contactId, r.code ?? ''] : [r.op as 'create' | 'update' | 'delete', r.contactId, r.after as Payload | null])));
    },
    provider,
    async close(): Promise<void> {
      await source.close();
      await table.close();
      await state.close();
    },
  };
}

describe('planner over a SQLite contacts table with the real normaliser', () => {
  it('plans what the reference model plans, from an empty baseline and from a delivered one', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, tableArb, async (before, after) => {
        const dir = mkdtempSync(join(tmpdir(), 'cs-plan-source-'));
        const tenant = await openSqliteTenant(dir);
        try {
          await tenant.fill(before);
          expect(await tenant.plan()).toEqual(referencePlan(before, new Map()));
          const run = await runSync(tenant.runtime, { allowDeletes: true });
          expect(run.report.status === 'ok' || run.report.status === 'partial').toBe(true);
          const delivered = await tenant.delivered();
          expect(new Map([...delivered.values()].map((p) => [p.phone, p]))).toEqual(tenant.provider.remote);

          await tenant.fill(after);
          expect(await tenant.plan()).toEqual(referencePlan(after, delivered));
        } finally {
          await tenant.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 50 },
    );
  });
});
