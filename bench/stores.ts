/** Scratch state stores for one measurement: a SQLite file in a temp dir, or a fresh PostgreSQL schema. */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/test';

export interface Scratch {
  url: string;
  cleanup(): Promise<void>;
}

export function scratchDir(prefix = 'cs-bench-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A private copy of a (cached, shared) source file that a figure may change. */
export function copySource(sourcePath: string, dir: string): string {
  const copy = join(dir, 'source.db');
  copyFileSync(sourcePath, copy);
  return copy;
}

export function sqliteState(dir: string, name = 'state.db'): Scratch {
  const path = join(dir, name);
  return { url: `sqlite:${path}`, cleanup: async () => rmSync(path, { force: true }) };
}

/**
 * A new schema in the database at `databaseUrl`, and a URL whose search_path selects it; dropped
 * by cleanup. Resolves to a reason instead when the server cannot be reached.
 */
export async function postgresState(databaseUrl: string): Promise<Scratch | { unreachable: string }> {
  const schema = `cs_bench_${randomBytes(5).toString('hex')}`;
  try {
    await admin(databaseUrl, `create schema ${schema}`);
  } catch (error) {
    return { unreachable: `${databaseUrl.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@')}: ${error instanceof Error ? error.message : String(error)}` };
  }
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), cleanup: () => admin(databaseUrl, `drop schema if exists ${schema} cascade`) };
}

async function admin(databaseUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
