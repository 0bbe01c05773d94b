/** Queries on cs_runs: one row per sync or reconcile run of a tenant. */
import type { Kysely } from 'kysely';
import type { RunsTable, StateDatabase } from '../db/schema.js';

export type RunRow = Omit<RunsTable, 'tenant'>;

export function runQueries(db: Kysely<StateDatabase>, tenant: string) {
  return {
    async insert(run: RunRow): Promise<void> {
      await db.insertInto('cs_runs').values({ tenant, ...run }).execute();
    },

    async running(): Promise<RunRow[]> {
      const rows = await db.selectFrom('cs_runs').selectAll().where('tenant', '=', tenant).where('status', '=', 'running').execute();
      return rows.map(({ tenant: _t, ...row }) => row);
    },

    async heartbeat(runId: string, at: string, progressAt: string): Promise<void> {
      await db.updateTable('cs_runs').set({ heartbeat_at: at, progress_at: progressAt }).where('tenant', '=', tenant).where('run_id', '=', runId).execute();
    },

    async finish(runId: string, outcome: { status: string; finishedAt: string; summary: string | null; error: string | null }): Promise<void> {
      await db
        .updateTable('cs_runs')
        .set({ status: outcome.status, finished_at: outcome.finishedAt, heartbeat_at: outcome.finishedAt, summary: outcome.summary, error: outcome.error })
        .where('tenant', '=', tenant)
        .where('run_id', '=', runId)
        .execute();
    },

    async latest(limit: number): Promise<RunRow[]> {
      const rows = await db
        .selectFrom('cs_runs')
        .selectAll()
        .where('tenant', '=', tenant)
        .orderBy('started_at', 'desc')
        .orderBy('run_id')
        .limit(limit)
        .execute();
      return rows.map(({ tenant: _t, ...row }) => row);
    },
  };
}

export type RunQueries = ReturnType<typeof runQueries>;
