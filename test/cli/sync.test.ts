/** `import` and `sync` end to end through the CLI binary, against the sandbox over loopback. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReportSchema } from '../../src/engine/report.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { contactRows, hasEscapeCodes, runCli, tempDir, writeCsv, writeTenant, type TenantSetup } from './helpers.js';

let sandbox: Sandbox;
let dir: string;
let tenant: TenantSetup;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, timeScale: 60 });
  dir = tempDir();
  tenant = writeTenant(dir, { tenant: 'acme', sandbox });
});

afterAll(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(args, { env: tenant.env });

describe('import, then sync --dry-run --json, then sync', () => {
  it('imports a CSV, plans it without sending anything, then syncs it', async () => {
    // bad-1 is imported (its phone is refused later, by the plan); the last two rows are refused by import.
    const rows = [...contactRows(30), { id: 'bad-1', phone: 'not a phone', name: 'Broken' }, { id: '', phone: '+14155550100', name: 'No id' }, { id: 'c-00003', phone: '+14155550101', name: 'Twice' }];
    const imported = await cli('import', '--config', tenant.file, writeCsv(join(dir, 'contacts.csv'), rows));
    expect(imported.code, imported.stderr).toBe(3); // done, with rows refused
    expect(imported.stdout).toContain('into tenant acme: 33 rows read, 31 inserted, 0 updated, 0 unchanged, 0 deleted, 2 refused');
    // The header is line 1: c-00003 is on line 5, the refused rows on lines 33 and 34.
    expect(imported.stdout).toContain('\n  line 33 (id): missing id\n');
    expect(imported.stdout).toContain('\n  line 34 (id): duplicate id "c-00003" (first on line 5)');

    const dry = await cli('sync', '--config', tenant.file, '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(3); // one invalid row: done, with a contact not sent
    const lines = dry.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = runReportSchema.parse(JSON.parse(lines[0]!));
    expect(report).toMatchObject({ tenant: 'acme', dryRun: true, status: 'partial' });
    for (const name of ['twilio', 'trackly', 'oliai']) {
      expect(report.providers[name]!.planned).toMatchObject({ create: 30, update: 0, delete: 0 });
      expect(report.providers[name]!.requests).toBe(0);
    }
    expect(sandbox.requests).toHaveLength(0);
    expect(hasEscapeCodes(dry.stdout + dry.stderr)).toBe(false);
    for (const line of dry.stderr.trim().split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();

    const human = await cli('sync', '--config', tenant.file, '--dry-run');
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(/provider\s+│?\s*create/);
    expect(human.stdout).toContain('Example changes');
    expect(human.stdout).toContain('bad-1');
    expect(hasEscapeCodes(human.stdout + human.stderr)).toBe(false);

    const synced = await cli('sync', '--config', tenant.file);
    expect(synced.code, synced.stderr).toBe(3);
    expect(hasEscapeCodes(synced.stdout + synced.stderr)).toBe(false);
    expect(synced.stdout).toContain('Applied');
    expect(sandbox.twilio.contacts.size).toBe(30);
    expect([...sandbox.trackly.listContacts().values()].filter((c) => c.active)).toHaveLength(30);
    expect(sandbox.oliai.contacts().size).toBe(30);

    sandbox.clearRequests();
    const again = await cli('sync', '--config', tenant.file, '--json');
    expect(again.code).toBe(3);
    const second = runReportSchema.parse(JSON.parse(again.stdout));
    for (const p of Object.values(second.providers)) expect(p.planned).toMatchObject({ create: 0, update: 0, unchanged: 30 });
    expect(sandbox.requests).toHaveLength(0);

    const status = await cli('status', '--config', tenant.file);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('Last runs');
    expect(status.stdout).toMatch(/twilio\s+│?\s*30/);
    expect(status.stdout).toContain('bad-1');
  });
});
