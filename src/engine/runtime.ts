/**
 * A tenant ready to run: its config, state store, source reader, provider adapters and the
 * request tally the run reports read. `openTenant` (open-tenant.ts) builds one from a config file;
 * tests build one from parts with `createTenantRuntime`.
 */
import { pino, type Logger } from 'pino';
import type { ProviderConfig, TenantConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { ProviderAdapter } from '../providers/types.js';
import type { SourceReader } from '../source/types.js';
import { type StateStore, type TenantState, tenantState } from '../state/store.js';
import { mappingTag } from './hash.js';
import type { NormalisePage } from '../source/phone-pool.js';
import type { PlanTarget } from './plan.js';
import type { RequestTally } from './request-tally.js';
import type { RunTiming } from './run-record.js';

export interface RuntimeTuning extends RunTiming {
  /** Most batches in flight per provider (small-batch providers use them; see batchesInFlight in apply.ts). */
  concurrency: number;
  /** Staged plan items kept in memory before spilling to a scratch file. */
  stagingMemoryLimit: number;
  /**
   * Source and baseline page size of the planner's merge. Small enough that a page dies young:
   * pages of 5,000 outlived the young generation and grew the heap to 440 MB for a million rows
   * (1,000: 250 MB, and faster; see BENCHMARKS.md).
   */
  pageSize: number;
  /** Planned changes from which a sync hands the state store's WAL checkpoints to a worker thread (Store.checkpointInBackground). */
  backgroundCheckpointChanges: number;
}

export const defaultTuning: RuntimeTuning = {
  clock: () => new Date(),
  heartbeatMs: 10_000,
  staleAfterMs: 5 * 60_000,
  concurrency: 8,
  stagingMemoryLimit: 50_000,
  pageSize: 1_000,
  backgroundCheckpointChanges: 10_000,
};

export interface TenantRuntime {
  readonly tenant: string;
  readonly config: TenantConfig;
  readonly store: StateStore;
  readonly state: TenantState;
  readonly source: SourceReader;
  /** The providers this runtime runs (all of the config's, or those asked for). */
  readonly targets: readonly PlanTarget[];
  readonly normalise: NormalisePage;
  readonly requests: RequestTally;
  readonly logger: Logger;
  readonly tuning: RuntimeTuning;
  close(): Promise<void>;
}

export interface RuntimeParts {
  config: TenantConfig;
  store: StateStore;
  source: SourceReader;
  adapters: readonly ProviderAdapter[];
  normalise: NormalisePage;
  requests: RequestTally;
  logger?: Logger;
  tuning?: Partial<RuntimeTuning>;
  /** Only these provider names (default: all of the config's). */
  providers?: readonly string[];
  /** Closes what the parts' creator opened (store, source). */
  close?: () => Promise<void>;
}

export function createTenantRuntime(parts: RuntimeParts): TenantRuntime {
  const configs = new Map(parts.config.providers.map((p) => [p.name, p]));
  const unknown = (parts.providers ?? []).filter((name) => !configs.has(name));
  if (unknown.length > 0) throw new UsageError(`no provider named ${unknown.join(', ')} in tenant ${parts.config.tenant} (known: ${[...configs.keys()].join(', ')})`);
  const wanted = new Set(parts.providers ?? configs.keys());
  const targets = parts.adapters
    .filter((adapter) => wanted.has(adapter.name))
    .map((adapter) => ({ name: adapter.name, adapter, tag: mappingTag(mappingSettings(configs.get(adapter.name))) }));
  return {
    tenant: parts.config.tenant,
    config: parts.config,
    store: parts.store,
    state: tenantState(parts.store.db, parts.config.tenant),
    source: parts.source,
    targets,
    normalise: parts.normalise,
    requests: parts.requests,
    logger: parts.logger ?? pino({ level: 'silent' }),
    tuning: { ...defaultTuning, ...parts.tuning },
    close: parts.close ?? (async () => {}),
  };
}

/** The settings that can change a provider's payloads: not its name, limits, timeouts or secrets. */
function mappingSettings(config: ProviderConfig | undefined): Record<string, unknown> {
  if (config === undefined) return {};
  const { name: _n, rateLimit: _r, batchSize: _b, timeoutMs: _t, ...rest } = config;
  const { apiKey: _k, authToken: _a, ...settings } = rest as Record<string, unknown>;
  return settings;
}
