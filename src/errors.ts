/**
 * Typed errors. Every error the product raises on purpose is a ContactSyncError with a stable
 * `code`; the CLI turns them into exit codes in one place (src/cli/exit-codes.ts).
 */
export type ErrorCode =
  | 'CONFIG_INVALID' // a config file is malformed or fails its schema (exit 2)
  | 'CONFIG_ENV_MISSING' // a ${VAR} is not set (exit 2)
  | 'USAGE' // bad command-line usage (exit 2)
  | 'INPUT_INVALID' // bad input file (CSV, plan file) that cannot be read at all (exit 2)
  | 'SAFETY_REFUSED' // a safety rule refused the run; nothing was sent (exit 4)
  | 'PLAN_STALE' // a --plan file no longer matches source/state, or was already applied (exit 4)
  | 'PROVIDER_AUTH' // the provider refused our credentials (exit 1)
  | 'PROVIDER_UNAVAILABLE' // retries exhausted on 429/5xx/network (exit 1)
  | 'PROVIDER_PROTOCOL' // the provider answered something outside its contract (exit 1)
  | 'RUN_FAILED' // the run could not finish; its journal resumes it next time (exit 1)
  | 'RUN_BUSY' // another run of this tenant holds the lease (exit 1)
  | 'STORE' // the source or state store failed (exit 1)
  | 'ABORTED'; // the run was stopped by a signal after journaling its batch in flight (exit 1)

export class ContactSyncError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }
}

/** One problem in a config file: where it is and what was expected. */
export interface ConfigIssue {
  file: string;
  path: string; // e.g. "providers[1].apiKey"
  message: string;
}

export class ConfigError extends ContactSyncError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], code: 'CONFIG_INVALID' | 'CONFIG_ENV_MISSING' = 'CONFIG_INVALID') {
    super(code, issues.map((i) => `${i.file}${i.path ? ` at ${i.path}` : ''}: ${i.message}`).join('\n'));
    this.issues = issues;
  }
}

export class UsageError extends ContactSyncError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

export class InputError extends ContactSyncError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('INPUT_INVALID', message, details ? { details } : undefined);
  }
}

export class SafetyRefusal extends ContactSyncError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('SAFETY_REFUSED', message, details ? { details } : undefined);
  }
}

export class PlanStaleError extends ContactSyncError {
  constructor(message: string) {
    super('PLAN_STALE', message);
  }
}

/** An HTTP-level failure from a provider, after the shared client's retries. */
export class ProviderError extends ContactSyncError {
  readonly provider: string;
  readonly status: number | undefined;
  readonly providerCode: string | undefined;
  constructor(
    code: 'PROVIDER_AUTH' | 'PROVIDER_UNAVAILABLE' | 'PROVIDER_PROTOCOL',
    provider: string,
    message: string,
    options?: { status?: number; providerCode?: string; cause?: unknown },
  ) {
    super(code, `${provider}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.provider = provider;
    this.status = options?.status;
    this.providerCode = options?.providerCode;
  }
}

export class RunFailedError extends ContactSyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUN_FAILED', message, options);
  }
}

export class StoreError extends ContactSyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE', message, options);
  }
}
