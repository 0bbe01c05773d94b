import { correlationId, payloadHash } from '../../src/engine/hash.js';
import { LocalRateGateRegistry } from '../../src/http/rate-gate.js';
import type { RequestEvent } from '../../src/http/types.js';
import type { ProviderConfig } from '../../src/config/schema.js';
import { createProvider, type ProviderDeps } from '../../src/providers/registry.js';
import type { DeleteItem, ItemOutcome, Payload, ProviderAdapter, UpsertItem } from '../../src/providers/types.js';
import type { Contact } from '../../src/source/contact.js';
import type { Sandbox } from '../../src/sandbox/server.js';
import type { FaultSettings } from '../../src/sandbox/types.js';

export const tenant = 'acme';

export function contact(fields: Partial<Contact> & { id: string; phone: string }): Contact {
  return { name: null, language: null, country: null, zip: null, attributes: {}, updatedAt: null, phoneCountry: 'US', ...fields };
}

/** What the engine hands an adapter for a contact: mapped, hashed, with its correlation id. */
export function upsertItem(
  adapter: ProviderAdapter,
  c: Contact,
  delivered: { previous?: Payload | null; remoteId?: string | null } = {},
): UpsertItem {
  const payload = adapter.map(c);
  const hash = payloadHash(payload);
  return { contactId: c.id, payload, hash, correlationId: correlationId(tenant, c.id, hash), remoteId: delivered.remoteId ?? null, previous: delivered.previous ?? null };
}

export function deleteItem(adapter: ProviderAdapter, c: Contact, remoteId: string | null = null): DeleteItem {
  return { contactId: c.id, payload: adapter.map(c), remoteId };
}

/** Short retries: tests count attempts rather than wait for them. */
export const fastRetry = { maxRetries: 3, baseDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 20_000 };

type ConfigOf<T extends ProviderConfig['type']> = Omit<Extract<ProviderConfig, { type: T }>, 'name' | 'type'>;

/** An adapter of `type` aimed at the sandbox with its primary credential, and the attempts it made. */
export function sandboxAdapter<T extends ProviderConfig['type']>(
  sb: Sandbox,
  type: T,
  overrides: Partial<ConfigOf<T>> = {},
  deps: Partial<ProviderDeps> = {},
): { adapter: ProviderAdapter; events: RequestEvent[] } {
  const credentials = {
    twilio: { ...sb.credentials.twilio },
    trackly: { apiKey: sb.credentials.trackly.apiKey, listNumber: '+18005551234', useJourneys: false },
    oliai: { apiKey: sb.credentials.oliai.apiKey },
  }[type];
  const events: RequestEvent[] = [];
  const config = { name: `${type}-test`, type, baseUrl: sb.baseUrl(type), ...credentials, ...overrides } as ProviderConfig;
  const adapter = createProvider(config, {
    gates: new LocalRateGateRegistry(),
    retry: fastRetry,
    ...deps,
    observer: {
      onRequest: (e) => {
        events.push(e);
        deps.observer?.onRequest(e);
      },
    },
  });
  return { adapter, events };
}

/** Deps that let `faults` hit only the first attempt: the sandbox is healthy again for the retry. */
export function faultOnce(sb: Sandbox, faults: FaultSettings): Partial<ProviderDeps> {
  sb.faults.set(faults);
  return { observer: { onRequest: () => sb.faults.clear() } };
}

/**
 * The shape of every transient-fault test: the adapter's first attempt meets `faults`, the retry
 * finds the sandbox healthy. Returns what the adapter answered and reported; callers check the
 * outcome, the attempts and the provider's own state.
 */
export async function upsertThroughFault<T extends ProviderConfig['type']>(
  sb: Sandbox,
  type: T,
  contacts: readonly Contact[],
  faults: FaultSettings,
  overrides: Partial<ConfigOf<T>> = {},
): Promise<{ items: UpsertItem[]; outcomes: ItemOutcome[]; events: RequestEvent[] }> {
  const { adapter, events } = sandboxAdapter(sb, type, overrides, faultOnce(sb, faults));
  const items = contacts.map((c) => upsertItem(adapter, c));
  return { items, outcomes: await adapter.upsert(items), events };
}

/** Per attempt: [status, attempt number] as the adapter's HTTP client reported them. */
export function attempts(events: readonly RequestEvent[]): [RequestEvent['status'], number][] {
  return events.map((e) => [e.status, e.attempt]);
}

/** For each request the sandbox answered 429: ms from its arrival to the arrival of the next request. */
export function waitsAfter429(sb: Sandbox): number[] {
  const log = [...sb.requests].sort((a, b) => a.receivedAt - b.receivedAt);
  return log.flatMap((r, i) => (r.status === 429 && log[i + 1] ? [log[i + 1]!.receivedAt - r.receivedAt] : []));
}

export function byId(outcomes: readonly ItemOutcome[]): Map<string, ItemOutcome> {
  return new Map(outcomes.map((o) => [o.contactId, o]));
}

/** `count` distinct valid US mobile-style numbers (+1 415 2xx xxxx). */
export function phones(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, i) => `+1415${String(2_000_000 + offset + i).padStart(7, '0')}`);
}
