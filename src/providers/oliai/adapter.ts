/**
 * OliAI voice platform: bulk create-or-update by phone (at most 1,000), PATCH by id when a known
 * contact's phone changed, bulk delete by id, and listing for reconcile. OliAI has no lookup by
 * phone: the ids come back from bulk answers (outcomes carry them as remoteId for the state store).
 */
import { z } from 'zod';
import { chunk } from '../../http/batches.js';
import type { HttpClient } from '../../http/client.js';
import { errorFieldsOf } from '../../http/error-body.js';
import type { HttpRequestSpec } from '../../http/types.js';
import type { ProviderDeps } from '../registry.js';
import { type Part, batchSizeOf, clientFor, rateLimitsOf, rejected, retryable, sendParts } from '../shared.js';
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
import type { OliaiConfig } from './config.js';
import { type OliaiPayload, toOliaiPayload } from './mapping.js';

export const oliaiMaxBulk = 1_000;
/** The bulk-delete size is undocumented: the bulk upsert's 1,000. */
export const oliaiMaxBulkDelete = 1_000;
export const oliaiMaxPageSize = 100;
/** 60 requests/min per key; bulk endpoints 10/min. */
export const oliaiLimits: readonly RateLimit[] = [
  { requests: 60, perSeconds: 60, scope: 'all' },
  { requests: 10, perSeconds: 60, scope: 'bulk' },
];
export const oliaiDefaultTimeoutMs = 15_000;

const contactSchema = z.object({
  id: z.string(),
  name: z.string(),
  phoneNumber: z.string(),
  language: z.string().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
});
type OliaiContact = z.infer<typeof contactSchema>;
const bulkResponseSchema = z.object({
  contacts: z.array(contactSchema),
  errors: z
    .array(z.object({ index: z.number().int(), reason: z.union([z.string(), z.array(z.string())]).nullish() }))
    .nullish()
    .transform((errors) => errors ?? []),
});
const bulkDeleteResponseSchema = z.object({ deleted: z.number() });
const listResponseSchema = z.object({ data: z.array(contactSchema), page: z.number(), totalPages: z.number() });

export function createOliaiAdapter(config: OliaiConfig, deps: ProviderDeps): ProviderAdapter {
  return new OliaiAdapter(config, deps);
}

class OliaiAdapter implements ProviderAdapter {
  readonly type = 'oliai';
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  readonly #client: HttpClient;

  constructor(config: OliaiConfig, deps: ProviderDeps) {
    this.name = config.name;
    const rateLimits = rateLimitsOf(config, deps, oliaiLimits);
    this.capabilities = {
      maxBatch: batchSizeOf(config, oliaiMaxBulk),
      maxDeleteBatch: batchSizeOf(config, oliaiMaxBulkDelete),
      rateLimits,
      canList: true,
      deleteMode: 'delete',
    };
    this.#client = clientFor(config, deps, {
      credential: config.apiKey,
      headers: { 'x-api-key': config.apiKey },
      limits: rateLimits,
      defaultTimeoutMs: oliaiDefaultTimeoutMs,
    });
  }

  map = toOliaiPayload;

  phoneOf(payload: Payload): string {
    return (payload as OliaiPayload).phoneNumber;
  }

  /**
   * Known contacts whose phone changed are PATCHed by id first (a bulk upsert by the new phone
   * would create a second contact), so that a phone they free is free before the bulk writes it.
   */
  upsert(items: readonly UpsertItem[], signal?: AbortSignal): Promise<ItemOutcome[]> {
    const moves = items.filter((i) => i.remoteId !== null && i.previous !== null && (i.previous as OliaiPayload).phoneNumber !== (i.payload as OliaiPayload).phoneNumber);
    const rest = items.filter((i) => !moves.includes(i));
    const parts: Part[] = [
      ...moves.map((item) => ({ contactIds: [item.contactId], send: () => this.#patch(item, signal) })),
      ...chunk(rest, this.capabilities.maxBatch).map((part) => ({ contactIds: part.map((i) => i.contactId), send: () => this.#bulkUpsert(part, signal) })),
    ];
    return sendParts(parts);
  }

  /** Items without a remote id were never confirmed created: nothing to delete, done. */
  async delete(items: readonly DeleteItem[], signal?: AbortSignal): Promise<ItemOutcome[]> {
    const known = items.filter((i) => i.remoteId !== null);
    const nothingToDo = items.filter((i) => i.remoteId === null).map((i): ItemOutcome => ({ contactId: i.contactId, status: 'ok' }));
    const sent = await sendParts(
      chunk(known, this.capabilities.maxDeleteBatch).map((part) => ({ contactIds: part.map((i) => i.contactId), send: () => this.#bulkDelete(part, signal) })),
    );
    return [...nothingToDo, ...sent];
  }

  async *list(signal?: AbortSignal): AsyncIterable<RemoteContact> {
    for (let page = 1; ; page++) {
      const req: HttpRequestSpec = { method: 'GET', path: '/contacts', query: { page, limit: oliaiMaxPageSize }, kind: 'single' };
      const response = await this.#client.send(req, signal);
      const parsed = response.status === 200 ? listResponseSchema.safeParse(response.json) : undefined;
      if (!parsed?.success) throw this.#client.protocolError(req, response, 'HTTP 200 with {data:[…], page, totalPages}');
      for (const contact of parsed.data.data) {
        yield { remoteId: contact.id, phone: contact.phoneNumber, payload: payloadOf(contact), active: true };
      }
      if (parsed.data.data.length === 0 || page >= parsed.data.totalPages) return;
    }
  }

  async #bulkUpsert(items: readonly UpsertItem[], signal: AbortSignal | undefined): Promise<ItemOutcome[]> {
    const req: HttpRequestSpec = {
      method: 'POST',
      path: '/contacts/bulk',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contacts: items.map((i) => i.payload) }),
      kind: 'bulk',
    };
    const response = await this.#client.send(req, signal);
    const parsed = response.status === 200 || response.status === 201 ? bulkResponseSchema.safeParse(response.json) : undefined;
    if (!parsed?.success) throw this.#client.protocolError(req, response, 'HTTP 201 with {created, updated, failed, contacts:[…], errors:[{index, reason}]}');
    const failures = new Map(parsed.data.errors.map((e) => [e.index, e.reason]));
    const idByPhone = new Map(parsed.data.contacts.map((c) => [c.phoneNumber, c.id]));
    return items.map((item, index): ItemOutcome => {
      if (failures.has(index)) return rejected(item.contactId, 'validation_failed', `OliAI refused the contact: ${textOf(failures.get(index))}`);
      const id = idByPhone.get((item.payload as OliaiPayload).phoneNumber);
      if (id === undefined) return retryable(item.contactId, 'no_outcome', 'OliAI answered without this contact; it is sent again');
      return { contactId: item.contactId, status: 'ok', remoteId: id };
    });
  }

  /** A phone change of a known contact. Gone at OliAI (404): created again by phone, with a new id. */
  async #patch(item: UpsertItem, signal: AbortSignal | undefined): Promise<ItemOutcome[]> {
    const payload = item.payload as OliaiPayload;
    const req: HttpRequestSpec = {
      method: 'PATCH',
      path: `/contacts/${encodeURIComponent(item.remoteId ?? '')}`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      kind: 'single',
    };
    const response = await this.#client.send(req, signal);
    if (response.status === 200) {
      const parsed = contactSchema.safeParse(response.json);
      if (!parsed.success) throw this.#client.protocolError(req, response, 'HTTP 200 with the updated contact');
      return [{ contactId: item.contactId, status: 'ok', remoteId: parsed.data.id }];
    }
    if (response.status === 404) return this.#bulkUpsert([item], signal);
    const { message } = errorFieldsOf(response.json);
    if (response.status === 409) {
      return [rejected(item.contactId, 'phone_taken', `another OliAI contact, not written by this connector, already has ${payload.phoneNumber}: remove it at OliAI or fix the phone`)];
    }
    if (response.status === 400) return [rejected(item.contactId, 'validation_failed', `OliAI refused the contact: ${message ?? 'no details'}`)];
    throw this.#client.protocolError(req, response, 'HTTP 200 with the updated contact');
  }

  /** `deleted` below the count sent means some were gone already: done either way. */
  async #bulkDelete(items: readonly DeleteItem[], signal: AbortSignal | undefined): Promise<ItemOutcome[]> {
    const req: HttpRequestSpec = {
      method: 'POST',
      path: '/contacts/bulk-delete',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contactIds: items.map((i) => i.remoteId) }),
      kind: 'bulk',
    };
    const response = await this.#client.send(req, signal);
    const ok = response.status >= 200 && response.status < 300 && bulkDeleteResponseSchema.safeParse(response.json).success;
    if (!ok) throw this.#client.protocolError(req, response, 'HTTP 200/201 with {deleted}');
    return items.map((i) => ({ contactId: i.contactId, status: 'ok' }));
  }
}

/** What OliAI holds, in the shape toOliaiPayload produces, so hashes compare. */
function payloadOf(contact: OliaiContact): OliaiPayload {
  return { name: contact.name, phoneNumber: contact.phoneNumber, language: contact.language ?? null, metadata: contact.metadata ?? {} };
}

function textOf(reason: string | string[] | null | undefined): string {
  if (Array.isArray(reason)) return reason.join('; ');
  return reason ?? 'no details';
}
