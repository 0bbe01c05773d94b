/**
 * The one set of migrations on both dialects: a fresh SQLite file and a fresh PostgreSQL schema
 * take both sets, a re-run changes nothing, concurrent first starts do not trip over each other,
 * and PostgreSQL reads values back as SQLite gives them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { type Store, openStore } from '../../src/db/open.js';
import { StoreError } from '../../src/errors.js';
import { databaseUrl, describePg } from '../helpers/postgres.js';
import { pgSchema } from '../helpers/stores.js';

const expectedTables = [
  'contacts',
  'cs_applied_plans',
  'cs_baseline',
  'cs_leases',
  'cs_orphans',
  'cs_outbox',
  'cs_rate_limits',
  'cs_rate_stamps',
  'cs_rejections',
  'cs_runs',
];

async function migrateBoth(db: Kysely<any>): Promise<void> {
  await migrate(db, 'source');
  await migrate(db, 'state');
}

async function appliedMigrations(db: Kysely<any>): Promise<string[]> {
  const source = await db.selectFrom('contact_sync_source_migrations').select('name').execute();
  const state = await db.selectFrom('contact_sync_state_migrations').select('name').execute();
  return [...source, ...state].map((r) => r.name as string).sort();
}

/** Our tables in the store's own schema (other test files' schemas share the database). */
async function ourTables(store: Store<any>): Promise<string[]> {
  const names =
    store.dialect === 'postgres'
      ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(store.db)).rows.map((r) => r.name)
      : (await store.db.introspection.getTables()).map((t) => t.name);
  return names.filter((n) => !n.startsWith('contact_sync_')).sort();
}

describe('migrations on SQLite', () => {
  let dir: string;
  let store: Store<any>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-db-'));
  });
  afterEach(async () => store?.close());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applies both sets on a fresh file, and a re-run is a no-op', async () => {
    store = openStore(`sqlite:${join(dir, 'fresh.db')}`);
    await migrateBoth(store.db);
    expect(await ourTables(store)).toEqual(expectedTables);
    const applied = await appliedMigrations(store.db);
    expect(applied).toEqual(['001_contacts', '001_engine_state', '010_scaleout', '020_run_progress', '030_baseline_phone_index']);
    await migrateBoth(store.db);
    expect(await appliedMigrations(store.db)).toEqual(applied);
  });
});

describePg('migrations on PostgreSQL', () => {
  const schemas: { cleanup(): Promise<void> }[] = [];
  const stores: Store<any>[] = [];
  async function freshStore(options: { poolSize?: number } = {}): Promise<Store<any>> {
    const schema = await pgSchema('cs_test_db');
    schemas.push(schema);
    const store = openStore(schema.url, options);
    stores.push(store);
    return store;
  }
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await Promise.all(schemas.splice(0).map((s) => s.cleanup()));
  });

  it('applies both sets on a fresh schema, and a re-run is a no-op', async () => {
    const store = await freshStore();
    await migrateBoth(store.db);
    expect(await ourTables(store)).toEqual(expectedTables);
    const applied = await appliedMigrations(store.db);
    expect(applied).toEqual(['001_contacts', '001_engine_state', '010_scaleout', '020_run_progress', '030_baseline_phone_index']);
    await migrateBoth(store.db);
    expect(await appliedMigrations(store.db)).toEqual(applied);
  });

  it('migrates a second schema of the same database on its own (the first one does not look migrated to it)', async () => {
    const first = await freshStore();
    await migrateBoth(first.db);
    const second = await freshStore();
    await migrateBoth(second.db);
    expect(await appliedMigrations(second.db)).toEqual(['001_contacts', '001_engine_state', '010_scaleout', '020_run_progress', '030_baseline_phone_index']);
    expect(await ourTables(second)).toEqual(expectedTables);
  });

  it('three processes starting at once on a fresh schema migrate it exactly once', async () => {
    const first = await freshStore({ poolSize: 2 });
    const url = (await sql<{ s: string }>`select current_schema() as s`.execute(first.db)).rows[0]!.s;
    const others = [0, 1].map(() => {
      const u = new URL(databaseUrl);
      u.searchParams.set('options', `-c search_path=${url}`);
      const store = openStore<any>(u.toString(), { poolSize: 2 });
      stores.push(store);
      return store;
    });
    await Promise.all([first, ...others].map((s) => migrateBoth(s.db)));
    expect(await appliedMigrations(first.db)).toEqual(['001_contacts', '001_engine_state', '010_scaleout', '020_run_progress', '030_baseline_phone_index']);
  });

  it('keys merge in binary order: contact ids are COLLATE "C"', async () => {
    const store = await freshStore();
    await migrateBoth(store.db);
    const { rows } = await sql<{ table_name: string; collation_name: string | null }>`
      select table_name, collation_name from information_schema.columns
      where table_schema = current_schema() and column_name in ('id', 'contact_id') and table_name in ('contacts', 'cs_baseline', 'cs_outbox', 'cs_rejections', 'cs_orphans')
      order by table_name`.execute(store.db);
    expect(rows).toEqual(['contacts', 'cs_baseline', 'cs_orphans', 'cs_outbox', 'cs_rejections'].map((table_name) => ({ table_name, collation_name: 'C' })));
    await store.db.insertInto('contacts').values(['b', 'B', 'a', 'é', 'Z'].map((id) => ({ id }))).execute();
    const ordered = await store.db.selectFrom('contacts').select('id').orderBy('id').execute();
    expect(ordered.map((r) => r.id)).toEqual(['B', 'Z', 'a', 'b', 'é']);
  });

  it('reads values back as SQLite gives them: int8 as numbers, timestamps as ISO-8601 UTC text, dates as text', async () => {
    const store = await freshStore();
    const { rows } = await sql<Record<string, unknown>>`
      select count(*) as n, 9007199254740991::int8 as big,
             timestamptz '2024-03-01 12:34:56.789+02' as tz, timestamp '2024-03-01 12:34:56.789' as plain, date '2024-03-01' as day`.execute(store.db);
    expect(rows[0]).toEqual({ n: 1, big: 9007199254740991, tz: '2024-03-01T10:34:56.789Z', plain: '2024-03-01T12:34:56.789Z', day: '2024-03-01' });
    await expect(sql`select 9007199254740993::int8 as too_big`.execute(store.db)).rejects.toThrow(/beyond/);
  });

  it('a search_path naming no existing schema is a clear store error', async () => {
    const u = new URL(databaseUrl);
    u.searchParams.set('options', '-c search_path=cs_test_no_such_schema');
    const store = openStore<any>(u.toString());
    stores.push(store);
    const error = await migrate(store.db, 'state').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/cs_test_no_such_schema.*CREATE SCHEMA/);
  });
});
