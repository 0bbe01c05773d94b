/** `contact-sync sync`: one run of one tenant. */
import { type Command, Option } from 'commander';
import { runSync } from '../../engine/sync.js';
import { exitCodeForStatus } from '../exit-codes.js';
import { SyncProgressBars } from '../output/progress.js';
import { renderSyncResult } from '../output/sync-view.js';
import type { CliSession } from '../session.js';
import { stopOnSignals } from '../stop-signal.js';
import { openTenantFor } from '../tenant.js';

interface SyncCommandOptions {
  config: string;
  dryRun?: boolean;
  provider: string[];
  json?: boolean;
  planOut?: string;
  plan?: string;
  full?: boolean;
  allowDeletes?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerSync(program: Command, session: CliSession): void {
  program
    .command('sync')
    .description('run one sync of one tenant: plan the changes, then send them (journaled, resumable)')
    .requiredOption('--config <file>', 'tenant config file (YAML or JSON)')
    .option('--dry-run', 'compute and print the plan; send nothing, change no state')
    .addOption(new Option('--provider <name>', 'only this provider (repeatable)').argParser(collect).default([]))
    .option('--json', 'print the run report as one JSON document on stdout')
    .option('--plan-out <file>', 'also write the per-contact plan (JSON lines: provider, contact id, op, before, after)')
    .addOption(new Option('--plan <file>', 'apply exactly this plan; refused (exit 4) if the source or state changed since').conflicts(['full', 'provider', 'planOut']))
    .option('--full', 're-send every contact, ignoring what was delivered before (a resync)')
    .option('--allow-deletes', 'run even when the safety rules would refuse the deletes (or an empty source)')
    .addHelpText(
      'after',
      `
Exit codes: 0 done, 3 done with rejected contacts, 4 refused by a safety rule or a stale plan, 1 could not finish (resumes next run), 2 bad usage or config.

Examples:
  $ contact-sync sync --config config/tenants/demo.yaml --dry-run
  $ contact-sync sync --config config/tenants/demo.yaml --plan-out plan.jsonl --dry-run
  $ contact-sync sync --config config/tenants/demo.yaml --plan plan.jsonl
  $ contact-sync sync --config config/tenants/demo.yaml --provider oliai --json`,
    )
    .action(async (options: SyncCommandOptions) => {
      process.exitCode = await syncCommand(session, options);
    });
}

async function syncCommand(session: CliSession, options: SyncCommandOptions): Promise<number> {
  const runtime = await openTenantFor(session, options.config, options.provider.length > 0 ? { providers: options.provider } : {});
  const stop = stopOnSignals(session.logger);
  const bars = options.json !== true && options.dryRun !== true && session.stdout.isTTY === true ? new SyncProgressBars(session.stdout) : undefined;
  // Both on one terminal: log lines go above the bars instead of through them.
  if (bars !== undefined && session.stderr.isTTY === true) session.divertLogs((text) => bars.log(text));
  try {
    const result = await runSync(runtime, {
      dryRun: options.dryRun === true,
      full: options.full === true,
      allowDeletes: options.allowDeletes === true,
      signal: stop.signal,
      logger: runtime.logger,
      ...(options.planOut === undefined ? {} : { planOut: options.planOut }),
      ...(options.plan === undefined ? {} : { planFile: options.plan }),
      ...(bars === undefined ? {} : { onProgress: (event) => bars.update(event) }),
    });
    bars?.stop();
    if (options.json === true) session.stdout.write(`${JSON.stringify(result.report)}\n`);
    else session.print(renderSyncResult(result));
    if (result.error !== undefined && options.json === true) session.warn(`contact-sync: ${result.error.message}`);
    return exitCodeForStatus(result.report.status);
  } finally {
    bars?.stop();
    session.divertLogs(undefined);
    stop.dispose();
    await runtime.close();
  }
}
