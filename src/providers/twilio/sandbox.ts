/**
 * Emulator of the Twilio Contacts API (pilot): POST /v1/Contacts/Bulk, form-encoded repeated
 * `Items` (each a JSON string, as the official `twilio` client serialises them), at most 25 per
 * request, per-item results under error 30647, upsert keyed by contact_id (providers.md).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RateLimit } from '../types.js';
import type { PhoneCheck } from '../../sandbox/phone.js';
import type {
  AuthResult,
  Emulator,
  EmulatorRequest,
  EmulatorResponse,
  HandleContext,
  StandardError,
} from '../../sandbox/types.js';
import { isPlainObject } from '../../sandbox/http-io.js';
import { isIsoCountry, isZipOf } from './sandbox-validation.js';

export interface TwilioCredential {
  accountSid: string;
  authToken: string;
}

export const defaultTwilioCredential: TwilioCredential = {
  accountSid: 'AC0123456789abcdef0123456789abcdef',
  authToken: 'sandbox_auth_token',
};

/** A stored contact, as last upserted. */
export interface TwilioContact {
  contact_id: string;
  country_iso_code: string | null;
  zip_code: string | null;
  /** correlation_id of the request item that last wrote it. */
  correlation_id: string;
  /** How many times it was upserted (1 after creation). */
  upserts: number;
}

export const twilioMaxItems = 25;
const bulkPath = '/v1/Contacts/Bulk';
const failedItemCode = 30647;

function twilioError(status: number, code: number, message: string, headers?: Record<string, string>): EmulatorResponse {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
    ...(headers ? { headers } : {}),
  };
}

type ItemResult = { correlation_id: unknown; error_code: number; error_messages: string[] };

export class TwilioEmulator implements Emulator {
  readonly type = 'twilio' as const;
  /** Undocumented; 25 items are a few KB. */
  readonly maxBodyBytes = 1_000_000;
  readonly defaultLimits: readonly RateLimit[] = [{ requests: 100, perSeconds: 60, scope: 'all' }];
  /** Twilio does not document Retry-After on this API. */
  readonly retryAfterOn429 = false;
  /**
   * "Contact API has a timeout value of 3 seconds"; what it then answers is undocumented: a 504 in
   * Twilio's error format, sent after the write was applied (the outcome is unknown to the client).
   */
  readonly serverTimeout = { ms: 3_000, response: twilioError(504, 20504, 'Gateway Timeout: the request took longer than 3 seconds') };

  private readonly tokens = new Map<string, string>();
  private readonly stores = new Map<string, Map<string, TwilioContact>>();

  constructor(
    credentials: readonly TwilioCredential[],
    private readonly phones: PhoneCheck,
  ) {
    for (const c of credentials) this.tokens.set(c.accountSid, c.authToken);
  }

  /** Contacts of the first configured account, by contact_id (E.164). */
  get contacts(): Map<string, TwilioContact> {
    const [first] = this.tokens.keys();
    return this.contactsOf(first ?? '');
  }

  contactsOf(accountSid: string): Map<string, TwilioContact> {
    let store = this.stores.get(accountSid);
    if (!store) {
      store = new Map();
      this.stores.set(accountSid, store);
    }
    return store;
  }

  authenticate(headers: IncomingHttpHeaders): AuthResult {
    const header = headers.authorization ?? '';
    const reject = (message: string): AuthResult => ({
      reject: twilioError(401, 20003, message, { 'www-authenticate': 'Basic realm="Twilio API"' }),
    });
    if (!header.startsWith('Basic ')) return reject('Authentication Error - No credentials provided');
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const sid = colon < 0 ? decoded : decoded.slice(0, colon);
    const token = colon < 0 ? '' : decoded.slice(colon + 1);
    if (this.tokens.get(sid) !== token) return reject('Authentication Error - invalid username');
    return { account: sid };
  }

  kindOf(): 'bulk' {
    return 'bulk';
  }

  handle(request: EmulatorRequest, context: HandleContext): EmulatorResponse {
    if (request.path !== bulkPath) {
      return twilioError(404, 20404, `The requested resource ${request.path} was not found`);
    }
    if (request.method !== 'POST') return twilioError(405, 20004, 'Method not allowed');

    // Like Twilio, only a form-encoded body carries parameters.
    const rawItems =
      request.contentType === 'application/x-www-form-urlencoded'
        ? new URLSearchParams(request.body.toString('utf8')).getAll('Items')
        : [];
    if (rawItems.length === 0) return twilioError(400, 20001, 'Missing required parameter Items in the post body');
    if (rawItems.length > twilioMaxItems) {
      return {
        ...twilioError(400, 20001, `Items: at most ${twilioMaxItems} contacts may be sent in one request, got ${rawItems.length}`),
        items: rawItems.length,
      };
    }

    const items: Record<string, unknown>[] = [];
    for (const [index, raw] of rawItems.entries()) {
      const parsed = parseJson(raw);
      if (!isPlainObject(parsed)) {
        return { ...twilioError(400, 20001, `Items[${index}] is not a JSON object`), items: rawItems.length };
      }
      items.push(parsed);
    }

    const correlationCounts = new Map<unknown, number>();
    for (const item of items) correlationCounts.set(item.correlation_id, (correlationCounts.get(item.correlation_id) ?? 0) + 1);

    const store = this.contactsOf(context.account);
    const results = items.map((item): ItemResult => {
      const reasons = this.reasonsAgainst(item, correlationCounts);
      if (reasons.length === 0 && context.itemFault()) reasons.push('INTERNAL_SERVER_ERROR');
      if (reasons.length > 0) return { correlation_id: item.correlation_id ?? null, error_code: failedItemCode, error_messages: reasons };
      this.upsert(store, item);
      return { correlation_id: item.correlation_id, error_code: 0, error_messages: [] };
    });
    return { status: 201, body: { items: results }, items: items.length };
  }

  error(error: StandardError): EmulatorResponse {
    switch (error.kind) {
      case 'rate_limited':
        return twilioError(429, 20429, 'Too Many Requests');
      case 'internal':
        return twilioError(500, 20500, 'Internal Server Error');
      case 'payload_too_large':
        return twilioError(413, 20413, `Request body exceeds ${error.maxBytes} bytes`);
    }
  }

  reset(): void {
    this.stores.clear();
  }

  /** The 30647 reasons of one item, in the order Twilio's error page lists them. */
  private reasonsAgainst(item: Record<string, unknown>, correlationCounts: Map<unknown, number>): string[] {
    const reasons: string[] = [];
    const { correlation_id: correlationId, contact_id: contactId, country_iso_code: country, zip_code: zip } = item;
    if (typeof correlationId !== 'string' || correlationId.length !== 32 || correlationCounts.get(correlationId) !== 1) {
      reasons.push('INVALID_CORRELATION_ID');
    }
    const countryGiven = country !== undefined && country !== null;
    if (countryGiven && !isIsoCountry(country)) reasons.push('INVALID_COUNTRY_ISO_CODE');
    const phoneValid = this.phones.isValid(contactId);
    if (!phoneValid) reasons.push('INVALID_CONTACT_ID');
    if (zip !== undefined && zip !== null) {
      // The zip is checked against the given country, else the phone's.
      const zipCountry = isIsoCountry(country) ? country : phoneValid ? this.phones.countryOf(contactId) : undefined;
      if (typeof zip !== 'string' || !isZipOf(zip, zipCountry)) reasons.push('INVALID_ZIP_CODE');
    }
    return reasons;
  }

  /** Replaces the stored contact with the item (an upsert "updated to match the requested object"). */
  private upsert(store: Map<string, TwilioContact>, item: Record<string, unknown>): void {
    const contactId = item.contact_id as string;
    store.set(contactId, {
      contact_id: contactId,
      country_iso_code: (item.country_iso_code as string | undefined) ?? null,
      zip_code: (item.zip_code as string | undefined) ?? null,
      correlation_id: item.correlation_id as string,
      upserts: (store.get(contactId)?.upserts ?? 0) + 1,
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
