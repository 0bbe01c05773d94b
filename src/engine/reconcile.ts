/**
 * `reconcile`: for providers that can list, finish the journal (as a sync does), read the provider
 * back and re-send the baseline payload of every contact the connector delivered that is missing,
 * inactive or changed there (journaled like any upsert). Contacts the connector never wrote are
 * never looked at; contacts still journaled with an unknown outcome are left to the next sync.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ContactSyncError } from '../errors.js';
import { withRunLogger } from '../log/run-logger.js';
import type { BaselineRow } from '../state/baseline.js';
import { finishJournal } from './finish-journal.js';
import { correlationId, payloadHash } from './hash.js';
import { Journal } from './journal.js';
import { PhoneClaims } from './phone-claims.js';
import type { PlanTarget } from './plan.js';
import { runStatusSchema } from './report.js';
import { beginRun, startHeartbeat } from './run-record.js';
import type { TenantRuntime } from './runtime.js';

const count = z.number().int().nonnegative();

export const reconcileReportSchema = z.object({
  tenant: z.string(),
  runId: z.string(),
  dryRun: z.boolean(),
  status: runStatusSchema,
  providers: z.record(
    z.string(),
    z.object({
      /** False where the provider cannot list (Twilio): nothing to compare. */
      checked: z.boolean(),
      delivered: count,
      drifted: count,
      missing: count,
      repaired: count,
      rejected: count,
      requests: count,
      retries: count,
    }),
  ),
});
export type ReconcileReport = z.infer<typeof reconcileReportSchema>;

export interface ReconcileOptions {
  dryRun?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
}

export function runReconcile(runtime: TenantRuntime, options: ReconcileOptions = {}): Promise<{ report: ReconcileReport; error?: Error }> {
  const runId = randomUUID();
  // As in a sync: every line of the run, the adapters' too, carries the run's id.
  const logger = (options.logger ?? runtime.logger).child({ runId });
  return withRunLogger(logger, () => reconcileRun(runtime, options, runId, logger));
}

async function reconcileRun(runtime: TenantRuntime, options: ReconcileOptions, runId: string, logger: Logger): Promise<{ report: ReconcileReport; error?: Error }> {
  const dryRun = options.dryRun === true;
  const { state, tuning } = runtime;
  const report: ReconcileReport = { tenant: runtime.tenant, runId, dryRun, status: 'ok', providers: {} };
  runtime.requests.reset();
  if (!dryRun) await beginRun(state, { runId, kind: 'reconcile', planId: null }, tuning);
  const stopHeartbeat = dryRun ? () => {} : startHeartbeat(runtime, runId, options.logger ?? runtime.logger); // it names the run itself
  let error: Error | undefined;
  try {
    for (const target of runtime.targets) {
      const entry = { checked: false, delivered: 0, drifted: 0, missing: 0, repaired: 0, rejected: 0, requests: 0, retries: 0 };
      report.providers[target.name] = entry;
      if (!target.adapter.capabilities.canList || target.adapter.list === undefined) continue;
      if (options.signal?.aborted) {
        error = new ContactSyncError('ABORTED', 'reconcile was stopped before it finished');
        break;
      }
      entry.checked = true;
      try {
        await reconcileProvider(runtime, target, runId, dryRun, entry, options.signal);
      } catch (failure) {
        error ??= failure as Error;
      }
      Object.assign(entry, runtime.requests.of(target.name));
    }
    report.status = error !== undefined ? 'failed' : Object.values(report.providers).some((p) => p.rejected > 0) ? 'partial' : 'ok';
    return error === undefined ? { report } : { report, error };
  } finally {
    stopHeartbeat();
    if (!dryRun) {
      await state.runs.finish(runId, { status: report.status, finishedAt: tuning.clock().toISOString(), summary: JSON.stringify(report), error: error?.message ?? null });
    }
    logger.info({ status: report.status, providers: report.providers }, 'reconcile finished');
  }
}

async function reconcileProvider(
  runtime: TenantRuntime,
  target: PlanTarget,
  runId: string,
  dryRun: boolean,
  entry: ReconcileReport['providers'][string],
  signal: AbortSignal | undefined,
): Promise<void> {
  // The baseline must first catch up with what a dead run sent. What stays journaled (an outcome
  // still unknown, or every batch on a dry run) may differ from the baseline at the provider: a
  // repair would overwrite it with the older payload.
  let journaled: Set<string>;
  if (dryRun) {
    journaled = new Set((await runtime.state.outbox.pendingBatches(target.name)).flat().map((row) => row.contact_id));
  } else {
    const recovery = await finishJournal(runtime, runId, target, signal);
    entry.rejected += recovery.rejected.length;
    if (recovery.failure !== undefined) throw recovery.failure;
    journaled = new Set(recovery.inFlight.map((row) => row.contact_id));
  }
  // What the provider holds, by its id and by phone: only hashes are kept.
  const byRemoteId = new Map<string, { hash: string; active: boolean }>();
  const byPhone = new Map<string, { hash: string; active: boolean }>();
  for await (const remote of target.adapter.list!(signal)) {
    const seen = { hash: payloadHash(remote.payload), active: remote.active };
    if (remote.remoteId !== null) byRemoteId.set(remote.remoteId, seen);
    byPhone.set(remote.phone, seen);
  }
  // A repair re-sends a contact's own baseline phone, which no other baseline row claims.
  const journal = new Journal({ state: runtime.state, tenant: runtime.tenant, runId, provider: target.name, adapter: target.adapter, clock: runtime.tuning.clock, claims: PhoneClaims.none });
  let repairs: BaselineRow[] = [];
  const flush = async (): Promise<void> => {
    if (repairs.length === 0) return;
    if (dryRun) {
      repairs = [];
      return;
    }
    const outcome = await journal.send(
      repairs.map((row) => ({
        provider: target.name,
        contact_id: row.contact_id,
        op: 'upsert',
        source_key: row.source_key,
        hash: row.hash,
        payload: row.payload,
        previous: row.payload,
        correlation_id: correlationId(runtime.tenant, row.contact_id, row.hash),
        remote_id: row.remote_id,
      })),
    );
    entry.repaired += outcome.ok.length;
    entry.rejected += outcome.rejected.length;
    repairs = [];
  };
  for await (const page of runtime.state.baseline.rowPages(target.name)) {
    for (const row of page) {
      entry.delivered++;
      if (journaled.has(row.contact_id)) continue;
      const remote = (row.remote_id !== null ? byRemoteId.get(row.remote_id) : undefined) ?? byPhone.get(row.phone);
      if (remote === undefined || !remote.active) {
        entry.missing++;
        // A record removed there gets a new identity: send it without the stale one.
        repairs.push(remote === undefined ? { ...row, remote_id: null } : row);
      } else if (remote.hash !== row.hash) {
        entry.drifted++;
        repairs.push(row);
      } else continue;
      if (repairs.length >= target.adapter.capabilities.maxBatch) await flush();
    }
  }
  await flush();
}
