import type { Clock } from '../../src/http/clock.js';

/** A clock that moves only when told; sleepers wake in time order. */
export class FakeClock implements Clock {
  #now = 0;
  #sleepers: { at: number; wake: () => void }[] = [];

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sleeper = { at: this.#now + ms, wake: resolve };
      this.#sleepers.push(sleeper);
      signal?.addEventListener('abort', () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal.reason);
      });
    });
  }

  /** Moves time forward to `to`, waking sleepers on the way and letting their work settle. */
  async advanceTo(to: number): Promise<void> {
    await settle();
    for (;;) {
      const next = this.#sleepers.filter((s) => s.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.#now = next.at;
      this.#sleepers = this.#sleepers.filter((s) => s !== next);
      next.wake();
      await settle();
    }
    this.#now = to;
    await settle();
  }
}

/** Lets pending promise chains (and p-queue's microtask hops) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
