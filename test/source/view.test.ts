/**
 * A source that is a VIEW over the user's own table, mapped with `source.columns`, on every source
 * backend: read in byte order of its id across pages, only the rows the view selects.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { tenantConfigSchema } from '../../src/config/schema.js';
import { openStore } from '../../src/db/open.js';
import { compareKeys } from '../../src/engine/key-order.js';
import type { SourceContact } from '../../src/source/contact.js';
import { openSource } from '../../src/source/reader.js';
import { type StoreHandle, sourceBackends } from '../helpers/stores.js';

describe.each(sourceBackends)('a source view on $name', (backend) => {
  let handle: StoreHandle | undefined;
  afterEach(async () => {
    await handle?.cleanup();
    handle = undefined;
  });

  it('reads the rows the view selects through source.columns, in byte order across pages', async () => {
    handle = await backend.makeUrl();
    const ids = ['b', 'a', 'B', '10', '9', 'a-1', 'Z', 'a_1', 'aa', 'A'];
    const admin = openStore<unknown>(handle.url, { poolSize: 1 });
    try {
      await sql`create table crm_people (person_ref text primary key, cell text, full_name text, plan text, archived integer not null)`.execute(admin.db);
      for (const [n, id] of ids.entries()) {
        await sql`insert into crm_people values (${id}, ${`+1415555${String(2600 + n)}`}, ${`name ${id}`}, ${'{"plan":"pro"}'}, ${id === 'Z' ? 1 : 0})`.execute(admin.db);
      }
      // The view renames the columns and leaves archived people out.
      await sql`create view sync_people as select person_ref as ref, cell as mobile, full_name, plan as extra from crm_people where archived = 0`.execute(admin.db);
    } finally {
      await admin.close();
    }

    const { source } = tenantConfigSchema.parse({
      tenant: 't',
      source: { url: handle.url, table: 'sync_people', columns: { id: 'ref', phone: 'mobile', name: 'full_name', attributes: 'extra' } },
      providers: [{ name: 'o', type: 'oliai', apiKey: 'k' }],
    });
    const reader = openSource(source, process.cwd());
    try {
      expect(await reader.count()).toBe(ids.length - 1);
      const pages: number[] = [];
      const rows: SourceContact[] = [];
      for await (const page of reader.pages({ pageSize: 4 })) {
        pages.push(page.length);
        rows.push(...page);
      }
      expect(pages).toEqual([4, 4, 1]);
      const visible = ids.filter((id) => id !== 'Z').sort(compareKeys);
      expect(rows.map((r) => r.id)).toEqual(visible);
      expect(rows.find((r) => r.id === 'a-1')).toEqual({
        id: 'a-1',
        phone: `+1415555${2600 + ids.indexOf('a-1')}`,
        name: 'name a-1',
        language: null,
        country: null,
        zip: null,
        attributes: { plan: 'pro' },
        attributesText: '{"plan":"pro"}',
        updatedAt: null,
      });
    } finally {
      await reader.close();
    }
  });
});
