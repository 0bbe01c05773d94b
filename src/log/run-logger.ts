/**
 * The logger of the run in progress (bound with its tenant and runId), carried by the async
 * context. Adapters and their HTTP clients are built when a tenant is opened, before a run has an
 * id, and their calls take no logger: within a run they log through this one.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

const current = new AsyncLocalStorage<Logger>();

/** Calls `fn` with `logger` as the run logger of everything it starts, awaited or not. */
export function withRunLogger<T>(logger: Logger, fn: () => T): T {
  return current.run(logger, fn);
}

/** The logger of the run in progress, or `fallback` outside a run. */
export function runLogger(fallback: Logger | undefined): Logger | undefined {
  return current.getStore() ?? fallback;
}
