/** Queries on cs_applied_plans: --plan files already applied, so none is applied twice. */
import type { Kysely } from 'kysely';
import type { StateDatabase } from '../db/schema.js';

export function appliedPlanQueries(db: Kysely<StateDatabase>, tenant: string) {
  return {
    async find(planId: string): Promise<{ run_id: string; applied_at: string } | undefined> {
      return db
        .selectFrom('cs_applied_plans')
        .select(['run_id', 'applied_at'])
        .where('tenant', '=', tenant)
        .where('plan_id', '=', planId)
        .executeTakeFirst();
    },

    async record(planId: string, runId: string, appliedAt: string): Promise<void> {
      await db.insertInto('cs_applied_plans').values({ tenant, plan_id: planId, run_id: runId, applied_at: appliedAt }).execute();
    },
  };
}

export type AppliedPlanQueries = ReturnType<typeof appliedPlanQueries>;
