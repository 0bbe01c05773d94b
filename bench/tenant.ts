/**
 * The benchmark tenant: a config built in code (validated by the product's own schema, as
 * loadConfig would) and opened the way the CLI opens a tenant.
 */
import { pino } from 'pino';
import type { LoadedConfig, ResolvedTenantConfig } from '../src/config/load.js';
import { type TenantConfigInput, tenantConfigSchema } from '../src/config/schema.js';
import { openTenant } from '../src/engine/open-tenant.js';
import type { RuntimeTuning, TenantRuntime } from '../src/engine/runtime.js';
import { LocalRateGateRegistry } from '../src/http/rate-gate.js';
import type { RequestObserver } from '../src/http/types.js';
import type { ProviderType } from '../src/sandbox/types.js';

export const benchTenant = 'bench';
export const benchDefaultCountry = 'US';

type ProviderInput = TenantConfigInput['providers'][number];

/** Where each provider is reached and how: a sandbox's, or fixed stand-ins for a dry run. */
export interface ProviderEndpoint {
  type: ProviderType;
  baseUrl: string;
  /** Credentials and provider-specific settings (accountSid/authToken, apiKey, listNumber). */
  settings: Record<string, unknown>;
  batchSize?: number;
  /** Replaces the provider's documented limits (the config's `rateLimit`). */
  rateLimit?: { requests: number; perSeconds: number };
}

/**
 * Stand-ins for a dry run: never contacted (a dry run sends nothing). Fixed, because they are part
 * of each provider's mapping tag and so of the cached baselines' source keys.
 */
export const offlineEndpoints: readonly ProviderEndpoint[] = [
  { type: 'twilio', baseUrl: 'http://127.0.0.1:9/twilio', settings: { accountSid: `AC${'0'.repeat(32)}`, authToken: 'unused' } },
  { type: 'trackly', baseUrl: 'http://127.0.0.1:9/trackly/api/v2', settings: { apiKey: 'unused', listNumber: '+18005551234' } },
  { type: 'oliai', baseUrl: 'http://127.0.0.1:9/oliai/v1', settings: { apiKey: 'unused' } },
];

export function benchConfig(options: { sourcePath: string; stateUrl: string; providers: readonly ProviderEndpoint[] }): LoadedConfig {
  const input: TenantConfigInput = {
    tenant: benchTenant,
    state: options.stateUrl,
    source: { url: `sqlite:${options.sourcePath}`, defaultCountry: benchDefaultCountry },
    providers: options.providers.map(
      (p) =>
        ({
          name: p.type,
          type: p.type,
          baseUrl: p.baseUrl,
          ...p.settings,
          ...(p.batchSize === undefined ? {} : { batchSize: p.batchSize }),
          ...(p.rateLimit === undefined ? {} : { rateLimit: p.rateLimit }),
        }) as ProviderInput,
    ),
  };
  const config = tenantConfigSchema.parse(input) as ResolvedTenantConfig;
  return { file: '(bench)', baseDir: process.cwd(), config, secrets: [], secretVars: {} };
}

export interface OpenOptions {
  observer?: RequestObserver;
  /** Divides the adapters' rate-limit windows (match the sandbox's timeScale). */
  timeScale?: number;
  tuning?: Partial<RuntimeTuning>;
}

/** Opens the tenant as the CLI does, behind in-process rate gates, with logs off. */
export async function openBenchTenant(loaded: LoadedConfig, options: OpenOptions = {}): Promise<TenantRuntime> {
  return openTenant(
    loaded,
    {
      gates: new LocalRateGateRegistry(),
      logger: pino({ level: 'silent' }),
      ...(options.observer === undefined ? {} : { observer: options.observer }),
      ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }),
    },
    options.tuning === undefined ? {} : { tuning: options.tuning },
  );
}
