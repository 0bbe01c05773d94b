/**
 * The cs_runs row of a run: started (refusing if another live run of the tenant holds it),
 * heartbeated while running (with the time of its last progress), finished with its summary. A
 * 'running' row whose process is gone (same host, pid not alive) or whose heartbeat is older than
 * `staleAfterMs` is marked failed. Another host's pid cannot be checked, so there only the
 * heartbeat's age tells: the daemon with PostgreSQL leases sets `staleAfterMs` to the lease TTL
 * (src/daemon/tenant-job.ts).
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { ContactSyncError } from '../errors.js';
import type { RunRow } from '../state/runs.js';
import type { TenantState } from '../state/store.js';
import type { TenantRuntime } from './runtime.js';

export const holder = `${hostname()}:${process.pid}`;

export interface RunTiming {
  clock: () => Date;
  heartbeatMs: number;
  staleAfterMs: number;
}

export async function beginRun(
  state: TenantState,
  run: { runId: string; kind: 'sync' | 'reconcile'; planId: string | null },
  timing: RunTiming,
): Promise<void> {
  const now = timing.clock();
  const at = now.toISOString();
  for (const other of await state.runs.running()) {
    if (looksAbandoned(other, now, timing.staleAfterMs)) {
      await state.runs.finish(other.run_id, { status: 'failed', finishedAt: at, summary: other.summary, error: 'abandoned: its process stopped without finishing (the journal resumes its work)' });
    } else {
      throw new ContactSyncError('RUN_BUSY', `run ${other.run_id} of tenant ${state.tenant} is still running (${other.holder ?? 'unknown process'}, last heartbeat ${other.heartbeat_at})`);
    }
  }
  await state.runs.insert({
    run_id: run.runId,
    kind: run.kind,
    dry_run: 0,
    status: 'running',
    started_at: at,
    finished_at: null,
    heartbeat_at: at,
    progress_at: at,
    holder,
    plan_id: run.planId,
    summary: null,
    error: null,
  });
}

/**
 * Updates heartbeat_at every `heartbeatMs` until the returned function is called, and progress_at
 * when the run's providers answered a request since the last beat (every batch settles after one):
 * a run that heartbeats without progress is alive but hung, and `status` reports it stuck. Progress
 * is dated to the beat that saw it, so within `heartbeatMs`.
 */
export function startHeartbeat(runtime: TenantRuntime, runId: string, logger: Logger): () => void {
  const { state, tuning } = runtime;
  const answered = (): number => runtime.targets.reduce((n, t) => n + runtime.requests.of(t.name).requests, 0);
  let seen = answered();
  let progressAt = tuning.clock().toISOString();
  const timer = setInterval(() => {
    const now = tuning.clock().toISOString();
    const count = answered();
    if (count !== seen) [seen, progressAt] = [count, now];
    state.runs.heartbeat(runId, now, progressAt).catch((error: unknown) => logger.warn({ err: error, runId }, 'heartbeat failed'));
  }, tuning.heartbeatMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** When the run last progressed: a row written before progress was recorded has only its heartbeat. */
export function lastProgressAt(run: RunRow): string {
  return run.progress_at ?? run.heartbeat_at;
}

export function looksAbandoned(run: RunRow, now: Date, staleAfterMs: number): boolean {
  if (now.getTime() - Date.parse(run.heartbeat_at) > staleAfterMs) return true;
  const [host, pid] = (run.holder ?? '').split(':');
  return host === hostname() && pid !== undefined && !processAlive(Number(pid));
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
