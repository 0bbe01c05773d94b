/**
 * The request body of POST /v1/Contacts/Bulk, byte for byte as the official `twilio` npm client
 * builds it: each item JSON.stringify'd (serialize.object) in the documented key order, then
 * `qs.stringify({Items: [...]}, {arrayFormat: 'repeat'})`, whose default RFC 3986 encoding keeps
 * only A-Z a-z 0-9 - . _ ~ and percent-encodes everything else as UTF-8 (space is %20, not +).
 */
import type { TwilioPayload } from './mapping.js';

export interface TwilioWireItem {
  payload: TwilioPayload;
  correlationId: string;
}

/** The JSON text of one item: contact_id, correlation_id, country_iso_code, zip_code. */
export function itemJson({ payload, correlationId }: TwilioWireItem): string {
  return JSON.stringify({
    contact_id: payload.contact_id,
    correlation_id: correlationId,
    country_iso_code: payload.country_iso_code,
    zip_code: payload.zip_code,
  });
}

export function bulkContactsBody(items: readonly TwilioWireItem[]): string {
  return items.map((item) => `Items=${rfc3986(itemJson(item))}`).join('&');
}

/** encodeURIComponent leaves ! ' ( ) * alone; RFC 3986 (and qs) encode them too. */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
