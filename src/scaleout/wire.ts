/**
 * What the daemon needs to scale out: when its tenants keep their state in PostgreSQL, the run
 * coordinator (./lease.ts) and the rate gates (./pg-rate-gate.ts) shared through that database.
 * Every daemon process must coordinate through the same database: it is the tenants' PostgreSQL
 * state URL (the first in sorted order if they name several, so every process picks the same one).
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { loadConfigs } from '../config/load.js';
import { maskUrl, parseStoreUrl } from '../db/open.js';
import { ConfigError } from '../errors.js';
import { openStateStore } from '../state/store.js';
import { type PgRunCoordinator, createPgRunCoordinator } from './lease.js';
import { PgRateGateRegistry } from './pg-rate-gate.js';

export interface Scaleout {
  readonly coordinator: PgRunCoordinator;
  readonly gates: PgRateGateRegistry;
  /** The coordinating database, password masked. */
  readonly displayUrl: string;
  /** Releases the leases this process holds and closes the pool. */
  close(): Promise<void>;
}

export interface ScaleoutOptions {
  /** This process in cs_leases (default host:pid). */
  holder?: string;
  logger?: Logger;
}

/** The coordinator and shared gates for a postgres:// state URL; undefined for SQLite (one process). */
export async function scaleoutFor(stateUrl: string, options: ScaleoutOptions = {}): Promise<Scaleout | undefined> {
  if (parseStoreUrl(stateUrl).dialect !== 'postgres') return undefined;
  const logger = options.logger;
  const store = await openStateStore(stateUrl, {
    poolSize: 4,
    onIdleError: (error) => logger?.warn({ err: error }, 'a pooled PostgreSQL connection failed; reconnecting on next use'),
  });
  const coordinator = createPgRunCoordinator(store, options.holder ?? `${hostname()}:${process.pid}`, {
    onLeaseLost: (lease, error) =>
      logger?.warn({ lease, err: error }, error === undefined ? 'lost a run lease: it expired and another process took it' : 'could not extend a run lease'),
  });
  logger?.info({ state: store.displayUrl, holder: coordinator.holder }, 'scaling out: runs and rate limits are coordinated through PostgreSQL');
  return {
    coordinator,
    gates: new PgRateGateRegistry(store),
    displayUrl: store.displayUrl,
    async close() {
      await coordinator.close();
      await store.close();
    },
  };
}

/** The PostgreSQL state URL a set of tenants coordinates through, if any. */
export function coordinationUrl(stateUrls: readonly string[]): string | undefined {
  return [...new Set(stateUrls.filter((url) => parseStoreUrl(url).dialect === 'postgres'))].sort()[0];
}

/**
 * For the daemon command: scale-out for the tenants in these config paths. Configs that do not
 * load give undefined here; the daemon reports them itself when it loads them.
 */
export async function scaleoutForConfigs(configPaths: readonly string[], options: ScaleoutOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<Scaleout | undefined> {
  let urls: string[];
  try {
    urls = (await loadConfigs(configPaths, options.env)).map((loaded) => loaded.config.state);
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
  const url = coordinationUrl(urls);
  const distinct = new Set(urls.filter((u) => u !== url && parseStoreUrl(u).dialect === 'postgres'));
  if (url !== undefined && distinct.size > 0) {
    options.logger?.warn({ coordination: maskUrl(url), others: [...distinct].map(maskUrl) }, 'tenants name several PostgreSQL state URLs: runs and rate limits are coordinated through the first');
  }
  return url === undefined ? undefined : scaleoutFor(url, options);
}
