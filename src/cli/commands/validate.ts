/** `contact-sync validate`: check a config and what it refers to, and say exactly what is wrong. */
import type { Command } from 'commander';
import { validateConfig } from '../../config/validate.js';
import { EXIT } from '../exit-codes.js';
import type { CliSession } from '../session.js';

interface ValidateCommandOptions {
  config: string;
}

export function registerValidate(program: Command, session: CliSession): void {
  program
    .command('validate')
    .description('check a tenant config and its references (environment variables, source table, columns)')
    .requiredOption('--config <file>', 'tenant config file (YAML or JSON)')
    .addHelpText(
      'after',
      `
Exit code 0 when the config is valid, 2 otherwise (each problem names the file, the path in it and what was expected).

Example:
  $ contact-sync validate --config config/tenants/demo.yaml`,
    )
    .action(async (options: ValidateCommandOptions) => {
      process.exitCode = await validateCommand(session, options);
    });
}

async function validateCommand(session: CliSession, options: ValidateCommandOptions): Promise<number> {
  const result = await validateConfig(options.config);
  for (const check of result.checks) session.print(`ok       ${check}`);
  for (const p of result.problems) session.print(`problem  ${p.file}${p.path ? ` at ${p.path}` : ''}: ${p.message}`);
  session.print(result.ok ? `${options.config} is valid` : `${options.config}: ${result.problems.length} problem(s)`);
  return result.ok ? EXIT.ok : EXIT.usage;
}
