/**
 * How a source table's columns map to the canonical contact: `source.columns` names the user's
 * column for a canonical name, unnamed ones map to themselves, and an optional column that does
 * not exist reads as null. `id` and `phone` must exist; so must every column named explicitly.
 */
import { type RawBuilder, sql } from 'kysely';
import { canonicalColumns, type TenantConfig } from '../config/schema.js';
import type { Dialect, Store } from '../db/open.js';

export type CanonicalColumn = (typeof canonicalColumns)[number];

export interface TableColumn {
  name: string;
  /** Declared type as the database reports it (lower case); '' when it has none. */
  type: string;
}

export interface ColumnProblem {
  canonical: CanonicalColumn;
  /** True when `source.columns` named the column; false when the canonical name was assumed. */
  explicit: boolean;
  message: string;
}

export interface ColumnPlan {
  /** Canonical name -> the table's column, or null to read null. */
  columns: Record<CanonicalColumn, string | null>;
  /** The id column holds text, so it orders (and is indexed) as text without a cast. */
  textId: boolean;
  problems: ColumnProblem[];
}

const required: ReadonlySet<CanonicalColumn> = new Set(['id', 'phone']);

/** The embedded default: the `contacts` table with the canonical column names, created by the source migration. */
export function isEmbeddedDefault(source: TenantConfig['source']): boolean {
  return source.table === 'contacts' && Object.keys(source.columns).length === 0;
}

/** The table's columns, or undefined when there is no such table or view. */
export async function tableColumns(store: Store<unknown>, table: string): Promise<TableColumn[] | undefined> {
  const dot = table.indexOf('.');
  const [schema, name] = dot < 0 ? [undefined, table] : [table.slice(0, dot), table.slice(dot + 1)];
  const query =
    store.dialect === 'sqlite'
      ? sql<{ name: string; type: string | null }>`select name, type from pragma_table_info(${name}, ${schema ?? 'main'}) order by cid`
      : sql<{ name: string; type: string | null }>`select column_name as name, data_type as type from information_schema.columns
          where table_name = ${name} and table_schema = coalesce(${schema ?? null}::text, current_schema()) order by ordinal_position`;
  const { rows } = await query.execute(store.db);
  return rows.length === 0 ? undefined : rows.map((r) => ({ name: r.name, type: (r.type ?? '').toLowerCase() }));
}

export function planColumns(source: TenantConfig['source'], existing: readonly TableColumn[]): ColumnPlan {
  const byName = new Map(existing.map((c) => [c.name, c]));
  const byLowerName = new Map(existing.map((c) => [c.name.toLowerCase(), c]));
  const columns = {} as Record<CanonicalColumn, string | null>;
  const problems: ColumnProblem[] = [];
  let textId = true;
  for (const canonical of canonicalColumns) {
    const named = source.columns[canonical];
    const wanted = named ?? canonical;
    const found = byName.get(wanted) ?? byLowerName.get(wanted.toLowerCase());
    columns[canonical] = found?.name ?? null;
    if (canonical === 'id' && found !== undefined) textId = isTextType(found.type);
    if (found === undefined && (named !== undefined || required.has(canonical))) {
      const available = existing.map((c) => c.name).join(', ');
      const hint = named === undefined ? ` (map it with source.columns.${canonical})` : '';
      problems.push({ canonical, explicit: named !== undefined, message: `column "${wanted}" for ${canonical} does not exist in table "${source.table}"${hint}; its columns are: ${available}` });
    }
  }
  return { columns, textId, problems };
}

/** SQL fragments for reading a table through its column plan. */
export interface TableSql {
  /** The id column as stored. */
  id: RawBuilder<unknown>;
  /** The key rows are ordered and paged by: the id as text, in byte order on both databases. */
  key: RawBuilder<unknown>;
  /** Every canonical column (aliased to its canonical name; null for an absent one). */
  select: RawBuilder<unknown>;
}

export function tableSql(plan: ColumnPlan, dialect: Dialect): TableSql {
  const id = sql.id(plan.columns.id!);
  const idText = plan.textId ? id : dialect === 'postgres' ? sql`${id}::text` : sql`cast(${id} as text)`;
  const key = dialect === 'postgres' ? sql`${idText} collate "C"` : idText;
  const select = sql.join(
    Object.entries(plan.columns).map(([canonical, column]) =>
      canonical === 'id' ? sql`${idText} as ${sql.id('id')}` : column === null ? sql`null as ${sql.id(canonical)}` : sql`${sql.id(column)} as ${sql.id(canonical)}`,
    ),
  );
  return { id, key, select };
}

/** SQLite type affinity rules (a declared type containing CHAR, CLOB or TEXT; none declared, as in views) and PostgreSQL's text types. */
function isTextType(type: string): boolean {
  return type === '' || /char|clob|text/.test(type);
}
