import { CommanderError } from 'commander';
import { ContactSyncError, type ErrorCode } from '../errors.js';

/** SPEC section 2: 0 done; 3 done with rejections; 4 refused by a safety rule; 1 could not finish; 2 usage/config. */
export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3, refused: 4 } as const;

const byCode: Record<ErrorCode, number> = {
  CONFIG_INVALID: EXIT.usage,
  CONFIG_ENV_MISSING: EXIT.usage,
  USAGE: EXIT.usage,
  INPUT_INVALID: EXIT.usage,
  SAFETY_REFUSED: EXIT.refused,
  PLAN_STALE: EXIT.refused,
  PROVIDER_AUTH: EXIT.failed,
  PROVIDER_UNAVAILABLE: EXIT.failed,
  PROVIDER_PROTOCOL: EXIT.failed,
  RUN_FAILED: EXIT.failed,
  RUN_BUSY: EXIT.failed,
  STORE: EXIT.failed,
  ABORTED: EXIT.failed,
};

export function exitCodeForError(error: unknown): number {
  // commander's own exits: --help and --version are fine (0); every parse error is bad usage.
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  return error instanceof ContactSyncError ? byCode[error.code] : EXIT.failed;
}

/** A finished run's status as an exit code. */
export function exitCodeForStatus(status: 'ok' | 'partial' | 'failed' | 'refused'): number {
  return { ok: EXIT.ok, partial: EXIT.partial, failed: EXIT.failed, refused: EXIT.refused }[status];
}
