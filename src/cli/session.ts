/**
 * What every command shares: the process logger (configured from the global options before the
 * command's action runs), the redactor it writes through, and the output streams.
 */
import type { Level, Logger } from 'pino';
import { type ProcessLogger, createLogger } from '../log/logger.js';
import type { LogRedactor } from '../log/redact.js';

export interface GlobalOptions {
  logLevel?: Level | 'silent';
  logPii?: boolean;
  timeScale?: number;
}

export class CliSession {
  logger: Logger;
  redactor: LogRedactor;
  /** Sends the log lines to a display that owns the terminal for a while (undefined: back to stderr). */
  divertLogs: ProcessLogger['divert'];
  /** Divides the documented rate-limit windows: only for sandboxes started with the same --time-scale. */
  timeScale: number | undefined;
  readonly stdout: NodeJS.WriteStream = process.stdout;
  readonly stderr: NodeJS.WriteStream = process.stderr;

  constructor() {
    ({ logger: this.logger, redactor: this.redactor, divert: this.divertLogs } = createLogger());
  }

  configure(globals: GlobalOptions): void {
    ({ logger: this.logger, redactor: this.redactor, divert: this.divertLogs } = createLogger({
      ...(globals.logLevel === undefined ? {} : { level: globals.logLevel }),
      pii: globals.logPii === true,
    }));
    this.timeScale = globals.timeScale;
  }

  /** A line for a person on stdout (never used with --json). */
  print(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  /** A message for a person on stderr, redacted like the logs. */
  warn(text: string): void {
    this.stderr.write(`${this.redactor.redact(text)}\n`);
  }
}
