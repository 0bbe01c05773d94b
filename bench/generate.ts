/**
 * Benchmark datasets: N seeded fake contacts written straight into a SQLite source, the baseline a
 * tenant would hold after delivering them all, and the same source with a seeded 1 % of rows
 * changed. The tables are created by the product's own migrations; rows go in through raw
 * better-sqlite3 prepared statements in large transactions (the fast path, not the product's).
 * The baseline is computed by the engine's own functions (normalise, each adapter's map and
 * phoneOf, payloadHash, sourceKey + the provider's mapping tag) over rows read back through the
 * real source reader, so the planner sees exactly what a real delivery would have left.
 *
 * Datasets are cached under bench/out/datasets/n<N>-s<seed>/ and reused while the generator
 * version and (for baselines) the engine's mapping fingerprint are unchanged. Files are written
 * under a temporary name and renamed when complete, so an interrupted run never leaves a file
 * that looks finished.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { migrate } from '../src/db/migrate.js';
import { openStore } from '../src/db/open.js';
import { MAPPING_VERSION, payloadHash, sourceKey } from '../src/engine/hash.js';
import type { PlanTarget } from '../src/engine/plan.js';
import type { SourceContact } from '../src/source/contact.js';
import type { ContactResult } from '../src/source/normalise.js';
import type { SourceReader } from '../src/source/types.js';
import { openStateStore } from '../src/state/store.js';
import { fakeContact, maxContacts, sampleIndexes } from './fake-contacts.js';
import { benchOut } from './paths.js';

/** Bump when fake-contacts.ts or this file changes what a dataset holds. */
const generatorVersion = 3;

export interface DatasetSpec {
  n: number;
  seed: number;
  /** Share of rows the "changed" source differs in (default 0.01). */
  changedShare?: number;
}

/** What a baseline is computed with: the tenant's providers as the engine sees them. */
export interface BaselineSpec {
  tenant: string;
  targets: readonly PlanTarget[];
  normalise: (row: SourceContact) => ContactResult;
  defaultCountry: string | undefined;
  /** Opens a reader over a source file (the real reader, as the tenant would read it). */
  openReader: (sourcePath: string) => SourceReader;
}

export interface Dataset {
  n: number;
  seed: number;
  /** The original rows (version 0 of every row). */
  sourcePath: string;
  /** The same rows with `changedIds` at version 1 (new name, zip and updated_at). */
  changedSourcePath: string;
  changedIds: readonly string[];
  /** A state store whose cs_baseline holds every row of `sourcePath` as delivered (when asked for). */
  statePath?: string;
}

export const defaultDatasetRoot = join(benchOut, 'datasets');

/** The dataset of (n, seed), generated on first use, with a baseline for `baseline` when given. */
export async function prepareDataset(spec: DatasetSpec, options: { root?: string; baseline?: BaselineSpec; log?: (line: string) => void } = {}): Promise<Dataset> {
  const { n, seed } = spec;
  const share = spec.changedShare ?? 0.01;
  const log = options.log ?? (() => {});
  const dir = join(options.root ?? defaultDatasetRoot, `n${n}-s${seed}`);
  mkdirSync(dir, { recursive: true });

  const sourcePath = join(dir, `contacts-v${generatorVersion}.db`);
  await cached(sourcePath, async (tmp) => {
    log(`generating ${n.toLocaleString('en-US')} contacts (seed ${seed}) -> ${sourcePath}`);
    await writeContacts(tmp, { n, seed });
  });

  const changedIndexes = sampleIndexes(seed, n, Math.round(n * share));
  const changedSourcePath = join(dir, `contacts-v${generatorVersion}-changed-${share}.db`);
  await cached(changedSourcePath, async (tmp) => {
    log(`changing ${changedIndexes.length.toLocaleString('en-US')} rows -> ${changedSourcePath}`);
    copyFileSync(sourcePath, tmp);
    changeContacts(tmp, seed, changedIndexes);
  });

  const dataset: Dataset = { n, seed, sourcePath, changedSourcePath, changedIds: changedIndexes.map((i) => fakeContact(seed, i).id) };
  if (options.baseline !== undefined) {
    const baseline = options.baseline;
    const statePath = join(dir, `baseline-v${generatorVersion}-${baselineFingerprint(baseline)}.db`);
    await cached(statePath, async (tmp) => {
      log(`computing the delivered baseline of ${baseline.targets.map((t) => t.name).join(', ')} -> ${statePath}`);
      await writeBaseline(tmp, sourcePath, baseline);
    });
    dataset.statePath = statePath;
  }
  return dataset;
}

/** Writes rows [0, n) of dataset `seed` into a new SQLite source file at `path`. */
export async function writeContacts(path: string, spec: { n: number; seed: number }): Promise<void> {
  if (spec.n > maxContacts) throw new RangeError(`at most ${maxContacts} contacts per dataset, asked for ${spec.n}`);
  await migrateFile(path, 'source');
  bulkWrite(path, (db) => {
    const insert = db.prepare('insert into contacts (id, phone, name, language, country, zip, attributes, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)');
    const insertRange = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const c = fakeContact(spec.seed, i);
        insert.run(c.id, c.phone, c.name, c.language, c.country, c.zip, c.attributes, c.updated_at);
      }
    });
    for (let from = 0; from < spec.n; from += 50_000) insertRange(from, Math.min(spec.n, from + 50_000));
  });
}

/** Moves the given rows of the source at `path` to version 1. */
export function changeContacts(path: string, seed: number, indexes: readonly number[]): void {
  bulkWrite(path, (db) => {
    const update = db.prepare('update contacts set phone = ?, name = ?, language = ?, country = ?, zip = ?, attributes = ?, updated_at = ? where id = ?');
    db.transaction(() => {
      for (const i of indexes) {
        const c = fakeContact(seed, i, 1);
        const { changes } = update.run(c.phone, c.name, c.language, c.country, c.zip, c.attributes, c.updated_at, c.id);
        if (changes !== 1) throw new Error(`row ${c.id} is not in ${path}`);
      }
    })();
  });
}

/**
 * Writes into a new state store at `statePath` the baseline every target would hold after every
 * row of the source at `sourcePath` was confirmed delivered. Returns the rows written per target.
 */
export async function writeBaseline(statePath: string, sourcePath: string, spec: BaselineSpec): Promise<number> {
  await (await openStateStore(`sqlite:${statePath}`)).close();
  const reader = spec.openReader(sourcePath);
  const deliveredAt = '2024-06-01T00:00:00.000Z';
  let rows = 0;
  await bulkWrite(statePath, async (db) => {
    const insert = db.prepare(
      'insert into cs_baseline (tenant, provider, contact_id, source_key, hash, payload, phone, remote_id, delivered_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertPage = db.transaction((values: unknown[][]) => {
      for (const v of values) insert.run(...v);
    });
    for await (const page of reader.pages()) {
      const values: unknown[][] = [];
      for (const row of page) {
        const normalised = spec.normalise(row);
        if (!normalised.ok) throw new Error(`generated row ${row.id} is invalid (${normalised.invalid.reason}): fix bench/fake-contacts.ts`);
        const key = sourceKey(row, spec.defaultCountry);
        for (const target of spec.targets) {
          const payload = target.adapter.map(normalised.contact);
          values.push([spec.tenant, target.name, row.id, key + target.tag, payloadHash(payload), JSON.stringify(payload), target.adapter.phoneOf(payload), null, deliveredAt]);
        }
      }
      insertPage(values);
      rows += page.length;
    }
  }).finally(() => reader.close());
  return rows;
}

/** Everything a baseline row depends on besides the source rows. */
function baselineFingerprint(spec: BaselineSpec): string {
  const parts = [spec.tenant, spec.defaultCountry ?? '', String(MAPPING_VERSION), ...spec.targets.map((t) => `${t.name}:${t.adapter.type}:${t.tag}`)];
  return createHash('sha1').update(parts.join('\u0000')).digest('hex').slice(0, 12);
}

/** Runs `make` into a temporary file and renames it to `path`, unless `path` already exists. */
async function cached(path: string, make: (tmp: string) => Promise<void> | void): Promise<void> {
  if (existsSync(path)) return;
  const tmp = `${path}.tmp`;
  removeDatabase(tmp);
  try {
    await make(tmp);
    renameSync(tmp, path);
  } catch (error) {
    removeDatabase(tmp);
    throw error;
  }
}

function removeDatabase(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}

/** Creates the product's tables in a SQLite file by its own migrations. */
async function migrateFile(path: string, set: 'source' | 'state'): Promise<void> {
  const store = openStore<unknown>(`sqlite:${path}`);
  try {
    await migrate(store.db as never, set);
  } finally {
    await store.close();
  }
}

/**
 * Runs `work` on a connection tuned for one writer filling a file nobody reads yet: no rollback
 * journal or fsync (a crash leaves a .tmp file that is thrown away) and a large page cache for
 * index inserts. The file is switched back to WAL, as the product opens it, before it closes.
 */
function bulkWrite<T>(path: string, work: (db: SQLite.Database) => T): T {
  const db = new SQLite(path);
  db.pragma('journal_mode = DELETE');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const close = (): void => {
    db.pragma('journal_mode = WAL');
    db.close();
  };
  let result: T;
  try {
    result = work(db);
  } catch (error) {
    db.close();
    throw error;
  }
  if (result instanceof Promise) return result.finally(close) as T;
  close();
  return result;
}
