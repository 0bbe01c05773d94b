/**
 * The one HTTP client every adapter uses. Per attempt: take a permit from the account's rate gate,
 * send with a timeout, report the attempt. Retries 429, 5xx, network errors and timeouts
 * (Retry-After when given, else exponential backoff with full jitter), bounded in count and
 * elapsed time. 2xx and other 4xx are returned for the adapter to interpret.
 *
 * Requests go out through `node:http(s)` on keep-alive agents, not `fetch`: a first sync to Twilio
 * is thousands of small requests, and fetch's machinery (web streams, a Headers object and an
 * AbortSignal per request) cost about three times the CPU per request on the engine's one thread.
 */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { ProviderError } from '../errors.js';
import { runLogger } from '../log/run-logger.js';
import { backoffDelayMs, defaultRetryPolicy, parseRetryAfter } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import { errorFieldsOf } from './error-body.js';
import { redactSecrets } from './redact.js';
import type { HttpRequestSpec, HttpResponseData, RateGate, RequestEvent, RequestObserver, ResponseHeaders, RetryPolicy } from './types.js';

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

/**
 * Shared by every client, as fetch's dispatcher was: connections are kept per host and port. Idle
 * sockets close after 4 s, before a server's usual 5 s keep-alive timeout can close one under a
 * request, and never hold the process open (the agent unrefs them).
 */
const agentOptions = { keepAlive: true, timeout: 4_000 };
const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

/** How one attempt ended. */
type Attempt =
  | { kind: 'response'; response: HttpResponseData }
  | { kind: 'timeout' }
  | { kind: 'network'; cause: unknown };

export class HttpClient {
  readonly #options: HttpClientOptions;
  readonly #policy: RetryPolicy;
  /** Where every request goes, derived once from the baseUrl (every request of a sync reuses it). */
  readonly #target: { transport: typeof http | typeof https; agent: http.Agent; protocol: string; hostname: string; port: string; pathPrefix: string };
  readonly #clock: Clock;
  /** Credential values, scrubbed from any text of the provider's that ends up in an error. */
  readonly #secrets: string[];

  constructor(options: HttpClientOptions) {
    this.#options = options;
    this.#policy = { ...defaultRetryPolicy, ...options.retry };
    const base = new URL(options.baseUrl);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`${options.provider}: baseUrl must be http or https, got ${options.baseUrl}`);
    this.#target = {
      transport: base.protocol === 'https:' ? https : http,
      agent: agents[base.protocol],
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'), // an IPv6 literal without its brackets
      port: base.port,
      pathPrefix: base.pathname.replace(/\/+$/, ''),
    };
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
    let result: Attempt;
    try {
      result = await this.#exchange(req, signal);
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

  /** One request and its whole answer, within the timeout. Rejects only when `signal` aborts it. */
  #exchange(req: HttpRequestSpec, signal: AbortSignal | undefined): Promise<Attempt> {
    const target = this.#target;
    const headers: Record<string, string | number> = { accept: 'application/json', ...req.headers, ...this.#options.headers };
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    return new Promise<Attempt>((resolve, reject) => {
      let settled = false;
      let timedOut = false;
      const settle = (attempt: Attempt): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (signal?.aborted) reject(signal.reason);
        else resolve(attempt);
      };
      const fail = (error: unknown): void => settle(timedOut ? { kind: 'timeout' } : { kind: 'network', cause: error });
      const request = target.transport.request(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          path: this.#path(req),
          method: req.method,
          headers,
          agent: target.agent,
          ...(signal === undefined ? {} : { signal }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            settle({ kind: 'response', response: { status: res.statusCode ?? 0, headers: headersOf(res.headers), text, json: parseJson(text) } });
          });
          res.on('error', fail);
        },
      );
      const timer = setTimeout(() => {
        timedOut = true;
        request.destroy();
      }, this.#options.timeoutMs);
      request.on('error', fail);
      // After the answer's 'end', or after a destroy that reported no error of its own.
      request.on('close', () => fail(new Error('the connection closed before the whole answer came')));
      request.end(req.body);
    });
  }

  #path(req: HttpRequestSpec): string {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(req.query ?? {})) if (value !== undefined) query.set(name, String(value));
    const search = query.size > 0 ? `?${query.toString()}` : '';
    return `${this.#target.pathPrefix}${req.path}${search}`;
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

/** The socket's error, with its code (ECONNREFUSED, ECONNRESET…) where it has one. */
function networkMessage(error: unknown): string {
  if (error instanceof Error) return 'code' in error && typeof error.code === 'string' ? `${error.code}: ${error.message}` : error.message;
  return String(error);
}

/** Node's parsed headers (lowercase names; repeated ones as an array) behind the lookup adapters use. */
function headersOf(raw: http.IncomingHttpHeaders): ResponseHeaders {
  return {
    get: (name) => {
      const value = raw[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
}
