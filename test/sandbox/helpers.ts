/** Small HTTP helpers for the sandbox tests: every call goes over real HTTP on loopback. */
import type { Sandbox } from '../../src/sandbox/server.js';
import type { ProviderType } from '../../src/sandbox/types.js';

export interface Reply {
  status: number;
  headers: Headers;
  json: any; // tests read arbitrary provider JSON
}

export async function send(url: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text === '' ? undefined : JSON.parse(text) };
}

export function basic(accountSid: string, authToken: string): string {
  return `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
}

/** A 32-character correlation id from a number. */
export function correlation(n: number): string {
  return n.toString(16).padStart(32, '0');
}

export interface TwilioItem {
  contact_id?: unknown;
  correlation_id?: unknown;
  country_iso_code?: unknown;
  zip_code?: unknown;
}

export function twilioItem(n: number, overrides: TwilioItem = {}): TwilioItem {
  return { contact_id: `+1415555${String(2000 + n).padStart(4, '0')}`, correlation_id: correlation(n), country_iso_code: 'US', zip_code: '94105', ...overrides };
}

/** POST /v1/Contacts/Bulk the way the twilio client does: repeated form field Items, each JSON. */
export function twilioBulk(sb: Sandbox, items: readonly unknown[], auth = basic(sb.credentials.twilio.accountSid, sb.credentials.twilio.authToken)): Promise<Reply> {
  const form = new URLSearchParams();
  for (const item of items) form.append('Items', JSON.stringify(item));
  return send(`${sb.baseUrl('twilio')}/v1/Contacts/Bulk`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
}

/** A JSON call to Trackly or OliAI with the sandbox's primary key (or `key`). */
export function jsonCall(
  sb: Sandbox,
  type: Exclude<ProviderType, 'twilio'>,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = sb.credentials[type].apiKey,
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (key !== null) headers[type === 'trackly' ? 'X-Api-Key' : 'x-api-key'] = key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return send(`${sb.baseUrl(type)}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}
