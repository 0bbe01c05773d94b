/**
 * node-cron's run coordinator over PostgreSQL: of all the daemons that fire one tenant's schedule,
 * exactly one runs each fire, and a run is never overlapped by another process's next fire.
 *
 * node-cron (4.x, `distributed: true`) asks `shouldRun(key, ttlMs)` with key `<task>:<slot ISO>`
 * before each scheduled fire, and calls `onComplete(key)` when the run ends (not after a
 * SIGKILL). Two rows of cs_leases, taken in one transaction (both or neither):
 * - `fire:<key>`: the fire itself, inserted once and kept (`fireRetentionMs`): two processes whose
 *   clocks fire the same slot, even seconds apart, cannot both run it;
 * - `run:<task>`: the tenant, taken only if free or expired, heartbeated every ttl/3 while the run
 *   lasts and deleted when it ends. A crashed holder stops heartbeating: its lease expires after
 *   `ttlMs` and another process takes the next fire (the engine's journal resumes the work).
 * Times are the database server's clock (./db-clock.ts), so hosts' clocks never decide a lease.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { RunCoordinator } from 'node-cron';
import type { Store } from '../db/open.js';
import type { StateDatabase } from '../db/schema.js';
import { StoreError } from '../errors.js';
import { dbIsoTime } from './db-clock.js';

export interface PgRunCoordinatorOptions {
  /** How long a taken fire is remembered: longer than any two hosts' clocks differ. Default 1 hour. */
  fireRetentionMs?: number;
  /** A heartbeat found the run lease gone (expired and taken by another process) or could not reach the database. */
  onLeaseLost?: (lease: string, error?: unknown) => void;
}

export interface PgRunCoordinator extends RunCoordinator {
  /** This coordinator's identity in cs_leases: the given holder plus a random suffix. */
  readonly holder: string;
  shouldRun(key: string, ttlMs: number): Promise<boolean>;
  onComplete(key: string): Promise<void>;
  /** Stops the heartbeats and releases the run leases still held (the daemon is stopping). */
  close(): Promise<void>;
}

const defaultFireRetentionMs = 60 * 60_000;

/** node-cron's key: `<task name>:<slot as ISO-8601>`. */
const slotSuffix = /:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/;

export function leaseNames(key: string): { run: string; fire: string | undefined } {
  const slot = slotSuffix.exec(key);
  return slot === null ? { run: `run:${key}`, fire: undefined } : { run: `run:${key.slice(0, slot.index)}`, fire: `fire:${key}` };
}

/** Rolls the transaction back: the tenant is running elsewhere, so the fire stays untaken too. */
class TenantBusy extends Error {}

export function createPgRunCoordinator(store: Store<StateDatabase>, holder: string, options: PgRunCoordinatorOptions = {}): PgRunCoordinator {
  if (store.dialect !== 'postgres') throw new StoreError(`the run coordinator needs a PostgreSQL state store, got ${store.displayUrl}`);
  const db = store.db;
  const me = `${holder}/${randomBytes(4).toString('hex')}`;
  const fireRetentionMs = options.fireRetentionMs ?? defaultFireRetentionMs;
  const heartbeats = new Map<string, NodeJS.Timeout>();

  async function take(names: { run: string; fire: string | undefined }, ttlMs: number): Promise<boolean> {
    try {
      return await db.transaction().execute(async (trx) => {
        if (names.fire !== undefined) {
          const fire = await trx
            .insertInto('cs_leases')
            .values({ name: names.fire, holder: me, expires_at: dbIsoTime(fireRetentionMs) })
            .onConflict((c) => c.column('name').doNothing())
            .returning('name')
            .executeTakeFirst();
          if (fire === undefined) return false;
        }
        const run = await trx
          .insertInto('cs_leases')
          .values({ name: names.run, holder: me, expires_at: dbIsoTime(ttlMs) })
          .onConflict((c) =>
            c
              .column('name')
              .doUpdateSet({ holder: me, expires_at: dbIsoTime(ttlMs) })
              .where(sql<boolean>`cs_leases.expires_at collate "C" < ${dbIsoTime()}`),
          )
          .returning('name')
          .executeTakeFirst();
        if (run === undefined) throw new TenantBusy();
        return true;
      });
    } catch (error) {
      if (error instanceof TenantBusy) return false;
      throw error;
    }
  }

  function heartbeat(run: string, ttlMs: number): void {
    const timer = setInterval(() => {
      db.updateTable('cs_leases')
        .set({ expires_at: dbIsoTime(ttlMs) })
        .where('name', '=', run)
        .where('holder', '=', me)
        .returning('name')
        .executeTakeFirst()
        .then(
          (kept) => {
            if (kept === undefined) options.onLeaseLost?.(run);
          },
          (error: unknown) => options.onLeaseLost?.(run, error),
        );
    }, Math.max(1, Math.floor(ttlMs / 3)));
    timer.unref();
    heartbeats.set(run, timer);
  }

  async function release(run: string): Promise<void> {
    clearInterval(heartbeats.get(run));
    heartbeats.delete(run);
    await db.deleteFrom('cs_leases').where('name', '=', run).where('holder', '=', me).execute();
  }

  return {
    holder: me,
    async shouldRun(key, ttlMs) {
      const names = leaseNames(key);
      if (!(await take(names, ttlMs))) return false;
      heartbeat(names.run, ttlMs);
      return true;
    },
    async onComplete(key) {
      await release(leaseNames(key).run);
      // Forget fires past their retention (any process may do it; it is idempotent).
      await db.deleteFrom('cs_leases').where('name', 'like', 'fire:%').where(sql<boolean>`expires_at collate "C" < ${dbIsoTime()}`).execute();
    },
    async close() {
      await Promise.all([...heartbeats.keys()].map((run) => release(run)));
    },
  };
}
