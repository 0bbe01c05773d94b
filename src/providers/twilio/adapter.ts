/**
 * Twilio Contacts (pilot): push-only bulk upsert, at most 25 per request, per-item results under
 * error 30647, no list and no delete (deletes and replaced phones become orphans in the engine).
 */
import { z } from 'zod';
import { RunFailedError } from '../../errors.js';
import { chunk } from '../../http/batches.js';
import type { HttpClient } from '../../http/client.js';
import type { HttpRequestSpec } from '../../http/types.js';
import type { ProviderDeps } from '../registry.js';
import { batchSizeOf, clientFor, rateLimitsOf, rejected, retryable, sendParts } from '../shared.js';
import type { ItemOutcome, Payload, ProviderAdapter, ProviderCapabilities, RateLimit, UpsertItem } from '../types.js';
import type { TwilioConfig } from './config.js';
import { type TwilioPayload, toTwilioPayload } from './mapping.js';
import { bulkContactsBody } from './wire.js';

export const twilioMaxItems = 25;
/** Documented: 100 requests per minute. */
export const twilioLimits: readonly RateLimit[] = [{ requests: 100, perSeconds: 60, scope: 'all' }];
/** The server gives up after 3 s; a little more lets a slow answer still arrive. */
export const twilioDefaultTimeoutMs = 5_000;
/** The error code of a failed item. */
const failedItem = 30647;
const internalError = 'INTERNAL_SERVER_ERROR';

const bulkResponseSchema = z.object({
  items: z.array(
    z.object({
      correlation_id: z.string().nullish(),
      error_code: z.number(),
      error_messages: z.array(z.string()).nullish(),
    }),
  ),
});
type ItemResult = z.infer<typeof bulkResponseSchema>['items'][number];

export function createTwilioAdapter(config: TwilioConfig, deps: ProviderDeps): ProviderAdapter {
  return new TwilioAdapter(config, deps);
}

class TwilioAdapter implements ProviderAdapter {
  readonly type = 'twilio';
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  readonly #client: HttpClient;

  constructor(config: TwilioConfig, deps: ProviderDeps) {
    this.name = config.name;
    const rateLimits = rateLimitsOf(config, deps, twilioLimits);
    this.capabilities = { maxBatch: batchSizeOf(config, twilioMaxItems), maxDeleteBatch: 1, rateLimits, canList: false, deleteMode: 'none' };
    this.#client = clientFor(config, deps, {
      // The rate limit belongs to the account, whichever of its auth tokens is used.
      credential: config.accountSid,
      headers: { authorization: `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}` },
      limits: rateLimits,
      defaultTimeoutMs: twilioDefaultTimeoutMs,
    });
  }

  map = toTwilioPayload;

  phoneOf(payload: Payload): string {
    return (payload as TwilioPayload).contact_id;
  }

  upsert(items: readonly UpsertItem[], signal?: AbortSignal): Promise<ItemOutcome[]> {
    return sendParts(
      chunk(items, this.capabilities.maxBatch).map((part) => ({ contactIds: part.map((i) => i.contactId), send: () => this.#sendBulk(part, signal) })),
    );
  }

  delete(): Promise<ItemOutcome[]> {
    throw new RunFailedError(`${this.name}: Twilio Contacts cannot delete; the engine must record deleted contacts as orphans instead`);
  }

  async #sendBulk(items: readonly UpsertItem[], signal: AbortSignal | undefined): Promise<ItemOutcome[]> {
    const req: HttpRequestSpec = {
      method: 'POST',
      path: '/v1/Contacts/Bulk',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: bulkContactsBody(items.map((i) => ({ payload: i.payload as TwilioPayload, correlationId: i.correlationId }))),
      kind: 'bulk',
    };
    const response = await this.#client.send(req, signal);
    const parsed = response.status === 200 || response.status === 201 ? bulkResponseSchema.safeParse(response.json) : undefined;
    if (!parsed?.success) throw this.#client.protocolError(req, response, 'HTTP 201 with {items:[{correlation_id, error_code, error_messages}]}');
    const results = parsed.data.items;
    const byCorrelation = new Map(results.filter((r) => r.correlation_id).map((r) => [r.correlation_id, r]));
    // An item Twilio could not tie to its correlation_id is matched by position.
    return items.map((item, index) => outcomeOf(item, byCorrelation.get(item.correlationId) ?? positional(results[index])));
  }
}

function positional(result: ItemResult | undefined): ItemResult | undefined {
  return result && !result.correlation_id ? result : undefined;
}

function outcomeOf(item: UpsertItem, result: ItemResult | undefined): ItemOutcome {
  const payload = item.payload as TwilioPayload;
  if (!result) return retryable(item.contactId, 'no_outcome', 'Twilio answered without a result for this contact; it is sent again');
  if (result.error_code === 0) {
    const previousPhone = (item.previous as TwilioPayload | null)?.contact_id;
    return {
      contactId: item.contactId,
      status: 'ok',
      ...(previousPhone !== undefined && previousPhone !== payload.contact_id ? { orphanedKey: previousPhone } : {}),
    };
  }
  const messages = result.error_messages ?? [];
  const problems = messages.filter((m) => m !== internalError);
  if (problems.length === 0 && messages.length > 0) {
    return retryable(item.contactId, internalError, 'Twilio failed to store this contact (INTERNAL_SERVER_ERROR); it is sent again');
  }
  if (problems.length === 0) {
    return rejected(item.contactId, String(result.error_code), `Twilio refused the contact with error ${result.error_code} and no reason`);
  }
  return rejected(item.contactId, problems[0]!, problems.map((m) => reasonOf(m, item, payload)).join('; '));
}

/** A 30647 message in words a person can act on. */
function reasonOf(message: string, item: UpsertItem, payload: TwilioPayload): string {
  switch (message) {
    case 'INVALID_CONTACT_ID':
      return `phone "${payload.contact_id}" is not a valid E.164 number for Twilio`;
    case 'INVALID_COUNTRY_ISO_CODE':
      return `country "${payload.country_iso_code ?? ''}" is not an ISO 3166-1 alpha-2 code: fix the contact's country`;
    case 'INVALID_ZIP_CODE':
      return `zip "${payload.zip_code ?? ''}" is not a valid postal code for ${payload.country_iso_code ?? "the phone number's country"}: fix or clear the contact's zip`;
    case 'INVALID_CORRELATION_ID':
      return `Twilio refused correlation id "${item.correlationId}" (32 characters, unique in the request): a connector bug, please report it`;
    default:
      return `Twilio error ${failedItem}: ${message}`;
  }
}
