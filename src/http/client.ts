/**
 * The one HTTP client every adapter uses (Node's global fetch). Per attempt: take a permit from the
 * account's rate gate, send with a timeout, report the attempt. Retries 429, 5xx, network errors
 * and timeouts (Retry-After when given, else exponential backoff with full jitter), bounded in
 * count and elapsed time. 2xx and other 4xx are returned for the adapter to interpret.
 */
import type { Logger } from 'pino';
import { ProviderError } from '../errors.js';
import { runLogger } from '../log/run-logger.js';
import { backoffDelayMs, defaultRetryPolicy, parseRetryAfter } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import { errorFieldsOf } from './error-body.js';
import { redactSecrets } from './redact.js';
import type { HttpRequestSpec, HttpResponseData, RateGate, RequestEvent, RequestObserver, RetryPolicy } from './types.js';

export { redactHeaders } from './redact.js';

export interface HttpClientOptions {
  /** The provider's name in the tenant config (for errors, logs and the observer). */
  provider: string;
  baseUrl: string;
  /** Per attempt, from sending the request to reading the whole answer. */
  timeoutMs: number;
  gate: RateGate;
  retry?: Partial<RetryPolicy>;
  /** Sent with every request: the credentials. Never logged, never part of an error. */
  headers: Record<string, string>;
  observer?: RequestObserver;
  /** Used outside a run; within one, the run's logger (src/log/run-logger.ts). Lines carry `provider` either way. */
  logger?: Logger;
  clock?: Clock;
}

/** How one attempt ended. */
type Attempt =
  | { kind: 'response'; response: HttpResponseData }
  | { kind: 'timeout' }
  | { kind: 'network'; cause: unknown };

export class HttpClient {
  readonly #options: HttpClientOptions;
  readonly #policy: RetryPolicy;
  readonly #baseUrl: string;
  readonly #clock: Clock;
  /** Credential values, scrubbed from any text of the provider's that ends up in an error. */
  readonly #secrets: string[];

  constructor(options: HttpClientOptions) {
    this.#options = options;
    this.#policy = { ...defaultRetryPolicy, ...options.retry };
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#clock = options.clock ?? systemClock;
    this.#secrets = Object.values(options.headers).flatMap((v) => [v, v.replace(/^\S+\s+/, '')]);
  }

  get provider(): string {
    return this.#options.provider;
  }

  async send(req: HttpRequestSpec, signal?: AbortSignal): Promise<HttpResponseData> {
    const started = this.#clock.now();
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      const result = await this.#attempt(req, attempt, signal);
      if (result.kind === 'response') {
        const { status } = result.response;
        if (status === 401 || status === 403) {
          throw new ProviderError('PROVIDER_AUTH', this.provider, `${req.method} ${req.path} was refused (HTTP ${status}${this.#describe(result.response)}): check the credentials in the config`, {
            status,
            ...providerCodeOf(result.response),
          });
        }
        if (!isRetryable(status)) return result.response;
      }
      const retryAfterMs = result.kind === 'response' ? parseRetryAfter(result.response.headers.get('retry-after'), Date.now()) : undefined;
      const delayMs = retryAfterMs ?? backoffDelayMs(this.#policy, attempt);
      const elapsedMs = this.#clock.now() - started;
      if (attempt > this.#policy.maxRetries || elapsedMs + delayMs > this.#policy.maxElapsedMs) {
        throw this.#unavailable(req, attempt, result, retryAfterMs);
      }
      runLogger(this.#options.logger)
        ?.child({ provider: this.provider })
        .warn({ method: req.method, path: req.path, outcome: outcomeOf(result), attempt, delayMs }, 'provider request failed; retrying');
      await this.#clock.sleep(delayMs, signal);
    }
  }

  async #attempt(req: HttpRequestSpec, attempt: number, signal: AbortSignal | undefined): Promise<Attempt> {
    const permit = await this.#options.gate.acquire(req.kind, signal);
    const begun = this.#clock.now();
    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let result: Attempt;
    try {
      const res = await fetch(this.#url(req), {
        method: req.method,
        headers: { accept: 'application/json', ...req.headers, ...this.#options.headers },
        ...(req.body === undefined ? {} : { body: req.body }),
        signal: combined,
      });
      const text = await res.text();
      result = { kind: 'response', response: { status: res.status, headers: res.headers, text, json: parseJson(text) } };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      result = timeout.aborted ? { kind: 'timeout' } : { kind: 'network', cause: error };
    } finally {
      permit.release();
    }
    const event: RequestEvent = {
      provider: this.provider,
      method: req.method,
      path: req.path,
      status: outcomeOf(result),
      durationMs: this.#clock.now() - begun,
      attempt,
    };
    this.#options.observer?.onRequest(event);
    return result;
  }

  #url(req: HttpRequestSpec): string {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(req.query ?? {})) if (value !== undefined) query.set(name, String(value));
    const search = query.size > 0 ? `?${query.toString()}` : '';
    return `${this.#baseUrl}${req.path}${search}`;
  }

  #unavailable(req: HttpRequestSpec, attempts: number, last: Attempt, retryAfterMs: number | undefined): ProviderError {
    const what =
      last.kind === 'timeout'
        ? `no answer within ${this.#options.timeoutMs} ms`
        : last.kind === 'network'
          ? `network error (${redactSecrets(networkMessage(last.cause), this.#secrets)})`
          : `HTTP ${last.response.status}${this.#describe(last.response)}`;
    const wait = retryAfterMs !== undefined && retryAfterMs > 0 ? `; it asked to wait ${Math.ceil(retryAfterMs / 1000)} s more` : '';
    return new ProviderError(
      'PROVIDER_UNAVAILABLE',
      this.provider,
      `${req.method} ${req.path} failed ${attempts} time(s), last: ${what}${wait}`,
      last.kind === 'response' ? { status: last.response.status, ...providerCodeOf(last.response) } : {},
    );
  }

  /** The error for an answer outside the provider's contract (an adapter's last resort). */
  protocolError(req: HttpRequestSpec, response: HttpResponseData, expected: string): ProviderError {
    const body = this.#describe(response) || (response.text === '' ? '' : `: ${redactSecrets(response.text, this.#secrets).slice(0, 200)}`);
    return new ProviderError('PROVIDER_PROTOCOL', this.provider, `${req.method} ${req.path} answered HTTP ${response.status}${body}; expected ${expected}`, {
      status: response.status,
      ...providerCodeOf(response),
    });
  }

  /** ": <code> <message>" from a provider's JSON error body, scrubbed of credentials. */
  #describe(response: HttpResponseData): string {
    const { code, message } = errorFieldsOf(response.json);
    const text = [code, message].filter((s) => s !== undefined).join(' ');
    return text === '' ? '' : `: ${redactSecrets(text, this.#secrets).slice(0, 300)}`;
  }
}

function isRetryable(status: number): boolean {
  return status === 429 || status >= 500;
}

function outcomeOf(attempt: Attempt): RequestEvent['status'] {
  return attempt.kind === 'response' ? attempt.response.status : attempt.kind;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function providerCodeOf(response: HttpResponseData): { providerCode?: string } {
  const { code } = errorFieldsOf(response.json);
  return code === undefined ? {} : { providerCode: code };
}

/** fetch wraps the socket error in a TypeError("fetch failed"): name the cause. */
function networkMessage(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (cause instanceof Error) return 'code' in cause && typeof cause.code === 'string' ? `${cause.code}: ${cause.message}` : cause.message;
  return String(cause);
}
