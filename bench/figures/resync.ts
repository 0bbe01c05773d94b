/**
 * Figures 2 and 5, the runs after the first one, on one delivered tenant: N contacts synced once
 * (for real, through the journal, to an unthrottled sandbox), then
 *  (2) a second run with nothing changed: requests sent (target 0) and its time;
 *  (5) a run after a seeded 1 % of rows changed: requests per provider against
 *      ceil(changed / batch maximum), and against what a naive "send every contact every run"
 *      script sends: ceil(N / batch maximum) per provider (every provider here has a bulk upsert
 *      keyed by phone, so the naive script needs nothing else).
 */
import { sampleIndexes } from '../fake-contacts.js';
import { changeContacts, prepareDataset } from '../generate.js';
import { seconds } from '../measure.js';
import { startRemoteSandbox } from '../remote-sandbox.js';
import type { Check, FigureResult } from '../results.js';
import { copySource, scratchDir, sqliteState } from '../stores.js';
import type { ProviderType } from '../../src/sandbox/types.js';
import { type SyncSetup, type TimedSync, timedSync } from './sync-run.js';

export interface ResyncParams {
  n: number;
  seed: number;
  providers: readonly ProviderType[];
  /** Which of the two figures to report. */
  figures: readonly ('noop' | 'naive')[];
  changedShare?: number;
  root?: string;
  log?: (line: string) => void;
}

export async function resyncFigures(params: ResyncParams): Promise<FigureResult[]> {
  const dataset = await prepareDataset({ n: params.n, seed: params.seed }, params.root === undefined ? {} : { root: params.root });
  const sandbox = await startRemoteSandbox({ enforceRateLimits: false, phoneValidation: 'format' });
  const scratch = scratchDir();
  const figures: FigureResult[] = [];
  try {
    const setup: SyncSetup = {
      sandbox,
      sourcePath: copySource(dataset.sourcePath, scratch.dir),
      stateUrl: sqliteState(scratch.dir).url,
      providers: params.providers,
      unthrottled: true,
    };
    const first = await timedSync(setup);
    params.log?.(`first sync of ${params.n}: ${seconds(first.ms)} s`);
    if (params.figures.includes('noop')) {
      const second = await timedSync(setup);
      params.log?.(`no-op resync: ${seconds(second.ms)} s`);
      figures.push(noopFigure(params, first, second));
    }
    if (params.figures.includes('naive')) {
      const indexes = sampleIndexes(params.seed, params.n, Math.round(params.n * (params.changedShare ?? 0.01)));
      changeContacts(setup.sourcePath, params.seed, indexes);
      const after = await timedSync(setup);
      params.log?.(`resync after ${indexes.length} changes: ${seconds(after.ms)} s`);
      figures.push(naiveFigure(params, indexes.length, after));
    }
  } finally {
    await sandbox.close();
    scratch.cleanup();
  }
  return figures;
}

function sent(run: TimedSync, provider: string): number {
  return run.requests[provider]?.length ?? 0;
}

function noopFigure(params: ResyncParams, first: TimedSync, second: TimedSync): FigureResult {
  const total = params.providers.reduce((sum, p) => sum + sent(second, p), 0);
  const reported = params.providers.reduce((sum, p) => sum + second.result.report.providers[p]!.requests, 0);
  const unchanged = params.providers.every((p) => second.result.report.providers[p]!.planned.unchanged === params.n);
  return {
    figure: 'noop',
    title: `second run with nothing changed: ${params.n.toLocaleString('en-US')} contacts already delivered to ${params.providers.length} providers`,
    params: { n: params.n, seed: params.seed, providers: params.providers },
    checks: [
      { name: 'requests sent (sandbox log)', target: '0', measured: String(total), pass: total === 0 },
      { name: 'requests counted by the run report', target: '0', measured: String(reported), pass: reported === 0 },
      { name: 'every contact planned unchanged', target: 'yes', measured: unchanged ? 'yes' : 'no', pass: unchanged },
      { name: 'time of the run', target: '', measured: `${seconds(second.ms)} s`, pass: null },
      { name: 'time of the first sync, for scale', target: '', measured: `${seconds(first.ms)} s`, pass: null },
    ],
    data: { firstMs: first.ms, secondMs: second.ms, requestsPerProvider: Object.fromEntries(params.providers.map((p) => [p, sent(second, p)])) },
    notes: [],
  };
}

function naiveFigure(params: ResyncParams, changed: number, run: TimedSync): FigureResult {
  const checks: Check[] = [];
  const perProvider: Record<string, unknown> = {};
  for (const p of params.providers) {
    const max = run.maxBatch[p]!;
    const upserts = run.upserts[p]!;
    const requests = sent(run, p);
    const expected = Math.ceil(upserts / max);
    const naive = Math.ceil(params.n / max);
    perProvider[p] = { upserts, requests, expected, naive, maxBatch: max };
    checks.push({ name: `${p}: requests per change (${upserts} changed, batch max ${max})`, target: `ceil(${upserts}/${max}) = ${expected}`, measured: String(requests), pass: upserts === changed && requests === expected });
    checks.push({ name: `${p}: naive resend vs contact-sync`, target: '', measured: `${naive} vs ${requests} requests (${(naive / Math.max(1, requests)).toFixed(0)}x fewer)`, pass: null });
  }
  const naiveTotal = params.providers.reduce((sum, p) => sum + Math.ceil(params.n / run.maxBatch[p]!), 0);
  const total = params.providers.reduce((sum, p) => sum + sent(run, p), 0);
  checks.push({ name: 'all providers: naive vs contact-sync', target: '', measured: `${naiveTotal} vs ${total} requests`, pass: null });
  return {
    figure: 'naive',
    title: `against the naive approach: ${changed.toLocaleString('en-US')} of ${params.n.toLocaleString('en-US')} contacts changed (${((changed / params.n) * 100).toFixed(0)} %)`,
    params: { n: params.n, seed: params.seed, providers: params.providers, changed },
    checks,
    data: { perProvider, ms: run.ms },
    notes: ['a changed row gets a new name, zip and updated_at, so its payload changes at every provider'],
  };
}
