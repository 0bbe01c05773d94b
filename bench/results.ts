/** The shape of bench/out/results.json: what run.ts measures and report.ts renders. */

export type FigureName = 'plan' | 'noop' | 'rate' | 'throughput' | 'naive' | 'twilio';

/** One measured quantity against its target (pass null: informative, no target). */
export interface Check {
  name: string;
  target: string;
  measured: string;
  pass: boolean | null;
}

export interface FigureResult {
  figure: FigureName;
  /** e.g. "plan at scale, 1,000,000 contacts" */
  title: string;
  params: Record<string, unknown>;
  checks: Check[];
  /** The raw numbers behind the checks (per run, per provider). */
  data: Record<string, unknown>;
  notes: string[];
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  /** 1-minute load averages at the start and the end of the run. */
  loadStart: number;
  loadEnd: number;
}

export interface Results {
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  figures: FigureResult[];
}
