/**
 * Figure 4, end-to-end throughput: the first sync of N contacts to every provider (plan, journal,
 * send, settle; providers in parallel, as the product runs them) against an unthrottled sandbox
 * in its own process, with the state store on SQLite and on PostgreSQL. Per provider: N / the time
 * from the start of the run to its last batch settled; overall: N / the whole run. Target: at
 * least 20,000 contacts/s.
 */
import type { ProviderType } from '../../src/sandbox/types.js';
import { prepareDataset } from '../generate.js';
import { median, seconds } from '../measure.js';
import { startRemoteSandbox } from '../remote-sandbox.js';
import type { Check, FigureResult } from '../results.js';
import { postgresState, scratchDir, sqliteState } from '../stores.js';
import { type TimedSync, timedSync } from './sync-run.js';

export interface ThroughputParams {
  n: number;
  seed: number;
  runs: number;
  stores: readonly ('sqlite' | 'postgres')[];
  providers: readonly ProviderType[];
  databaseUrl: string;
  root?: string;
  log?: (line: string) => void;
}

export const throughputTarget = 20_000;

export async function throughputFigure(params: ThroughputParams): Promise<FigureResult[]> {
  const dataset = await prepareDataset({ n: params.n, seed: params.seed }, params.root === undefined ? {} : { root: params.root });
  // 'format': the sandbox checks E.164 spelling only, so the emulator's phone validation does not
  // become the bottleneck being measured (every generated phone is valid anyway).
  const sandbox = await startRemoteSandbox({ enforceRateLimits: false, phoneValidation: 'format' });
  const scratch = scratchDir();
  const figures: FigureResult[] = [];
  const storeName = { sqlite: 'SQLite', postgres: 'PostgreSQL' } as const;
  try {
    for (const store of params.stores) {
      const runs: TimedSync[] = [];
      let skipped: string | undefined;
      for (let run = 0; run < params.runs; run++) {
        const state = store === 'sqlite' ? sqliteState(scratch.dir, `state-${run}.db`) : await postgresState(params.databaseUrl);
        if ('unreachable' in state) {
          skipped = state.unreachable;
          break;
        }
        await sandbox.reset();
        try {
          const result = await timedSync({ sandbox, sourcePath: dataset.sourcePath, stateUrl: state.url, providers: params.providers, unthrottled: true });
          for (const p of params.providers) {
            const created = result.result.report.providers[p]!.applied.create;
            if (created !== params.n) throw new Error(`${p}: created ${created} of ${params.n}`);
          }
          params.log?.(`throughput (${store}) run ${run + 1}/${params.runs}: ${seconds(result.ms)} s`);
          runs.push(result);
        } finally {
          await state.cleanup();
        }
      }
      const title = `end-to-end first sync of ${params.n.toLocaleString('en-US')} contacts to ${params.providers.length} providers, journaled, state on ${storeName[store]}`;
      const base = { figure: 'throughput' as const, title, params: { n: params.n, seed: params.seed, runs: params.runs, store, providers: params.providers } };
      if (skipped !== undefined) {
        figures.push({ ...base, checks: [{ name: 'PostgreSQL', target: 'reachable', measured: `skipped: ${skipped}`, pass: null }], data: {}, notes: [] });
        continue;
      }
      const rate = (ms: number): number => Math.round(params.n / (ms / 1000));
      const checks: Check[] = params.providers.map((p) => {
        const ms = median(runs.map((r) => r.providerMs[p]!));
        return { name: `${p}: contacts/s`, target: `≥ ${throughputTarget.toLocaleString('en-US')}/s`, measured: `${rate(ms).toLocaleString('en-US')}/s (${seconds(ms)} s)`, pass: rate(ms) >= throughputTarget };
      });
      const total = median(runs.map((r) => r.ms));
      checks.push({ name: 'overall: contacts/s, each contact to every provider', target: `≥ ${throughputTarget.toLocaleString('en-US')}/s`, measured: `${rate(total).toLocaleString('en-US')}/s (${seconds(total)} s)`, pass: rate(total) >= throughputTarget });
      checks.push({ name: 'overall: deliveries/s (contacts × providers)', target: '', measured: `${(rate(total) * params.providers.length).toLocaleString('en-US')}/s`, pass: null });
      figures.push({
        ...base,
        checks,
        data: { runMs: runs.map((r) => r.ms), providerMs: runs.map((r) => r.providerMs), requests: runs.map((r) => Object.fromEntries(Object.entries(r.requests).map(([p, list]) => [p, list.length]))) },
        notes: [
          "time = the whole `sync` (plan, journal, requests, settle) on a fresh state store; the sandbox runs in its own process, unthrottled (and the client's limits lifted with the config's `rateLimit`), checking E.164 spelling only",
        ],
      });
    }
  } finally {
    await sandbox.close();
    scratch.cleanup();
  }
  return figures;
}
