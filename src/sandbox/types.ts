/**
 * Contracts between the sandbox server (./server.ts) and the provider emulators
 * (src/providers/<type>/sandbox.ts). An emulator is pure request -> response logic over in-memory
 * state; the server owns sockets, bodies, authentication order, rate limits, faults and the log.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RateLimit, RequestKind } from '../providers/types.js';

export const providerTypes = ['twilio', 'trackly', 'oliai'] as const;
export type ProviderType = (typeof providerTypes)[number];

/** A request as an emulator sees it: the path is relative to the provider's base URL. */
export interface EmulatorRequest {
  method: string;
  /** e.g. "/v1/Contacts/Bulk" (Twilio), "/contacts/bulk" (Trackly), "/contacts/cl123" (OliAI). */
  path: string;
  query: URLSearchParams;
  /** Media type of the body without parameters, lower case ("application/json"), or "" when absent. */
  contentType: string;
  body: Buffer;
}

export interface EmulatorResponse {
  status: number;
  /** Serialised as JSON. */
  body: unknown;
  headers?: Record<string, string>;
  /** Contacts the request carried (bulk items, 1 for a single write), for the request log. */
  items?: number;
}

/** The server's answers that every provider words in its own error format. */
export type StandardError =
  | { kind: 'rate_limited' }
  | { kind: 'internal' }
  | { kind: 'payload_too_large'; maxBytes: number };

export type AuthResult = { account: string } | { reject: EmulatorResponse };

/** Per-request hooks the server hands to an emulator (fault injection inside a response). */
export interface HandleContext {
  /** The account (credential identity) authenticate() returned. */
  account: string;
  /** True when this item should fail with a transient per-item error (fault `itemErrorRate`). */
  itemFault(): boolean;
}

export interface Emulator {
  readonly type: ProviderType;
  /** Largest request body accepted; a larger one is answered 413 without being parsed. */
  readonly maxBodyBytes: number;
  /** The provider's documented rate limits (before timeScale). */
  readonly defaultLimits: readonly RateLimit[];
  /** Whether the provider sends Retry-After with its 429. */
  readonly retryAfterOn429: boolean;
  /**
   * The provider's documented server timeout, if any: an answer delayed by more than `ms` (injected
   * slowness plus latency) is replaced by `response`, sent `ms` after the request's arrival. Real
   * time: not divided by timeScale, since client timeouts are not either.
   */
  readonly serverTimeout?: { readonly ms: number; readonly response: EmulatorResponse };
  authenticate(headers: IncomingHttpHeaders): AuthResult;
  /** Which rate limits a request counts against. */
  kindOf(method: string, path: string): RequestKind;
  handle(request: EmulatorRequest, context: HandleContext): EmulatorResponse;
  error(error: StandardError): EmulatorResponse;
  /** Forget every stored contact (credentials and configuration stay). */
  reset(): void;
}

/** One request as the sandbox saw it. Kept small: benchmarks send thousands. */
export interface RecordedRequest {
  provider: ProviderType;
  method: string;
  /** Relative to the provider's base URL, without the query string. */
  path: string;
  /** HTTP status sent, or 'dropped' when the socket was destroyed without a response. */
  status: number | 'dropped';
  /** Arrival time in ms on a monotonic clock (performance.timeOrigin + performance.now()). */
  receivedAt: number;
  /** Contacts carried (0 for reads and for requests answered before their body was parsed). */
  items: number;
  /** Credential identity: the Twilio AccountSid or the API key; null when authentication failed. */
  account: string | null;
  /** The injected fault that shaped this answer, if any. */
  fault?: FaultKind;
}

export type FaultKind = 'error' | 'rateLimitBurst' | 'slow' | 'dropAfterApply' | 'itemError';

/** Injected misbehaviour. Rates are shares of requests in [0, 1], drawn from a seeded PRNG. */
export interface FaultSettings {
  /** Share of requests answered 500 (provider's error body) before anything is applied. */
  errorRate?: number;
  /** The next N requests get 429 (not counted against the rate limit). */
  rateLimitBursts?: number;
  /** Retry-After seconds on those 429s; omit for none. */
  rateLimitBurstRetryAfterSeconds?: number;
  /** Every response is delayed this long. */
  latencyMs?: number;
  /** Share of responses delayed by slowMs (the write IS applied first). */
  slowRate?: number;
  slowMs?: number;
  /** Share of requests whose write is applied, then the socket destroyed with no response. */
  dropAfterApplyRate?: number;
  /** Share of bulk items failing with a transient per-item error (Twilio INTERNAL_SERVER_ERROR). */
  itemErrorRate?: number;
  /** Only requests to these providers are affected (default: all). */
  providers?: readonly ProviderType[];
  /** PRNG seed; setting faults re-seeds it (default 1). */
  seed?: number;
}
