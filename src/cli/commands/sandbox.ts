/** `contact-sync sandbox`: local emulators of every supported provider API. */
import type { Command } from 'commander';
import { defaultSandboxPort, runSandboxCommand } from '../../sandbox/command.js';
import { EXIT } from '../exit-codes.js';
import { portNumber } from '../option-parsers.js';
import type { CliSession } from '../session.js';

interface SandboxCommandOptions {
  port: number;
  host: string;
}

export function registerSandbox(program: Command, session: CliSession): void {
  program
    .command('sandbox')
    .description('start local emulators of the Twilio, Trackly and OliAI contact APIs (limits and errors included)')
    .option('--port <n>', 'port to listen on (0: any free port)', portNumber, defaultSandboxPort)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .addHelpText(
      'after',
      `
The global --time-scale X divides the rate-limit windows (60: a minute lasts a second); give the
same --time-scale to the sync or daemon that talks to it.

Example:
  $ contact-sync sandbox --port 4010 --time-scale 60`,
    )
    .action(async (options: SandboxCommandOptions) => {
      const sandbox = await runSandboxCommand({ port: options.port, timeScale: session.timeScale ?? 1, host: options.host }, session.stdout);
      await sandbox.closed;
      process.exitCode = EXIT.ok;
    });
}
