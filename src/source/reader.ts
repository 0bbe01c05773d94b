/**
 * Reads the source of truth (SQLite or PostgreSQL) in ascending binary id order, a page at a time
 * with keyset pagination (`WHERE id > last ORDER BY id LIMIT n`), so memory stays flat and a page
 * costs an index range scan. On PostgreSQL ids are compared with COLLATE "C" (byte order, as
 * SQLite's BINARY): for a big table of your own, index it that way: `CREATE INDEX ON t (id COLLATE "C")`.
 */
import { type RawBuilder, sql } from 'kysely';
import type { TenantConfig } from '../config/schema.js';
import { openStore, type Store } from '../db/open.js';
import { migrate } from '../db/migrate.js';
import { StoreError } from '../errors.js';
import type { SourceContact } from './contact.js';
import { type ColumnPlan, isEmbeddedDefault, planColumns, tableColumns, tableSql } from './table.js';
import type { SourceReader } from './types.js';
import { attributesValue, isoTime, textValue } from './values.js';

export interface SourceOptions {
  /** Default page size of `pages()`. */
  pageSize?: number;
  /** Told about a row read with a repair (an `attributes` value that is not a JSON object reads as {}). */
  onWarning?: (message: string, where: { id: string; column: string }) => void;
  /** Read through this store instead of opening one (it is then not closed by the reader). */
  store?: Store<unknown>;
}

const defaultPageSize = 5_000;

/** Opens the source's store (sqlite paths relative to `baseDir`). */
export function openSourceStore(source: TenantConfig['source'], baseDir: string): Store<unknown> {
  return openStore<unknown>(source.url, { baseDir, poolSize: 2 });
}

/**
 * Prepares a source store for reading: the embedded default table is created (by the source
 * migration) on SQLite; any other table must exist with the columns the config maps.
 */
export async function prepareSource(store: Store<unknown>, source: TenantConfig['source']): Promise<ColumnPlan> {
  if (store.dialect === 'sqlite' && isEmbeddedDefault(source)) await migrate(store.db as never, 'source');
  const existing = await tableColumns(store, source.table);
  if (existing === undefined) throw new StoreError(`the source table "${source.table}" does not exist in ${store.displayUrl}`);
  const plan = planColumns(source, existing);
  if (plan.problems.length > 0) throw new StoreError(`source ${store.displayUrl}: ${plan.problems.map((p) => p.message).join('; ')}`);
  return plan;
}

export function openSource(source: TenantConfig['source'], baseDir: string, options: SourceOptions = {}): SourceReader {
  const store = options.store ?? openSourceStore(source, baseDir);
  let ready: Promise<PageQuery> | undefined;
  const query = (): Promise<PageQuery> => (ready ??= prepareSource(store, source).then((plan) => new PageQuery(store, source.table, plan, options.onWarning)));

  return {
    async *pages(pageOptions?: { pageSize?: number }): AsyncIterable<SourceContact[]> {
      const pages = await query();
      const size = pageOptions?.pageSize ?? options.pageSize ?? defaultPageSize;
      let last: string | undefined;
      for (;;) {
        const page = await pages.after(last, size);
        if (page.length === 0) return;
        yield page;
        if (page.length < size) return;
        last = page[page.length - 1]!.id;
      }
    },
    async count(): Promise<number> {
      return (await query()).count();
    },
    async close(): Promise<void> {
      if (options.store === undefined) await store.close();
    },
  };
}

type RawRow = Record<'id' | 'phone' | 'name' | 'language' | 'country' | 'zip' | 'attributes' | 'updated_at', unknown>;

/** The two statements the reader runs, built once for the table's column plan. */
class PageQuery {
  readonly #store: Store<unknown>;
  readonly #from: RawBuilder<unknown>;
  readonly #select: RawBuilder<unknown>;
  readonly #key: RawBuilder<unknown>;
  readonly #onWarning: SourceOptions['onWarning'];

  constructor(store: Store<unknown>, table: string, plan: ColumnPlan, onWarning: SourceOptions['onWarning']) {
    this.#store = store;
    this.#onWarning = onWarning;
    const { id, key, select } = tableSql(plan, store.dialect);
    this.#key = key;
    this.#select = select;
    this.#from = sql`${sql.table(table)} where ${id} is not null`;
  }

  async after(last: string | undefined, limit: number): Promise<SourceContact[]> {
    const where = last === undefined ? sql`` : sql` and ${this.#key} > ${last}`;
    const { rows } = await sql<RawRow>`select ${this.#select} from ${this.#from}${where} order by ${this.#key} limit ${limit}`.execute(this.#store.db);
    const out = new Array<SourceContact>(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = this.#toContact(rows[i]!);
    return out;
  }

  async count(): Promise<number> {
    const { rows } = await sql<{ n: number | string | bigint }>`select count(*) as n from ${this.#from}`.execute(this.#store.db);
    return Number(rows[0]?.n ?? 0);
  }

  #toContact(row: RawRow): SourceContact {
    const id = String(row.id);
    const text = row.attributes;
    const attributes = attributesValue(text);
    if (attributes === undefined) this.#onWarning?.('attributes is not a JSON object: read as {}', { id, column: 'attributes' });
    return {
      id,
      phone: textValue(row.phone),
      name: textValue(row.name),
      language: textValue(row.language),
      country: textValue(row.country),
      zip: textValue(row.zip),
      attributes: attributes ?? {},
      // Every row gets the same shape (the member is present, maybe undefined) so the planner's reads stay monomorphic.
      attributesText: attributes !== undefined && typeof text === 'string' && text !== '' ? text : undefined,
      updatedAt: isoTime(row.updated_at),
    };
  }
}
