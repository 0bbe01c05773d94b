import { type Kysely, PostgresAdapter, type RawBuilder, sql } from 'kysely';

/**
 * The column type of a key the engine merges in order. Keys sort as binary strings on both sides
 * of the planner's merge: SQLite's default BINARY collation already does; PostgreSQL needs
 * COLLATE "C" (a database's default collation, e.g. en_US, orders 'a' < 'B' < 'b').
 */
export function binaryKeyType(db: Kysely<unknown>): RawBuilder<unknown> {
  return db.getExecutor().adapter instanceof PostgresAdapter ? sql`text collate "C"` : sql`text`;
}
