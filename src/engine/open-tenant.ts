/**
 * Opens a tenant from its loaded config the way every command and the daemon do: the state store
 * (migrated), the source reader, and one adapter per provider behind the caller's rate gates, so
 * tenants that share a provider account in one process share its budget.
 */
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { RateGateRegistry, RequestObserver, RetryPolicy } from '../http/types.js';
import { createProvider } from '../providers/index.js';
import { pageNormaliser } from '../source/phone-pool.js';
import { openSource } from '../source/reader.js';
import { openStateStore } from '../state/store.js';
import { RequestTally } from './request-tally.js';
import { type RuntimeTuning, type TenantRuntime, createTenantRuntime } from './runtime.js';

export interface TenantDeps {
  gates: RateGateRegistry;
  observer?: RequestObserver;
  logger?: Logger;
  /** Divides the documented rate-limit windows, to match a sandbox started with the same time scale. */
  timeScale?: number;
  /** Overrides of the HTTP client's retry policy (tests use short delays). */
  retry?: Partial<RetryPolicy>;
}

export interface OpenTenantOptions {
  /** Only these providers (default: all of the config's). */
  providers?: readonly string[];
  tuning?: Partial<RuntimeTuning>;
}

export async function openTenant(loaded: LoadedConfig, deps: TenantDeps, options: OpenTenantOptions = {}): Promise<TenantRuntime> {
  const { config, baseDir } = loaded;
  const store = await openStateStore(config.state, { baseDir });
  const source = openSource(config.source, baseDir);
  try {
    const requests = new RequestTally(deps.observer);
    const adapters = config.providers.map((provider) =>
      createProvider(provider, {
        gates: deps.gates,
        observer: requests,
        ...(deps.logger === undefined ? {} : { logger: deps.logger }),
        ...(deps.timeScale === undefined ? {} : { timeScale: deps.timeScale }),
        ...(deps.retry === undefined ? {} : { retry: deps.retry }),
      }),
    );
    return createTenantRuntime({
      config,
      store,
      source,
      adapters,
      normalise: pageNormaliser(config.source.defaultCountry),
      requests,
      ...(deps.logger === undefined ? {} : { logger: deps.logger }),
      ...(options.providers === undefined ? {} : { providers: options.providers }),
      ...(options.tuning === undefined ? {} : { tuning: options.tuning }),
      close: async () => {
        await source.close();
        await store.close();
      },
    });
  } catch (error) {
    await source.close();
    await store.close();
    throw error;
  }
}
