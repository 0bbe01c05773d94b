/**
 * Applies the migrations in `migrations/` (one set for the embedded source table, one for the
 * engine's state). Each set keeps its own kysely migration table, so source and state may share
 * one database. The same migrations run on SQLite and PostgreSQL.
 */
import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import * as contacts001 from '../../migrations/source/001_contacts.js';
import * as state001 from '../../migrations/state/001_engine_state.js';
import * as state010 from '../../migrations/state/010_scaleout.js';
import * as state020 from '../../migrations/state/020_run_progress.js';
import * as state030 from '../../migrations/state/030_baseline_phone_index.js';
import { StoreError } from '../errors.js';
import { isPostgres, sqlStateOf } from './postgres.js';

const sets = {
  source: { table: 'contact_sync_source_migrations', migrations: { '001_contacts': contacts001 } },
  state: { table: 'contact_sync_state_migrations', migrations: { '001_engine_state': state001, '010_scaleout': state010, '020_run_progress': state020, '030_baseline_phone_index': state030 } },
} satisfies Record<string, { table: string; migrations: Record<string, Migration> }>;

export async function migrate(db: Kysely<any>, set: keyof typeof sets): Promise<void> {
  const { table, migrations } = sets[set];
  const migrator = new Migrator({
    db,
    migrationTableName: table,
    migrationLockTableName: `${table}_lock`,
    // kysely looks for its migration table in every schema unless told which one: a second
    // tenant's schema in the same database would otherwise look already migrated.
    ...(await postgresSchema(db)),
    provider: { getMigrations: async () => migrations },
  });
  let { error, results } = await migrator.migrateToLatest();
  // kysely's PostgreSQL introspection reads the catalog of every schema in the database: DDL there
  // meanwhile (another tenant's migration, a dropped test schema) can fail it. When no migration of
  // ours failed, nothing of ours was changed: look again.
  for (let retry = 0; retry < 5 && isCatalogRace(error, results); retry++) ({ error, results } = await migrator.migrateToLatest());
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new StoreError(`${set} migration ${failed ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** On PostgreSQL, the schema the connection's search_path resolves to (where our tables go). */
async function postgresSchema(db: Kysely<any>): Promise<{ migrationTableSchema?: string }> {
  if (!isPostgres(db)) return {};
  const { rows } = await sql<{ schema: string | null; path: string }>`select current_schema() as schema, current_setting('search_path') as path`.execute(db);
  const schema = rows[0]?.schema;
  if (schema == null) {
    throw new StoreError(`no schema of the search_path (${rows[0]?.path ?? '?'}) exists in this database: create it first (CREATE SCHEMA …)`);
  }
  return { migrationTableSchema: schema };
}

// invalid_schema_name, undefined_column, undefined_table, internal_error ("cache lookup failed")
const catalogRaceCodes = new Set(['3F000', '42703', '42P01', 'XX000']);

function isCatalogRace(error: unknown, results: readonly { status: string }[] | undefined): boolean {
  const code = sqlStateOf(error);
  return code !== undefined && catalogRaceCodes.has(code) && !results?.some((r) => r.status === 'Error');
}
