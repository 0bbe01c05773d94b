import type { Kysely } from 'kysely';
import { binaryKeyType } from '../binary-key.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Contact ids sort as binary strings on both sides of the planner's merge (the source reader
  // does the same).
  const keyType = binaryKeyType(db);
  await db.schema
    .createTable('cs_runs')
    .addColumn('run_id', 'text', (c) => c.primaryKey())
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('dry_run', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .addColumn('holder', 'text')
    .addColumn('plan_id', 'text')
    .addColumn('summary', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('cs_runs_tenant_started').on('cs_runs').columns(['tenant', 'started_at']).execute();

  await db.schema
    .createTable('cs_baseline')
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('contact_id', keyType, (c) => c.notNull())
    .addColumn('source_key', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('phone', 'text', (c) => c.notNull())
    .addColumn('remote_id', 'text')
    .addColumn('delivered_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('cs_baseline_pk', ['tenant', 'provider', 'contact_id'])
    .execute();
  // A confirmed upsert of a phone supersedes any other contact's claim on it (see src/engine/journal.ts).
  await db.schema.createIndex('cs_baseline_phone').on('cs_baseline').columns(['tenant', 'provider', 'phone']).execute();

  await db.schema
    .createTable('cs_outbox')
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('contact_id', keyType, (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('op', 'text', (c) => c.notNull())
    .addColumn('source_key', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('previous', 'text')
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('remote_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('cs_outbox_pk', ['tenant', 'provider', 'contact_id'])
    .execute();
  await db.schema.createIndex('cs_outbox_batch').on('cs_outbox').columns(['tenant', 'provider', 'batch_id']).execute();

  await db.schema
    .createTable('cs_rejections')
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('contact_id', keyType, (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('transient', 'integer', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('first_at', 'text', (c) => c.notNull())
    .addColumn('last_at', 'text', (c) => c.notNull())
    .addColumn('next_attempt_at', 'text')
    .addColumn('dead', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('cs_rejections_pk', ['tenant', 'provider', 'contact_id'])
    .execute();
  await db.schema.createIndex('cs_rejections_recent').on('cs_rejections').columns(['tenant', 'last_at']).execute();
  await db.schema.createIndex('cs_runs_tenant_status').on('cs_runs').columns(['tenant', 'status']).execute();

  await db.schema
    .createTable('cs_orphans')
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('phone', 'text', (c) => c.notNull())
    .addColumn('contact_id', keyType, (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('cs_orphans_pk', ['tenant', 'provider', 'phone'])
    .execute();

  await db.schema
    .createTable('cs_applied_plans')
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('plan_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('cs_applied_plans_pk', ['tenant', 'plan_id'])
    .execute();

  await db.schema
    .createTable('cs_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['cs_leases', 'cs_applied_plans', 'cs_orphans', 'cs_rejections', 'cs_outbox', 'cs_baseline', 'cs_runs']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
