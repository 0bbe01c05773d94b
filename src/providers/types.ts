/**
 * The one small interface through which the engine knows a provider. Everything else about a
 * provider (mapping, wire format, limits, error codes, sandbox emulator) lives in its own folder.
 */
import type { Contact } from '../source/contact.js';

/** A JSON payload as a provider receives it for one contact (already mapped). */
export type Payload = Record<string, unknown>;

/**
 * A documented rate limit. `scope` says which requests count against it: every request, only
 * bulk endpoints, or only single-item endpoints. A request must fit every limit that applies to it.
 */
export interface RateLimit {
  requests: number;
  perSeconds: number;
  scope: 'all' | 'bulk' | 'single';
}

export type RequestKind = 'bulk' | 'single';

export interface ProviderCapabilities {
  /** Most contacts in one upsert request. */
  readonly maxBatch: number;
  /** Most contacts in one delete request (1 where the provider deletes one at a time). */
  readonly maxDeleteBatch: number;
  readonly rateLimits: readonly RateLimit[];
  readonly canList: boolean;
  /** What "delete" means at this provider: a real delete, an unsubscribe, or nothing (orphan). */
  readonly deleteMode: 'delete' | 'unsubscribe' | 'none';
}

/** One contact to create or update. */
export interface UpsertItem {
  contactId: string;
  payload: Payload;
  /** Stable hash of `payload` (src/engine/hash.ts). */
  hash: string;
  /** 32 lowercase hex, derived from (tenant, contact, hash): a replay is idempotent (Twilio correlation_id). */
  correlationId: string;
  /** The provider's id for this contact, where it has one and we learned it (OliAI). */
  remoteId: string | null;
  /** The payload last confirmed delivered, if any: lets an adapter see a phone change. */
  previous: Payload | null;
}

/** One contact to remove (meaning depends on capabilities.deleteMode). */
export interface DeleteItem {
  contactId: string;
  /** The payload last confirmed delivered (carries the phone). */
  payload: Payload;
  remoteId: string | null;
}

/** Per-contact outcome of an operation. Every item sent gets exactly one. */
export type ItemOutcome =
  | {
      contactId: string;
      status: 'ok';
      /** The provider's id, where it returns one (OliAI). */
      remoteId?: string | null;
      /** An old remote identity (phone) that this change left behind at a provider that cannot delete. */
      orphanedKey?: string;
    }
  | {
      contactId: string;
      status: 'rejected'; // never retried unchanged
      code: string; // the provider's code, e.g. INVALID_ZIP_CODE, not_sendable
      reason: string; // what a person can do about it
    }
  | {
      contactId: string;
      status: 'retryable'; // transient: 5xx, per-item INTERNAL_SERVER_ERROR, unknown outcome after a timeout
      code: string;
      reason: string;
    };

/** A contact as read back from a provider that can list. */
export interface RemoteContact {
  /** The provider's identity for it: the phone (Twilio, Trackly) or the provider id (OliAI). */
  remoteId: string | null;
  phone: string;
  /** The same shape `map()` produces, rebuilt from what the provider returned, so hashes compare. */
  payload: Payload;
  /** False where the contact exists but is not active (Trackly: unsubscribed from the list). */
  active: boolean;
}

export interface ProviderAdapter {
  /** The name given in the tenant config. */
  readonly name: string;
  readonly type: string;
  readonly capabilities: ProviderCapabilities;
  /** Pure: a canonical contact to this provider's payload. */
  map(contact: Contact): Payload;
  /** The phone a payload is keyed by at the provider (its E.164). */
  phoneOf(payload: Payload): string;
  upsert(items: readonly UpsertItem[], signal?: AbortSignal): Promise<ItemOutcome[]>;
  delete(items: readonly DeleteItem[], signal?: AbortSignal): Promise<ItemOutcome[]>;
  /** Present only where capabilities.canList. */
  list?(signal?: AbortSignal): AsyncIterable<RemoteContact>;
}
