/**
 * The daemon's Prometheus metrics (prom-client, on a registry of its own): runs, contacts and
 * requests as counters fed by run results and the HTTP layer's RequestObserver events, and gauges
 * read from the tenants' state at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunReport } from '../engine/report.js';
import type { SyncResult } from '../engine/sync.js';
import type { RequestEvent, RequestObserver } from '../http/types.js';

/** What the gauges read at scrape time. */
export interface MetricsSources {
  tenants(): readonly { tenant: string; running: boolean; stuck: boolean; lastSuccessAt: Date | null }[];
  /** Requests waiting at each provider account's rate gate. */
  gateWaiting(): ReadonlyMap<string, number>;
}

export type SkipReason = 'overlap' | 'busy';

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly #runs: Counter<'tenant' | 'status'>;
  readonly #skipped: Counter<'tenant' | 'reason'>;
  readonly #duration: Histogram<'tenant' | 'status'>;
  readonly #contacts: Counter<'tenant' | 'provider' | 'outcome'>;
  readonly #requests: Counter<'tenant' | 'provider' | 'status'>;
  readonly #retries: Counter<'tenant' | 'provider' | 'status'>;
  readonly #rateLimited: Counter<'tenant' | 'provider'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'contact_sync_' });
    this.#runs = new Counter({ name: 'contact_sync_runs_total', help: 'Finished sync runs by tenant and status (ok, partial, failed, refused).', labelNames: ['tenant', 'status'], registers });
    this.#skipped = new Counter({
      name: 'contact_sync_runs_skipped_total',
      help: 'Scheduled fires skipped: overlap (the tenant was still running here) or busy (running in another process).',
      labelNames: ['tenant', 'reason'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'contact_sync_run_duration_seconds',
      help: 'Duration of sync runs.',
      labelNames: ['tenant', 'status'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.#contacts = new Counter({
      name: 'contact_sync_contacts_total',
      help: 'Contacts by provider and outcome: applied (created, updated or deleted there), rejected, orphaned.',
      labelNames: ['tenant', 'provider', 'outcome'],
      registers,
    });
    this.#requests = new Counter({
      name: 'contact_sync_requests_total',
      help: 'HTTP requests to providers (every attempt) by HTTP status, or timeout / network.',
      labelNames: ['tenant', 'provider', 'status'],
      registers,
    });
    this.#retries = new Counter({
      name: 'contact_sync_retries_total',
      help: 'HTTP requests to providers that were retries of an earlier attempt, by the HTTP status (or timeout / network) the retry got.',
      labelNames: ['tenant', 'provider', 'status'],
      registers,
    });
    this.#rateLimited = new Counter({ name: 'contact_sync_rate_limited_total', help: 'HTTP 429 answers received.', labelNames: ['tenant', 'provider'], registers });
    new Gauge({
      name: 'contact_sync_rate_gate_waiting',
      help: 'Requests waiting at a provider account rate gate (limiter queue depth); account is a hash, never a credential.',
      labelNames: ['account'],
      registers,
      collect() {
        this.reset();
        for (const [account, waiting] of sources.gateWaiting()) this.set({ account }, waiting);
      },
    });
    new Gauge({
      name: 'contact_sync_run_in_progress',
      help: '1 while a run of the tenant is in progress in this process.',
      labelNames: ['tenant'],
      registers,
      collect() {
        for (const t of sources.tenants()) this.set({ tenant: t.tenant }, t.running ? 1 : 0);
      },
    });
    new Gauge({
      name: 'contact_sync_run_stuck',
      help: '1 while the tenant has a run that has made no progress for the configured time.',
      labelNames: ['tenant'],
      registers,
      collect() {
        for (const t of sources.tenants()) this.set({ tenant: t.tenant }, t.stuck ? 1 : 0);
      },
    });
    new Gauge({
      name: 'contact_sync_seconds_since_last_success',
      help: 'Seconds since the tenant last finished a run with status ok or partial (absent until the first one).',
      labelNames: ['tenant'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const t of sources.tenants()) if (t.lastSuccessAt !== null) this.set({ tenant: t.tenant }, (now - t.lastSuccessAt.getTime()) / 1000);
      },
    });
  }

  /** Feeds request metrics from the HTTP layer; `onEvent` also sees each event (progress tracking). */
  observerFor(tenant: string, onEvent?: (event: RequestEvent) => void): RequestObserver {
    return {
      onRequest: (event) => {
        const labels = { tenant, provider: event.provider, status: String(event.status) };
        this.#requests.inc(labels);
        if (event.attempt > 1) this.#retries.inc(labels);
        if (event.status === 429) this.#rateLimited.inc({ tenant, provider: event.provider });
        onEvent?.(event);
      },
    };
  }

  /** `result`: absent when the run failed before it had one (the tenant could not be opened). */
  runFinished(tenant: string, status: RunReport['status'], seconds: number, result?: Pick<SyncResult, 'report' | 'orphaned'>): void {
    this.#runs.inc({ tenant, status });
    this.#duration.observe({ tenant, status }, seconds);
    for (const [provider, p] of Object.entries(result?.report.providers ?? {})) {
      this.#contacts.inc({ tenant, provider, outcome: 'applied' }, p.applied.create + p.applied.update + p.applied.delete);
      this.#contacts.inc({ tenant, provider, outcome: 'rejected' }, p.rejected);
      // What the run recorded, not what it planned: phone changes leave orphans too, and a stopped run records fewer.
      this.#contacts.inc({ tenant, provider, outcome: 'orphaned' }, result?.orphaned[provider] ?? 0);
    }
  }

  runSkipped(tenant: string, reason: SkipReason): void {
    this.#skipped.inc({ tenant, reason });
  }
}
