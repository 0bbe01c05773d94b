/**
 * Rate gates shared through PostgreSQL: each provider account's limits hold across every process
 * that uses the state database (SPEC sections 5 and 6).
 *
 * A permit passes two gates. First the in-process SlidingWindowGate (src/http/rate-gate.ts), which
 * caps the requests in flight, handles aborts and, when this process alone fills the budget, does
 * all the waiting without a database round trip. Then the account's SharedWindowLog, the authority:
 * one process per account polls it at a time, sleeping until the time the database says room
 * frees up, or until one of this process's own requests ends (which may free it sooner).
 *
 * Why not rate-limiter-flexible's PostgreSQL store: its limiters count points in fixed windows
 * (a counter that resets when its window expires), so up to twice the limit can land in one
 * window straddling a reset, and a request is counted when granted, not when it may arrive.
 * The rule here is that no window of the limit's length, placed anywhere, sees more than the limit.
 */
import PQueue from 'p-queue';
import type { Store } from '../db/open.js';
import type { StateDatabase } from '../db/schema.js';
import { StoreError } from '../errors.js';
import { type Clock, systemClock } from '../http/clock.js';
import { type GateOptions, SlidingWindowGate } from '../http/rate-gate.js';
import { arrivalAllowanceMs } from '../http/sliding-window.js';
import type { RateGate, RateGateRegistry, RatePermit } from '../http/types.js';
import type { RateLimit, RequestKind } from '../providers/types.js';
import { SharedWindowLog } from './shared-window-log.js';

export class PgRateGate implements RateGate {
  readonly #local: SlidingWindowGate;
  readonly #log: SharedWindowLog;
  readonly #clock: Clock;
  /** One poller of the shared log per account and process: the others wait their turn here. */
  readonly #turn = new PQueue({ concurrency: 1 });
  /** The poller asleep: woken when one of this process's requests ends. */
  #nudge: AbortController | undefined;
  /** Requests of this process that ended (and were settled in the log): a poller that saw it move looks again at once. */
  #settled = 0;
  #registered: Promise<void>;

  constructor(log: SharedWindowLog, limits: readonly RateLimit[], options: GateOptions = {}) {
    this.#local = new SlidingWindowGate(limits, options);
    this.#log = log;
    this.#clock = options.clock ?? systemClock;
    this.#registered = this.#register();
  }

  include(limits: readonly RateLimit[]): void {
    this.#local.include(limits);
    this.#registered = this.#registered.then(() => this.#register(), () => this.#register());
  }

  /** Registers every limit this gate enforces; a failure surfaces at the next acquire, which tries again. */
  #register(): Promise<void> {
    const registered = this.#log.register(this.#local.limits);
    registered.catch(() => undefined); // handled by the next acquire
    return registered;
  }

  async acquire(kind: RequestKind, signal?: AbortSignal): Promise<RatePermit> {
    await this.#registered.catch(() => (this.#registered = this.#register()));
    const local = await this.#local.acquire(kind, signal);
    let stamp: string;
    try {
      stamp = await this.#turn.add(() => this.#startWhenRoom(kind, signal), signal === undefined ? {} : { signal });
    } catch (error) {
      local.release();
      throw error;
    }
    const startedAt = this.#clock.now();
    // Past the longest allowance, every window already counts the request at its start + allowance.
    const settleWithin = Math.max(...this.#local.limits.map((l) => arrivalAllowanceMs(l.perSeconds * 1000)));
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        local.release();
        if (this.#clock.now() - startedAt >= settleWithin) return;
        // A failed update leaves the later stamp in place: only ever stricter.
        this.#log.finish(stamp).then(
          () => {
            this.#settled++;
            this.#nudge?.abort();
          },
          () => undefined,
        );
      },
    };
  }

  async #startWhenRoom(kind: RequestKind, signal: AbortSignal | undefined): Promise<string> {
    for (;;) {
      signal?.throwIfAborted();
      const settled = this.#settled;
      const attempt = await this.#log.tryStart(kind);
      if ('started' in attempt) {
        if (signal?.aborted) {
          await this.#log.finish(attempt.started).catch(() => undefined);
          signal.throwIfAborted();
        }
        return attempt.started;
      }
      if (this.#settled !== settled) continue;
      const nudge = new AbortController();
      this.#nudge = nudge;
      try {
        await this.#clock.sleep(attempt.waitMs, signal === undefined ? nudge.signal : AbortSignal.any([signal, nudge.signal]));
      } catch (error) {
        if (signal?.aborted) throw error;
      } finally {
        this.#nudge = undefined;
      }
    }
  }
}

/** One gate per provider account in this process, all sharing their windows through the state database. */
export class PgRateGateRegistry implements RateGateRegistry {
  readonly #gates = new Map<string, PgRateGate>();

  constructor(
    private readonly store: Store<StateDatabase>,
    private readonly options: GateOptions = {},
  ) {
    if (store.dialect !== 'postgres') throw new StoreError(`shared rate gates need a PostgreSQL state store, got ${store.displayUrl}`);
  }

  gateFor(accountKey: string, limits: readonly RateLimit[]): PgRateGate {
    const existing = this.#gates.get(accountKey);
    if (existing) {
      existing.include(limits);
      return existing;
    }
    const gate = new PgRateGate(new SharedWindowLog(this.store.db, accountKey), limits, this.options);
    this.#gates.set(accountKey, gate);
    return gate;
  }
}
