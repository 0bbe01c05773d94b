/**
 * Provider types by name. The engine builds adapters here from the tenant config and otherwise
 * knows providers only through ProviderAdapter (./types.ts).
 */
import type { Logger } from 'pino';
import type { ProviderConfig } from '../config/schema.js';
import type { RateGateRegistry, RequestObserver, RetryPolicy } from '../http/types.js';
import { createOliaiAdapter } from './oliai/adapter.js';
import { createTracklyAdapter } from './trackly/adapter.js';
import { createTwilioAdapter } from './twilio/adapter.js';
import type { ProviderAdapter } from './types.js';

export interface ProviderDeps {
  gates: RateGateRegistry;
  observer?: RequestObserver;
  logger?: Logger;
  /** Overrides of the HTTP client's retry policy (tests use short delays). */
  retry?: Partial<RetryPolicy>;
  /**
   * Divides every rate-limit window, to match a sandbox started with the same --time-scale
   * (benchmarks, tests). Default 1.
   */
  timeScale?: number;
}

export type ProviderType = ProviderConfig['type'];

export type ProviderFactory<T extends ProviderType = ProviderType> = (
  config: Extract<ProviderConfig, { type: T }>,
  deps: ProviderDeps,
) => ProviderAdapter;

const factories: { readonly [T in ProviderType]: ProviderFactory<T> } = {
  twilio: createTwilioAdapter,
  trackly: createTracklyAdapter,
  oliai: createOliaiAdapter,
};

export const providerTypes = Object.keys(factories) as readonly ProviderType[];

export function createProvider(config: ProviderConfig, deps: ProviderDeps): ProviderAdapter {
  const factory = factories[config.type] as ProviderFactory;
  return factory(config, deps);
}
