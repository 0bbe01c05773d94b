/**
 * `npm run bench [-- options]`: runs the figures of SPEC section 7, each unit in a fresh child
 * process, prints a table, writes bench/out/results.json and (after a run of every figure, or
 * with --markdown) renders BENCHMARKS.md.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Table from 'cli-table3';
import { Command, InvalidArgumentError, Option } from 'commander';
import { providerTypes, type ProviderType } from '../src/sandbox/types.js';
import { withOnePlanRss } from './figures/plan.js';
import { twilioProjection } from './figures/twilio-projection.js';
import type { Job, JobOutcome } from './jobs.js';
import { benchOut } from './paths.js';
import { renderMarkdown } from './report.js';
import type { FigureName, FigureResult, Machine, Results } from './results.js';
import { defaultDatabaseUrl } from './stores.js';

const figureNames: readonly FigureName[] = ['plan', 'noop', 'rate', 'throughput', 'naive', 'twilio'];

const list = <T extends string>(allowed: readonly T[]) => (value: string): T[] => {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = items.filter((i) => !allowed.includes(i as T));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown: ${unknown.join(', ')} (known: ${allowed.join(', ')})`);
  return items as T[];
};
const count = (value: string): number => {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};
const counts = (value: string): number[] => value.split(',').map(count);

const program = new Command('bench')
  .description('contact-sync benchmarks (SPEC section 7); every figure by default')
  .addOption(new Option('--only <figures>', `comma-separated figures: ${figureNames.join(', ')}`).argParser(list(figureNames)).default([...figureNames]))
  .option('--sizes <list>', 'contacts in the plan figure, comma-separated (10000000 works too, given ~8 GB of disk and time)', counts, [100_000, 1_000_000])
  .option('--runs <n>', 'runs per plan size (the median is reported)', count, 3)
  .option('-n, --contacts <n>', 'contacts in the resync and throughput figures', count, 100_000)
  .option('--throughput-runs <n>', 'runs per store in the throughput figure', count, 1)
  .option('--windows <n>', 'rate windows the rate figure must fill', count, 20)
  .addOption(new Option('--providers <list>', 'providers').argParser(list(providerTypes)).default([...providerTypes]))
  .addOption(new Option('--stores <list>', 'state stores of the throughput figure').argParser(list(['sqlite', 'postgres'] as const)).default(['sqlite', 'postgres']))
  .option('--database-url <url>', 'PostgreSQL for the throughput figure (a fresh schema is used and dropped)', process.env.DATABASE_URL ?? defaultDatabaseUrl)
  .option('--seed <n>', 'dataset seed', count, 42)
  .option('--out <file>', 'results file', join(benchOut, 'results.json'))
  .option('--markdown <file>', 'render BENCHMARKS.md here (default: BENCHMARKS.md at the repository root, after a run of every figure)')
  .option('--cpu-prof', 'run every child process with node --cpu-prof (profiles in bench/out/profiles)');

interface Options {
  only: FigureName[];
  sizes: number[];
  runs: number;
  contacts: number;
  throughputRuns: number;
  windows: number;
  providers: ProviderType[];
  stores: ('sqlite' | 'postgres')[];
  databaseUrl: string;
  seed: number;
  out: string;
  markdown?: string;
  cpuProf?: boolean;
}

async function main(): Promise<void> {
  program.parse();
  const options = program.opts<Options>();
  const only = new Set(options.only);
  const startedAt = new Date();
  const loadStart = loadavg()[0]!;
  const figures: FigureResult[] = [];
  const { providers, seed } = options;

  if (only.has('plan')) {
    for (const n of options.sizes) {
      await runChild({ kind: 'prepare-plan', n, seed, providers }, options);
      const [figure] = (await runChild({ kind: 'plan', n, seed, runs: options.runs, providers }, options)).figures;
      const once = await runChild({ kind: 'plan-once', n, seed, providers }, options);
      figures.push(withOnePlanRss(figure!, once.onePlanRssMb!));
    }
  }
  const resync = (['noop', 'naive'] as const).filter((f) => only.has(f));
  if (resync.length > 0) figures.push(...(await runChild({ kind: 'resync', n: options.contacts, seed, providers, figures: [...resync] }, options)).figures);
  if (only.has('rate') || only.has('twilio')) {
    const rateProviders = only.has('rate') ? providers : (['twilio'] as ProviderType[]);
    const outcome = await runChild({ kind: 'rate', seed, windows: options.windows, providers: rateProviders }, options);
    if (only.has('rate')) figures.push(...outcome.figures);
    const twilio = outcome.rate?.find((m) => m.provider === 'twilio');
    if (only.has('twilio') && twilio !== undefined) figures.push(twilioProjection(twilio));
  }
  if (only.has('throughput')) {
    const job: Job = { kind: 'throughput', n: options.contacts, seed, runs: options.throughputRuns, providers, stores: options.stores, databaseUrl: options.databaseUrl };
    figures.push(...(await runChild(job, options)).figures);
  }

  const results: Results = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machine(loadStart),
    figures,
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(table(figures));
  console.log(`\nresults: ${options.out}`);
  const markdown = options.markdown ?? (figureNames.every((f) => only.has(f)) ? join(benchOut, '..', '..', 'BENCHMARKS.md') : undefined);
  if (markdown !== undefined) {
    writeFileSync(resolve(markdown), renderMarkdown(results));
    console.log(`report: ${resolve(markdown)}`);
  } else {
    console.log('BENCHMARKS.md not rewritten (not every figure ran): node dist/bench/report.js renders it from the results');
  }
  if (figures.some((f) => f.checks.some((c) => c.pass === false))) process.exitCode = 1;
}

/** Runs one job in a fresh Node process; its log lines go to stderr as they come. */
function runChild(job: Job, options: Options): Promise<JobOutcome> {
  console.error(`> ${job.kind}${'n' in job ? ` n=${job.n.toLocaleString('en-US')}` : ''}`);
  const profiles = join(benchOut, 'profiles');
  const execArgv = options.cpuProf === true ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`, `--cpu-prof-name=${job.kind}-${Date.now()}.cpuprofile`] : [];
  if (options.cpuProf === true) mkdirSync(profiles, { recursive: true });
  const child = fork(join(import.meta.dirname, 'child.js'), [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  return new Promise((resolvePromise, reject) => {
    let reply: { ok: true; outcome: JobOutcome } | { ok: false; error: string } | undefined;
    child.on('message', (message: typeof reply) => {
      reply = message;
    });
    child.on('exit', (code) => {
      if (reply?.ok === true) resolvePromise(reply.outcome);
      else reject(new Error(`the ${job.kind} job failed (exit ${code}): ${reply?.ok === false ? reply.error : 'no result'}`));
    });
  });
}

function machine(loadStart: number): Machine {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadStart,
    loadEnd: loadavg()[0]!,
  };
}

function table(figures: readonly FigureResult[]): string {
  const out = new Table({ head: ['figure', 'measure', 'target', 'measured', ''], wordWrap: true, colWidths: [34, 44, 18, 34, 6] });
  for (const f of figures) {
    f.checks.forEach((c, i) => out.push([i === 0 ? f.title : '', c.name, c.target, c.measured, c.pass === null ? '' : c.pass ? 'pass' : 'FAIL']));
  }
  return out.toString();
}

await main();
