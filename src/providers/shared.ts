/** What every adapter shares: its HTTP client and gate, its limits from the config, and per-item outcomes. */
import { ContactSyncError } from '../errors.js';
import { HttpClient } from '../http/client.js';
import { accountKey } from '../http/rate-gate.js';
import type { ItemOutcome, RateLimit } from './types.js';
import type { ProviderDeps } from './registry.js';

/** The options of commonProviderFields (./common-config.ts) an adapter applies. */
interface CommonSettings {
  name: string;
  type: string;
  baseUrl: string;
  rateLimit?: { requests: number; perSeconds: number } | undefined;
  batchSize?: number | undefined;
  timeoutMs?: number | undefined;
}

/**
 * `rateLimit` from the config replaces every documented limit with one limit on all requests;
 * `timeScale` (ProviderDeps) shortens the windows to match a time-scaled sandbox.
 */
export function rateLimitsOf(config: CommonSettings, deps: ProviderDeps, documented: readonly RateLimit[]): readonly RateLimit[] {
  const limits: readonly RateLimit[] = config.rateLimit ? [{ ...config.rateLimit, scope: 'all' }] : documented;
  const scale = deps.timeScale ?? 1;
  return scale === 1 ? limits : limits.map((l) => ({ ...l, perSeconds: l.perSeconds / scale }));
}

/** `batchSize` from the config (the schema refuses one above the provider's maximum), else that maximum. */
export function batchSizeOf(config: CommonSettings, providerMax: number): number {
  return config.batchSize ?? providerMax;
}

/** The client of one adapter, behind the gate of its account (shared by every tenant on it). */
export function clientFor(
  config: CommonSettings,
  deps: ProviderDeps,
  account: { credential: string; headers: Record<string, string>; limits: readonly RateLimit[]; defaultTimeoutMs: number },
): HttpClient {
  return new HttpClient({
    provider: config.name,
    baseUrl: config.baseUrl,
    timeoutMs: config.timeoutMs ?? account.defaultTimeoutMs,
    gate: deps.gates.gateFor(accountKey(config.type, config.baseUrl, account.credential), account.limits),
    headers: account.headers,
    ...(deps.retry ? { retry: deps.retry } : {}),
    ...(deps.observer ? { observer: deps.observer } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}

export function rejected(contactId: string, code: string, reason: string): ItemOutcome {
  return { contactId, status: 'rejected', code, reason };
}

export function retryable(contactId: string, code: string, reason: string): ItemOutcome {
  return { contactId, status: 'retryable', code, reason };
}

/** One request (or a few) of an adapter call, and the contacts whose outcomes it yields. */
export interface Part {
  contactIds: readonly string[];
  send(): Promise<ItemOutcome[]>;
}

/**
 * Sends the parts of one adapter call in order. If the first part fails, the error propagates:
 * nothing is known to be done and the engine keeps the whole batch journaled. Once a part has
 * been delivered, a later failure (retries exhausted) must not lose that: the failed part and the
 * parts not yet sent come back retryable. Credential and caller-abort errors always propagate.
 */
export async function sendParts(parts: readonly Part[]): Promise<ItemOutcome[]> {
  const outcomes: ItemOutcome[] = [];
  for (const [index, part] of parts.entries()) {
    try {
      outcomes.push(...(await part.send()));
    } catch (error) {
      if (outcomes.length === 0 || !(error instanceof ContactSyncError) || error.code === 'PROVIDER_AUTH') throw error;
      const reason = `not confirmed (${error.message}); it is sent again`;
      for (const rest of parts.slice(index)) outcomes.push(...rest.contactIds.map((id) => retryable(id, error.code.toLowerCase(), reason)));
      break;
    }
  }
  return outcomes;
}
