/** Counts HTTP attempts per provider for the run report (requests, retries) and passes events on. */
import type { RequestEvent, RequestObserver } from '../http/types.js';

export class RequestTally implements RequestObserver {
  readonly #next: RequestObserver | undefined;
  #counts = new Map<string, { requests: number; retries: number }>();

  constructor(next?: RequestObserver) {
    this.#next = next;
  }

  onRequest(event: RequestEvent): void {
    const counts = this.#counts.get(event.provider) ?? { requests: 0, retries: 0 };
    counts.requests++;
    if (event.attempt > 1) counts.retries++;
    this.#counts.set(event.provider, counts);
    this.#next?.onRequest(event);
  }

  reset(): void {
    this.#counts = new Map();
  }

  of(provider: string): { requests: number; retries: number } {
    return { ...(this.#counts.get(provider) ?? { requests: 0, retries: 0 }) };
  }
}
