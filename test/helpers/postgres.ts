/**
 * PostgreSQL for tests: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). When it is
 * unreachable the tests are skipped with a clear message, except on CI (CI=true), where they fail:
 * CI is expected to provide PostgreSQL.
 */
import pg from 'pg';
import { describe } from 'vitest';

export const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let availability: Promise<string | undefined> | undefined;

/** Undefined when PostgreSQL answers, else why not. */
async function unavailableReason(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** True when PostgreSQL answers at DATABASE_URL; on CI an unreachable server throws instead. */
export async function pgAvailable(): Promise<boolean> {
  const reason = await (availability ??= unavailableReason());
  if (reason === undefined) return true;
  const where = databaseUrl.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
  if (process.env.CI === 'true') throw new Error(`PostgreSQL is required on CI but ${where} is unreachable: ${reason}`);
  console.warn(`skipping PostgreSQL tests: ${where} is unreachable (${reason}); set DATABASE_URL to run them`);
  return false;
}

// Settled once when a test file imports this helper, so `describePg` can decide at collection time.
const reachable = await pgAvailable();

/** `describe` that runs only when PostgreSQL is reachable (on CI an unreachable server fails the file instead). */
export const describePg = (name: string, body: () => void): void => {
  describe.skipIf(!reachable)(name, body);
};

/** A table name no other test run uses. */
export function uniqueTableName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}
