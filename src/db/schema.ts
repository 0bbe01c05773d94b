/**
 * Row shapes of the tables, as kysely sees them. Times are ISO-8601 text and booleans are 0/1
 * integers so one set of migrations serves SQLite and PostgreSQL alike.
 */
/** The embedded default source table (SPEC section 4). A user's own table is read through source.columns. */
export interface ContactsTable {
  id: string;
  phone: string | null;
  name: string | null;
  language: string | null;
  country: string | null;
  zip: string | null;
  attributes: string | null; // JSON object as text
  updated_at: string | null;
}

export interface SourceDatabase {
  contacts: ContactsTable;
}

/** One row per run (sync or reconcile) of one tenant. */
export interface RunsTable {
  run_id: string;
  tenant: string;
  kind: string; // 'sync' | 'reconcile'
  dry_run: number;
  status: string; // 'running' | 'ok' | 'partial' | 'failed' | 'refused'
  started_at: string;
  finished_at: string | null;
  heartbeat_at: string; // last sign of life; a 'running' run whose heartbeat is old looks abandoned
  progress_at: string | null; // last request answered (or the start); null in rows older than migration 020
  holder: string | null; // process that runs it (host:pid)
  plan_id: string | null; // set when the run applied a --plan file
  summary: string | null; // JSON: the per-provider report of SPEC section 2
  error: string | null;
}

/** The payload last confirmed delivered, per tenant, provider and contact. Moves only on confirmed success. */
export interface BaselineTable {
  tenant: string;
  provider: string;
  contact_id: string;
  /** Fingerprint of the source row the payload was mapped from: equal means unchanged, no re-mapping needed. */
  source_key: string;
  hash: string; // stable hash of payload
  payload: string; // JSON
  phone: string; // E.164 the provider keys it by
  remote_id: string | null; // the provider's id where it has one (OliAI)
  delivered_at: string;
}

/** The journal's outbox: items written durably before their batch is sent, removed with their outcome. */
export interface OutboxTable {
  tenant: string;
  provider: string;
  contact_id: string;
  batch_id: string;
  run_id: string;
  op: string; // 'upsert' | 'delete'
  source_key: string;
  hash: string;
  payload: string; // JSON
  previous: string | null; // JSON of the baseline payload (phone changes)
  correlation_id: string;
  remote_id: string | null;
  created_at: string;
}

/** Contacts a provider rejected (or that could not be sent), with the reason a person can act on. */
export interface RejectionsTable {
  tenant: string;
  provider: string;
  contact_id: string;
  hash: string; // payload hash that was rejected: a changed contact gets fresh attempts
  code: string;
  reason: string;
  transient: number; // 1: retried with backoff; 0: waits until the contact changes
  attempts: number;
  first_at: string;
  last_at: string;
  next_attempt_at: string | null;
  dead: number; // 1: dead letter, waits until the contact changes
}

/** Contacts left at a provider that cannot delete them (Twilio), reported, never silently dropped. */
export interface OrphansTable {
  tenant: string;
  provider: string;
  phone: string; // the remote identity left behind
  contact_id: string;
  reason: string; // 'deleted_in_source' | 'phone_changed'
  payload: string; // JSON of what the provider still holds
  recorded_at: string;
}

/** --plan files already applied, so one is never applied twice. */
export interface AppliedPlansTable {
  tenant: string;
  plan_id: string;
  run_id: string;
  applied_at: string;
}

/**
 * Scale-out (PostgreSQL): `run:<task>` is held by the process running that tenant (heartbeated);
 * `fire:<task>:<slot>` records which process took one scheduled fire. Times: ISO-8601 UTC text
 * on the database server's clock.
 */
export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: string;
}

/** Scale-out (PostgreSQL): the limits enforced on a provider account by any process. */
export interface RateLimitsTable {
  account: string;
  requests: number;
  window_ms: number;
  allowance_ms: number; // network delay allowed for (src/http/sliding-window.ts)
  scope: string; // 'all' | 'bulk' | 'single'
}

/** Scale-out (PostgreSQL): one row per request started on a shared provider account. */
export interface RateStampsTable {
  id: string;
  account: string;
  kind: string; // 'bulk' | 'single'
  started_at: number; // ms since the epoch, database clock
  ended_at: number | null; // when the answer came (null: in flight, or its process died)
}

export interface StateDatabase {
  cs_runs: RunsTable;
  cs_baseline: BaselineTable;
  cs_outbox: OutboxTable;
  cs_rejections: RejectionsTable;
  cs_orphans: OrphansTable;
  cs_applied_plans: AppliedPlansTable;
  cs_leases: LeasesTable;
  cs_rate_limits: RateLimitsTable;
  cs_rate_stamps: RateStampsTable;
}
