/**
 * The engine's state store: opened from the config's `state` URL and migrated, then used through
 * `tenantState`, which binds every query to one tenant so no run can touch another tenant's rows.
 */
import type { Kysely } from 'kysely';
import { migrate } from '../db/migrate.js';
import { type OpenOptions, type Store, openStore } from '../db/open.js';
import { isPostgres, sqlStateOf } from '../db/postgres.js';
import type { StateDatabase } from '../db/schema.js';
import { appliedPlanQueries } from './applied-plans.js';
import { type BaselineRow, baselineQueries } from './baseline.js';
import { type CommitWork, GroupCommit } from './group-commit.js';
import { orphanQueries } from './orphans.js';
import { type OutboxRow, outboxQueries } from './outbox.js';
import { rejectionQueries } from './rejections.js';
import { runQueries } from './runs.js';
import { StatisticsKeeper } from './statistics.js';

export type StateStore = Store<StateDatabase>;

export async function openStateStore(url: string, options: OpenOptions = {}): Promise<StateStore> {
  const store = openStore<StateDatabase>(url, options);
  try {
    await migrate(store.db, 'state');
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

export interface TenantState {
  readonly tenant: string;
  readonly baseline: ReturnType<typeof baselineQueries>;
  readonly outbox: ReturnType<typeof outboxQueries>;
  readonly rejections: ReturnType<typeof rejectionQueries>;
  readonly orphans: ReturnType<typeof orphanQueries>;
  readonly runs: ReturnType<typeof runQueries>;
  readonly appliedPlans: ReturnType<typeof appliedPlanQueries>;
  /** Runs `work` in one transaction, with the same queries bound to it. */
  transaction<T>(work: (state: TenantState) => Promise<T>): Promise<T>;
  /**
   * Runs `work` in a transaction that other work queued meanwhile may share (group-commit.ts);
   * resolves once it is committed. Inside a transaction, it runs in that transaction.
   */
  commit(work: CommitWork<TenantState>): Promise<void>;
  /**
   * Settles a batch with nothing left in flight: `delivered` becomes the provider's baseline and the
   * batch's outbox rows go, in one statement (on PostgreSQL). Called on its own (a batch delivered
   * in full with nothing else to record), it shares that statement with the provider's other such
   * settles committed in the same group, and resolves once committed. Inside a transaction, it
   * runs in that transaction, beside whatever else the caller records there.
   */
  settleDelivered(provider: string, batchId: string, delivered: readonly BaselineRow[]): Promise<void>;
  /**
   * Writes outbox rows (the journal's record of a batch before it is sent) in one statement that
   * shares a commit with the work queued meanwhile; resolves once committed.
   */
  writeOutbox(rows: readonly OutboxRow[]): Promise<void>;
}

interface DeliveredBatch {
  provider: string;
  batchId: string;
  delivered: readonly BaselineRow[];
}

/** The work of settling delivered batches of one provider (in the order given) together. */
function settleBatches(batches: readonly DeliveredBatch[]): CommitWork<TenantState> {
  // A contact in two of them (a newer batch took it over) ends as the later one left it.
  const rows = new Map<string, BaselineRow>();
  for (const batch of batches) {
    for (const row of batch.delivered) {
      rows.delete(row.contact_id);
      rows.set(row.contact_id, row);
    }
  }
  return (tx) => tx.baseline.upsert([...rows.values()], tx.outbox.settling(batches[0]!.provider, batches.map((b) => b.batchId)));
}

export function tenantState(db: Kysely<StateDatabase>, tenant: string): TenantState {
  const statistics = new StatisticsKeeper(db);
  const transaction: TenantState['transaction'] = (work) => db.transaction().execute((trx) => work(bound(trx, tenant, statistics)));
  const merge = (_kind: string, values: readonly unknown[]): CommitWork<TenantState> => settleBatches(values as DeliveredBatch[]);
  // On PostgreSQL an outbox write and a settle are one statement each (bulk.ts): without a
  // transaction around them a group saves the round trips of begin and commit.
  const postgres = isPostgres(db);
  const outsideTransactions = bound(db, tenant, statistics);
  // PostgreSQL runs two group transactions at once (see GroupCommitOptions); SQLite has one writer.
  const group = new GroupCommit<TenantState>(
    transaction,
    postgres
      ? { lanes: 2, transient: (error) => sqlStateOf(error) === '40P01', merge, autocommit: (work) => work(outsideTransactions) }
      : { merge },
  );
  return {
    ...queries(db, tenant, statistics),
    transaction,
    commit: (work) => group.run(work),
    settleDelivered: (provider, batchId, delivered) => {
      const batch: DeliveredBatch = { provider, batchId, delivered };
      return group.run(settleBatches([batch]), { merge: { kind: `settle ${provider}`, value: batch }, oneStatement: postgres });
    },
    writeOutbox: (rows) => group.run((tx) => tx.outbox.write(rows), { oneStatement: postgres }),
  };
}

/**
 * The queries bound to an open transaction, or to the database itself for one-statement work
 * (GroupCommitOptions.autocommit), which calls none of the transaction methods.
 */
function bound(trx: Kysely<StateDatabase>, tenant: string, statistics: StatisticsKeeper): TenantState {
  const state: TenantState = {
    ...queries(trx, tenant, statistics),
    transaction: (work) => work(state),
    commit: (work) => work(state),
    settleDelivered: (provider, batchId, delivered) => settleBatches([{ provider, batchId, delivered }])(state),
    writeOutbox: (rows) => state.outbox.write(rows),
  };
  return state;
}

function queries(db: Kysely<StateDatabase>, tenant: string, statistics: StatisticsKeeper) {
  return {
    tenant,
    baseline: baselineQueries(db, tenant, statistics),
    outbox: outboxQueries(db, tenant),
    rejections: rejectionQueries(db, tenant),
    orphans: orphanQueries(db, tenant),
    runs: runQueries(db, tenant),
    appliedPlans: appliedPlanQueries(db, tenant),
  };
}
