/**
 * The units run.ts runs, each in a fresh child process (child.ts), so that every measurement,
 * peak RSS above all, belongs to that unit alone. A job is plain data (it crosses a process
 * boundary); runJob does the work.
 */
import type { ProviderType } from '../src/sandbox/types.js';
import { onePlanRss, planFigure, preparePlanDataset } from './figures/plan.js';
import { type RateMeasurement, rateFigure } from './figures/rate.js';
import { resyncFigures } from './figures/resync.js';
import { throughputFigure } from './figures/throughput.js';
import type { FigureResult } from './results.js';

export type Job =
  | { kind: 'prepare-plan'; n: number; seed: number; providers: ProviderType[] }
  | { kind: 'plan'; n: number; seed: number; runs: number; providers: ProviderType[] }
  | { kind: 'plan-once'; n: number; seed: number; providers: ProviderType[] }
  | { kind: 'resync'; n: number; seed: number; providers: ProviderType[]; figures: ('noop' | 'naive')[] }
  | { kind: 'rate'; seed: number; windows: number; providers: ProviderType[] }
  | { kind: 'throughput'; n: number; seed: number; runs: number; providers: ProviderType[]; stores: ('sqlite' | 'postgres')[]; databaseUrl: string };

export interface JobOutcome {
  figures: FigureResult[];
  /** Figure 3's raw measurements, for figure 6. */
  rate?: RateMeasurement[];
  /** Peak RSS (MB) of a process that planned once. */
  onePlanRssMb?: number;
}

export async function runJob(job: Job, log: (line: string) => void): Promise<JobOutcome> {
  switch (job.kind) {
    case 'prepare-plan':
      await preparePlanDataset({ ...job, runs: 0, log });
      return { figures: [] };
    case 'plan':
      return { figures: [await planFigure({ ...job, log })] };
    case 'plan-once':
      return { figures: [], onePlanRssMb: await onePlanRss({ ...job, runs: 1, log }) };
    case 'resync':
      return { figures: await resyncFigures({ ...job, log }) };
    case 'rate': {
      const { figures, measurements } = await rateFigure({ ...job, log });
      return { figures, rate: measurements };
    }
    case 'throughput':
      return { figures: await throughputFigure({ ...job, log }) };
  }
}
