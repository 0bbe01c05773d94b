/**
 * One sync run of one tenant: finish the batches a dead run left in the journal, plan (the complete
 * source read), safety, optional --plan-out / --plan checks, then the journaled apply per provider
 * (providers in parallel). A dry run plans only: it sends nothing and writes nothing to the state
 * store, not even a run row.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ContactSyncError, PlanStaleError, SafetyRefusal } from '../errors.js';
import { withRunLogger } from '../log/run-logger.js';
import { INVALID_PROVIDER } from '../state/rejections.js';
import { type ProviderApplyResult, applyProvider } from './apply.js';
import { type Recovery, finishJournal } from './finish-journal.js';
import type { Problem } from './journal.js';
import { type PlanHeader, readPlanHeader, writePlanFile } from './plan-file.js';
import { type PlanRecord, planRecords } from './plan-records.js';
import { type Plan, type PlannedCounts, planSync } from './plan.js';
import { type RunReport, type RunStatus, emptyProviderReport } from './report.js';
import { beginRun, startHeartbeat } from './run-record.js';
import type { TenantRuntime } from './runtime.js';
import { checkSafety } from './safety.js';
import { Staging } from './staging.js';

export interface SyncProgress {
  provider: string;
  done: number;
  planned: number;
  rejected: number;
  retries: number;
}

export interface SyncOptions {
  dryRun?: boolean;
  full?: boolean;
  allowDeletes?: boolean;
  planOut?: string;
  planFile?: string;
  signal?: AbortSignal;
  onProgress?: (event: SyncProgress) => void;
  /** Told the run's id before anything else (a daemon names the run in its own lines about it). */
  onStart?: (runId: string) => void;
  logger?: Logger;
}

export interface SyncResult {
  report: RunReport;
  /** A few changes per provider, for the dry-run table. */
  examples: PlanRecord[];
  /** Contacts rejected or invalid in this run, each with its reason (the first 100). */
  problems: Problem[];
  /** Per provider: contacts skipped while they wait for backoff or for a change (dead letters). */
  deferred: Record<string, number>;
  /** Per provider: changes still pending for the next run (transient failures, unsent after a failure). */
  pending: Record<string, number>;
  /** Per provider: contacts recorded as orphans this run (deletes it cannot do, old phones of phone changes). */
  orphaned: Record<string, number>;
  /** Why the run was refused or failed (the refusal, the provider error, or ABORTED). */
  error?: ContactSyncError | Error;
}

const examplesPerProvider = 5;
const maxProblems = 100;

export function runSync(runtime: TenantRuntime, options: SyncOptions = {}): Promise<SyncResult> {
  const runId = randomUUID();
  options.onStart?.(runId);
  // Every line of the run carries its id, the adapters' too (they find this logger in the run's async context).
  const logger = (options.logger ?? runtime.logger).child({ runId });
  return withRunLogger(logger, () => syncRun(runtime, options, runId, logger));
}

async function syncRun(runtime: TenantRuntime, options: SyncOptions, runId: string, logger: Logger): Promise<SyncResult> {
  const { state, tuning } = runtime;
  const dryRun = options.dryRun === true;
  const startedAt = tuning.clock();
  const header = options.planFile === undefined ? undefined : await readPlanHeader(options.planFile);
  const targets = header === undefined ? runtime.targets : runtime.targets.filter((t) => header.options.providers.includes(t.name));
  const full = header?.options.full ?? options.full === true;
  const report: RunReport = {
    tenant: runtime.tenant,
    runId,
    dryRun,
    status: 'ok',
    providers: Object.fromEntries(targets.map((t) => [t.name, emptyProviderReport()])),
  };
  const result: SyncResult = { report, examples: [], problems: [], deferred: {}, pending: {}, orphaned: {} };
  runtime.requests.reset();
  if (!dryRun) await beginRun(state, { runId, kind: 'sync', planId: header?.planId ?? null }, tuning);
  const stopHeartbeat = dryRun ? () => {} : startHeartbeat(runtime, runId, options.logger ?? runtime.logger); // it names the run itself
  const staging = new Staging({ memoryLimit: tuning.stagingMemoryLimit });
  try {
    // Before anything is planned or refused: the journaled batches belong to an earlier run that
    // passed its checks, and the plan must start from what the providers confirmed.
    const recoveries = new Map<string, Recovery>();
    if (!dryRun) {
      const finished = await Promise.all(targets.map((target) => finishJournal(runtime, runId, target, options.signal)));
      targets.forEach((target, i) => {
        const recovery = finished[i]!;
        recoveries.set(target.name, recovery);
        report.providers[target.name]!.rejected = recovery.rejected.length;
        result.problems.push(...recovery.rejected.slice(0, maxProblems - result.problems.length));
      });
      logger.info({ providers: Object.fromEntries([...recoveries].map(([name, r]) => [name, { recovered: r.confirmed }])) }, 'journal of earlier runs finished');
      // A --plan run applies its whole plan or nothing.
      const failure = finished.find((r) => r.failure !== undefined)?.failure;
      const stop = options.signal?.aborted ? aborted() : header !== undefined ? failure : undefined;
      if (stop !== undefined) {
        report.status = 'failed';
        result.error = stop instanceof Error ? stop : new Error(String(stop));
        tallyRequests(runtime, report);
        await finishRun(runtime, runId, result);
        return result;
      }
    }
    // A provider whose journal could not be finished is neither planned nor applied this run.
    const planned = targets.filter((t) => recoveries.get(t.name)?.failure === undefined);
    if (header !== undefined) await checkPlanNotApplied(runtime, header);
    const plan = await planSync({
      state,
      source: runtime.source,
      targets: planned,
      normalise: runtime.normalise,
      defaultCountry: runtime.config.source.defaultCountry,
      full,
      now: startedAt,
      staging,
      pageSize: tuning.pageSize,
    });
    for (const [name, { counts }] of plan.providers) {
      const { deferred, ...planned } = counts;
      report.providers[name]!.planned = planned;
      result.deferred[name] = deferred;
    }
    logger.info({ sourceRows: plan.sourceRows, spilled: staging.spilled, providers: report.providers }, 'plan ready');
    if (header !== undefined) checkPlanCurrent(header, plan);
    if (options.allowDeletes !== true) checkSafety(plan, runtime.config.safety);

    const providers = planned.map((t) => t.name);
    if (options.planOut !== undefined) {
      await writePlanFile(options.planOut, planHeader(runtime, plan, runId, startedAt, full, providers), planRecords(state, staging, providers, plan.losers));
    }
    for await (const record of planRecords(state, staging, providers, plan.losers, examplesPerProvider)) result.examples.push(record);
    const invalid = await stagedInvalid(staging);
    result.problems.push(...invalid.slice(0, maxProblems).map((i) => ({ provider: INVALID_PROVIDER, ...i })));
    if (dryRun) {
      report.status = invalid.length > 0 ? 'partial' : 'ok';
      return result;
    }

    await state.rejections.replaceInvalid(invalid, startedAt.toISOString());
    const changes = [...plan.providers.values()].reduce((sum, { counts }) => sum + changesIn(counts), 0);
    if (changes >= tuning.backgroundCheckpointChanges) runtime.store.checkpointInBackground?.();
    if (header !== undefined) await state.appliedPlans.record(header.planId, runId, tuning.clock().toISOString());
    const outcomes = await Promise.all(
      targets.map(async (target) => {
        const recovery = recoveries.get(target.name)!;
        if (recovery.failure !== undefined) return unfinishedJournal(runtime, target.name, recovery);
        const { counts, claims } = plan.providers.get(target.name)!;
        const changes = changesIn(counts);
        const outcome = await applyProvider({
          tenant: runtime.tenant,
          runId,
          state,
          staging,
          losers: plan.losers,
          phoneOwner: plan.phoneOwner,
          claims,
          target,
          clock: tuning.clock,
          concurrency: tuning.concurrency,
          inFlight: recovery.inFlight,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          onBatch: ({ done, rejected }) =>
            options.onProgress?.({ provider: target.name, done, planned: changes, rejected, retries: runtime.requests.of(target.name).retries }),
        });
        return { ...outcome, rejected: [...recovery.rejected, ...outcome.rejected] };
      }),
    );
    targets.forEach((target, i) => absorbOutcome(result, target.name, outcomes[i]!, recoveries.get(target.name)!.rejected.length, runtime));
    report.status = statusOf(outcomes, invalid.length);
    const failure = outcomes.find((o) => o.failure !== undefined)?.failure;
    if (failure !== undefined) result.error = failure instanceof Error ? failure : new Error(String(failure));
    else if (outcomes.some((o) => o.aborted)) result.error = aborted();
    await finishRun(runtime, runId, result);
    logger.info({ status: report.status, providers: report.providers }, 'sync finished');
    return result;
  } catch (error) {
    if (error instanceof SafetyRefusal || error instanceof PlanStaleError) {
      report.status = 'refused';
      tallyRequests(runtime, report); // what finishing the journal sent
      result.error = error;
      if (!dryRun) await finishRun(runtime, runId, result);
      logger.warn({ reason: error.message }, 'sync refused');
      return result;
    }
    if (!dryRun) {
      report.status = 'failed';
      tallyRequests(runtime, report);
      result.error = error as Error;
      await finishRun(runtime, runId, result).catch(() => {});
    }
    throw error;
  } finally {
    stopHeartbeat();
    staging.close();
  }
}

/** The changes a provider's plan sends (what its progress counts toward). */
function changesIn(counts: PlannedCounts): number {
  return counts.create + counts.update + counts.delete;
}

function statusOf(outcomes: readonly ProviderApplyResult[], invalid: number): RunStatus {
  if (outcomes.some((o) => o.failure !== undefined || o.aborted || o.pending > 0)) return 'failed';
  if (invalid > 0 || outcomes.some((o) => o.rejected.length > 0)) return 'partial';
  return 'ok';
}

/** `fromJournal`: how many of the outcome's rejections came from the journal's replay (already in `problems`). */
function absorbOutcome(result: SyncResult, provider: string, outcome: ProviderApplyResult, fromJournal: number, runtime: TenantRuntime): void {
  const entry = result.report.providers[provider]!;
  entry.applied = outcome.applied;
  entry.rejected = outcome.rejected.length;
  Object.assign(entry, runtime.requests.of(provider));
  result.pending[provider] = outcome.pending;
  result.orphaned[provider] = outcome.orphaned;
  // Provider rejections come before source-invalid rows: they are news, the invalid rows were known at plan time.
  const fresh = outcome.rejected.slice(fromJournal);
  const invalidFrom = result.problems.findIndex((p) => p.provider === INVALID_PROVIDER);
  const at = invalidFrom === -1 ? result.problems.length : invalidFrom;
  result.problems.splice(at, 0, ...fresh.slice(0, maxProblems));
  result.problems.length = Math.min(result.problems.length, maxProblems);
}

function tallyRequests(runtime: TenantRuntime, report: RunReport): void {
  for (const [provider, entry] of Object.entries(report.providers)) Object.assign(entry, runtime.requests.of(provider));
}

function aborted(): ContactSyncError {
  return new ContactSyncError('ABORTED', 'the run was stopped; batches in flight were journaled and the rest resumes next run');
}

/** The result of a provider whose journal could not be finished: all it has journaled stays pending. */
async function unfinishedJournal(runtime: TenantRuntime, provider: string, recovery: Recovery): Promise<ProviderApplyResult> {
  const journaled = (await runtime.state.outbox.countsByProvider()).get(provider) ?? 0;
  return { applied: { create: 0, update: 0, delete: 0 }, orphaned: 0, rejected: recovery.rejected, pending: journaled, failure: recovery.failure, aborted: false };
}

async function finishRun(runtime: TenantRuntime, runId: string, result: SyncResult): Promise<void> {
  const summary = { ...result.report, deferred: result.deferred, pending: result.pending };
  await runtime.state.runs.finish(runId, {
    status: result.report.status,
    finishedAt: runtime.tuning.clock().toISOString(),
    summary: JSON.stringify(summary),
    error: result.error === undefined ? null : result.error.message,
  });
}

async function checkPlanNotApplied(runtime: TenantRuntime, header: PlanHeader): Promise<void> {
  if (header.tenant !== runtime.tenant) throw new PlanStaleError(`the plan is for tenant ${header.tenant}, not ${runtime.tenant}`);
  const applied = await runtime.state.appliedPlans.find(header.planId);
  if (applied) throw new PlanStaleError(`plan ${header.planId} was already applied by run ${applied.run_id} at ${applied.applied_at}`);
}

function checkPlanCurrent(header: PlanHeader, plan: Plan): void {
  if (header.sourceFingerprint !== plan.sourceFingerprint) throw new PlanStaleError(`plan ${header.planId} is stale: the source changed since it was made; nothing was sent`);
  if (header.stateFingerprint !== plan.stateFingerprint) throw new PlanStaleError(`plan ${header.planId} is stale: the sync state changed since it was made (another run, or a retry became due); nothing was sent`);
  if (header.changesDigest !== plan.changesDigest) throw new PlanStaleError(`plan ${header.planId} is stale: re-planning no longer gives the same changes; nothing was sent`);
}

function planHeader(runtime: TenantRuntime, plan: Plan, planId: string, createdAt: Date, full: boolean, providers: string[]): PlanHeader {
  return {
    planId,
    tenant: runtime.tenant,
    sourceFingerprint: plan.sourceFingerprint,
    stateFingerprint: plan.stateFingerprint,
    changesDigest: plan.changesDigest,
    createdAt: createdAt.toISOString(),
    options: { full, providers },
    counts: Object.fromEntries([...plan.providers].map(([name, p]) => [name, p.counts])),
  };
}

async function stagedInvalid(staging: Staging): Promise<{ contactId: string; code: string; reason: string }[]> {
  const invalid: { contactId: string; code: string; reason: string }[] = [];
  for await (const page of staging.read(INVALID_PROVIDER, ['invalid'])) {
    for (const item of page) invalid.push({ contactId: item.contactId, code: item.code ?? '', reason: item.reason ?? '' });
  }
  return invalid;
}
