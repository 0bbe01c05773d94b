/**
 * `contact-sync daemon`: every tenant on its schedule, /healthz and /metrics on --port.
 * SIGHUP reloads the configs (a broken file is reported and its tenant keeps the old config);
 * SIGTERM/SIGINT stop scheduling, let the batches in flight finish and be journaled, and exit 0.
 */
import type { Command } from 'commander';
import { startDaemon } from '../../daemon/daemon.js';
import { scaleoutForConfigs } from '../../scaleout/wire.js';
import { EXIT } from '../exit-codes.js';
import { portNumber, positiveNumber } from '../option-parsers.js';
import type { CliSession } from '../session.js';

interface DaemonCommandOptions {
  config: string[];
  port?: number;
  host: string;
  stuckAfter: number;
  stopTimeout: number;
  leaseTtl: number;
}

export function registerDaemon(program: Command, session: CliSession): void {
  program
    .command('daemon')
    .description('run every tenant on its cron schedule; serve /healthz and /metrics (Prometheus)')
    .requiredOption('--config <paths...>', 'tenant config files, or directories of them (*.yaml, *.yml, *.json)')
    .option('--port <n>', 'serve /healthz and /metrics on this port', portNumber)
    .option('--host <address>', 'address for /healthz and /metrics (0.0.0.0 for probes from outside)', '127.0.0.1')
    .option('--stuck-after <seconds>', 'a run with no progress for this long is reported stuck', positiveNumber, 300)
    .option('--stop-timeout <seconds>', 'on SIGTERM, wait this long for batches in flight before exiting', positiveNumber, 30)
    .option('--lease-ttl <seconds>', 'with PostgreSQL state: a crashed process\'s tenants are taken over after this long', positiveNumber, 30)
    .addHelpText(
      'after',
      `
Signals: SIGHUP reloads the configs; SIGTERM or SIGINT finish the batches in flight, journal them and exit 0.

Examples:
  $ contact-sync daemon --config config/tenants --port 9464
  $ contact-sync daemon --config acme.yaml globex.yaml --port 9464 --host 0.0.0.0`,
    )
    .action(async (options: DaemonCommandOptions) => {
      process.exitCode = await daemonCommand(session, options);
    });
}

async function daemonCommand(session: CliSession, options: DaemonCommandOptions): Promise<number> {
  const logger = session.logger;
  // With PostgreSQL state, several daemons share the work (docs/postgres.md).
  const scaleout = await scaleoutForConfigs(options.config, { logger });
  const daemon = await startDaemon({
    ...(scaleout === undefined ? {} : { coordinator: scaleout.coordinator, gates: scaleout.gates, leaseMs: options.leaseTtl * 1000 }),
    configPaths: options.config,
    ...(options.port === undefined ? {} : { port: options.port }),
    host: options.host,
    logger,
    redactor: session.redactor,
    stuckAfterMs: options.stuckAfter * 1000,
    ...(session.timeScale === undefined ? {} : { timeScale: session.timeScale }),
  }).catch(async (error: unknown) => {
    await scaleout?.close();
    throw error;
  });
  const onHangup = (): void => {
    logger.info('SIGHUP: reloading configs');
    daemon.reload().catch((error: unknown) => logger.error({ err: error }, 'reload failed'));
  };
  process.on('SIGHUP', onHangup);
  // Later SIGTERMs while stopping are only noted: the stop is already bounded by --stop-timeout.
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    let stopping = false;
    const onStop = (name: NodeJS.Signals): void => {
      if (stopping) logger.warn({ signal: name }, 'already stopping');
      stopping = true;
      resolve(name);
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
  });
  process.off('SIGHUP', onHangup);
  logger.info({ signal }, 'stopping the daemon');
  await daemon.stop({ timeoutMs: options.stopTimeout * 1000 });
  await scaleout?.close();
  return EXIT.ok;
}
