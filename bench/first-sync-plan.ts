/**
 * An A/B helper, not a SPEC figure: a first sync's plan alone, the long part of the throughput
 * figure's whole sync. A dry run against a fresh in-memory state, so every row is normalised,
 * mapped, hashed and staged, and nothing is sent; `--runs` of them in one process, each with the
 * process's CPU time (the phone worker's included). Less noisy than a whole sync, whose sandbox and
 * requests share the machine: run two checkouts alternately to compare a change.
 *
 *   node dist/bench/first-sync-plan.js [--providers twilio,trackly,oliai] [--runs 3] [-n 100000]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { runSync } from '../src/engine/sync.js';
import { prepareDataset } from './generate.js';
import { benchConfig, offlineEndpoints, openBenchTenant } from './tenant.js';

export interface FirstSyncPlan {
  ms: number;
  cpuMs: number;
  planned: number;
}

/** `root`: the dataset cache (default bench/out/datasets). */
export async function timeFirstSyncPlans(options: { n: number; seed: number; runs: number; providers: readonly string[]; root?: string }): Promise<FirstSyncPlan[]> {
  const dataset = await prepareDataset({ n: options.n, seed: options.seed }, options.root === undefined ? {} : { root: options.root });
  const providers = offlineEndpoints.filter((e) => options.providers.includes(e.type));
  const plans: FirstSyncPlan[] = [];
  for (let run = 0; run < options.runs; run++) {
    const runtime = await openBenchTenant(benchConfig({ sourcePath: dataset.sourcePath, stateUrl: 'sqlite::memory:', providers }));
    try {
      const cpu = process.cpuUsage();
      const started = performance.now();
      const { report } = await runSync(runtime, { dryRun: true });
      const used = process.cpuUsage(cpu);
      const planned = Object.values(report.providers).reduce((n, p) => n + p.planned.create, 0);
      plans.push({ ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000, planned });
    } finally {
      await runtime.close();
    }
  }
  return plans;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const program = new Command('first-sync-plan')
    .option('--providers <list>', 'providers', 'twilio,trackly,oliai')
    .option('--runs <n>', 'plans in this process', '3')
    .option('-n, --contacts <n>', 'contacts', '100000')
    .option('--seed <n>', 'dataset seed', '42')
    .parse();
  const o = program.opts<{ providers: string; runs: string; contacts: string; seed: string }>();
  const plans = await timeFirstSyncPlans({ n: Number(o.contacts), seed: Number(o.seed), runs: Number(o.runs), providers: o.providers.split(',') });
  const each = plans.map((p) => `${(p.ms / 1000).toFixed(2)} s (cpu ${(p.cpuMs / 1000).toFixed(2)} s)`).join(', ');
  console.log(`first-sync plan, ${o.providers}, ${plans[0]?.planned ?? 0} creates: ${each}`);
  process.exit(0);
}
