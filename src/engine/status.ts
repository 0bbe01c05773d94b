/** `status`: last runs, per-provider counts, the latest rejections with reasons, dead letters, runs that look stuck. */
import { z } from 'zod';
import type { RunRow } from '../state/runs.js';
import type { StateStore } from '../state/store.js';
import { tenantState } from '../state/store.js';
import { lastProgressAt, looksAbandoned } from './run-record.js';

const count = z.number().int().nonnegative();

export const runSummarySchema = z.object({
  runId: z.string(),
  kind: z.string(),
  status: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  heartbeatAt: z.string(),
  /** Last request answered (or the start); older rows: their heartbeat. */
  progressAt: z.string(),
  holder: z.string().nullable(),
  planId: z.string().nullable(),
  error: z.string().nullable(),
  summary: z.unknown().nullable(),
});

export const statusReportSchema = z.object({
  tenant: z.string(),
  lastRuns: z.array(runSummarySchema),
  providers: z.record(
    z.string(),
    z.object({
      /** Contacts whose payload is confirmed delivered. */
      synced: count,
      /** Journaled but unconfirmed (in flight, or failed transiently): the next run sends them first. */
      pending: count,
      /** Rejected by the provider, retried with backoff. */
      rejected: count,
      /** Rejected too often: wait until the contact changes. */
      dead: count,
      /** Left at a provider that cannot delete them. */
      orphaned: count,
    }),
  ),
  /** Source rows never sent (invalid or duplicate phone). */
  invalid: count,
  rejections: z.array(
    z.object({ provider: z.string(), contactId: z.string(), code: z.string(), reason: z.string(), attempts: count, dead: z.boolean(), lastAt: z.string(), nextAttemptAt: z.string().nullable() }),
  ),
  /**
   * Running runs that look stuck: `abandoned` when their process is gone (no heartbeat, or a dead
   * pid on this host), `no_progress` when it heartbeats but has not progressed for `stuckAfterMs`.
   */
  stuck: z.array(runSummarySchema.extend({ reason: z.enum(['abandoned', 'no_progress']) })),
  /** Contacts rejected too often (most recent first, at most `deadLetters`): each waits until it changes. */
  deadLetters: z.array(
    z.object({
      provider: z.string(),
      contactId: z.string(),
      code: z.string(),
      reason: z.string(),
      attempts: count,
      /** The rejection that made it a dead letter. */
      since: z.string(),
    }),
  ),
});
export type StatusReport = z.infer<typeof statusReportSchema>;

export interface StatusOptions {
  /** A running run without progress (or heartbeat) for longer than this is stuck (default 5 minutes). */
  stuckAfterMs?: number;
  /** Providers to list even when they have no rows yet (the config's). */
  providers?: readonly string[];
  runs?: number;
  rejections?: number;
  /** Most dead letters listed (default 100; `providers[name].dead` counts them all). */
  deadLetters?: number;
  now?: Date;
}

export async function readStatus(store: StateStore, tenant: string, options: StatusOptions = {}): Promise<StatusReport> {
  const state = tenantState(store.db, tenant);
  const now = options.now ?? new Date();
  const stuckAfterMs = options.stuckAfterMs ?? 5 * 60_000;
  const [runs, running, synced, pending, rejections, orphans, latest, dead] = await Promise.all([
    state.runs.latest(options.runs ?? 10),
    state.runs.running(),
    state.baseline.countsByProvider(),
    state.outbox.countsByProvider(),
    state.rejections.countsByProvider(),
    state.orphans.countsByProvider(),
    state.rejections.latest(options.rejections ?? 20),
    state.rejections.deadLetters(options.deadLetters ?? 100),
  ]);
  const names = new Set([...(options.providers ?? []), ...synced.keys(), ...pending.keys(), ...rejections.keys(), ...orphans.keys()]);
  names.delete('*');
  const providers: StatusReport['providers'] = {};
  for (const name of [...names].sort()) {
    const r = rejections.get(name) ?? { rejected: 0, dead: 0, transient: 0 };
    providers[name] = { synced: synced.get(name) ?? 0, pending: pending.get(name) ?? 0, rejected: r.rejected, dead: r.dead, orphaned: orphans.get(name) ?? 0 };
  }
  const summarise = (run: (typeof runs)[number]) => ({
    runId: run.run_id,
    kind: run.kind,
    status: run.status,
    startedAt: run.started_at,
    finishedAt: run.finished_at,
    heartbeatAt: run.heartbeat_at,
    progressAt: lastProgressAt(run),
    holder: run.holder,
    planId: run.plan_id,
    error: run.error,
    summary: run.summary === null ? null : (JSON.parse(run.summary) as unknown),
  });
  return {
    tenant,
    lastRuns: runs.map(summarise),
    providers,
    invalid: rejections.get('*')?.rejected ?? 0,
    rejections: latest.map((r) => ({
      provider: r.provider,
      contactId: r.contact_id,
      code: r.code,
      reason: r.reason,
      attempts: r.attempts,
      dead: r.dead === 1,
      lastAt: r.last_at,
      nextAttemptAt: r.next_attempt_at,
    })),
    stuck: running.flatMap((run) => {
      const reason = stuckReason(run, now, stuckAfterMs);
      return reason === undefined ? [] : [{ ...summarise(run), reason }];
    }),
    deadLetters: dead.map((r) => ({ provider: r.provider, contactId: r.contact_id, code: r.code, reason: r.reason, attempts: r.attempts, since: r.last_at })),
  };
}

type StuckReason = StatusReport['stuck'][number]['reason'];

function stuckReason(run: RunRow, now: Date, stuckAfterMs: number): StuckReason | undefined {
  if (looksAbandoned(run, now, stuckAfterMs)) return 'abandoned';
  if (now.getTime() - Date.parse(lastProgressAt(run)) > stuckAfterMs) return 'no_progress';
  return undefined;
}
