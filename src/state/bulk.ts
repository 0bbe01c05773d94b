/**
 * Bulk statements whose text does not grow with their rows: a batch's rows travel in ONE bound
 * parameter (a JSON array; a text array for a list of keys on PostgreSQL), so a statement is short,
 * the same for every batch (cheap to build, compiled once where the driver caches statements) and
 * never near a bound-parameter limit, and the database parses the values natively instead of the
 * client binding one parameter per cell.
 *
 * Both dialects read a JSON array as a table whose one column `value` is an element, and
 * `value->>i` is field i of an array element as text (SQL NULL for a JSON null).
 *
 * The one exception is `upsert` on SQLite, the journal's hot path: an embedded database binds
 * parameters without a round trip, so there a multi-row VALUES list (one text per row count) is
 * cheaper than extracting every cell from JSON.
 */
import { CompiledQuery, type Expression, type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import { isPostgres } from '../db/postgres.js';
import { chunksFor } from './chunks.js';

export interface BulkSql {
  /** A FROM item: one row per element of `elements`, each an array of fields. */
  rows(elements: readonly (readonly unknown[])[]): RawBuilder<unknown>;
  /** `column` is one of `values`: an index condition in both dialects. */
  anyOf(column: string, values: readonly string[]): Expression<SqlBool>;
  /** `column` is none of `values`. */
  noneOf(column: string, values: readonly string[]): Expression<SqlBool>;
  /**
   * Inserts `rows` (text columns only) into `table` under `tenant`; where the key already exists,
   * the stored row's other columns are replaced. One statement however many rows, so it is atomic
   * on its own. A key must not occur twice in `rows`.
   */
  upsert<R extends object>(table: string, tenant: string, key: readonly (keyof R & string)[], columns: readonly (keyof R & string)[], rows: readonly R[]): Promise<void>;
}

export function bulkSql<DB>(db: Kysely<DB>): BulkSql {
  const postgres = isPostgres(db);
  const rows: BulkSql['rows'] = postgres
    ? (elements) => sql`jsonb_array_elements(${JSON.stringify(elements)}::jsonb)`
    : (elements) => sql`json_each(${JSON.stringify(elements)})`;
  // PostgreSQL plans `= any(array)` as an index condition once the table has statistics; before its
  // first ANALYZE it may scan the whole provider instead (so does a join with unnest): see statistics.ts.
  const anyOf: BulkSql['anyOf'] = postgres
    ? (column, values) => sql<SqlBool>`${sql.ref(column)} = any(${values}::text[])`
    : (column, values) => sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(values)}))`;
  const noneOf: BulkSql['noneOf'] = postgres
    ? (column, values) => sql<SqlBool>`${sql.ref(column)} <> all(${values}::text[])`
    : (column, values) => sql<SqlBool>`${sql.ref(column)} not in (select value from json_each(${JSON.stringify(values)}))`;
  return {
    rows,
    anyOf,
    noneOf,
    async upsert(table, tenant, key, columns, values) {
      if (values.length === 0) return;
      if (!postgres) {
        // SQLite binds cells natively at a fraction of the cost of reading them back out of JSON;
        // the text depends only on the row count, so full batches reuse one compiled statement.
        for (const chunk of chunksFor(values, columns.length + 1)) {
          const params: unknown[] = [];
          for (const row of chunk) {
            params.push(tenant);
            for (const c of columns) params.push(row[c]);
          }
          await db.executeQuery(CompiledQuery.raw(sqliteUpsertText(table, key, columns, chunk.length), params));
        }
        return;
      }
      const fields = sql.join(columns.map((_, i) => sql`r.value->>${sql.lit(i)}`));
      const replaced = sql.join(columns.filter((c) => !key.includes(c)).map((c) => sql`${sql.ref(c)} = ${sql.ref(`excluded.${c}`)}`));
      // `where true`: SQLite would otherwise read ON CONFLICT as a join constraint of the select.
      await sql`insert into ${sql.table(table)} (tenant, ${sql.join(columns.map((c) => sql.ref(c)))})
        select ${tenant}, ${fields} from ${rows(values.map((v) => columns.map((c) => v[c])))} as r where true
        on conflict (tenant, ${sql.join(key.map((c) => sql.ref(c)))}) do update set ${replaced}`.execute(db);
    },
  };
}

const sqliteUpsertTexts = new Map<string, string>();

/** `insert … values (?, …), … on conflict … do update`, for `rows` rows, built once per table and row count. */
function sqliteUpsertText(table: string, key: readonly string[], columns: readonly string[], rows: number): string {
  const id = `${table}\u0000${rows}`;
  let text = sqliteUpsertTexts.get(id);
  if (text === undefined) {
    const quote = (name: string): string => `"${name}"`;
    const tuple = `(${new Array(columns.length + 1).fill('?').join(', ')})`;
    const replaced = columns.filter((c) => !key.includes(c)).map((c) => `${quote(c)} = excluded.${quote(c)}`);
    text = `insert into ${quote(table)} (tenant, ${columns.map(quote).join(', ')}) values ${new Array(rows).fill(tuple).join(', ')} on conflict (tenant, ${key.map(quote).join(', ')}) do update set ${replaced.join(', ')}`;
    sqliteUpsertTexts.set(id, text);
  }
  return text;
}
