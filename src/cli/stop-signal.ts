/**
 * SIGINT/SIGTERM during a one-shot run: the first asks the engine to stop (the batch in flight is
 * finished and journaled, the rest resumes next run); a second one stops the process at once.
 */
import type { Logger } from 'pino';
import { EXIT } from './exit-codes.js';

export interface StopSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

export function stopOnSignals(logger: Logger): StopSignal {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      logger.warn({ signal: name }, 'second signal: exiting now; the journal resumes the batch in flight next run');
      process.exit(EXIT.failed);
    }
    logger.warn({ signal: name }, 'stopping: finishing the batch in flight (send the signal again to exit at once)');
    controller.abort(new Error(`stopped by ${name}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
