/**
 * The process logger: pino JSON lines on stderr (pino-pretty when stderr is a terminal), every
 * line passed through one LogRedactor before it is written. Child loggers carry tenant, runId and
 * provider bindings (`logger.child({ tenant })`).
 */
import { writeSync } from 'node:fs';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { LogRedactor } from './redact.js';

export const logLevels: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export interface LoggerOptions {
  /** Default 'info'. 'silent' turns logging off. */
  level?: Level | 'silent';
  /** Show phone numbers unmasked (`--log-pii`). Secrets are always redacted. */
  pii?: boolean;
  /** Default: stderr (file descriptor 2). */
  destination?: DestinationStream;
  /** Human-readable lines instead of JSON. Default: when the destination is stderr and stderr is a TTY. */
  pretty?: boolean;
}

export interface ProcessLogger {
  logger: Logger;
  /** Register a config's secrets here as soon as it is loaded. */
  redactor: LogRedactor;
  /**
   * Hands every line (as it would be written) to `to` instead, until called with undefined: a
   * display that owns the terminal meanwhile (the progress bars) prints them above itself.
   */
  divert(to: ((text: string) => void) | undefined): void;
}

export function createLogger(options: LoggerOptions = {}): ProcessLogger {
  const redactor = new LogRedactor({ pii: options.pii === true });
  const usePretty = options.pretty ?? (options.destination === undefined && process.stderr.isTTY === true);
  const prettify = usePretty ? pretty.prettyFactory({ colorize: options.destination === undefined }) : undefined;
  // Synchronous writes: a CLI that exits right after its last line must not lose it.
  const out = options.destination ?? { write: (text: string) => void writeSync(2, text) };
  let diverted: ((text: string) => void) | undefined;
  const destination: DestinationStream = {
    write(line) {
      const text = prettify === undefined ? line : prettify(line);
      if (diverted !== undefined) diverted(text);
      else out.write(text);
    },
  };
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      hooks: { streamWrite: (line) => redactor.redact(line) },
    },
    destination,
  );
  return { logger, redactor, divert: (to) => (diverted = to) };
}
