/** The `contact-sync` command line (bin/contact-sync.js). Every exit code comes from ./exit-codes.ts. */
import { Command, Option } from 'commander';
import { logLevels } from '../log/logger.js';
import { registerDaemon } from './commands/daemon.js';
import { registerImport } from './commands/import.js';
import { registerReconcile } from './commands/reconcile.js';
import { registerSandbox } from './commands/sandbox.js';
import { registerStatus } from './commands/status.js';
import { registerSync } from './commands/sync.js';
import { registerValidate } from './commands/validate.js';
import { positiveNumber } from './option-parsers.js';
import { describeError } from './describe-error.js';
import { exitCodeForError } from './exit-codes.js';
import { limitHeapGrowth } from './heap-growth.js';
import { CliSession, type GlobalOptions } from './session.js';

limitHeapGrowth();

const version = '0.1.0';

function buildProgram(session: CliSession): Command {
  const program = new Command('contact-sync')
    .description("keeps each tenant's contacts, held in a SQL table, in sync with SMS and voice providers (Twilio Contacts, Trackly SMS, OliAI)")
    .version(version)
    .addOption(new Option('--log-level <level>', 'log level (logs are JSON lines on stderr)').choices([...logLevels, 'silent']).default('info'))
    .option('--time-scale <x>', 'divide the providers\' documented rate-limit windows by X: only against a sandbox started with the same --time-scale', positiveNumber)
    .option('--log-pii', 'show phone numbers in logs (masked to their last 4 digits by default); secrets are always redacted')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
First time? Try the demo:  npm run demo
Example:
  $ contact-sync sync --config config/tenants/demo.yaml --dry-run`,
    )
    .hook('preAction', (_program, action) => session.configure(action.optsWithGlobals<GlobalOptions>()));
  for (const register of [registerSync, registerDaemon, registerReconcile, registerStatus, registerImport, registerValidate, registerSandbox]) {
    register(program, session);
  }
  return program;
}

async function main(): Promise<void> {
  const session = new CliSession();
  try {
    await buildProgram(session).parseAsync(process.argv);
  } catch (error) {
    process.exitCode = exitCodeForError(error);
    const message = describeError(error);
    if (message !== '') session.warn(message);
    session.logger.debug({ err: error }, 'command failed');
  }
  // Exit once stdout has drained: open handles (keep-alive sockets, timers) must not keep a finished command alive.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(process.exitCode ?? 0);
}

await main();
