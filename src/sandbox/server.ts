/**
 * The sandbox: one node:http server emulating every supported provider API under its own path
 * prefix, with the providers' rate limits (sliding windows, time-scalable), injectable faults and a
 * request log. Used by `contact-sync sandbox`, by the adapters' tests and by the engine's crash
 * tests and benchmarks (as a library).
 *
 * Order of a request: route -> authenticate (401) -> injected 429 burst -> rate limit (429, not
 * counted) -> injected 500 -> body size (413) -> the emulator applies it -> injected drop or slow
 * answer -> latency -> response (or the provider's server-timeout answer, when the delays exceed it). Everything up to the injected 500 is decided synchronously when
 * the request's headers arrive, so limits see arrival order and faults are deterministic.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { RateLimit } from '../providers/types.js';
import { OliaiEmulator, defaultOliaiCredential, type OliaiCredential } from '../providers/oliai/sandbox.js';
import {
  TracklyEmulator,
  defaultTracklyCredential,
  type TracklyCredential,
  type TracklyOptions,
} from '../providers/trackly/sandbox.js';
import { TwilioEmulator, defaultTwilioCredential, type TwilioCredential } from '../providers/twilio/sandbox.js';
import { FaultController } from './faults.js';
import { mediaType, readBody, writeJson, writeJsonText } from './http-io.js';
import { phoneCheck, type PhoneValidation } from './phone.js';
import { AccountRateLimiter } from './rate-limiter.js';
import type { Emulator, EmulatorResponse, FaultKind, FaultSettings, ProviderType, RecordedRequest } from './types.js';
import { providerTypes } from './types.js';

/** Where each provider's API lives on the sandbox server. */
export const sandboxPrefixes: Readonly<Record<ProviderType, string>> = {
  twilio: '/twilio',
  trackly: '/trackly/api/v2',
  oliai: '/oliai/v1',
};

export interface SandboxCredentialSets {
  twilio: readonly TwilioCredential[];
  trackly: readonly TracklyCredential[];
  oliai: readonly OliaiCredential[];
}

export const defaultSandboxCredentials: SandboxCredentialSets = {
  twilio: [defaultTwilioCredential],
  trackly: [defaultTracklyCredential],
  oliai: [defaultOliaiCredential],
};

export interface SandboxOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Rate-limit windows are divided by this (60: a minute lasts a second). Default 1. */
  timeScale?: number;
  /** false: no rate limits at all. Default true. */
  enforceRateLimits?: boolean;
  /** Replaces a provider's documented limits. */
  limits?: Partial<Record<ProviderType, readonly RateLimit[]>>;
  /** Whether a provider's 429 carries Retry-After (default: OliAI yes, Twilio and Trackly no, as documented). */
  retryAfterOn429?: Partial<Record<ProviderType, boolean>>;
  /** Faults in force from the start (see FaultSettings). */
  faults?: FaultSettings;
  /** 'strict' (default): phones must be valid numbers; 'format': E.164 spelling only (benchmarks). */
  phoneValidation?: PhoneValidation;
  /** Replaces a provider's accepted credentials (the first of each is the primary one). */
  credentials?: Partial<SandboxCredentialSets>;
  /** Accepted in addition to `credentials`. */
  extraCredentials?: Partial<SandboxCredentialSets>;
  trackly?: TracklyOptions;
}

/** The first accepted credential of each provider. */
export interface SandboxCredentials {
  twilio: TwilioCredential;
  trackly: TracklyCredential;
  oliai: OliaiCredential;
}

export interface Sandbox {
  /** e.g. http://127.0.0.1:4010 */
  readonly url: string;
  readonly port: number;
  baseUrl(type: ProviderType): string;
  readonly credentials: SandboxCredentials;
  /** State of the emulators, for inspection (and for seeding in tests). */
  readonly twilio: TwilioEmulator;
  readonly trackly: TracklyEmulator;
  readonly oliai: OliaiEmulator;
  /** Every request answered (or dropped), in answer order. */
  readonly requests: readonly RecordedRequest[];
  clearRequests(): void;
  readonly faults: FaultController;
  /** Back to the start: no contacts, empty log, fresh rate windows, the start's faults. */
  reset(): void;
  close(): Promise<void>;
  /** Resolves once the server has closed. */
  readonly closed: Promise<void>;
}

interface Route {
  type: ProviderType;
  emulator: Emulator;
  limiter: AccountRateLimiter | undefined;
  retryAfter: boolean;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0 && Number.isFinite(timeScale))) throw new RangeError(`timeScale must be a positive number, got ${timeScale}`);
  const credentialsOf = <T extends ProviderType>(type: T): SandboxCredentialSets[T] =>
    [...(options.credentials?.[type] ?? defaultSandboxCredentials[type]), ...(options.extraCredentials?.[type] ?? [])] as SandboxCredentialSets[T];
  const credentials = { twilio: credentialsOf('twilio'), trackly: credentialsOf('trackly'), oliai: credentialsOf('oliai') };
  for (const type of providerTypes) {
    if (credentials[type].length === 0) throw new RangeError(`the sandbox needs at least one ${type} credential`);
  }

  const phones = phoneCheck(options.phoneValidation ?? 'strict');
  const emulators = {
    twilio: new TwilioEmulator(credentials.twilio, phones),
    trackly: new TracklyEmulator(credentials.trackly, phones, options.trackly),
    oliai: new OliaiEmulator(credentials.oliai, phones),
  };
  const routes = providerTypes.map(
    (type): Route => ({
      type,
      emulator: emulators[type],
      limiter:
        options.enforceRateLimits === false
          ? undefined
          : new AccountRateLimiter(options.limits?.[type] ?? emulators[type].defaultLimits, timeScale),
      retryAfter: options.retryAfterOn429?.[type] ?? emulators[type].retryAfterOn429,
    }),
  );

  const faults = new FaultController(options.faults);
  let requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const routeOf = (pathname: string): { route: Route; path: string } | undefined => {
    for (const route of routes) {
      const prefix = sandboxPrefixes[route.type];
      if (pathname === prefix || pathname.startsWith(`${prefix}/`)) return { route, path: pathname.slice(prefix.length) || '/' };
    }
    return undefined;
  };

  const later = (ms: number, action: () => void): void => {
    if (ms <= 0) return action();
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
  };

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrival = performance.now();
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    const match = routeOf(url.pathname);
    if (!match) {
      if (await readBody(req, 0)) {
        writeJson(res, 404, { error: `Nothing at ${url.pathname}. Provider APIs: ${Object.values(sandboxPrefixes).join(', ')}` });
      }
      return;
    }
    const { route, path } = match;
    const { emulator } = route;
    const targeted = faults.targets(route.type) ? faults : undefined;
    const record = (status: number | 'dropped', account: string | null, items: number, fault: FaultKind | undefined): void => {
      const entry: RecordedRequest = { provider: route.type, method, path, status, receivedAt: performance.timeOrigin + arrival, items, account };
      if (fault) entry.fault = fault;
      requests.push(entry);
    };
    const respond = (planned: EmulatorResponse, account: string | null, fault: FaultKind | undefined, extraDelayMs = 0): void => {
      const { serverTimeout } = emulator;
      const delayMs = (targeted?.latencyMs ?? 0) + extraDelayMs;
      const timedOut = serverTimeout !== undefined && delayMs > serverTimeout.ms;
      const response = timedOut ? serverTimeout.response : planned;
      record(response.status, account, planned.items ?? 0, fault);
      const text = JSON.stringify(response.body);
      // The provider's timeout runs from the request's arrival.
      const sendInMs = timedOut ? serverTimeout.ms - (performance.now() - arrival) : delayMs;
      later(sendInMs, () => writeJsonText(res, response.status, text, response.headers));
    };

    const auth = emulator.authenticate(req.headers);
    if ('reject' in auth) {
      if (await readBody(req, 0)) respond(auth.reject, null, undefined);
      return;
    }
    const { account } = auth;
    // Decided on arrival, before the body is read: 429s and injected faults.
    let early: { response: EmulatorResponse; fault?: FaultKind } | undefined;
    const burst = targeted?.takeBurst();
    const wait = burst ? 0 : (route.limiter?.tryAcquire(account, emulator.kindOf(method, path), arrival) ?? 0);
    if (burst) {
      early = { response: withRetryAfter(emulator.error({ kind: 'rate_limited' }), burst.retryAfterSeconds), fault: 'rateLimitBurst' };
    } else if (wait > 0) {
      const retryAfter = route.retryAfter ? Math.max(1, Math.ceil(wait / 1000)) : null;
      early = { response: withRetryAfter(emulator.error({ kind: 'rate_limited' }), retryAfter) };
    } else if (targeted?.failsBeforeApply()) {
      early = { response: emulator.error({ kind: 'internal' }), fault: 'error' };
    }
    const drop = early === undefined && (targeted?.dropsAfterApply() ?? false);
    const slowMs = early === undefined && !drop ? (targeted?.slowDelayMs() ?? 0) : 0;

    const body = await readBody(req, early ? 0 : emulator.maxBodyBytes);
    if (body === null) return; // the client went away
    if (early) return respond(early.response, account, early.fault);
    if (body.tooLarge) return respond(emulator.error({ kind: 'payload_too_large', maxBytes: emulator.maxBodyBytes }), account, undefined);

    let itemFaulted = false;
    const response = emulator.handle(
      { method, path, query: url.searchParams, contentType: mediaType(req.headers['content-type']), body: body.data },
      {
        account,
        itemFault: () => {
          const fails = targeted?.itemFails() ?? false;
          itemFaulted ||= fails;
          return fails;
        },
      },
    );
    if (drop) {
      record('dropped', account, response.items ?? 0, 'dropAfterApply');
      req.socket.destroy();
      return;
    }
    respond(response, account, slowMs > 0 ? 'slow' : itemFaulted ? 'itemError' : undefined, slowMs);
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      // A bug in an emulator: answer 500 rather than hang the client.
      writeJson(res, 500, { error: `sandbox failure: ${error instanceof Error ? error.message : String(error)}` });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${displayHost(host)}:${port}`;
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));

  return {
    url,
    port,
    baseUrl: (type) => `${url}${sandboxPrefixes[type]}`,
    credentials: { twilio: credentials.twilio[0]!, trackly: credentials.trackly[0]!, oliai: credentials.oliai[0]! },
    twilio: emulators.twilio,
    trackly: emulators.trackly,
    oliai: emulators.oliai,
    get requests() {
      return requests;
    },
    clearRequests() {
      requests = [];
    },
    faults,
    reset() {
      for (const route of routes) {
        route.emulator.reset();
        route.limiter?.reset();
      }
      requests = [];
      faults.set(options.faults ?? {});
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      if (!server.listening) return closed;
      server.close();
      server.closeAllConnections();
      return closed;
    },
    closed,
  };
}

function withRetryAfter(response: EmulatorResponse, seconds: number | null): EmulatorResponse {
  return seconds === null ? response : { ...response, headers: { ...response.headers, 'retry-after': String(seconds) } };
}

/** The host clients should use: a wildcard address is reached on loopback. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
