/**
 * In-process rate gates: one per provider account, shared by every tenant of the process. The
 * window arithmetic is the pure SlidingWindowLog (./sliding-window.ts); this module adds waiting
 * (on an injectable clock) and a p-queue that caps the requests in flight per account. A gate
 * shared through PostgreSQL implements the same RateGate / RateGateRegistry interfaces.
 */
import { createHash } from 'node:crypto';
import PQueue from 'p-queue';
import type { RateLimit, RequestKind } from '../providers/types.js';
import { type Clock, systemClock } from './clock.js';
import { SlidingWindowLog, type Ticket } from './sliding-window.js';
import type { RateGate, RateGateRegistry, RatePermit } from './types.js';

export interface GateOptions {
  /** Requests in flight at once per account (default 8). */
  concurrency?: number;
  clock?: Clock;
}

const defaultConcurrency = 8;

export class SlidingWindowGate implements RateGate {
  readonly #log: SlidingWindowLog;
  readonly #queue: PQueue;
  readonly #clock: Clock;
  /** Waiters asleep until their computed time: woken early when a release frees room sooner. */
  readonly #nudges = new Set<AbortController>();

  constructor(limits: readonly RateLimit[], options: GateOptions = {}) {
    this.#log = new SlidingWindowLog(limits);
    this.#queue = new PQueue({ concurrency: options.concurrency ?? defaultConcurrency });
    this.#clock = options.clock ?? systemClock;
  }

  /** Also enforces these limits from now on (another tenant of the account may name stricter ones). */
  include(limits: readonly RateLimit[]): void {
    this.#log.include(limits);
  }

  get limits(): readonly RateLimit[] {
    return this.#log.limits;
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.#queue.pending;
  }

  acquire(kind: RequestKind, signal?: AbortSignal): Promise<RatePermit> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<RatePermit>((resolve, reject) => {
      // The caller's signal may cancel only the waiting: once granted, the permit must keep its
      // queue slot until released, or p-queue would free the slot of a request still in flight.
      const waiting = new AbortController();
      const onAbort = (): void => waiting.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue
        .add(
          async () => {
            const ticket = await this.#startWhenRoom(kind, waiting.signal, () => signal?.removeEventListener('abort', onAbort));
            await new Promise<void>((ended) => {
              let released = false;
              resolve({
                release: () => {
                  if (released) return;
                  released = true;
                  this.#log.finish(ticket, this.#clock.now());
                  this.#nudgeWaiters();
                  ended();
                },
              });
            });
          },
          { signal: waiting.signal },
        )
        .catch((error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        });
    });
  }

  /**
   * Sleeps until the log has room, then, in the same synchronous step as the last check (so neither
   * another waiter nor an abort can slip in between), stops listening for aborts and records the
   * start. A release, which may date a slot earlier, wakes the sleepers to look again.
   */
  async #startWhenRoom(kind: RequestKind, signal: AbortSignal, granted: () => void): Promise<Ticket> {
    for (let wait = this.#log.waitMs(kind, this.#clock.now()); wait > 0; wait = this.#log.waitMs(kind, this.#clock.now())) {
      const nudge = new AbortController();
      this.#nudges.add(nudge);
      try {
        await this.#clock.sleep(wait, AbortSignal.any([signal, nudge.signal]));
      } catch (error) {
        if (signal.aborted) throw error;
      } finally {
        this.#nudges.delete(nudge);
      }
    }
    signal.throwIfAborted();
    granted();
    return this.#log.start(kind, this.#clock.now());
  }

  #nudgeWaiters(): void {
    for (const nudge of this.#nudges) nudge.abort();
    this.#nudges.clear();
  }
}

/** One gate per account key for the whole process. */
export class LocalRateGateRegistry implements RateGateRegistry {
  readonly #gates = new Map<string, SlidingWindowGate>();

  constructor(private readonly options: GateOptions = {}) {}

  gateFor(accountKey: string, limits: readonly RateLimit[]): SlidingWindowGate {
    const existing = this.#gates.get(accountKey);
    if (existing) {
      existing.include(limits);
      return existing;
    }
    const gate = new SlidingWindowGate(limits, this.options);
    this.#gates.set(accountKey, gate);
    return gate;
  }
}

/**
 * The identity of a provider account: type, base URL and the credential that names the account,
 * hashed so the key can be logged and stored without revealing the credential.
 */
export function accountKey(type: string, baseUrl: string, credential: string): string {
  const url = new URL(baseUrl);
  const normalized = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  const digest = createHash('sha256').update(JSON.stringify([type, normalized, credential])).digest('hex');
  return `${type}:${digest.slice(0, 32)}`;
}
