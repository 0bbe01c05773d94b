/**
 * A RateGateRegistry decorator that counts, per provider account, the requests waiting at the gate
 * (the limiter's queue depth) for /metrics. It works over any registry: the in-process one or the
 * one shared through PostgreSQL.
 */
import type { RateGate, RateGateRegistry, RatePermit } from '../http/types.js';
import type { RateLimit } from '../providers/types.js';

interface Entry {
  inner: RateGate;
  metered: RateGate;
  waiting: number;
}

export class MeteredGateRegistry implements RateGateRegistry {
  readonly #inner: RateGateRegistry;
  readonly #entries = new Map<string, Entry>();

  constructor(inner: RateGateRegistry) {
    this.#inner = inner;
  }

  gateFor(accountKey: string, limits: readonly RateLimit[]): RateGate {
    // Always ask the inner registry: another tenant of the account may add stricter limits.
    const inner = this.#inner.gateFor(accountKey, limits);
    const known = this.#entries.get(accountKey);
    if (known !== undefined) {
      known.inner = inner;
      return known.metered;
    }
    const entry: Entry = {
      inner,
      waiting: 0,
      metered: {
        acquire: async (kind, signal): Promise<RatePermit> => {
          entry.waiting++;
          try {
            return await entry.inner.acquire(kind, signal);
          } finally {
            entry.waiting--;
          }
        },
      },
    };
    this.#entries.set(accountKey, entry);
    return entry.metered;
  }

  /** Requests waiting for a permit, per account key (hashed: no credential in it). */
  waiting(): Map<string, number> {
    return new Map([...this.#entries].map(([key, entry]) => [key, entry.waiting]));
  }
}
