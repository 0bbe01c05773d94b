/**
 * Trackly SMS v2: bulk upsert of list subscriptions (at most 1,000 contacts and 5 MB per request,
 * 4 KB per contact), "delete" as an unsubscribe from the list (one per request), and listing a
 * list back for reconcile. A phone change subscribes the new number, then unsubscribes the old.
 */
import { z } from 'zod';
import { ContactSyncError } from '../../errors.js';
import { packBySize } from '../../http/batches.js';
import type { HttpClient } from '../../http/client.js';
import { errorFieldsOf } from '../../http/error-body.js';
import type { HttpRequestSpec } from '../../http/types.js';
import type { ProviderDeps } from '../registry.js';
import { batchSizeOf, clientFor, rateLimitsOf, rejected, retryable, sendParts } from '../shared.js';
import type {
  DeleteItem,
  ItemOutcome,
  Payload,
  ProviderAdapter,
  ProviderCapabilities,
  RateLimit,
  RemoteContact,
  UpsertItem,
} from '../types.js';
import type { TracklyConfig } from './config.js';
import { type TracklyPayload, isCustomFieldValue, subscriptionOf, toTracklyPayload } from './mapping.js';

export const tracklyMaxContacts = 1_000;
/** "4 KB" per contact, read as the smaller 4,000 bytes. */
export const tracklyMaxItemBytes = 4_000;
export const tracklyMaxBodyBytes = 5_000_000;
export const tracklyMaxPerPage = 1_000;
/** The older docs' figures (v2 says "no limit"): 100 requests/s to single endpoints, 10/s to bulk. */
export const tracklyLimits: readonly RateLimit[] = [
  { requests: 100, perSeconds: 1, scope: 'single' },
  { requests: 10, perSeconds: 1, scope: 'bulk' },
];
export const tracklyDefaultTimeoutMs = 15_000;
/** The bulk body around the items' texts (joined by commas), and its size for the body limit. */
const bulkOpen = '{"contacts":[';
const bulkClose = ']}';
const envelopeBytes = Buffer.byteLength(bulkOpen + bulkClose);

const bulkResponseSchema = z.object({
  errors: z
    .array(z.object({ index: z.number().int(), code: z.string(), error: z.string().nullish() }))
    .nullish()
    .transform((errors) => errors ?? []),
});
const unsubscribeResponseSchema = z.object({ unsubscribed: z.boolean() });
const listResponseSchema = z.object({
  contacts: z.array(
    z.object({
      phone_number: z.string(),
      list_number: z.string(),
      active: z.boolean(),
      custom_fields: z.record(z.string(), z.unknown()).nullish(),
    }),
  ),
  pagination: z.object({ page: z.number(), total_pages: z.number() }),
});

/** A contact as it goes on the wire: its JSON text (measured for the size limits, then sent as is) and its size. */
interface WireItem {
  item: UpsertItem;
  text: string;
  bytes: number;
}

type Unsubscribe = { ok: true } | { ok: false; code: string; reason: string };

export function createTracklyAdapter(config: TracklyConfig, deps: ProviderDeps): ProviderAdapter {
  return new TracklyAdapter(config, deps);
}

class TracklyAdapter implements ProviderAdapter {
  readonly type = 'trackly';
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  readonly #config: TracklyConfig;
  readonly #client: HttpClient;

  constructor(config: TracklyConfig, deps: ProviderDeps) {
    this.name = config.name;
    this.#config = config;
    const rateLimits = rateLimitsOf(config, deps, tracklyLimits);
    this.capabilities = {
      maxBatch: batchSizeOf(config, tracklyMaxContacts),
      maxDeleteBatch: 1,
      rateLimits,
      canList: true,
      deleteMode: 'unsubscribe',
    };
    this.#client = clientFor(config, deps, {
      credential: config.apiKey,
      headers: { 'x-api-key': config.apiKey },
      limits: rateLimits,
      defaultTimeoutMs: tracklyDefaultTimeoutMs,
    });
  }

  map(contact: Parameters<ProviderAdapter['map']>[0]): Payload {
    return toTracklyPayload(contact, this.#config.listNumber);
  }

  phoneOf(payload: Payload): string {
    return (payload as TracklyPayload).phone_number;
  }

  async upsert(items: readonly UpsertItem[], signal?: AbortSignal): Promise<ItemOutcome[]> {
    const wire = items.map((item) => this.#wireItem(item));
    // An oversize contact would only come back as a per-item error: refuse it here, unsent.
    const oversize = wire.filter((w) => w.bytes > tracklyMaxItemBytes).map((w) => rejected(w.item.contactId, 'payload_too_large', reasonOf('payload_too_large', w)));
    const packs = packBySize(
      wire.filter((w) => w.bytes <= tracklyMaxItemBytes),
      { maxCount: this.capabilities.maxBatch, maxBytes: tracklyMaxBodyBytes - envelopeBytes, separatorBytes: 1 },
      (w) => w.bytes,
    );
    // Subscriptions this call writes: never unsubscribe one of them as some other contact's old phone.
    const written = new Set(items.map((i) => subscriptionOf(i.payload as TracklyPayload)));
    const sent = await sendParts(
      packs.map((pack) => ({ contactIds: pack.map((w) => w.item.contactId), send: () => this.#sendPack(pack, written, signal) })),
    );
    return [...oversize, ...sent];
  }

  delete(items: readonly DeleteItem[], signal?: AbortSignal): Promise<ItemOutcome[]> {
    return sendParts(
      items.map((item) => ({
        contactIds: [item.contactId],
        send: async (): Promise<ItemOutcome[]> => {
          const result = await this.#unsubscribe(item.payload as TracklyPayload, signal);
          return [result.ok ? { contactId: item.contactId, status: 'ok' } : rejected(item.contactId, result.code, result.reason)];
        },
      })),
    );
  }

  async *list(signal?: AbortSignal): AsyncIterable<RemoteContact> {
    for (let page = 1; ; page++) {
      const req: HttpRequestSpec = {
        method: 'GET',
        path: '/contacts',
        query: { list_number: this.#config.listNumber, page, per_page: tracklyMaxPerPage },
        kind: 'single',
      };
      const response = await this.#client.send(req, signal);
      const parsed = response.status === 200 ? listResponseSchema.safeParse(response.json) : undefined;
      if (!parsed?.success) throw this.#client.protocolError(req, response, 'HTTP 200 with {contacts:[…], pagination:{page, total_pages}}');
      for (const c of parsed.data.contacts) {
        const fields = Object.fromEntries(Object.entries(c.custom_fields ?? {}).filter(([, v]) => isCustomFieldValue(v)));
        const payload: TracklyPayload = { phone_number: c.phone_number, list_number: c.list_number, custom_fields: fields as TracklyPayload['custom_fields'] };
        yield { remoteId: c.phone_number, phone: c.phone_number, payload, active: c.active };
      }
      if (parsed.data.contacts.length === 0 || page >= parsed.data.pagination.total_pages) return;
    }
  }

  /**
   * The contact on the wire. Trackly merges custom fields into what the subscription holds, so a
   * field the last delivered payload had and this one lacks is sent as null, which removes it.
   */
  #wireItem(item: UpsertItem): WireItem {
    const payload = item.payload as TracklyPayload;
    const previous = item.previous as TracklyPayload | null;
    const removed =
      previous && subscriptionOf(previous) === subscriptionOf(payload)
        ? Object.keys(previous.custom_fields ?? {}).filter((k) => !(k in payload.custom_fields))
        : [];
    const json = {
      phone_number: payload.phone_number,
      list_number: payload.list_number,
      ...(this.#config.useJourneys ? { use_journeys: true } : {}),
      custom_fields: { ...payload.custom_fields, ...Object.fromEntries(removed.map((k) => [k, null])) },
    };
    const text = JSON.stringify(json);
    return { item, text, bytes: Buffer.byteLength(text) };
  }

  async #sendPack(pack: readonly WireItem[], written: ReadonlySet<string>, signal: AbortSignal | undefined): Promise<ItemOutcome[]> {
    const req: HttpRequestSpec = {
      method: 'POST',
      path: '/contacts/bulk',
      headers: { 'content-type': 'application/json' },
      // The items' texts, already made to measure them: the body is not serialised a second time.
      body: bulkOpen + pack.map((w) => w.text).join(',') + bulkClose,
      kind: 'bulk',
    };
    const response = await this.#client.send(req, signal);
    const parsed = response.status === 200 || response.status === 201 ? bulkResponseSchema.safeParse(response.json) : undefined;
    if (!parsed?.success) throw this.#client.protocolError(req, response, 'HTTP 201 with {success_count, error_count, errors:[{index, code, error}]}');
    const failures = new Map(parsed.data.errors.map((e) => [e.index, e]));
    return Promise.all(
      pack.map(async (w, index): Promise<ItemOutcome> => {
        const failure = failures.get(index);
        if (failure) return rejected(w.item.contactId, failure.code, reasonOf(failure.code, w, failure.error ?? undefined));
        return this.#retireOldSubscription(w.item, written, signal);
      }),
    );
  }

  /** After a phone (or list) change is delivered: unsubscribe the old one; if that fails the item is retried (harmless). */
  async #retireOldSubscription(item: UpsertItem, written: ReadonlySet<string>, signal: AbortSignal | undefined): Promise<ItemOutcome> {
    const previous = item.previous as TracklyPayload | null;
    if (!previous || written.has(subscriptionOf(previous))) return { contactId: item.contactId, status: 'ok' };
    try {
      const result = await this.#unsubscribe(previous, signal);
      if (result.ok) return { contactId: item.contactId, status: 'ok' };
      return retryable(item.contactId, result.code, `subscribed ${(item.payload as TracklyPayload).phone_number}, but could not unsubscribe the old ${previous.phone_number}: ${result.reason}`);
    } catch (error) {
      if (!(error instanceof ContactSyncError) || error.code === 'PROVIDER_AUTH') throw error;
      return retryable(item.contactId, error.code.toLowerCase(), `subscribed the new phone, but unsubscribing the old ${previous.phone_number} failed (${error.message}); it is tried again`);
    }
  }

  async #unsubscribe(subscription: Pick<TracklyPayload, 'phone_number' | 'list_number'>, signal: AbortSignal | undefined): Promise<Unsubscribe> {
    const req: HttpRequestSpec = {
      method: 'DELETE',
      path: '/contacts',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone_number: subscription.phone_number, list_number: subscription.list_number }),
      kind: 'single',
    };
    const response = await this.#client.send(req, signal);
    // `unsubscribed: false` means it was not subscribed (any more): the goal is reached either way.
    if (response.status >= 200 && response.status < 300 && unsubscribeResponseSchema.safeParse(response.json).success) return { ok: true };
    const { code, message } = errorFieldsOf(response.json);
    if ((response.status === 400 || response.status === 404) && code !== undefined) {
      return { ok: false, code, reason: `Trackly could not unsubscribe ${subscription.phone_number} from ${subscription.list_number} (${code}): ${message ?? 'no details'}` };
    }
    throw this.#client.protocolError(req, response, 'HTTP 200 with {success, unsubscribed}');
  }
}

/** A per-contact error code of Trackly in words a person can act on. */
function reasonOf(code: string, w: WireItem, providerText?: string): string {
  const { phone_number: phone, list_number: list } = w.item.payload as TracklyPayload;
  switch (code) {
    case 'invalid_phone':
      return `phone "${phone}" is not a valid E.164 number for Trackly`;
    case 'not_sendable':
      return `Trackly cannot send to ${phone}: it failed carrier validation or is a VOIP number Trackly rejects; use a mobile number`;
    case 'list_not_found':
      return `sending list ${list} does not exist in this Trackly account: check listNumber in the config`;
    case 'invalid_list_number':
      return `list number "${list}" is not a valid E.164 number: check listNumber in the config`;
    case 'payload_too_large':
      return `the contact is ${w.bytes} bytes as sent; Trackly accepts at most ${tracklyMaxItemBytes.toLocaleString('en-US')} per contact: shorten or remove some attributes`;
    case 'missing_phone_number':
    case 'missing_list_number':
      return `Trackly says the contact lacks ${code.slice('missing_'.length).replace('_', ' ')} (a connector bug, please report it)`;
    default:
      return `Trackly refused the contact (${code})${providerText ? `: ${providerText}` : ''}`;
  }
}
