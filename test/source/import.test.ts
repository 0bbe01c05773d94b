import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { type LoadedConfig, loadConfig } from '../../src/config/load.js';
import { ConfigError, InputError } from '../../src/errors.js';
import type { SourceContact } from '../../src/source/contact.js';
import { importCsv } from '../../src/source/import.js';
import { openSource } from '../../src/source/reader.js';
import { tempDir, writeConfig } from '../config/helpers.js';

async function tenant(source = '{ url: "sqlite:src.db" }'): Promise<{ dir: string; loaded: LoadedConfig }> {
  const dir = tempDir('cs-import-');
  const file = writeConfig(dir, 't.yaml', `tenant: t\nsource: ${source}\nproviders: [{ name: o, type: oliai, apiKey: k }]\n`);
  return { dir, loaded: await loadConfig(file, {}) };
}

function csv(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function rows(loaded: LoadedConfig): Promise<SourceContact[]> {
  const reader = openSource(loaded.config.source, loaded.baseDir);
  const out: SourceContact[] = [];
  try {
    for await (const page of reader.pages()) out.push(...page);
  } finally {
    await reader.close();
  }
  return out;
}

const t0 = new Date('2024-06-01T00:00:00.000Z');
const t1 = new Date('2024-07-01T00:00:00.000Z');

describe('importCsv', () => {
  it('imports good rows and reports bad ones with their line and column', async () => {
    const { dir, loaded } = await tenant();
    const file = csv(
      dir,
      'c.csv',
      [
        'id,phone,name,language,country,zip,plan,vip', // line 1
        'c1,+14155552671,José Núñez,es-US,us,94107,pro,true',
        ',+14155552672,No Id,en-US,US,94107,,',
        'c2,020 7946 0958,"Zoë ""Z""\nSmith",en-GB,GB,SW1A 1AA,free,', // lines 4-5
        'c1,+14155552673,Again,en-US,US,94107,,',
        'c3,+14155552674,Short',
        '',
        'c4,+819012345678,山田 太郎,ja-JP,JP,100-0001,,false', // line 9
      ].join('\n'),
    );
    const report = await importCsv(loaded, file, { now: t0 });
    expect(report).toEqual({
      rows: 6,
      inserted: 3,
      updated: 0,
      unchanged: 0,
      deleted: 0,
      errors: 3,
      complete: true,
      rowErrors: [
        { line: 3, column: 'id', reason: 'missing id' },
        { line: 6, column: 'id', reason: 'duplicate id "c1" (first on line 2)' },
        { line: 7, column: null, reason: 'expected 8 fields as in the header, got 3' },
      ],
    });
    expect(await rows(loaded)).toEqual([
      { id: 'c1', phone: '+14155552671', name: 'José Núñez', language: 'es-US', country: 'US', zip: '94107', attributes: { plan: 'pro', vip: 'true' }, attributesText: '{"plan":"pro","vip":"true"}', updatedAt: t0.toISOString() },
      { id: 'c2', phone: '020 7946 0958', name: 'Zoë "Z"\nSmith', language: 'en-GB', country: 'GB', zip: 'SW1A 1AA', attributes: { plan: 'free' }, attributesText: '{"plan":"free"}', updatedAt: t0.toISOString() },
      { id: 'c4', phone: '+819012345678', name: '山田 太郎', language: 'ja-JP', country: 'JP', zip: '100-0001', attributes: { vip: 'false' }, attributesText: '{"vip":"false"}', updatedAt: t0.toISOString() },
    ]);
  });

  it('is idempotent, and moves updated_at only for rows that changed', async () => {
    const { dir, loaded } = await tenant();
    const header = 'id,phone,name,country,zip,plan\n';
    const first = csv(dir, 'a.csv', `${header}a,+14155552671,Ann,US,94107,pro\nb,+14155552672,Bob,US,94107,free\n`);
    await importCsv(loaded, first, { now: t0 });
    expect(await importCsv(loaded, first, { now: t1 })).toMatchObject({ inserted: 0, updated: 0, unchanged: 2, errors: 0 });

    const second = csv(dir, 'b.csv', `${header}a,+14155552671,Ann,US,94107,enterprise\nb,+14155552672,Bob,US,94107,free\n`);
    expect(await importCsv(loaded, second, { now: t1 })).toMatchObject({ inserted: 0, updated: 1, unchanged: 1 });
    const after = await rows(loaded);
    expect(after.map((r) => [r.id, r.attributes, r.updatedAt])).toEqual([
      ['a', { plan: 'enterprise' }, t1.toISOString()],
      ['b', { plan: 'free' }, t0.toISOString()],
    ]);
  });

  it('takes updated_at from the CSV when it has the column, and refuses one that is not a time', async () => {
    const { dir, loaded } = await tenant();
    const file = csv(dir, 'u.csv', 'id,phone,updated_at\na,+14155552671,2024-01-02T03:04:05Z\nb,+14155552672,last tuesday\n');
    const report = await importCsv(loaded, file, { now: t0 });
    expect(report.rowErrors).toEqual([{ line: 3, column: 'updated_at', reason: 'updated_at "last tuesday" is not a date and time (expected ISO 8601, e.g. 2024-05-01T10:00:00Z)' }]);
    expect((await rows(loaded)).map((r) => r.updatedAt)).toEqual(['2024-01-02T03:04:05.000Z']);
    expect(await importCsv(loaded, file, { now: t1 })).toMatchObject({ unchanged: 1, errors: 1 });
  });

  it('reads a JSON attributes column and refuses a malformed one', async () => {
    const { dir, loaded } = await tenant();
    const file = csv(dir, 'j.csv', 'id,phone,attributes,plan\na,+14155552671,"{""tier"":2,""beta"":true}",pro\nb,+14155552672,{tier:2},pro\n');
    const report = await importCsv(loaded, file, { now: t0 });
    expect(report.rowErrors).toEqual([{ line: 3, column: 'attributes', reason: 'attributes is not a JSON object: {tier:2}' }]);
    expect((await rows(loaded)).map((r) => r.attributes)).toEqual([{ tier: 2, beta: true, plan: 'pro' }]);
  });

  it('with replace, deletes the rows the CSV does not hold, but never those on a bad line', async () => {
    const { dir, loaded } = await tenant();
    await importCsv(loaded, csv(dir, 'all.csv', 'id,phone\na,+14155552671\nb,+14155552672\nc,+14155552673\nd,+14155552674\n'), { now: t0 });
    const report = await importCsv(loaded, csv(dir, 'some.csv', 'id,phone,name\na,+14155552671\nc,+14155552673,x,extra\n'), { replace: true, now: t1 });
    expect(report).toMatchObject({ deleted: 2, errors: 2, complete: true });
    expect((await rows(loaded)).map((r) => r.id)).toEqual(['a', 'c']);
  });

  it('with replace, deletes nothing when a record could not be read', async () => {
    const { dir, loaded } = await tenant();
    await importCsv(loaded, csv(dir, 'all.csv', 'id,phone\na,+14155552671\nb,+14155552672\n'), { now: t0 });
    const report = await importCsv(loaded, csv(dir, 'bad.csv', 'id,phone\na,+14155552671\n"b,+14155552672\n'), { replace: true, now: t1 });
    expect(report.complete).toBe(false);
    expect(report.deleted).toBe(0);
    expect(report.rowErrors[0]).toMatchObject({ line: 3, column: null });
    expect(report.rowErrors[0]!.reason).toMatch(/Quote Not Closed/);
    expect((await rows(loaded)).map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('refuses a file it cannot read at all', async () => {
    const { dir, loaded } = await tenant();
    await expect(importCsv(loaded, join(dir, 'missing.csv'))).rejects.toThrow(InputError);
    await expect(importCsv(loaded, join(dir, 'missing.csv'))).rejects.toThrow(/no such file/);
    await expect(importCsv(loaded, dir)).rejects.toThrow(/is a directory/);
    await expect(importCsv(loaded, csv(dir, 'empty.csv', ''))).rejects.toThrow(/is empty: expected a header/);
    await expect(importCsv(loaded, csv(dir, 'noid.csv', 'key,phone\n1,2\n'))).rejects.toThrow(/the header has no "id" column \(found: key, phone\)/);
    await expect(importCsv(loaded, csv(dir, 'twice.csv', 'id,phone,Phone\n'))).rejects.toThrow(/names column "Phone" twice/);
  });

  it("writes to the user's own table through source.columns, creating it when missing", async () => {
    const { dir, loaded } = await tenant('{ url: "sqlite:crm.db", table: people, columns: { id: person_id, phone: mobile, attributes: extra } }');
    const report = await importCsv(loaded, csv(dir, 'p.csv', 'id,phone,name,plan\np1,+14155552671,Ann,pro\n'), { now: t0 });
    expect(report).toMatchObject({ inserted: 1, errors: 0 });
    const db = new SQLite(join(dir, 'crm.db'), { readonly: true });
    expect(db.prepare('select person_id, mobile, name, extra, updated_at from people').all()).toEqual([{ person_id: 'p1', mobile: '+14155552671', name: 'Ann', extra: '{"plan":"pro"}', updated_at: t0.toISOString() }]);
    db.close();
  });

  it('refuses a CSV column the table has no place for, and names a mapped column that does not exist', async () => {
    const { dir, loaded } = await tenant('{ url: "sqlite:crm.db", table: people, columns: { id: person_id, phone: mobile } }');
    const db = new SQLite(join(dir, 'crm.db'));
    db.exec('create table people (person_id text primary key, mobile text, name text)');
    db.close();
    await expect(importCsv(loaded, csv(dir, 'p.csv', 'id,phone,zip\np1,+14155552671,94107\n'))).rejects.toThrow(/table "people" has no column for zip, which the CSV fills/);
    expect(await importCsv(loaded, csv(dir, 'q.csv', 'id,phone,name\np1,+14155552671,Ann\n'))).toMatchObject({ inserted: 1 });

    const { loaded: wrong } = await tenant('{ url: "sqlite:crm.db", table: people, columns: { id: person_id, phone: cell } }');
    const copy = { ...wrong, baseDir: dir, config: { ...wrong.config, source: { ...wrong.config.source, url: `sqlite:${join(dir, 'crm.db')}` } } };
    const error = await importCsv(copy, csv(dir, 'r.csv', 'id,phone\np1,+1\n')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]).toMatchObject({ path: 'source.columns.phone', message: expect.stringContaining('column "cell" for phone does not exist in table "people"; its columns are: person_id, mobile, name') });
  });

  it('streams a file of 20,000 rows in batches', async () => {
    const { dir, loaded } = await tenant();
    const lines = ['id,phone,name,country,zip,plan'];
    for (let i = 0; i < 20_000; i++) lines.push(`c${String(i).padStart(6, '0')},+1415${String(5_550_000 + i)},Name ${i},US,94107,${i % 3 === 0 ? 'pro' : 'free'}`);
    const file = csv(dir, 'big.csv', `${lines.join('\n')}\n`);
    expect(await importCsv(loaded, file, { now: t0, batchSize: 3_000 })).toMatchObject({ rows: 20_000, inserted: 20_000, errors: 0 });
    expect(await importCsv(loaded, file, { now: t1, replace: true })).toMatchObject({ rows: 20_000, unchanged: 20_000, deleted: 0 });
    const reader = openSource(loaded.config.source, loaded.baseDir);
    expect(await reader.count()).toBe(20_000);
    await reader.close();
  });
});
