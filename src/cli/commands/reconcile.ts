/** `contact-sync reconcile`: read providers that can list back, repair what was changed or removed there. */
import type { Command } from 'commander';
import { type ReconcileReport, runReconcile } from '../../engine/reconcile.js';
import { exitCodeForStatus } from '../exit-codes.js';
import { renderTable } from '../output/table.js';
import type { CliSession } from '../session.js';
import { stopOnSignals } from '../stop-signal.js';
import { openTenantFor } from '../tenant.js';

interface ReconcileCommandOptions {
  config: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerReconcile(program: Command, session: CliSession): void {
  program
    .command('reconcile')
    .description('read back providers that can list (Trackly, OliAI) and repair contacts the connector wrote that were changed or removed there')
    .requiredOption('--config <file>', 'tenant config file (YAML or JSON)')
    .option('--dry-run', 'count the drift; repair nothing')
    .option('--json', 'print the reconcile report as one JSON document on stdout')
    .addHelpText(
      'after',
      `
Contacts the connector never wrote are left alone. Twilio cannot list: it is reported as not checked.

Example:
  $ contact-sync reconcile --config config/tenants/demo.yaml --dry-run`,
    )
    .action(async (options: ReconcileCommandOptions) => {
      process.exitCode = await reconcileCommand(session, options);
    });
}

function renderReconcile(report: ReconcileReport): string {
  const rows = Object.entries(report.providers).map(([name, p]) =>
    p.checked ? [name, p.delivered, p.missing, p.drifted, p.repaired, p.rejected, p.requests] : [name, 'cannot list', '-', '-', '-', '-', '-'],
  );
  return [
    `Tenant ${report.tenant}, reconcile ${report.runId}${report.dryRun ? ' (dry run: nothing repaired)' : ''}`,
    renderTable(['provider', 'delivered', 'missing there', 'changed there', 'repaired', 'rejected', 'requests'], rows),
    `Status: ${report.status}`,
  ].join('\n');
}

async function reconcileCommand(session: CliSession, options: ReconcileCommandOptions): Promise<number> {
  const runtime = await openTenantFor(session, options.config);
  const stop = stopOnSignals(session.logger);
  try {
    const { report, error } = await runReconcile(runtime, { dryRun: options.dryRun === true, signal: stop.signal, logger: runtime.logger });
    if (options.json === true) session.stdout.write(`${JSON.stringify(report)}\n`);
    else session.print(renderReconcile(report));
    if (error !== undefined) session.warn(`contact-sync: ${error.message}`);
    return exitCodeForStatus(report.status);
  } finally {
    stop.dispose();
    await runtime.close();
  }
}
