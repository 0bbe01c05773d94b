/**
 * Runs one suite against every store dialect without duplicating it:
 *
 *   describe.each(stateBackends)('engine on $name', ({ makeUrl }) => { … const { url, cleanup } = await makeUrl(); … })
 *   describe.each(sourceStatePairs)('engine ($label)', ({ source, state }) => { … })
 *
 * Each `makeUrl()` gives a store of its own: a temp SQLite file, or a fresh PostgreSQL schema
 * (selected by the URL's search_path) so parallel test files never collide; `cleanup()` deletes
 * it. PostgreSQL is left out, with a message, when unreachable, except under CI=true, where
 * loading this module fails instead (see ./postgres.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { databaseUrl, pgAvailable } from './postgres.js';

export interface StoreHandle {
  url: string;
  cleanup(): Promise<void>;
}

export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  makeUrl(): Promise<StoreHandle>;
}

/** A fresh schema of its own and a URL whose search_path selects it; `cleanup` drops it and everything in it. */
export async function pgSchema(prefix = 'cs_test'): Promise<StoreHandle & { schema: string }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  await runAdmin(`create schema ${schema}`);
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), schema, cleanup: () => runAdmin(`drop schema if exists ${schema} cascade`) };
}

async function runAdmin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function sqliteBackend(file: string): StoreBackend {
  return {
    name: 'sqlite',
    async makeUrl() {
      const dir = mkdtempSync(join(tmpdir(), 'cs-store-'));
      return { url: `sqlite:${join(dir, file)}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  };
}

function postgresBackend(prefix: string): StoreBackend {
  return { name: 'postgres', makeUrl: () => pgSchema(prefix) };
}

const withPostgres = await pgAvailable();

/** Where the engine keeps its state. */
export const stateBackends: StoreBackend[] = [sqliteBackend('state.db'), ...(withPostgres ? [postgresBackend('cs_test_state')] : [])];

/** Where a tenant's source table lives (create it with migrate(db, 'source') or the test's own DDL). */
export const sourceBackends: StoreBackend[] = [sqliteBackend('source.db'), ...(withPostgres ? [postgresBackend('cs_test_source')] : [])];

/** Every source backend with every state backend (a tenant's source and state are chosen independently). */
export const sourceStatePairs: { label: string; source: StoreBackend; state: StoreBackend }[] = sourceBackends.flatMap((source) =>
  stateBackends.map((state) => ({ label: `source on ${source.name}, state on ${state.name}`, source, state })),
);
