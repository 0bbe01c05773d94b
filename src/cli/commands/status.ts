/** `contact-sync status`: what the state store knows about a tenant. */
import type { Command } from 'commander';
import { readStatus } from '../../engine/status.js';
import { EXIT } from '../exit-codes.js';
import { positiveNumber } from '../option-parsers.js';
import { renderStatus } from '../output/status-view.js';
import type { CliSession } from '../session.js';
import { openTenantFor } from '../tenant.js';

interface StatusCommandOptions {
  config: string;
  json?: boolean;
  stuckAfter: number;
}

export function registerStatus(program: Command, session: CliSession): void {
  program
    .command('status')
    .description('last runs, per-provider counts (synced, pending, rejected, dead letters, orphaned), latest rejections and dead letters with reasons, stuck runs')
    .requiredOption('--config <file>', 'tenant config file (YAML or JSON)')
    .option('--json', 'print the status as one JSON document on stdout')
    .option('--stuck-after <seconds>', 'a running run without progress (no request answered) or heartbeat for this long is reported stuck', positiveNumber, 300)
    .addHelpText(
      'after',
      `
Example:
  $ contact-sync status --config config/tenants/demo.yaml`,
    )
    .action(async (options: StatusCommandOptions) => {
      process.exitCode = await statusCommand(session, options);
    });
}

async function statusCommand(session: CliSession, options: StatusCommandOptions): Promise<number> {
  const runtime = await openTenantFor(session, options.config);
  try {
    const status = await readStatus(runtime.store, runtime.tenant, {
      providers: runtime.targets.map((t) => t.name),
      stuckAfterMs: options.stuckAfter * 1000,
    });
    for (const run of status.stuck) runtime.logger.warn({ runId: run.runId, heartbeatAt: run.heartbeatAt, holder: run.holder }, 'run looks stuck');
    if (options.json === true) session.stdout.write(`${JSON.stringify(status)}\n`);
    else session.print(renderStatus(status));
    return EXIT.ok;
  } finally {
    await runtime.close();
  }
}
