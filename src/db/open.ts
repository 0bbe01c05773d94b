/**
 * Opens a store from a URL: `sqlite:<path>` (embedded default, better-sqlite3) or
 * `postgres://…` (pg). Callers get a kysely instance and never branch on the driver again,
 * except where a dialect genuinely differs (see `Store.dialect`).
 *
 * PostgreSQL values are read back the way SQLite gives them, so one code path serves both:
 * int8 (`count(*)`, bigint columns) as numbers, timestamps as ISO-8601 text in UTC, dates as
 * `YYYY-MM-DD` text. A schema other than `public` is chosen the standard way, in the URL:
 * `postgres://…/db?options=-c%20search_path%3Dmy_schema`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect } from 'kysely';
import pg from 'pg';
import { preparedName } from './prepared-statements.js';
import { StoreError } from '../errors.js';
import { checkpointer } from './checkpointer.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store<DB> {
  readonly db: Kysely<DB>;
  readonly dialect: Dialect;
  /** The URL with any password masked: safe to log. */
  readonly displayUrl: string;
  /**
   * A large write is coming: on a SQLite file, its WAL checkpoints go to the process's checkpoint
   * worker (checkpointer.ts) until the store is closed. Absent where there is nothing to hand over.
   * Not done at open, so reads, dry runs and small syncs start no thread.
   */
  checkpointInBackground?(): void;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Relative sqlite paths resolve against this directory (the config file's). Default: cwd. */
  baseDir?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** PostgreSQL: give up connecting after this long (default 10 s), rather than hang on an unreachable server. */
  connectTimeoutMs?: number;
  /**
   * PostgreSQL: an idle pooled connection failed (server restart, network cut). The pool drops it
   * and the next query opens a new one; this only reports it. Default: ignored.
   */
  onIdleError?: (error: Error) => void;
}

export function parseStoreUrl(url: string, baseDir = process.cwd()): { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string } {
  if (url.startsWith('sqlite:')) {
    const raw = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (raw === ':memory:') return { dialect: 'sqlite', path: raw };
    if (raw.length === 0) throw new StoreError(`sqlite URL has no path: ${url}`);
    return { dialect: 'sqlite', path: isAbsolute(raw) ? raw : resolve(baseDir, raw) };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { dialect: 'postgres', url };
  throw new StoreError(`unsupported store URL "${maskUrl(url)}": expected sqlite:<path> or postgres://…`);
}

export function maskUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}

export function openStore<DB>(url: string, options: OpenOptions = {}): Store<DB> {
  const target = parseStoreUrl(url, options.baseDir);
  if (target.dialect === 'sqlite') {
    if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true });
    const database = new SQLite(target.path);
    // WAL + NORMAL: a committed transaction survives a killed process (the journal's promise);
    // FULL would add an fsync per commit for power-loss durability at a large cost in throughput.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 10000');
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
    const { path } = target;
    if (path === ':memory:') return { db, dialect: 'sqlite', displayUrl: 'sqlite::memory:', close: () => db.destroy() };
    let attached = false;
    return {
      db,
      dialect: 'sqlite',
      displayUrl: `sqlite:${path}`,
      checkpointInBackground: () => {
        if (!attached) checkpointer.attach(path, database);
        attached = true;
      },
      close: async () => {
        if (attached) await checkpointer.detach(path, database);
        await db.destroy();
      },
    };
  }
  const pool = new pg.Pool({
    connectionString: target.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // Shows in pg_stat_activity; a URL's own application_name wins.
    fallback_application_name: 'contact-sync',
    types: sqliteLikeTypes,
  });
  // Without a listener, an idle client's error (the server restarted) would crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  pool.on('connect', sendMarkedStatementsPrepared);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', displayUrl: maskUrl(target.url), close: () => db.destroy() };
}

/**
 * kysely calls `query(text, values)`: a text marked in prepared-statements.ts goes as a named
 * statement, planned once (the setting is queued before any of kysely's queries).
 */
function sendMarkedStatementsPrepared(client: pg.PoolClient): void {
  void client.query('set plan_cache_mode = force_generic_plan').catch(() => undefined);
  const query = client.query.bind(client) as (config: unknown, values?: unknown) => unknown;
  client.query = ((config: unknown, values?: unknown) => {
    const name = typeof config === 'string' ? preparedName(config) : undefined;
    return name === undefined ? query(config, values) : query({ name, text: config, values });
  }) as typeof client.query;
}

/**
 * kysely prepares every query anew, and better-sqlite3 compiles on every prepare; the state
 * layer's statements repeat (src/state/bulk.ts), so compiled statements are kept by their
 * text. One still busy (a streamed read iterating it) is not shared: a fresh one is prepared.
 */
function withStatementCache(database: SQLite.Database, size = 200): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql) {
      const cached = cache.get(sql);
      if (cached !== undefined && !cached.busy) return cached;
      const statement = database.prepare(sql);
      if (cached === undefined) {
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

const oid = { int8: 20, date: 1082, timestamp: 1114, timestamptz: 1184 } as const;

/** Per pool (pg.types is process-global and would change every other pg user in the process). */
const sqliteLikeTypes = new pg.TypeOverrides();
sqliteLikeTypes.setTypeParser(oid.int8, (text: string) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new StoreError(`an int8 value ${text} is beyond what a JavaScript number holds exactly`);
  return n;
});
sqliteLikeTypes.setTypeParser(oid.date, (text: string) => text);
sqliteLikeTypes.setTypeParser(oid.timestamptz, (text: string) => isoText(pg.types.getTypeParser(oid.timestamptz)(text)));
// A timestamp without a zone is read as UTC (the usual convention), not the process's local time.
sqliteLikeTypes.setTypeParser(oid.timestamp, (text: string) => isoText(pg.types.getTypeParser(oid.timestamptz)(`${text}+00`)));

/** ISO-8601 text; 'infinity' and friends stay as PostgreSQL spelled them. */
function isoText(parsed: unknown): string | unknown {
  return parsed instanceof Date && !Number.isNaN(parsed.getTime()) ? parsed.toISOString() : parsed;
}
