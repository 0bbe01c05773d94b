/** `contact-sync import`: load a CSV into the tenant's embedded source table. */
import type { Command } from 'commander';
import { importCsv } from '../../source/import.js';
import { EXIT } from '../exit-codes.js';
import type { CliSession } from '../session.js';
import { loadTenantConfig } from '../tenant.js';

interface ImportCommandOptions {
  config: string;
  replace?: boolean;
}

export function registerImport(program: Command, session: CliSession): void {
  program
    .command('import')
    .description('load a CSV into the embedded source table (created if missing)')
    .requiredOption('--config <file>', 'tenant config file (YAML or JSON)')
    .argument('<csv>', 'CSV file with columns id,phone,name,language,country,zip (other columns become attributes)')
    .option('--replace', 'make the table equal to the CSV: rows not in it are deleted')
    .addHelpText(
      'after',
      `
Without --replace, rows are inserted or updated by id and no row is deleted.

Example:
  $ contact-sync import --config config/tenants/demo.yaml config/demo/contacts.csv --replace`,
    )
    .action(async (csv: string, options: ImportCommandOptions) => {
      process.exitCode = await importCommand(session, csv, options);
    });
}

const rowErrorsShown = 20;

async function importCommand(session: CliSession, csv: string, options: ImportCommandOptions): Promise<number> {
  const loaded = await loadTenantConfig(session, options.config);
  const report = await importCsv(loaded, csv, { replace: options.replace === true });
  session.print(
    `Imported ${csv} into tenant ${loaded.config.tenant}: ${report.rows} rows read, ${report.inserted} inserted, ${report.updated} updated, ` +
      `${report.unchanged} unchanged, ${report.deleted} deleted, ${report.errors} refused`,
  );
  for (const e of report.rowErrors.slice(0, rowErrorsShown)) session.print(`  line ${e.line}${e.column === null ? '' : ` (${e.column})`}: ${e.reason}`);
  if (report.rowErrors.length > rowErrorsShown) session.print(`  … and ${report.errors - rowErrorsShown} more`);
  if (options.replace === true && !report.complete) session.print('Rows not in the file were NOT deleted: some records could not be read.');
  // Like a sync with rejected contacts: done, but some rows were refused (each listed above).
  return report.errors > 0 ? EXIT.partial : EXIT.ok;
}
