/**
 * `import`: loads a CSV into the tenant's source table (the embedded `contacts` by default, created
 * if missing; or the table the config names, through source.columns). The file is streamed and
 * written in batched transactions: rows are inserted, updated (updated_at set to the import's time
 * unless the CSV gives one) or left alone when identical. Bad rows are reported with their line and
 * do not stop the good ones. `replace` then deletes the table's rows the CSV does not hold, but only
 * when every record of the file could be read (an unreadable record might hold any id).
 */
import { open } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { type Kysely, sql } from 'kysely';
import type { LoadedConfig } from '../config/load.js';
import type { Store } from '../db/open.js';
import { migrate } from '../db/migrate.js';
import { ConfigError, InputError } from '../errors.js';
import { openSource, openSourceStore } from './reader.js';
import { type CanonicalColumn, type ColumnPlan, isEmbeddedDefault, planColumns, tableColumns, tableSql } from './table.js';
import { attributesValue, isoTime, stableJson, textValue } from './values.js';

export interface ImportRowError {
  /** Line of the CSV file where the record starts (the header is line 1). */
  line: number;
  /** The CSV column at fault, or null for the record as a whole. */
  column: string | null;
  reason: string;
}

export interface ImportReport {
  /** Data records read (good and bad). */
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  /** Records refused (each in rowErrors, up to the first 1,000). */
  errors: number;
  rowErrors: ImportRowError[];
  /** Every record of the file was read; `replace` deletes only then. */
  complete: boolean;
}

export interface ImportOptions {
  /** Make the table equal to the CSV: delete the rows it does not hold. */
  replace?: boolean;
  /** Rows per transaction. */
  batchSize?: number;
  /** The time written to updated_at of changed rows when the CSV has no updated_at column (default: now). */
  now?: Date;
}

const maxReportedErrors = 1_000;
const fields = ['phone', 'name', 'language', 'country', 'zip'] as const;

/** One good CSV row, as it will be written. */
interface CsvRow {
  id: string;
  phone: string | null;
  name: string | null;
  language: string | null;
  country: string | null;
  zip: string | null;
  attributes: Record<string, unknown>;
  /** ISO time from the CSV, or null when it has none. */
  updatedAt: string | null;
}

export async function importCsv(loaded: LoadedConfig, csvPath: string, options: ImportOptions = {}): Promise<ImportReport> {
  const handle = await open(csvPath, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read ${csvPath}: ${error.code === 'ENOENT' ? 'no such file' : (error.code ?? error.message)}`, { file: csvPath });
  });
  if ((await handle.stat()).isDirectory()) {
    await handle.close();
    throw new InputError(`cannot read ${csvPath}: it is a directory, expected a CSV file`, { file: csvPath });
  }

  const source = loaded.config.source;
  const store = openSourceStore(source, loaded.baseDir);
  try {
    const plan = await prepareTable(store, loaded);
    const now = options.now ?? new Date();
    const report: ImportReport = { rows: 0, inserted: 0, updated: 0, unchanged: 0, deleted: 0, errors: 0, rowErrors: [], complete: false };
    const reject = (error: ImportRowError): void => {
      report.errors++;
      if (report.rowErrors.length < maxReportedErrors) report.rowErrors.push(error);
    };

    const parser = handle.createReadStream().pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, skip_records_with_error: true }));
    let unreadable = 0;
    parser.on('skip', (error: Error & { lines?: number }) => {
      unreadable++;
      reject({ line: error.lines ?? 0, column: null, reason: `not readable as CSV: ${error.message}` });
    });

    // First line (by id) of each id seen: duplicates are refused and `replace` keeps these.
    const seen = new Map<string, number>();
    const batchSize = options.batchSize ?? 5_000;
    let header: Header | undefined;
    let writer: TableWriter | undefined;
    let batch: CsvRow[] = [];
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        const line = startLine(record, info.lines);
        if (header === undefined) {
          header = readHeader(record, csvPath, plan, source.table);
          writer = new TableWriter(store, source.table, plan, writtenFields(header), now);
          continue;
        }
        report.rows++;
        const row = readRow(record, header, line, seen, reject);
        if (row === undefined) continue;
        batch.push(row);
        if (batch.length >= batchSize) {
          await writer!.write(batch, report);
          batch = [];
        }
      }
    } catch (error) {
      // Fatal CSV errors (skip_records_with_error recovers from most) leave the file partly read.
      reject({ line: (error as { lines?: number }).lines ?? 0, column: null, reason: `reading stopped: ${error instanceof Error ? error.message : String(error)}` });
      unreadable++;
    }
    if (writer === undefined) {
      if (unreadable === 0) throw new InputError(`${csvPath} is empty: expected a header line with id,phone,name,language,country,zip`, { file: csvPath });
      throw new InputError(`${csvPath}: the header cannot be read as CSV: ${report.rowErrors[0]?.reason ?? 'unknown error'}`, { file: csvPath });
    }
    await writer.write(batch, report);

    report.complete = unreadable === 0;
    if (options.replace === true && report.complete) report.deleted = await writer.deleteExcept(seen, loaded);
    return report;
  } finally {
    await handle.close();
    await store.close();
  }
}

/** The record's first line: csv-parse reports the last, and quoted fields may hold line breaks. */
function startLine(record: readonly string[], endLine: number): number {
  let breaks = 0;
  for (const field of record) {
    for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) breaks++;
  }
  return endLine - breaks;
}

/** Column positions of the CSV: canonical names (any case) and the attribute columns. */
interface Header {
  width: number;
  index: Partial<Record<CanonicalColumn, number>>;
  attributes: { name: string; index: number }[];
}

const canonicalNames: ReadonlySet<string> = new Set(['id', 'phone', 'name', 'language', 'country', 'zip', 'attributes', 'updated_at']);

function readHeader(record: readonly string[], file: string, plan: ColumnPlan, table: string): Header {
  const header: Header = { width: record.length, index: {}, attributes: [] };
  const names = new Set<string>();
  record.forEach((raw, index) => {
    const name = raw.trim();
    if (name === '') throw new InputError(`${file}: column ${index + 1} of the header has no name`, { file });
    if (names.has(name.toLowerCase())) throw new InputError(`${file}: the header names column "${name}" twice`, { file });
    names.add(name.toLowerCase());
    const canonical = name.toLowerCase();
    if (canonicalNames.has(canonical)) header.index[canonical as CanonicalColumn] = index;
    else header.attributes.push({ name, index });
  });
  for (const required of ['id', 'phone'] as const) {
    if (header.index[required] === undefined) throw new InputError(`${file}: the header has no "${required}" column (found: ${record.join(', ')}); expected id,phone,name,language,country,zip`, { file });
  }
  // A column the CSV fills must have a place in the table.
  const missing = (Object.keys(header.index) as CanonicalColumn[]).filter((c) => plan.columns[c] === null);
  if (header.attributes.length > 0 && plan.columns.attributes === null) missing.push('attributes');
  if (missing.length > 0) throw new InputError(`${file}: table "${table}" has no column for ${missing.join(', ')}, which the CSV fills`, { file });
  return header;
}

function readRow(record: readonly string[], header: Header, line: number, seen: Map<string, number>, reject: (e: ImportRowError) => void): CsvRow | undefined {
  const cell = (column: CanonicalColumn): string | null => {
    const index = header.index[column];
    const value = index === undefined ? undefined : record[index]?.trim();
    return value === undefined || value === '' ? null : value;
  };
  const id = cell('id');
  // A bad row whose id is known still counts as present: `replace` must not delete it.
  if (id !== null && !seen.has(id)) seen.set(id, line);
  if (record.length !== header.width) {
    reject({ line, column: null, reason: `expected ${header.width} fields as in the header, got ${record.length}` });
    return undefined;
  }
  if (id === null) {
    reject({ line, column: 'id', reason: 'missing id' });
    return undefined;
  }
  const first = seen.get(id)!;
  if (first !== line) {
    reject({ line, column: 'id', reason: `duplicate id "${id}" (first on line ${first})` });
    return undefined;
  }

  let attributes: Record<string, unknown> = {};
  const json = cell('attributes');
  if (json !== null) {
    const parsed = attributesValue(json);
    if (parsed === undefined) {
      reject({ line, column: 'attributes', reason: `attributes is not a JSON object: ${json.length > 40 ? `${json.slice(0, 37)}...` : json}` });
      return undefined;
    }
    attributes = parsed;
  }
  for (const { name, index } of header.attributes) {
    const value = record[index]!.trim();
    if (value !== '') attributes[name] = value;
  }

  let updatedAt: string | null = null;
  const when = cell('updated_at');
  if (when !== null) {
    const ms = Date.parse(when);
    if (Number.isNaN(ms)) {
      reject({ line, column: 'updated_at', reason: `updated_at "${when}" is not a date and time (expected ISO 8601, e.g. 2024-05-01T10:00:00Z)` });
      return undefined;
    }
    updatedAt = new Date(ms).toISOString();
  }
  const country = cell('country');
  return { id, phone: cell('phone'), name: cell('name'), language: cell('language'), country: country === null ? null : country.toUpperCase(), zip: cell('zip'), attributes, updatedAt };
}

type Field = (typeof fields)[number] | 'attributes';

/** The fields the CSV has columns for: only these are compared and written; the table's others are left as they are. */
function writtenFields(header: Header): Field[] {
  const written: Field[] = fields.filter((f) => header.index[f] !== undefined);
  if (header.index.attributes !== undefined || header.attributes.length > 0) written.push('attributes');
  return written;
}

/** The table is created when missing: by the source migration for the embedded default, else with the mapped names. */
async function prepareTable(store: Store<unknown>, loaded: LoadedConfig): Promise<ColumnPlan> {
  const { source } = loaded.config;
  if (isEmbeddedDefault(source)) await migrate(store.db as never, 'source');
  let existing = await tableColumns(store, source.table);
  if (existing === undefined) {
    const name = (c: CanonicalColumn): string => source.columns[c] ?? c;
    let create = (store.db as Kysely<unknown>).schema.createTable(source.table).ifNotExists().addColumn(name('id'), 'text', (col) => col.primaryKey());
    for (const c of [...fields, 'attributes', 'updated_at'] as const) create = create.addColumn(name(c), 'text');
    await create.execute();
    existing = (await tableColumns(store, source.table))!;
  }
  const plan = planColumns(source, existing);
  if (plan.problems.length > 0) {
    throw new ConfigError(plan.problems.map((p) => ({ file: loaded.file, path: p.explicit ? `source.columns.${p.canonical}` : 'source.table', message: p.message })));
  }
  return plan;
}

type Existing = Record<'id' | (typeof fields)[number] | 'attributes' | 'updated_at', unknown>;

/** Writes batches of CSV rows to the table through its column plan. */
class TableWriter {
  readonly #store: Store<unknown>;
  readonly #table: string;
  readonly #plan: ColumnPlan;
  readonly #fields: readonly Field[];
  readonly #now: string;
  readonly #sql: ReturnType<typeof tableSql>;

  constructor(store: Store<unknown>, table: string, plan: ColumnPlan, written: readonly Field[], now: Date) {
    this.#store = store;
    this.#table = table;
    this.#plan = plan;
    this.#fields = written;
    this.#now = now.toISOString();
    this.#sql = tableSql(plan, store.dialect);
  }

  async write(rows: readonly CsvRow[], report: ImportReport): Promise<void> {
    if (rows.length === 0) return;
    await (this.#store.db as Kysely<unknown>).transaction().execute(async (trx) => {
      const existing = new Map<string, Existing>();
      for (const ids of chunks(rows.map((r) => r.id), 500)) {
        const { rows: found } = await sql<Existing>`select ${this.#sql.select} from ${sql.table(this.#table)} where ${this.#sql.id} in (${sql.join(ids)})`.execute(trx);
        for (const row of found) existing.set(String(row.id), row);
      }
      const inserts: Record<string, unknown>[] = [];
      for (const row of rows) {
        const before = existing.get(row.id);
        if (before === undefined) {
          inserts.push(this.#values(row));
          report.inserted++;
        } else if (this.#same(before, row)) {
          report.unchanged++;
        } else {
          const { [this.#plan.columns.id!]: _id, ...values } = this.#values(row);
          await sql`update ${sql.table(this.#table)} set ${sql.join(Object.entries(values).map(([column, value]) => sql`${sql.id(column)} = ${value}`))} where ${this.#sql.id} = ${row.id}`.execute(trx);
          report.updated++;
        }
      }
      // A few hundred rows per statement keeps under every driver's parameter limit.
      for (const part of chunks(inserts, 100)) await trx.insertInto(this.#table as never).values(part as never).execute();
    });
  }

  /** Deletes the rows whose id the CSV did not hold; returns how many. */
  async deleteExcept(keep: ReadonlyMap<string, number>, loaded: LoadedConfig): Promise<number> {
    const gone: string[] = [];
    const reader = openSource(loaded.config.source, loaded.baseDir, { store: this.#store });
    for await (const page of reader.pages()) for (const row of page) if (!keep.has(row.id)) gone.push(row.id);
    await (this.#store.db as Kysely<unknown>).transaction().execute(async (trx) => {
      for (const ids of chunks(gone, 500)) await sql`delete from ${sql.table(this.#table)} where ${this.#sql.id} in (${sql.join(ids)})`.execute(trx);
    });
    return gone.length;
  }

  /** Column -> value for the row; updated_at is the CSV's, else the import's time (only written when the row is new or changed). */
  #values(row: CsvRow): Record<string, unknown> {
    const columns = this.#plan.columns;
    const values: Record<string, unknown> = { [columns.id!]: row.id };
    for (const field of this.#fields) values[columns[field]!] = field === 'attributes' ? JSON.stringify(row.attributes) : row[field];
    if (columns.updated_at !== null) values[columns.updated_at] = row.updatedAt ?? this.#now;
    return values;
  }

  #same(before: Existing, row: CsvRow): boolean {
    for (const field of this.#fields) {
      if (field === 'attributes') {
        const attributes = attributesValue(before.attributes);
        if (attributes === undefined || stableJson(attributes) !== stableJson(row.attributes)) return false;
      } else if (textValue(before[field]) !== row[field]) {
        return false;
      }
    }
    return row.updatedAt === null || Date.parse(isoTime(before.updated_at) ?? '') === Date.parse(row.updatedAt);
  }
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
