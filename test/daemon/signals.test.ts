/**
 * The daemon binary and its signals: SIGHUP with a broken file keeps the tenant's old config;
 * SIGTERM during a run lets the batch in flight finish, exits 0, and the next run sends the rest
 * (no contact lost, at most the one batch in flight sent twice); a stop that times out exits 0
 * with the batches in flight journaled, and the next run finishes them.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { type TenantSetup, contactRows, runCli, tempDir, writeCsv, writeTenant } from '../cli/helpers.js';
import { startDaemonProcess, waitFor } from './helpers.js';

let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, timeScale: 60 });
  dir = tempDir('cs-signals-');
});

afterAll(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The tenant's Twilio rows in the state store: confirmed (baseline) and journaled, not yet settled (outbox). */
function stateOf(tenant: TenantSetup): { baseline: Set<string>; outbox: { contact_id: string; batch_id: string; run_id: string; op: string }[] } {
  const db = new Database(tenant.stateDb, { readonly: true });
  try {
    const baseline = db.prepare("select contact_id from cs_baseline where provider = 'twilio'").pluck().all() as string[];
    const outbox = db.prepare("select contact_id, batch_id, run_id, op from cs_outbox where provider = 'twilio'").all() as { contact_id: string; batch_id: string; run_id: string; op: string }[];
    return { baseline: new Set(baseline), outbox };
  } finally {
    db.close();
  }
}

/** Contacts (by id) whose phone the Twilio sandbox holds. */
function deliveredIds(phoneToId: ReadonlyMap<string, string>): string[] {
  return [...sandbox.twilio.contacts.keys()].map((phone) => phoneToId.get(phone) ?? phone);
}

describe('daemon signals', () => {
  it('SIGHUP with a broken file keeps the old config; a fixed file is taken', async () => {
    const hupDir = join(dir, 'hup');
    mkdirSync(hupDir);
    const tenant = writeTenant(hupDir, { tenant: 'hup', sandbox, providers: ['oliai'], schedule: '* * * * * *' });
    expect((await runCli(['import', '--config', tenant.file, writeCsv(join(dir, 'hup.csv'), contactRows(5))], { env: tenant.env })).code).toBe(0);
    const good = readFileSync(tenant.file, 'utf8');
    const daemon = await startDaemonProcess(['--config', hupDir], tenant.env);
    try {
      await waitFor(async () => (await daemon.tenant('hup')).lastRun?.status === 'ok', 'a first run');

      writeFileSync(tenant.file, 'tenant: [unclosed\n');
      daemon.signal('SIGHUP');
      const broken = await waitFor(async () => {
        const t = await daemon.tenant('hup');
        return t.reloadError !== null ? t : undefined;
      }, 'the reload to report the broken file');
      expect(broken.schedule).toBe('* * * * * *');
      expect(daemon.output.stderr).toContain(tenant.file);
      // Still scheduled with the old config: runs keep finishing.
      const before = broken.lastRun!.finishedAt;
      await waitFor(async () => (await daemon.tenant('hup')).lastRun!.finishedAt !== before, 'a run after the failed reload');

      writeFileSync(tenant.file, good.replace("schedule: \"* * * * * *\"", 'schedule: "*/2 * * * * *"'));
      daemon.signal('SIGHUP');
      const fixed = await waitFor(async () => {
        const t = await daemon.tenant('hup');
        return t.reloadError === null && t.schedule === '*/2 * * * * *' ? t : undefined;
      }, 'the fixed file to be taken');
      expect(fixed.tenant).toBe('hup');
    } finally {
      daemon.signal('SIGTERM');
      expect((await daemon.exited).code).toBe(0);
    }
  });

  it('SIGTERM during a run finishes the batch in flight and exits 0; the next run sends the rest', async () => {
    const total = 250;
    sandbox.faults.set({ latencyMs: 300, providers: ['twilio'] });
    const tenant = writeTenant(dir, { tenant: 'term', sandbox, providers: ['twilio'], schedule: '* * * * * *' });
    expect((await runCli(['import', '--config', tenant.file, writeCsv(join(dir, 'term.csv'), contactRows(total))], { env: tenant.env })).code).toBe(0);
    sandbox.clearRequests();
    const daemon = await startDaemonProcess(['--config', tenant.file], tenant.env);
    await waitFor(() => sandbox.requests.some((r) => r.provider === 'twilio' && r.status === 201), 'the first batch to be answered');
    expect((await daemon.tenant('term')).running).toBe(true);
    daemon.signal('SIGTERM');
    const exit = await daemon.exited;
    expect(exit.code, exit.stderr).toBe(0);
    const sentBeforeStop = sandbox.twilio.contacts.size;
    expect(sentBeforeStop).toBeGreaterThan(0);
    expect(sentBeforeStop).toBeLessThan(total);
    // The batches in flight finished and were journaled: nothing is left in the outbox, and the
    // state store holds as confirmed exactly what the provider has.
    const stopped = stateOf(tenant);
    expect(stopped.outbox).toEqual([]);
    expect(stopped.baseline.size).toBe(sentBeforeStop);

    sandbox.faults.clear();
    const next = await runCli(['sync', '--config', tenant.file, '--json'], { env: tenant.env });
    expect(next.code, next.stderr).toBe(0);
    expect(sandbox.twilio.contacts.size).toBe(total);
    const itemsSent = sandbox.requests.filter((r) => r.provider === 'twilio').reduce((sum, r) => sum + r.items, 0);
    // Twilio batches hold at most 25: nothing lost, at most the batch in flight sent twice per stop.
    expect(itemsSent).toBeGreaterThanOrEqual(total);
    expect(itemsSent).toBeLessThanOrEqual(total + 25 * 2);
  });
  it('a stop that times out exits 0 with the batches in flight journaled; the next run finishes them', async () => {
    const total = 250;
    const rows = contactRows(total, 5_000);
    const phoneToId = new Map(rows.map((r) => [r.phone, r.id]));
    const tenant = writeTenant(dir, { tenant: 'cut', sandbox, providers: ['twilio'], schedule: '* * * * * *' });
    expect((await runCli(['import', '--config', tenant.file, writeCsv(join(dir, 'cut.csv'), rows)], { env: tenant.env })).code).toBe(0);
    sandbox.twilio.reset();
    sandbox.clearRequests();
    // Answers take 3 s, longer than --stop-timeout: the stop cannot wait for the batches in flight.
    sandbox.faults.set({ latencyMs: 3_000, providers: ['twilio'] });
    const daemon = await startDaemonProcess(['--config', tenant.file, '--stop-timeout', '1'], tenant.env);
    // 10 batches of 25, 8 in flight at most: the last two go out once the first answers came.
    await waitFor(() => sandbox.requests.filter((r) => r.provider === 'twilio').length === 10, 'the last batches to be sent', 20_000);
    daemon.signal('SIGTERM');
    const exit = await daemon.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toContain('stop timed out');

    const cut = stateOf(tenant);
    const journaled = new Set(cut.outbox.map((r) => r.contact_id));
    expect(cut.outbox.length).toBeGreaterThan(0);
    expect(new Set(cut.outbox.map((r) => r.batch_id)).size).toBeLessThanOrEqual(2);
    expect(new Set(cut.outbox.map((r) => r.run_id)).size).toBe(1);
    expect([...journaled].filter((id) => cut.baseline.has(id))).toEqual([]);
    // Nothing the provider holds is unknown to the state store: confirmed, or journaled in flight.
    expect(deliveredIds(phoneToId).filter((id) => !cut.baseline.has(id) && !journaled.has(id))).toEqual([]);
    const itemsBeforeStop = sandbox.requests.reduce((sum, r) => sum + r.items, 0);

    sandbox.faults.clear();
    sandbox.clearRequests();
    const next = await runCli(['sync', '--config', tenant.file, '--json'], { env: tenant.env });
    expect(next.code, next.stderr).toBe(0);
    const done = stateOf(tenant);
    expect(done.outbox).toEqual([]);
    expect(done.baseline.size).toBe(total);
    expect(new Set(deliveredIds(phoneToId))).toEqual(new Set(rows.map((r) => r.id)));
    // The next run re-sent the journaled batches and what was never sent, nothing confirmed.
    const itemsNext = sandbox.requests.reduce((sum, r) => sum + r.items, 0);
    expect(itemsNext).toBe(total - cut.baseline.size);
    expect(itemsBeforeStop + itemsNext - total).toBeLessThanOrEqual(cut.outbox.length);
  });
});
