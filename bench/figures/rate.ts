/**
 * Figure 3, rate-limit use: for each provider, a first sync long enough to fill at least 20 of its
 * rate windows, against a sandbox enforcing the documented limits, time-scaled so every window
 * lasts one second (Twilio and OliAI: a minute / 60; Trackly's window is already 1 s). From the
 * sandbox's request log: accepted requests per window as a share of the limit (target ≥ 97 %),
 * the most any window of the limit's length saw, and the 429s (target 0).
 *
 * OliAI and Trackly send batches of 100 here instead of their maximum 1,000: the limiter counts
 * requests, not contacts, and 10x smaller batches need 10x fewer contacts to fill 20 windows.
 */
import type { RateLimit } from '../../src/providers/types.js';
import type { ProviderType, RecordedRequest } from '../../src/sandbox/types.js';
import { prepareDataset } from '../generate.js';
import { seconds } from '../measure.js';
import { startRemoteSandbox } from '../remote-sandbox.js';
import type { FigureResult } from '../results.js';
import { scratchDir, sqliteState } from '../stores.js';
import { openSyncTenant, timedSync } from './sync-run.js';

export interface RateParams {
  providers: readonly ProviderType[];
  seed: number;
  /** Windows the run must fill (default 20). */
  windows: number;
  root?: string;
  log?: (line: string) => void;
}

export const rateTarget = 0.97;

/** Per provider: the time scale that makes its binding window 1 s, and the batch size used. */
export const rateSettings: Readonly<Record<ProviderType, { timeScale: number; batchSize: number }>> = {
  twilio: { timeScale: 60, batchSize: 25 },
  trackly: { timeScale: 1, batchSize: 100 },
  oliai: { timeScale: 60, batchSize: 100 },
};

export interface RateMeasurement {
  provider: ProviderType;
  /** The binding limit, time-scaled. */
  limit: RateLimit;
  timeScale: number;
  batchSize: number;
  contacts: number;
  accepted: number;
  rejected429: number;
  fullWindows: number;
  /** Accepted requests in each full window (consecutive windows from the first request). */
  perWindow: number[];
  /** Accepted requests in the full windows / (full windows × limit). */
  utilisation: number;
  /** Most accepted requests in any window of the limit's length, placed anywhere. */
  maxInAnyWindow: number;
  ms: number;
}

export async function rateFigure(params: RateParams): Promise<{ figures: FigureResult[]; measurements: RateMeasurement[] }> {
  const measurements: RateMeasurement[] = [];
  for (const provider of params.providers) measurements.push(await measureProvider(provider, params));
  const figures = measurements.map((m): FigureResult => ({
    figure: 'rate',
    title: `rate-limit use: ${m.provider}, ${m.limit.requests} requests / ${m.limit.perSeconds * m.timeScale} s (time scale ${m.timeScale}: windows of ${m.limit.perSeconds} s), batches of ${m.batchSize}`,
    params: { provider: m.provider, timeScale: m.timeScale, batchSize: m.batchSize, contacts: m.contacts, seed: params.seed },
    checks: [
      { name: `requests per window / limit (${m.fullWindows} full windows)`, target: `≥ ${rateTarget * 100} %`, measured: `${(m.utilisation * 100).toFixed(1)} %`, pass: m.utilisation >= rateTarget && m.fullWindows >= params.windows },
      { name: 'responses 429', target: '0', measured: String(m.rejected429), pass: m.rejected429 === 0 },
      { name: 'most requests in any window', target: `≤ ${m.limit.requests}`, measured: String(m.maxInAnyWindow), pass: m.maxInAnyWindow <= m.limit.requests },
      { name: 'requests per window (min / max)', target: '', measured: `${Math.min(...m.perWindow)} / ${Math.max(...m.perWindow)}`, pass: null },
    ],
    data: { ...m },
    notes: [],
  }));
  return { figures, measurements };
}

async function measureProvider(provider: ProviderType, params: RateParams): Promise<RateMeasurement> {
  const { timeScale, batchSize } = rateSettings[provider];
  const sandbox = await startRemoteSandbox({ timeScale, phoneValidation: 'format' });
  const scratch = scratchDir();
  try {
    const setup = { sandbox, stateUrl: sqliteState(scratch.dir).url, providers: [provider], batchSize: { [provider]: batchSize }, timeScale };
    const probe = await openSyncTenant({ ...setup, sourcePath: ':memory:' });
    const limit = bindingLimit(probe.targets[0]!.adapter.capabilities.rateLimits);
    await probe.close();
    // One window more than asked for: the first one is a burst from a standing start.
    const contacts = (params.windows + 2) * limit.requests * batchSize;
    const dataset = await prepareDataset({ n: contacts, seed: params.seed }, params.root === undefined ? {} : { root: params.root });
    const run = await timedSync({ ...setup, sourcePath: dataset.sourcePath });
    const log = run.requests[provider] ?? [];
    params.log?.(`rate ${provider}: ${log.length} requests in ${seconds(run.ms)} s`);
    return { provider, limit, timeScale, batchSize, contacts, ms: run.ms, ...windowStats(log, limit) };
  } finally {
    await sandbox.close();
    scratch.cleanup();
  }
}

/** The limit a bulk upsert meets first: the lowest rate among those that apply to bulk requests. */
function bindingLimit(limits: readonly RateLimit[]): RateLimit {
  const applying = limits.filter((l) => l.scope !== 'single');
  return applying.reduce((a, b) => (b.requests / b.perSeconds < a.requests / a.perSeconds ? b : a));
}

export function windowStats(log: readonly RecordedRequest[], limit: RateLimit): Pick<RateMeasurement, 'accepted' | 'rejected429' | 'fullWindows' | 'perWindow' | 'utilisation' | 'maxInAnyWindow'> {
  const times = log.filter((r) => r.status !== 429).map((r) => r.receivedAt).sort((a, b) => a - b);
  const rejected429 = log.filter((r) => r.status === 429).length;
  const windowMs = limit.perSeconds * 1000;
  const start = times[0] ?? 0;
  const fullWindows = times.length === 0 ? 0 : Math.floor((times[times.length - 1]! - start) / windowMs);
  const perWindow = new Array<number>(fullWindows).fill(0);
  for (const t of times) {
    const k = Math.floor((t - start) / windowMs);
    if (k < fullWindows) perWindow[k]!++;
  }
  let maxInAnyWindow = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= windowMs) i++;
    maxInAnyWindow = Math.max(maxInAnyWindow, j - i + 1);
  }
  const inFull = perWindow.reduce((a, b) => a + b, 0);
  return { accepted: times.length, rejected429, fullWindows, perWindow, utilisation: fullWindows === 0 ? 0 : inFull / (fullWindows * limit.requests), maxInAnyWindow };
}
