import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tenantConfigSchema, type TenantConfig } from '../../src/config/schema.js';
import { compareKeys } from '../../src/engine/key-order.js';
import { StoreError } from '../../src/errors.js';
import type { SourceContact } from '../../src/source/contact.js';
import { openSource } from '../../src/source/reader.js';
import type { SourceReader } from '../../src/source/types.js';
import { tempDir } from '../config/helpers.js';

function sourceConfig(source: Record<string, unknown>): TenantConfig['source'] {
  return tenantConfigSchema.parse({ tenant: 't', source, providers: [{ name: 'o', type: 'oliai', apiKey: 'k' }] }).source;
}

async function readAll(reader: SourceReader, pageSize: number): Promise<{ pages: number[]; rows: SourceContact[] }> {
  const pages: number[] = [];
  const rows: SourceContact[] = [];
  for await (const page of reader.pages({ pageSize })) {
    pages.push(page.length);
    rows.push(...page);
  }
  return { pages, rows };
}

const readers: SourceReader[] = [];
afterEach(async () => {
  await Promise.all(readers.splice(0).map((r) => r.close()));
});

function open(source: TenantConfig['source'], baseDir: string, options?: Parameters<typeof openSource>[2]): SourceReader {
  const reader = openSource(source, baseDir, options);
  readers.push(reader);
  return reader;
}

describe('openSource on SQLite', () => {
  it('creates the embedded contacts table and reads every row in binary id order across pages', async () => {
    const dir = tempDir('cs-source-');
    const reader = open(sourceConfig({ url: 'sqlite:data/src.db' }), dir);
    expect(await reader.count()).toBe(0);
    expect((await readAll(reader, 3)).rows).toEqual([]);

    const ids = ['b', 'a', 'B', '10', '9', 'a-1', 'é', 'Z', 'a_1', 'aa', ' x'];
    const db = new SQLite(join(dir, 'data/src.db'));
    const insert = db.prepare('insert into contacts (id, phone, name, language, country, zip, attributes, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)');
    for (const id of ids) insert.run(id, '+14155552671', `n ${id}`, 'en-US', 'us', '94107', '{"plan":"pro","vip":true}', '2024-05-01T10:00:00.000Z');
    db.close();

    expect(await reader.count()).toBe(ids.length);
    const { pages, rows } = await readAll(reader, 3);
    expect(pages).toEqual([3, 3, 3, 2]);
    expect(rows.map((r) => r.id)).toEqual([...ids].sort(compareKeys));
    expect(rows.find((r) => r.id === 'é')).toEqual({
      id: 'é',
      phone: '+14155552671',
      name: 'n é',
      language: 'en-US',
      country: 'us',
      zip: '94107',
      attributes: { plan: 'pro', vip: true },
      // The stored text rides along so the planner can fingerprint it without re-serialising.
      attributesText: '{"plan":"pro","vip":true}',
      updatedAt: '2024-05-01T10:00:00.000Z',
    });
    // A page size that divides the row count ends with one empty read, not a repeated row.
    expect((await readAll(reader, ids.length)).rows).toHaveLength(ids.length);
  });

  it("reads a user's own table through source.columns; absent optional columns read as null", async () => {
    const dir = tempDir('cs-source-');
    const db = new SQLite(join(dir, 'crm.db'));
    db.exec('create table people (person_id text primary key, mobile text, full_name text, modified integer, created text)');
    const insert = db.prepare('insert into people values (?, ?, ?, ?, ?)');
    insert.run('p2', '020 7946 0958', 'Zoë', 1714557600, 'x');
    insert.run('p1', null, 'José Núñez', null, 'x');
    db.close();

    const source = sourceConfig({ url: 'sqlite:crm.db', table: 'people', columns: { id: 'person_id', phone: 'mobile', name: 'full_name', updated_at: 'modified' } });
    const { rows } = await readAll(open(source, dir), 10);
    expect(rows).toEqual([
      { id: 'p1', phone: null, name: 'José Núñez', language: null, country: null, zip: null, attributes: {}, updatedAt: null },
      { id: 'p2', phone: '020 7946 0958', name: 'Zoë', language: null, country: null, zip: null, attributes: {}, updatedAt: '2024-05-01T10:00:00.000Z' },
    ]);
  });

  it('reads integer ids as text in binary order, and SQLite timestamps as ISO', async () => {
    const dir = tempDir('cs-source-');
    const db = new SQLite(join(dir, 'n.db'));
    db.exec('create table contacts_n (id integer primary key, phone text, updated_at text)');
    for (const id of [1, 2, 9, 10, 11, 100]) db.prepare('insert into contacts_n values (?, ?, ?)').run(id, `+1415555${2600 + id}`, '2024-05-01 10:00:00');
    db.close();
    const { rows } = await readAll(open(sourceConfig({ url: 'sqlite:n.db', table: 'contacts_n' }), dir), 2);
    expect(rows.map((r) => r.id)).toEqual(['1', '10', '100', '11', '2', '9']);
    expect(rows[0]!.updatedAt).toBe('2024-05-01T10:00:00Z');
  });

  it('names a mapped column that does not exist, and the columns that do', async () => {
    const dir = tempDir('cs-source-');
    const db = new SQLite(join(dir, 'crm.db'));
    db.exec('create table people (person_id text primary key, mobile_number text)');
    db.close();
    const reader = open(sourceConfig({ url: 'sqlite:crm.db', table: 'people', columns: { id: 'person_id', phone: 'mobile' } }), dir);
    const error = await reader.count().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toContain('column "mobile" for phone does not exist in table "people"; its columns are: person_id, mobile_number');
  });

  it('says when the table does not exist', async () => {
    const dir = tempDir('cs-source-');
    const reader = open(sourceConfig({ url: 'sqlite:crm.db', table: 'people' }), dir);
    await expect(reader.count()).rejects.toThrow(/the source table "people" does not exist/);
  });

  it('reads attributes that are not a JSON object as {} and says so', async () => {
    const dir = tempDir('cs-source-');
    const warnings: string[] = [];
    const reader = open(sourceConfig({ url: 'sqlite:s.db' }), dir, { onWarning: (message, where) => warnings.push(`${where.id}.${where.column}: ${message}`) });
    await reader.count();
    const db = new SQLite(join(dir, 's.db'));
    db.prepare("insert into contacts (id, phone, attributes) values ('a', '+14155552671', '{broken'), ('b', '+14155552672', '[1,2]')").run();
    db.close();
    const { rows } = await readAll(reader, 10);
    expect(rows.map((r) => r.attributes)).toEqual([{}, {}]);
    expect(warnings).toEqual(['a.attributes: attributes is not a JSON object: read as {}', 'b.attributes: attributes is not a JSON object: read as {}']);
  });
});
