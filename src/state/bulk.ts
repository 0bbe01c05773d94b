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
 * cheaper than extracting every cell from JSON. Both dialects' upsert texts are built once, not
 * through the query builder.
 */
import { CompiledQuery, type Expression, type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import { isPostgres } from '../db/postgres.js';
import { keepPrepared } from '../db/prepared-statements.js';
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
   * on its own. A key must not occur twice in `rows`. With `deleting`, the tenant's rows of another
   * table that match it go too: in the same statement on PostgreSQL (a data-modifying WITH, one
   * round trip instead of two), in a statement just before on SQLite (no round trips there).
   */
  upsert<R extends object>(table: string, tenant: string, key: readonly (keyof R & string)[], columns: readonly (keyof R & string)[], rows: readonly R[], deleting?: Deletion): Promise<void>;
}

/** Rows of `table` whose columns equal the values of `where` (all text; a list: any of them). */
export interface Deletion {
  table: string;
  where: readonly (readonly [column: string, value: string | readonly string[]])[];
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
    async upsert(table, tenant, key, columns, values, deleting) {
      const dialect = postgres ? 'postgres' : 'sqlite';
      if (deleting !== undefined && (values.length === 0 || !postgres)) {
        await db.executeQuery(CompiledQuery.raw(`delete from ${deletionText(dialect, deleting, 2)}`, [tenant, ...deletionValues(dialect, deleting)]));
      }
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
          await db.executeQuery(CompiledQuery.raw(upsertText(dialect, table, key, columns, chunk.length), params));
        }
        return;
      }
      const elements = JSON.stringify(values.map((v) => columns.map((c) => v[c])));
      const text = upsertText(dialect, table, key, columns, 0);
      if (deleting === undefined) {
        await db.executeQuery(CompiledQuery.raw(text, [tenant, elements]));
        return;
      }
      // $1 the tenant and $2 the rows, as in the upsert's own text; the deletion's values from $3.
      const statement = keepPrepared(`with deleted as (delete from ${deletionText(dialect, deleting, 3)}) ${text}`);
      await db.executeQuery(CompiledQuery.raw(statement, [tenant, elements, ...deletionValues(dialect, deleting)]));
    },
  };
}

/**
 * `"table" where tenant = $1 and "column" = $first and …` (SQLite: `?`, bound in order); a list is
 * `= any($n::text[])` on PostgreSQL and `in (select value from json_each(?))` on SQLite.
 */
function deletionText(dialect: 'sqlite' | 'postgres', deletion: Deletion, first: number): string {
  const mark = (n: number): string => (dialect === 'postgres' ? `$${n}` : '?');
  const conditions = deletion.where
    .map(([column, value], i) => {
      if (typeof value === 'string') return ` and "${column}" = ${mark(first + i)}`;
      return dialect === 'postgres' ? ` and "${column}" = any(${mark(first + i)}::text[])` : ` and "${column}" in (select value from json_each(?))`;
    })
    .join('');
  return `"${deletion.table}" where "tenant" = ${mark(1)}${conditions}`;
}

/** The deletion's values as bound: a list as a text array (PostgreSQL) or a JSON array (SQLite). */
function deletionValues(dialect: 'sqlite' | 'postgres', deletion: Deletion): unknown[] {
  return deletion.where.map(([, value]) => (typeof value === 'string' || dialect === 'postgres' ? value : JSON.stringify(value)));
}

const upsertTexts = new Map<string, string>();

/**
 * The text of an upsert, built once per table (and, on SQLite, row count) instead of through the
 * query builder for every batch: it is the journal's hot path. Each table has one upsert, with one
 * key and column list, so the table names the text. SQLite: `insert … values (?, …), …` with `rows`
 * tuples. PostgreSQL: `insert … select` from the JSON array in $2, the tenant in $1 (`where true`:
 * otherwise ON CONFLICT could read as a join constraint of the select).
 */
function upsertText(dialect: 'sqlite' | 'postgres', table: string, key: readonly string[], columns: readonly string[], rows: number): string {
  const id = `${dialect} ${table} ${rows}`;
  let text = upsertTexts.get(id);
  if (text === undefined) {
    const quote = (name: string): string => `"${name}"`;
    const replaced = columns.filter((c) => !key.includes(c)).map((c) => `${quote(c)} = excluded.${quote(c)}`);
    const target = `into ${quote(table)} (tenant, ${columns.map(quote).join(', ')})`;
    const conflict = `on conflict (tenant, ${key.map(quote).join(', ')}) do update set ${replaced.join(', ')}`;
    if (dialect === 'sqlite') {
      const tuple = `(${new Array(columns.length + 1).fill('?').join(', ')})`;
      text = `insert ${target} values ${new Array(rows).fill(tuple).join(', ')} ${conflict}`;
    } else {
      const fields = columns.map((_, i) => `r.value->>${i}`).join(', ');
      text = keepPrepared(`insert ${target} select $1, ${fields} from jsonb_array_elements($2::jsonb) as r where true ${conflict}`);
    }
    upsertTexts.set(id, text);
  }
  return text;
}
