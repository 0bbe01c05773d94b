/**
 * Fault injection, settable at start and at runtime. Every random decision comes from one seeded
 * PRNG drawn in request order, and a draw happens only for a fault whose rate is above zero, so a
 * given sequence of requests meets the same faults on every run.
 */
import type { FaultSettings, ProviderType } from './types.js';
import { mulberry32 } from '../random.js';

function checkRate(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) throw new RangeError(`faults.${name} must be in [0, 1], got ${value}`);
}

function checkNonNegative(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new RangeError(`faults.${name} must be >= 0, got ${value}`);
}

export class FaultController {
  private settings: FaultSettings = {};
  private burstsLeft = 0;
  private random: () => number = mulberry32(1);

  constructor(initial: FaultSettings = {}) {
    this.set(initial);
  }

  /** Replaces every fault setting (and re-seeds the PRNG). */
  set(settings: FaultSettings): void {
    checkRate('errorRate', settings.errorRate);
    checkRate('slowRate', settings.slowRate);
    checkRate('dropAfterApplyRate', settings.dropAfterApplyRate);
    checkRate('itemErrorRate', settings.itemErrorRate);
    checkNonNegative('latencyMs', settings.latencyMs);
    checkNonNegative('slowMs', settings.slowMs);
    checkNonNegative('rateLimitBursts', settings.rateLimitBursts);
    checkNonNegative('rateLimitBurstRetryAfterSeconds', settings.rateLimitBurstRetryAfterSeconds);
    this.settings = { ...settings };
    this.burstsLeft = Math.floor(settings.rateLimitBursts ?? 0);
    this.random = mulberry32(settings.seed ?? 1);
  }

  clear(): void {
    this.set({});
  }

  /** The settings in force, with rateLimitBursts as the count still to come. */
  get current(): Readonly<FaultSettings> {
    return { ...this.settings, rateLimitBursts: this.burstsLeft };
  }

  /** Whether the faults apply to a request to this provider. */
  targets(provider: ProviderType): boolean {
    return this.settings.providers === undefined || this.settings.providers.includes(provider);
  }

  /** Consumes one burst 429 if any is left; returns its Retry-After (null: no header) or false. */
  takeBurst(): { retryAfterSeconds: number | null } | false {
    if (this.burstsLeft <= 0) return false;
    this.burstsLeft -= 1;
    return { retryAfterSeconds: this.settings.rateLimitBurstRetryAfterSeconds ?? null };
  }

  failsBeforeApply(): boolean {
    return this.draw(this.settings.errorRate);
  }

  dropsAfterApply(): boolean {
    return this.draw(this.settings.dropAfterApplyRate);
  }

  /** Extra delay of a slow response, or 0. */
  slowDelayMs(): number {
    return this.draw(this.settings.slowRate) ? (this.settings.slowMs ?? 0) : 0;
  }

  itemFails(): boolean {
    return this.draw(this.settings.itemErrorRate);
  }

  get latencyMs(): number {
    return this.settings.latencyMs ?? 0;
  }

  private draw(rate: number | undefined): boolean {
    if (!rate) return false;
    return this.random() < rate;
  }
}
