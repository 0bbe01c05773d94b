/** Judging request arrivals, as a sandbox recorded them, against a sliding-window limit. */

/** Most requests in any window of `windowMs`, placed anywhere (arrivals sorted ascending). */
export function busiestWindow(arrivals: readonly number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; j < arrivals.length; j++) {
    while (arrivals[j]! - arrivals[i]! >= windowMs) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/**
 * Share of the limit used: after the first full window, each further `limit` requests should take
 * one window. k windows' worth of requests past the first, over the time they took.
 */
export function utilisation(arrivals: readonly number[], limit: number, windowMs: number): number {
  const windows = Math.floor((arrivals.length - 1) / limit);
  return (windows * windowMs) / (arrivals[windows * limit]! - arrivals[0]!);
}
