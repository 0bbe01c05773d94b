/** What the state and source layers ask about PostgreSQL beside kysely itself. */
import { type Kysely, PostgresAdapter } from 'kysely';

/** Whether `db` talks to PostgreSQL (else SQLite). */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** The SQLSTATE of a PostgreSQL error (e.g. 40P01 deadlock_detected), if `error` carries one. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
