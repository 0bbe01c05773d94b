/** Timing and memory helpers shared by the figures. */
import { performance } from 'node:perf_hooks';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Measured<T> {
  value: T;
  ms: number;
  /** Highest resident set size sampled while `work` ran (bytes). */
  peakRss: number;
}

/**
 * Runs `work`, timing it and sampling the resident set size every `everyMs` (the samples land
 * between the awaits of `work`, as often as its pages allow). The process-wide peak is
 * process.resourceUsage().maxRSS; this one is the peak of one phase.
 */
export async function measure<T>(work: () => Promise<T>, everyMs = 20): Promise<Measured<T>> {
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, everyMs);
  const started = performance.now();
  try {
    const value = await work();
    const ms = performance.now() - started;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    return { value, ms, peakRss };
  } finally {
    clearInterval(sampler);
  }
}

/** The process's peak resident set size so far, in bytes. */
export function processPeakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

export const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
export const seconds = (ms: number): number => Math.round(ms) / 1000;
