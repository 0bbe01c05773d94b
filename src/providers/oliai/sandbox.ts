/**
 * Emulator of the OliAI contacts API (providers.md, seed 002): a NestJS-style service where each
 * API key belongs to one organization and a contact is unique per organization by phone number.
 * Validation errors carry an array of messages, as NestJS's ValidationPipe words them.
 */
import { randomBytes } from 'node:crypto';
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

export interface OliaiCredential {
  apiKey: string;
  /** Keys naming the same organization share its contacts. Default: one organization per key. */
  organizationId?: string;
}

export const defaultOliaiCredential: OliaiCredential = { apiKey: 'sk_live_sandbox_key', organizationId: 'org_sandbox' };

export const oliaiMaxBulk = 1000;
export const oliaiMaxLimit = 100;
export const oliaiDefaultLimit = 20;
/** Undocumented; large enough for 1,000 contacts with metadata. */
export const oliaiMaxBodyBytes = 5_000_000;

export interface OliaiContact {
  id: string;
  name: string;
  phoneNumber: string;
  language: string | null;
  metadata: Record<string, unknown>;
  organizationId: string;
  createdAt: string;
  updatedAt: string;
}

const writableFields = new Set(['name', 'phoneNumber', 'language', 'metadata']);

class Organization {
  readonly contacts = new Map<string, OliaiContact>();
  readonly idByPhone = new Map<string, string>();
  /** Contacts in creation order (oldest first), the listing order. */
  readonly oldestFirst = new CachedView(() => [...this.contacts.values()]);

  constructor(readonly id: string) {}
}

const statusText: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

function oliaiError(status: number, message: string | string[]): EmulatorResponse {
  return { status, body: { statusCode: status, message, error: statusText[status] ?? 'Error' } };
}

const idAlphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
const idLength = 23;
/** Random bytes drawn 4 KB at a time: one syscall per ~170 ids rather than one per id. */
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

/** A cuid-like id: "cl" and 23 lower-case letters or digits. */
function newContactId(): string {
  if (randomOffset + idLength > randomPool.length) {
    randomPool = randomBytes(4096);
    randomOffset = 0;
  }
  let id = 'cl';
  for (let i = 0; i < idLength; i++) id += idAlphabet[randomPool[randomOffset++]! % idAlphabet.length];
  return id;
}

export class OliaiEmulator implements Emulator {
  readonly type = 'oliai' as const;
  readonly maxBodyBytes = oliaiMaxBodyBytes;
  /** 60 requests/min per key on every endpoint; bulk endpoints also 10/min. */
  readonly defaultLimits: readonly RateLimit[] = [
    { requests: 60, perSeconds: 60, scope: 'all' },
    { requests: 10, perSeconds: 60, scope: 'bulk' },
  ];
  readonly retryAfterOn429 = true;

  private readonly orgIdByKey = new Map<string, string>();
  private readonly orgs = new Map<string, Organization>();

  constructor(
    credentials: readonly OliaiCredential[],
    private readonly phones: PhoneCheck,
  ) {
    credentials.forEach((c, i) => this.orgIdByKey.set(c.apiKey, c.organizationId ?? `org_${i + 1}`));
  }

  /** Contacts by id of an organization (default: the first key's). */
  contacts(organizationId = this.orgIdByKey.values().next().value ?? ''): Map<string, OliaiContact> {
    return this.orgOf(organizationId).contacts;
  }

  organizationOf(apiKey: string): string | undefined {
    return this.orgIdByKey.get(apiKey);
  }

  authenticate(headers: IncomingHttpHeaders): AuthResult {
    const key = headers['x-api-key'];
    if (typeof key !== 'string' || key === '') return { reject: oliaiError(401, 'API key is required') };
    if (!this.orgIdByKey.has(key)) return { reject: oliaiError(401, 'Invalid or revoked API key') };
    return { account: key };
  }

  kindOf(method: string, path: string): RequestKind {
    return method === 'POST' && (path === '/contacts/bulk' || path === '/contacts/bulk-delete') ? 'bulk' : 'single';
  }

  handle(request: EmulatorRequest, context: { account: string }): EmulatorResponse {
    const org = this.orgOf(this.orgIdByKey.get(context.account) ?? '');
    const { method, path } = request;
    const body = parseJsonBody(request.contentType, request.body);
    if (!body.ok) return oliaiError(400, body.reason);
    if (path === '/contacts') {
      if (method === 'GET') return this.list(org, request.query);
      if (method === 'POST') return this.create(org, body.value);
    }
    if (method === 'POST' && path === '/contacts/bulk') return this.bulkUpsert(org, body.value);
    if (method === 'POST' && path === '/contacts/bulk-delete') return this.bulkDelete(org, body.value);
    const single = /^\/contacts\/([^/]+)$/.exec(path);
    if (single?.[1] !== undefined) {
      const id = decodeSegment(single[1]);
      if (method === 'GET') return this.get(org, id);
      if (method === 'PATCH') return this.update(org, id, body.value);
      if (method === 'DELETE') return this.remove(org, id);
    }
    return oliaiError(404, `Cannot ${method} /v1${path}`);
  }

  error(error: StandardError): EmulatorResponse {
    switch (error.kind) {
      case 'rate_limited':
        return oliaiError(429, 'ThrottlerException: Too Many Requests');
      case 'internal':
        return oliaiError(500, 'Internal server error');
      case 'payload_too_large':
        return oliaiError(413, 'request entity too large');
    }
  }

  reset(): void {
    this.orgs.clear();
  }

  private orgOf(id: string): Organization {
    let org = this.orgs.get(id);
    if (!org) {
      org = new Organization(id);
      this.orgs.set(id, org);
    }
    return org;
  }

  /** ValidationPipe messages for a contact body; `partial` for PATCH (every field optional). */
  private violations(input: unknown, partial: boolean): string[] {
    const body = isPlainObject(input) ? input : {};
    const messages = Object.keys(body)
      .filter((k) => !writableFields.has(k))
      .map((k) => `property ${k} should not exist`);
    const { name, phoneNumber, language, metadata } = body;
    if (!(partial && name === undefined)) {
      if (typeof name !== 'string') messages.push('name must be a string');
      if (typeof name !== 'string' || name.trim() === '') messages.push('name should not be empty');
    }
    if (!(partial && phoneNumber === undefined) && !this.phones.isValid(phoneNumber)) {
      messages.push('phoneNumber must be a valid phone number in E.164 format');
    }
    if (language !== undefined && language !== null && typeof language !== 'string') messages.push('language must be a string');
    if (metadata !== undefined && metadata !== null && !isPlainObject(metadata)) messages.push('metadata must be an object');
    return messages;
  }

  private list(org: Organization, query: URLSearchParams): EmulatorResponse {
    const page = parsePositiveInt(query.get('page'), 1);
    const limit = parsePositiveInt(query.get('limit'), oliaiDefaultLimit);
    const messages: string[] = [];
    if (page === undefined) messages.push('page must be an integer number', 'page must not be less than 1');
    if (limit === undefined) messages.push('limit must be an integer number', 'limit must not be less than 1');
    else if (limit > oliaiMaxLimit) messages.push(`limit must not be greater than ${oliaiMaxLimit}`);
    if (page === undefined || limit === undefined || messages.length > 0) return oliaiError(400, messages);

    const search = query.get('search')?.trim().toLowerCase() ?? '';
    const all = org.oldestFirst.get();
    const matching =
      search === '' ? all : all.filter((c) => c.name.toLowerCase().includes(search) || c.phoneNumber.includes(search));
    const { slice, totalPages } = pageOf(matching, page, limit);
    return { status: 200, body: { data: slice, total: matching.length, page, limit, totalPages } };
  }

  private get(org: Organization, id: string): EmulatorResponse {
    const contact = org.contacts.get(id);
    return contact ? { status: 200, body: contact } : oliaiError(404, 'Contact not found');
  }

  private create(org: Organization, input: unknown): EmulatorResponse {
    const messages = this.violations(input, false);
    if (messages.length > 0) return { ...oliaiError(400, messages), items: 1 };
    const fields = input as Record<string, unknown>;
    if (org.idByPhone.has(fields.phoneNumber as string)) {
      return { ...oliaiError(409, `Contact with phone number ${String(fields.phoneNumber)} already exists`), items: 1 };
    }
    return { status: 201, body: this.insert(org, fields), items: 1 };
  }

  private update(org: Organization, id: string, input: unknown): EmulatorResponse {
    const contact = org.contacts.get(id);
    if (!contact) return { ...oliaiError(404, 'Contact not found'), items: 1 };
    const messages = this.violations(input, true);
    if (messages.length > 0) return { ...oliaiError(400, messages), items: 1 };
    const fields = input as Record<string, unknown>;
    const phone = fields.phoneNumber as string | undefined;
    if (phone !== undefined && phone !== contact.phoneNumber && org.idByPhone.has(phone)) {
      return { ...oliaiError(409, `Contact with phone number ${phone} already exists`), items: 1 };
    }
    this.apply(org, contact, fields);
    return { status: 200, body: contact, items: 1 };
  }

  private remove(org: Organization, id: string): EmulatorResponse {
    const contact = org.contacts.get(id);
    if (!contact) return { ...oliaiError(404, 'Contact not found'), items: 1 };
    this.delete(org, contact);
    return { status: 200, body: { success: true }, items: 1 };
  }

  private bulkUpsert(org: Organization, input: unknown): EmulatorResponse {
    const contacts = isPlainObject(input) ? input.contacts : undefined;
    if (!Array.isArray(contacts)) return oliaiError(400, ['contacts must be an array']);
    if (contacts.length > oliaiMaxBulk) {
      return { ...oliaiError(400, [`contacts must contain no more than ${oliaiMaxBulk} elements`]), items: contacts.length };
    }
    const result = { created: 0, updated: 0, failed: 0, contacts: [] as OliaiContact[], errors: [] as { index: number; reason: string }[] };
    contacts.forEach((item: unknown, index) => {
      const messages = this.violations(item, false);
      if (!isPlainObject(item) || messages.length > 0) {
        result.failed += 1;
        result.errors.push({ index, reason: messages.join('; ') });
        return;
      }
      const existingId = org.idByPhone.get(item.phoneNumber as string);
      const existing = existingId === undefined ? undefined : org.contacts.get(existingId);
      if (existing) {
        this.apply(org, existing, item);
        result.updated += 1;
        result.contacts.push({ ...existing });
      } else {
        result.created += 1;
        result.contacts.push({ ...this.insert(org, item) });
      }
    });
    return { status: 201, body: result, items: contacts.length };
  }

  private bulkDelete(org: Organization, input: unknown): EmulatorResponse {
    const ids = isPlainObject(input) ? input.contactIds : undefined;
    if (!Array.isArray(ids)) return oliaiError(400, ['contactIds must be an array']);
    if (ids.length > oliaiMaxBulk) {
      return { ...oliaiError(400, [`contactIds must contain no more than ${oliaiMaxBulk} elements`]), items: ids.length };
    }
    if (!ids.every((id) => typeof id === 'string')) return { ...oliaiError(400, ['each value in contactIds must be a string']), items: ids.length };
    let deleted = 0;
    for (const id of ids as string[]) {
      const contact = org.contacts.get(id);
      if (!contact) continue;
      this.delete(org, contact);
      deleted += 1;
    }
    return { status: 201, body: { deleted }, items: ids.length };
  }

  private insert(org: Organization, fields: Record<string, unknown>): OliaiContact {
    let id = newContactId();
    while (org.contacts.has(id)) id = newContactId();
    const now = new Date().toISOString();
    const contact: OliaiContact = {
      id,
      name: fields.name as string,
      phoneNumber: fields.phoneNumber as string,
      language: (fields.language as string | null | undefined) ?? null,
      metadata: (fields.metadata as Record<string, unknown> | null | undefined) ?? {},
      organizationId: org.id,
      createdAt: now,
      updatedAt: now,
    };
    org.contacts.set(id, contact);
    org.idByPhone.set(contact.phoneNumber, id);
    org.oldestFirst.invalidate();
    return contact;
  }

  /** Writes the fields present in `fields` (metadata as a whole); absent fields keep their value. */
  private apply(org: Organization, contact: OliaiContact, fields: Record<string, unknown>): void {
    if (typeof fields.phoneNumber === 'string' && fields.phoneNumber !== contact.phoneNumber) {
      org.idByPhone.delete(contact.phoneNumber);
      org.idByPhone.set(fields.phoneNumber, contact.id);
      contact.phoneNumber = fields.phoneNumber;
    }
    if (typeof fields.name === 'string') contact.name = fields.name;
    if (fields.language !== undefined) contact.language = (fields.language as string | null) ?? null;
    if (fields.metadata !== undefined) contact.metadata = (fields.metadata as Record<string, unknown> | null) ?? {};
    contact.updatedAt = new Date().toISOString();
  }

  private delete(org: Organization, contact: OliaiContact): void {
    org.contacts.delete(contact.id);
    org.idByPhone.delete(contact.phoneNumber);
    org.oldestFirst.invalidate();
  }
}
