/** Contracts of the shared HTTP layer that every adapter uses (implementation: client.ts, rate-gate.ts). */
import type { RateLimit, RequestKind } from '../providers/types.js';

export interface HttpRequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Appended to the adapter's baseUrl, e.g. "/v1/Contacts/Bulk". */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Already encoded (JSON text or form-urlencoded). */
  body?: string;
  /** Which rate limits apply to this request. */
  kind: RequestKind;
}

/** A response's headers, looked up by name in any case (null when absent). */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export interface HttpResponseData {
  status: number;
  headers: ResponseHeaders;
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
}

/** One attempt on the wire, reported for run summaries and metrics. */
export interface RequestEvent {
  provider: string;
  method: string;
  path: string;
  /** HTTP status, or 'timeout' / 'network' when no response came. */
  status: number | 'timeout' | 'network';
  durationMs: number;
  /** 1 for the first attempt; >1 for retries. */
  attempt: number;
}

export interface RequestObserver {
  onRequest(event: RequestEvent): void;
}

/**
 * Held for the life of one attempt. The gate needs to know when the attempt ended: the server saw
 * the request no later than that, so its slot in the window can be dated then (see rate-gate.ts).
 */
export interface RatePermit {
  /** Call exactly once, when the attempt has ended (response read, error or timeout). */
  release(): void;
}

/**
 * A gate in front of one provider account: resolves when one more request of `kind` may start
 * without any window of any applicable limit seeing more than its limit.
 */
export interface RateGate {
  acquire(kind: RequestKind, signal?: AbortSignal): Promise<RatePermit>;
}

/** Hands out one gate per provider account (type + base URL + credential), shared by every tenant. */
export interface RateGateRegistry {
  gateFor(accountKey: string, limits: readonly RateLimit[]): RateGate;
}

export interface RetryPolicy {
  /** Most retries of one request (429, 5xx, network error, timeout). */
  maxRetries: number;
  /** Backoff base and cap (full jitter: random(0, min(cap, base * 2^attempt))). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Give up once this much time has passed since the first attempt. */
  maxElapsedMs: number;
}
