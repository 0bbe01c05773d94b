/**
 * The daemon binary and its signals: SIGHUP with a broken file keeps the tenant's old config;
 * SIGTERM during a run lets the batch in flight finish, exits 0, and the next run sends the rest
 * (no contact lost, at most the one batch in flight sent twice).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { contactRows, runCli, tempDir, writeCsv, writeTenant } from '../cli/helpers.js';
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

    sandbox.faults.clear();
    const next = await runCli(['sync', '--config', tenant.file, '--json'], { env: tenant.env });
    expect(next.code, next.stderr).toBe(0);
    expect(sandbox.twilio.contacts.size).toBe(total);
    const itemsSent = sandbox.requests.filter((r) => r.provider === 'twilio').reduce((sum, r) => sum + r.items, 0);
    // Twilio batches hold at most 25: nothing lost, at most the batch in flight sent twice per stop.
    expect(itemsSent).toBeGreaterThanOrEqual(total);
    expect(itemsSent).toBeLessThanOrEqual(total + 25 * 2);
  });
});
