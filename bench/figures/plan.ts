/**
 * Figure 1, plan at scale: N contacts against an N-row baseline per provider with 1 % of rows
 * changed. Times the planner (a dry run: the complete plan, nothing sent) and, in the same
 * process, the bare read of the same rows (the source reader's pages and each provider's baseline
 * pages, nothing else done with them), alternating the two so both see the same machine load.
 * Targets: plan within 2x the bare read; peak RSS under 300 MB.
 */
import { runSync } from '../../src/engine/sync.js';
import type { TenantRuntime } from '../../src/engine/runtime.js';
import type { ProviderType } from '../../src/sandbox/types.js';
import { toContact } from '../../src/source/normalise.js';
import { openSource } from '../../src/source/reader.js';
import { type Dataset, prepareDataset } from '../generate.js';
import { mb, measure, median, processPeakRss, seconds } from '../measure.js';
import type { FigureResult } from '../results.js';
import { benchConfig, benchDefaultCountry, benchTenant, offlineEndpoints, openBenchTenant } from '../tenant.js';

export interface PlanParams {
  n: number;
  seed: number;
  runs: number;
  providers: readonly ProviderType[];
  /** Dataset cache root (default bench/out/datasets). */
  root?: string;
  log?: (line: string) => void;
}

export const planTargets = { ratio: 2, rssMb: 300 } as const;

/** Generates (or finds cached) the dataset and baseline the figure reads. */
export async function preparePlanDataset(params: PlanParams): Promise<Dataset> {
  const endpoints = offlineEndpoints.filter((e) => params.providers.includes(e.type));
  // A runtime only to get the engine's view of each provider (adapter, mapping tag).
  const probe = await openBenchTenant(benchConfig({ sourcePath: ':memory:', stateUrl: 'sqlite::memory:', providers: endpoints }));
  try {
    return await prepareDataset(
      { n: params.n, seed: params.seed },
      {
        ...(params.root === undefined ? {} : { root: params.root }),
        ...(params.log === undefined ? {} : { log: params.log }),
        baseline: {
          tenant: benchTenant,
          targets: probe.targets,
          normalise: (row) => toContact(row, benchDefaultCountry),
          defaultCountry: benchDefaultCountry,
          openReader: (path) => openSource(benchConfig({ sourcePath: path, stateUrl: 'sqlite::memory:', providers: endpoints }).config.source, process.cwd()),
        },
      },
    );
  } finally {
    await probe.close();
  }
}

export async function planFigure(params: PlanParams): Promise<FigureResult> {
  const dataset = await preparePlanDataset(params);
  const endpoints = offlineEndpoints.filter((e) => params.providers.includes(e.type));
  const runtime = await openBenchTenant(benchConfig({ sourcePath: dataset.changedSourcePath, stateUrl: `sqlite:${dataset.statePath!}`, providers: endpoints }));
  const reads: number[] = [];
  const plans: number[] = [];
  const planRss: number[] = [];
  const readRss: number[] = [];
  const problems: string[] = [];
  try {
    await bareRead(runtime); // warms the OS page cache for both
    for (let run = 0; run < params.runs; run++) {
      const planFirst = run % 2 === 1;
      if (planFirst) plans.push(await timedPlan());
      const read = await measure(() => bareRead(runtime));
      if (read.value !== dataset.n * (1 + runtime.targets.length)) problems.push(`the bare read saw ${read.value} rows`);
      reads.push(read.ms);
      readRss.push(read.peakRss);
      if (!planFirst) plans.push(await timedPlan());
      params.log?.(`plan n=${dataset.n} run ${run + 1}/${params.runs}: read ${seconds(read.ms)} s, plan ${seconds(plans[plans.length - 1]!)} s`);
    }
  } finally {
    await runtime.close();
  }

  async function timedPlan(): Promise<number> {
    const { value: result, ms, peakRss } = await measure(() => runSync(runtime, { dryRun: true }));
    planRss.push(peakRss);
    for (const [name, report] of Object.entries(result.report.providers)) {
      const { update, unchanged, create, delete: deletes, invalid } = report.planned;
      const changed = dataset.changedIds.length;
      if (update !== changed || unchanged !== dataset.n - changed || create + deletes + invalid !== 0) {
        problems.push(`${name}: planned ${JSON.stringify(report.planned)}, expected ${changed} updates and ${dataset.n - changed} unchanged`);
      }
    }
    return ms;
  }

  const ratio = median(plans) / median(reads);
  const peak = processPeakRss();
  const rows = dataset.n.toLocaleString('en-US');
  return {
    figure: 'plan',
    title: `plan at scale: ${rows} contacts, 1 % changed, ${runtime.targets.length} provider baseline(s) of ${rows}`,
    params: { n: params.n, seed: params.seed, runs: params.runs, providers: params.providers, changed: dataset.changedIds.length },
    checks: [
      { name: 'plan (dry run), median', target: '', measured: `${seconds(median(plans))} s`, pass: null },
      { name: 'bare read of the same rows, median', target: '', measured: `${seconds(median(reads))} s`, pass: null },
      { name: 'plan / bare read', target: `≤ ${planTargets.ratio}x`, measured: `${ratio.toFixed(2)}x`, pass: ratio <= planTargets.ratio },
      // The target is judged on a process that plans once (onePlanRss), as `sync` does; this one also ran the other runs and the reads.
      { name: `peak RSS of this process (${plans.length} plans, ${reads.length + 1} bare reads)`, target: '', measured: `${mb(peak)} MB`, pass: null },
      { name: 'plan is correct (1 % updates, the rest unchanged)', target: 'yes', measured: problems.length === 0 ? 'yes' : problems.slice(0, 3).join('; '), pass: problems.length === 0 },
    ],
    data: {
      planMs: plans,
      readMs: reads,
      planPeakRssMb: planRss.map(mb),
      readPeakRssMb: readRss.map(mb),
      processPeakRssMb: mb(peak),
      rowsPerSecondPlanned: Math.round(dataset.n / (median(plans) / 1000)),
    },
    notes: [],
  };
}

/**
 * The peak RSS (MB) of a process that does one dry-run plan and nothing else, as a `contact-sync
 * sync --dry-run` process does: run in a fresh child of its own (jobs.ts), after the plan figure.
 */
export async function onePlanRss(params: PlanParams): Promise<number> {
  const dataset = await preparePlanDataset(params);
  const endpoints = offlineEndpoints.filter((e) => params.providers.includes(e.type));
  const runtime = await openBenchTenant(benchConfig({ sourcePath: dataset.changedSourcePath, stateUrl: `sqlite:${dataset.statePath!}`, providers: endpoints }));
  try {
    await runSync(runtime, { dryRun: true });
  } finally {
    await runtime.close();
  }
  return mb(processPeakRss());
}

/** Adds the one-plan process's peak RSS to the plan figure, as its RSS check against the target. */
export function withOnePlanRss(figure: FigureResult, rssMb: number): FigureResult {
  const check = { name: 'peak RSS of a process that plans once (as `sync --dry-run`)', target: `< ${planTargets.rssMb} MB`, measured: `${rssMb} MB`, pass: rssMb < planTargets.rssMb };
  const at = figure.checks.findIndex((c) => c.name.startsWith('peak RSS of this process'));
  return { ...figure, checks: [...figure.checks.slice(0, at), check, ...figure.checks.slice(at)], data: { ...figure.data, onePlanPeakRssMb: rssMb } };
}

/** Reads every source row and every baseline row of every provider, page by page, and nothing else. Returns the rows read. */
export async function bareRead(runtime: TenantRuntime): Promise<number> {
  const pageSize = runtime.tuning.pageSize;
  let rows = 0;
  for await (const page of runtime.source.pages({ pageSize })) rows += page.length;
  for (const target of runtime.targets) {
    for await (const page of runtime.state.baseline.keyPages(target.name, pageSize)) rows += page.length;
  }
  return rows;
}
