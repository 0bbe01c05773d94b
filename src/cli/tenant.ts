/** Loading one tenant for a one-shot command: its secrets are registered with the log redactor first. */
import { type LoadedConfig, loadConfig } from '../config/load.js';
import { openTenant } from '../engine/open-tenant.js';
import type { TenantRuntime } from '../engine/runtime.js';
import { LocalRateGateRegistry } from '../http/rate-gate.js';
import type { CliSession } from './session.js';

export async function loadTenantConfig(session: CliSession, file: string): Promise<LoadedConfig> {
  const loaded = await loadConfig(file);
  session.redactor.addSecrets(loaded.secrets);
  return loaded;
}

/** Loads the config and opens the tenant (state store, source, adapters) for one command. */
export async function openTenantFor(session: CliSession, file: string, options: { providers?: readonly string[] } = {}): Promise<TenantRuntime> {
  const loaded = await loadTenantConfig(session, file);
  const logger = session.logger.child({ tenant: loaded.config.tenant });
  return openTenant(loaded, { gates: new LocalRateGateRegistry(), logger, ...(session.timeScale === undefined ? {} : { timeScale: session.timeScale }) }, options.providers === undefined ? {} : { providers: options.providers });
}
