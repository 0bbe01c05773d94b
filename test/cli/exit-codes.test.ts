/** Exit codes through the binary: 2 usage/config, 4 refused, 3 partial, 1 could not finish, 0 done. */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { contactRows, runCli, tempDir, writeCsv, writeTenant } from './helpers.js';

let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, timeScale: 60 });
  dir = tempDir();
});

afterAll(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('usage (exit 2)', () => {
  it('rejects bad usage with exit 2 and a hint', async () => {
    for (const args of [[], ['sync'], ['sync', '--config', 'x.yaml', '--bogus'], ['nonsense'], ['sandbox', '--port', 'abc'], ['--log-level', 'loud', 'status', '--config', 'x.yaml']]) {
      const result = await runCli(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr.length).toBeGreaterThan(0);
    }
  });

  it('shows --help with an example for every command, exit 0', async () => {
    for (const command of ['sync', 'daemon', 'reconcile', 'status', 'import', 'validate', 'sandbox']) {
      const result = await runCli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`contact-sync ${command}`);
      expect(result.stdout).toMatch(/Examples?:\n\s+\$ contact-sync /);
    }
  });
});

describe('config errors (exit 2)', () => {
  it('names the file, the path inside it and what was expected', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'tenant: Not Valid\nsource:\n  url: "sqlite:x.db"\nproviders: []\n');
    const result = await runCli(['sync', '--config', file, '--dry-run']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toMatch(/tenant/);
    expect(result.stderr).toMatch(/providers/);
    expect(result.stdout).toBe('');
  });

  it('names a missing environment variable', async () => {
    const tenant = writeTenant(dir, { tenant: 'noenv', sandbox, providers: ['oliai'] });
    const result = await runCli(['sync', '--config', tenant.file, '--dry-run'], { env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CS_TEST_NOENV_OLIAI_KEY');
  });
});

describe('run outcomes', () => {
  it('refuses (exit 4, nothing sent) a run whose deletes exceed the safety limit, and a stale or reused plan', async () => {
    const tenant = writeTenant(dir, { tenant: 'refuse', sandbox, providers: ['oliai'] });
    const cli = (...args: string[]) => runCli(args, { env: tenant.env });
    expect((await cli('import', '--config', tenant.file, writeCsv(join(dir, 'refuse.csv'), contactRows(20)), '--replace')).code).toBe(0);
    expect((await cli('sync', '--config', tenant.file)).code).toBe(0);

    // A plan made now is stale once the source changes.
    const plan = join(dir, 'refuse-plan.jsonl');
    expect((await cli('sync', '--config', tenant.file, '--dry-run', '--plan-out', plan)).code).toBe(0);
    expect((await cli('import', '--config', tenant.file, writeCsv(join(dir, 'refuse-2.csv'), contactRows(19)), '--replace')).code).toBe(0);
    sandbox.clearRequests();
    const stale = await cli('sync', '--config', tenant.file, '--plan', plan);
    expect(stale.code, stale.stdout + stale.stderr).toBe(4);
    expect(sandbox.requests).toHaveLength(0);

    // 1 delete of 20 synced (5 %) is allowed; 16 more (84 %) are refused.
    const small = await cli('sync', '--config', tenant.file);
    expect(small.code, small.stdout).toBe(0);
    expect((await cli('import', '--config', tenant.file, writeCsv(join(dir, 'refuse-3.csv'), contactRows(3)), '--replace')).code).toBe(0);
    sandbox.clearRequests();
    const refused = await cli('sync', '--config', tenant.file, '--json');
    expect(refused.code).toBe(4);
    expect(JSON.parse(refused.stdout)).toMatchObject({ status: 'refused' });
    expect(sandbox.requests).toHaveLength(0);
    const allowed = await cli('sync', '--config', tenant.file, '--allow-deletes');
    expect(allowed.code, allowed.stdout).toBe(0);
    expect(sandbox.oliai.contacts().size).toBe(3);
  });

  it('exits 3 when a provider rejects some contacts, listing each with its reason', async () => {
    const tenant = writeTenant(dir, { tenant: 'partial', sandbox, providers: ['trackly'] });
    const cli = (...args: string[]) => runCli(args, { env: tenant.env });
    const rows = [...contactRows(5), { id: 'fiction', phone: '+14155550142', name: 'Not Sendable' }];
    expect((await cli('import', '--config', tenant.file, writeCsv(join(dir, 'partial.csv'), rows))).code).toBe(0);
    const result = await cli('sync', '--config', tenant.file);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout).toContain('fiction');
    expect(result.stdout).toContain('not_sendable');
  });

  it('exits 1 when the run cannot finish (the provider refuses the credentials)', async () => {
    const tenant = writeTenant(dir, { tenant: 'failing', sandbox, providers: ['oliai'], credentials: { oliaiKey: 'sk_live_wrong_key' } });
    const cli = (...args: string[]) => runCli(args, { env: tenant.env });
    expect((await cli('import', '--config', tenant.file, writeCsv(join(dir, 'failing.csv'), contactRows(3)))).code).toBe(0);
    const result = await cli('sync', '--config', tenant.file, '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'failed' });
    expect(result.stderr).not.toContain('sk_live_wrong_key');
  });
});
