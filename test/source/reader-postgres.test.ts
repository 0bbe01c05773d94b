import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tenantConfigSchema } from '../../src/config/schema.js';
import { compareKeys } from '../../src/engine/key-order.js';
import { loadConfig } from '../../src/config/load.js';
import { importCsv } from '../../src/source/import.js';
import { openSource } from '../../src/source/reader.js';
import { tempDir, writeConfig } from '../config/helpers.js';
import type { SourceContact } from '../../src/source/contact.js';
import { databaseUrl, describePg, uniqueTableName } from '../helpers/postgres.js';

describePg('openSource on PostgreSQL', () => {
  const table = uniqueTableName('cs_source');
  const client = new pg.Client({ connectionString: databaseUrl });
  const ids = ['b', 'a', 'B', '10', '9', 'a-1', 'Z', 'a_1', 'aa', 'A'];

  beforeAll(async () => {
    await client.connect();
    await client.query(`create table ${table} (contact_key text primary key, mobile text, name text, attrs jsonb, changed timestamptz)`);
    for (const id of ids) {
      await client.query(`insert into ${table} values ($1, $2, $3, $4, $5)`, [id, '+442079460958', `name ${id}`, { plan: 'pro', vip: id === 'a' }, '2024-05-01T10:00:00Z']);
    }
  });

  afterAll(async () => {
    await client.query(`drop table if exists ${table}`);
    await client.end();
  });

  it('reads in byte order (COLLATE "C") across pages, with jsonb attributes and timestamps as ISO text', async () => {
    const source = tenantConfigSchema.parse({
      tenant: 't',
      source: { url: databaseUrl, table, columns: { id: 'contact_key', phone: 'mobile', attributes: 'attrs', updated_at: 'changed' } },
      providers: [{ name: 'o', type: 'oliai', apiKey: 'k' }],
    }).source;
    const reader = openSource(source, process.cwd());
    try {
      expect(await reader.count()).toBe(ids.length);
      const rows: SourceContact[] = [];
      const pages: number[] = [];
      for await (const page of reader.pages({ pageSize: 4 })) {
        pages.push(page.length);
        rows.push(...page);
      }
      expect(pages).toEqual([4, 4, 2]);
      expect(rows.map((r) => r.id)).toEqual([...ids].sort(compareKeys));
      expect(rows.find((r) => r.id === 'a')).toEqual({
        id: 'a',
        phone: '+442079460958',
        name: 'name a',
        language: null,
        country: null,
        zip: null,
        attributes: { plan: 'pro', vip: true },
        updatedAt: '2024-05-01T10:00:00.000Z',
      });
    } finally {
      await reader.close();
    }
  });

  it('imports a CSV into a table it creates, idempotently, and replaces', async () => {
    const imported = uniqueTableName('cs_import');
    const dir = tempDir('cs-pg-import-');
    const file = writeConfig(dir, 't.yaml', `tenant: t\nsource: { url: "${databaseUrl}", table: ${imported}, columns: { phone: mobile } }\nproviders: [{ name: o, type: oliai, apiKey: k }]\n`);
    const loaded = await loadConfig(file, {});
    const csv = join(dir, 'c.csv');
    try {
      writeFileSync(csv, 'id,phone,name,plan\nb,+14155552672,Bob,free\nA,+14155552671,Ann,pro\na,+14155552673,ann,pro\n');
      expect(await importCsv(loaded, csv, {})).toMatchObject({ inserted: 3, errors: 0 });
      expect(await importCsv(loaded, csv, {})).toMatchObject({ unchanged: 3 });
      writeFileSync(csv, 'id,phone,name,plan\nb,+14155552672,Bob,pro\nA,+14155552671,Ann,pro\n');
      expect(await importCsv(loaded, csv, { replace: true })).toMatchObject({ updated: 1, unchanged: 1, deleted: 1 });
      const reader = openSource(loaded.config.source, loaded.baseDir);
      const rows: SourceContact[] = [];
      for await (const page of reader.pages()) rows.push(...page);
      await reader.close();
      expect(rows.map((r) => [r.id, r.phone, r.attributes])).toEqual([
        ['A', '+14155552671', { plan: 'pro' }],
        ['b', '+14155552672', { plan: 'pro' }],
      ]);
    } finally {
      await client.query(`drop table if exists ${imported}`);
    }
  });
});
