/**
 * Emulator of the Trackly SMS API v2 contacts endpoints (providers.md, seed 001, docs.tracklysms.com):
 * bulk upsert onto sending lists, list, get by phone, and DELETE as an unsubscribe. A Contact is a
 * phone number of the account; a ListContact is its subscription to one sending list, holding the
 * custom fields and the active flag.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RateLimit, RequestKind } from '../types.js';
import type { PhoneCheck } from '../../sandbox/phone.js';
import type {
  AuthResult,
  Emulator,
  EmulatorRequest,
  EmulatorResponse,
  StandardError,
} from '../../sandbox/types.js';
import { CachedView, pageOf } from '../../sandbox/cached-view.js';
import { decodeSegment, isPlainObject, parseJsonBody, parsePositiveInt } from '../../sandbox/http-io.js';

export interface TracklyCredential {
  apiKey: string;
}

export const defaultTracklyCredential: TracklyCredential = { apiKey: 'trk_sandbox_key' };
export const defaultTracklyList = '+18005551234';
/**
 * Numbers that fail "carrier validation" (per-item `not_sendable`): the NANP fictional range
 * +1 NXX 555-0100 to 555-0199, which libphonenumber still counts as valid.
 */
export const defaultNotSendable = /^\+1\d{3}55501\d{2}$/;

export const tracklyMaxContacts = 1000;
export const tracklyMaxItemBytes = 4000;
export const tracklyMaxBodyBytes = 5_000_000;
export const tracklyMaxPerPage = 1000;
export const tracklyDefaultPerPage = 50;

export interface TracklyOptions {
  /** Sending lists every account owns (E.164). Default: +18005551234. */
  sendingLists?: readonly string[];
  /** Phones rejected as `not_sendable` when first created; null: none. */
  notSendable?: RegExp | null;
  /** Lists have an active Welcome Journey (use_journeys enrols new subscribers). Default true. */
  welcomeJourney?: boolean;
}

export type CustomFieldValue = string | number | boolean;

export interface TracklyContact {
  phone_number: string;
  created_at: string;
}

export interface TracklyListContact {
  phone_number: string;
  list_number: string;
  active: boolean;
  custom_fields: Record<string, CustomFieldValue>;
  signup_date: string;
  ip_address: string | null;
  unsubscribe_reason: string | null;
  /** Creation order, the tie-break of the newest-first listing. */
  readonly seq: number;
}

class TracklyAccount {
  readonly contacts = new Map<string, TracklyContact>();
  readonly lists = new Map<string, Map<string, TracklyListContact>>();
  /** Every ListContact, newest signup first (ties: newest created first), as GET /contacts lists them. */
  readonly newestFirst = new CachedView(() =>
    [...this.lists.values()]
      .flatMap((list) => [...list.values()])
      .sort((a, b) => (a.signup_date < b.signup_date ? 1 : a.signup_date > b.signup_date ? -1 : b.seq - a.seq)),
  );
  seq = 0;

  listOf(listNumber: string): Map<string, TracklyListContact> {
    let list = this.lists.get(listNumber);
    if (!list) {
      list = new Map();
      this.lists.set(listNumber, list);
    }
    return list;
  }
}

function tracklyError(status: number, code: string, error: string): EmulatorResponse {
  return { status, body: { error, code } };
}

/** ISO 8601 without milliseconds or zone, as Trackly prints dates. */
function tracklyDate(date: Date): string {
  return date.toISOString().slice(0, 19);
}

interface BulkTotals {
  success_count: number;
  error_count: number;
  errors: { index: number; phone_number: unknown; code: string; error: string }[];
  contacts_created: number;
  list_contacts_created: number;
  journeys_enrolled: number;
  warnings: string[];
}

export class TracklyEmulator implements Emulator {
  readonly type = 'trackly' as const;
  readonly maxBodyBytes = tracklyMaxBodyBytes;
  /** The older docs' figures (v2 says "no limit"): 100 req/s single endpoints, 10 req/s bulk. */
  readonly defaultLimits: readonly RateLimit[] = [
    { requests: 100, perSeconds: 1, scope: 'single' },
    { requests: 10, perSeconds: 1, scope: 'bulk' },
  ];
  readonly retryAfterOn429 = false;

  private readonly keys: string[];
  private readonly accounts = new Map<string, TracklyAccount>();
  private readonly sendingLists: string[];
  private readonly notSendable: RegExp | null;
  private readonly welcomeJourney: boolean;

  constructor(
    credentials: readonly TracklyCredential[],
    private readonly phones: PhoneCheck,
    options: TracklyOptions = {},
  ) {
    this.keys = credentials.map((c) => c.apiKey);
    this.sendingLists = [...(options.sendingLists ?? [defaultTracklyList])];
    for (const list of this.sendingLists) {
      if (!phones.isValid(list)) throw new RangeError(`sending list ${list} is not a valid E.164 number`);
    }
    this.notSendable = options.notSendable === undefined ? defaultNotSendable : options.notSendable;
    this.welcomeJourney = options.welcomeJourney ?? true;
  }

  /** The sending lists (E.164) every account owns. */
  get lists(): readonly string[] {
    return this.sendingLists;
  }

  addSendingList(listNumber: string): void {
    if (!this.phones.isValid(listNumber)) throw new RangeError(`sending list ${listNumber} is not a valid E.164 number`);
    if (!this.sendingLists.includes(listNumber)) this.sendingLists.push(listNumber);
  }

  /** Contacts (phone numbers) of an account (default: the first key's). */
  contacts(apiKey = this.keys[0] ?? ''): Map<string, TracklyContact> {
    return this.accountOf(apiKey).contacts;
  }

  /** ListContacts of one sending list by phone, with their active flag (default: the first list, first key). */
  listContacts(listNumber = this.sendingLists[0] ?? defaultTracklyList, apiKey = this.keys[0] ?? ''): Map<string, TracklyListContact> {
    return this.accountOf(apiKey).listOf(listNumber);
  }

  authenticate(headers: IncomingHttpHeaders): AuthResult {
    const key = headers['x-api-key'];
    if (typeof key !== 'string' || key === '') return { reject: tracklyError(401, 'unauthorized', 'API key required') };
    if (!this.keys.includes(key)) return { reject: tracklyError(401, 'unauthorized', 'Invalid API key') };
    return { account: key };
  }

  kindOf(method: string, path: string): RequestKind {
    return method === 'POST' && path === '/contacts/bulk' ? 'bulk' : 'single';
  }

  handle(request: EmulatorRequest, context: { account: string }): EmulatorResponse {
    const account = this.accountOf(context.account);
    const { method, path } = request;
    if (path === '/contacts/bulk') return method === 'POST' ? this.bulkUpsert(account, request) : this.notAllowed();
    if (path === '/contacts') {
      if (method === 'GET') return this.list(account, request.query);
      if (method === 'DELETE') return this.unsubscribe(account, request);
      return this.notAllowed();
    }
    const single = /^\/contacts\/([^/]+)$/.exec(path);
    if (single?.[1] !== undefined) return method === 'GET' ? this.get(account, single[1]) : this.notAllowed();
    return tracklyError(404, 'not_found', `No route ${method} /api/v2${path}`);
  }

  error(error: StandardError): EmulatorResponse {
    switch (error.kind) {
      case 'rate_limited':
        return tracklyError(429, 'rate_limited', 'Rate limit exceeded');
      case 'internal':
        return tracklyError(500, 'internal_error', 'An unexpected server error occurred');
      case 'payload_too_large':
        return tracklyError(413, 'payload_too_large', `Request payload exceeds the ${error.maxBytes / 1_000_000} MB limit`);
    }
  }

  reset(): void {
    this.accounts.clear();
  }

  private accountOf(apiKey: string): TracklyAccount {
    let account = this.accounts.get(apiKey);
    if (!account) {
      account = new TracklyAccount();
      this.accounts.set(apiKey, account);
    }
    return account;
  }

  private notAllowed(): EmulatorResponse {
    return tracklyError(405, 'method_not_allowed', 'Method not allowed');
  }

  private bulkUpsert(account: TracklyAccount, request: EmulatorRequest): EmulatorResponse {
    const body = parseJsonBody(request.contentType, request.body);
    if (!body.ok) return tracklyError(400, 'invalid_json', `Invalid JSON body: ${body.reason}`);
    const contacts = isPlainObject(body.value) ? body.value.contacts : undefined;
    if (!Array.isArray(contacts) || contacts.length === 0) {
      return tracklyError(400, 'missing_contacts', 'The contacts array was not provided in the request body.');
    }
    if (contacts.length > tracklyMaxContacts) {
      return {
        ...tracklyError(413, 'too_many_contacts', `The contacts array exceeds the ${tracklyMaxContacts.toLocaleString('en-US')} item limit.`),
        items: contacts.length,
      };
    }

    const totals: BulkTotals = {
      success_count: 0,
      error_count: 0,
      errors: [],
      contacts_created: 0,
      list_contacts_created: 0,
      journeys_enrolled: 0,
      warnings: [],
    };
    const listsMissingJourneys = new Set<string>();
    contacts.forEach((raw: unknown, index) => {
      const item = isPlainObject(raw) ? raw : {};
      const failure = this.itemFailure(account, raw, item);
      if (failure) {
        totals.error_count += 1;
        totals.errors.push({ index, phone_number: item.phone_number ?? null, ...failure });
        return;
      }
      this.upsertItem(account, item, index, totals, listsMissingJourneys);
      totals.success_count += 1;
    });
    for (const list of listsMissingJourneys) {
      totals.warnings.push(`Sending list ${list} has an active Welcome Journey; new contacts were not enrolled because use_journeys was not set.`);
    }
    account.newestFirst.invalidate();
    return { status: 201, body: totals, items: contacts.length };
  }

  /** The per-contact error of one item, in the order the docs list the codes (size first). */
  private itemFailure(account: TracklyAccount, raw: unknown, item: Record<string, unknown>): { code: string; error: string } | undefined {
    if (Buffer.byteLength(JSON.stringify(raw) ?? '') > tracklyMaxItemBytes) {
      return { code: 'payload_too_large', error: `The contact payload exceeds the ${tracklyMaxItemBytes.toLocaleString('en-US')} byte limit.` };
    }
    const phone = item.phone_number;
    const list = item.list_number;
    if (phone === undefined || phone === null || phone === '') {
      return { code: 'missing_phone_number', error: 'The contact object is missing the phone_number field.' };
    }
    if (list === undefined || list === null || list === '') {
      return { code: 'missing_list_number', error: 'The contact object is missing the list_number field.' };
    }
    if (!this.phones.isValid(phone)) return { code: 'invalid_phone', error: 'The phone number is not a valid E.164 number.' };
    if (!this.phones.isValid(list)) return { code: 'invalid_list_number', error: 'The list number is not a valid E.164 number.' };
    if (!this.sendingLists.includes(list)) {
      return { code: 'list_not_found', error: `No sending list with list_number ${list} exists for this account.` };
    }
    // Carrier validation happens when a Contact is first created.
    if (!account.contacts.has(phone) && this.notSendable?.test(phone)) {
      return { code: 'not_sendable', error: 'Phone number failed carrier validation' };
    }
    return undefined;
  }

  private upsertItem(
    account: TracklyAccount,
    item: Record<string, unknown>,
    index: number,
    totals: BulkTotals,
    listsMissingJourneys: Set<string>,
  ): void {
    const phone = item.phone_number as string;
    const listNumber = item.list_number as string;
    const now = new Date();
    if (!account.contacts.has(phone)) {
      account.contacts.set(phone, { phone_number: phone, created_at: tracklyDate(now) });
      totals.contacts_created += 1;
    }
    const list = account.listOf(listNumber);
    const existing = list.get(phone);
    const fields = customFieldsOf(item.custom_fields, index, totals.warnings);
    if (existing) {
      // An existing subscription is re-activated; custom fields are merged, other data preserved.
      existing.active = true;
      existing.unsubscribe_reason = null;
      mergeCustomFields(existing.custom_fields, fields);
    } else {
      list.set(phone, {
        phone_number: phone,
        list_number: listNumber,
        active: true,
        custom_fields: mergeCustomFields({}, fields),
        signup_date: signupDateOf(item.signup_date, index, totals.warnings) ?? tracklyDate(now),
        ip_address: typeof item.ip_address === 'string' ? item.ip_address : null,
        unsubscribe_reason: null,
        seq: account.seq++,
      });
      totals.list_contacts_created += 1;
    }
    const enrols = item.use_journeys === true && (!existing || item.skip_journey_if_exists === false);
    if (this.welcomeJourney && enrols) totals.journeys_enrolled += 1;
    if (this.welcomeJourney && !existing && item.use_journeys !== true) listsMissingJourneys.add(listNumber);
  }

  private list(account: TracklyAccount, query: URLSearchParams): EmulatorResponse {
    const listNumber = query.get('list_number');
    const active = query.get('active');
    const page = parsePositiveInt(query.get('page'), 1);
    const perPage = parsePositiveInt(query.get('per_page'), tracklyDefaultPerPage);
    if (listNumber !== null && !this.phones.isValid(listNumber)) {
      return tracklyError(400, 'invalid_list_number', 'The list_number is not a valid E.164 number.');
    }
    if (listNumber !== null && !this.sendingLists.includes(listNumber)) {
      return tracklyError(404, 'list_not_found', 'Sending list not found');
    }
    if (active !== null && active !== 'true' && active !== 'false') {
      return tracklyError(400, 'invalid_parameter', 'active must be "true" or "false"');
    }
    if (page === undefined) return tracklyError(400, 'invalid_parameter', 'page must be a positive integer');
    if (perPage === undefined || perPage > tracklyMaxPerPage) {
      return tracklyError(400, 'invalid_parameter', `per_page must be an integer from 1 to ${tracklyMaxPerPage}`);
    }
    const all = account.newestFirst.get();
    const matching =
      listNumber === null && active === null
        ? all
        : all.filter((c) => (listNumber === null || c.list_number === listNumber) && (active === null || String(c.active) === active));
    const { slice, totalPages } = pageOf(matching, page, perPage);
    return {
      status: 200,
      body: {
        contacts: slice.map((c) => this.listContactView(c)),
        pagination: { page, per_page: perPage, total: matching.length, total_pages: totalPages },
      },
    };
  }

  private get(account: TracklyAccount, encodedPhone: string): EmulatorResponse {
    const phone = decodeSegment(encodedPhone);
    if (!this.phones.isValid(phone)) return tracklyError(400, 'invalid_phone', 'The phone number is not a valid E.164 number.');
    if (!account.contacts.has(phone)) return tracklyError(404, 'contact_not_found', 'Contact not found');
    const lists = [...account.lists.values()].flatMap((list) => {
      const lc = list.get(phone);
      if (!lc) return [];
      return [
        {
          list_id: this.listId(lc.list_number),
          list_number: lc.list_number,
          active: lc.active,
          signup_date: lc.signup_date,
          custom_fields: lc.custom_fields,
          send_count: 0,
          click_count: 0,
        },
      ];
    });
    return { status: 200, body: { phone_number: phone, carrier: null, line_type: 'UNKNOWN', timezone: null, is_valid: true, lists } };
  }

  private unsubscribe(account: TracklyAccount, request: EmulatorRequest): EmulatorResponse {
    const body = parseJsonBody(request.contentType, request.body);
    if (!body.ok) return tracklyError(400, 'invalid_json', `Invalid JSON body: ${body.reason}`);
    const input = isPlainObject(body.value) ? body.value : {};
    const { phone_number: phone, list_number: listNumber } = input;
    if (phone === undefined || phone === null || phone === '') {
      return tracklyError(400, 'missing_phone_number', 'The phone_number field was not provided in the request body.');
    }
    if (listNumber === undefined || listNumber === null || listNumber === '') {
      return tracklyError(400, 'missing_list_number', 'The list_number field was not provided in the request body.');
    }
    if (!this.phones.isValid(phone)) return tracklyError(400, 'invalid_phone', 'The phone_number is not a valid E.164 phone number.');
    if (!this.phones.isValid(listNumber)) {
      return tracklyError(400, 'invalid_list_number', 'The list_number is not a valid E.164 phone number.');
    }
    const subscription = account.lists.get(listNumber)?.get(phone);
    const unsubscribed = subscription?.active === true;
    if (subscription && unsubscribed) {
      subscription.active = false;
      subscription.unsubscribe_reason = 'api';
      account.newestFirst.invalidate();
    }
    return { status: 200, body: { success: true, unsubscribed }, items: 1 };
  }

  private listContactView(c: TracklyListContact): Record<string, unknown> {
    return {
      phone_number: c.phone_number,
      list_number: c.list_number,
      list_id: this.listId(c.list_number),
      active: c.active,
      signup_date: c.signup_date,
      signup_method: 'api',
      custom_fields: c.custom_fields,
      ip_address: c.ip_address,
      unsubscribe_reason: c.unsubscribe_reason,
      is_valid: true,
    };
  }

  private listId(listNumber: string): number {
    return this.sendingLists.indexOf(listNumber) + 1;
  }
}

/**
 * The custom fields of an item: scalars kept, null meaning "remove this field"; anything else is
 * dropped with a warning (Trackly accepts only string, number and boolean values).
 */
function customFieldsOf(value: unknown, index: number, warnings: string[]): Map<string, CustomFieldValue | null> {
  const fields = new Map<string, CustomFieldValue | null>();
  if (value === undefined || value === null) return fields;
  if (!isPlainObject(value)) {
    warnings.push(`contacts[${index}].custom_fields ignored: it must be an object`);
    return fields;
  }
  for (const [key, v] of Object.entries(value)) {
    if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) {
      fields.set(key, v);
    } else {
      warnings.push(`contacts[${index}].custom_fields.${key} ignored: values must be strings, numbers or booleans`);
    }
  }
  return fields;
}

function mergeCustomFields(target: Record<string, CustomFieldValue>, fields: Map<string, CustomFieldValue | null>): Record<string, CustomFieldValue> {
  for (const [key, value] of fields) {
    if (value === null) delete target[key];
    else target[key] = value;
  }
  return target;
}

function signupDateOf(value: unknown, index: number, warnings: string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    warnings.push(`contacts[${index}].signup_date ignored: not an ISO 8601 date`);
    return undefined;
  }
  return tracklyDate(date);
}
