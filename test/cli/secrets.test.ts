/**
 * No secret may reach the output, the logs, the state store or the journal: a full sync and a
 * daemon cycle with distinctive credentials, at the most verbose log level, then a search of
 * everything they wrote for each secret (and for the Basic-auth form of the Twilio one). The same
 * again with the credentials written literally in the config.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { startDaemonProcess, waitFor } from '../daemon/helpers.js';
import { type TenantSetup, contactRows, runCli, tempDir, writeCsv, writeTenant } from './helpers.js';

const accountSid = `AC${'5ec2e7'.padEnd(32, '0')}`;
const secrets = {
  twilioToken: 'twtok_CANARY_q8Zr41Lm',
  tracklyKey: 'trk_CANARY_u7Hs02Kx',
  oliaiKey: 'sk_live_CANARY_p3Nd95Wy',
};
const forbidden = [...Object.values(secrets), Buffer.from(`${accountSid}:${secrets.twilioToken}`).toString('base64')];

let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    timeScale: 60,
    credentials: {
      twilio: [{ accountSid, authToken: secrets.twilioToken }],
      trackly: [{ apiKey: secrets.tracklyKey }],
      oliai: [{ apiKey: secrets.oliaiKey }],
    },
    // Some rejections and retries, so error paths log too.
    faults: { itemErrorRate: 0.1, seed: 7 },
  });
  dir = tempDir('cs-secrets-');
});

afterAll(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function leaks(text: string): string[] {
  return forbidden.filter((secret) => text.includes(secret));
}

function mkdir(path: string): string {
  mkdirSync(path);
  return path;
}

/** Runs every command and a daemon cycle on the tenant, then searches all they wrote for the secrets. */
async function exercise(tenant: TenantSetup, env: Record<string, string>): Promise<void> {
  const outputs: string[] = [];
  const cli = async (...args: string[]) => {
    const result = await runCli(['--log-level', 'trace', ...args], { env });
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const rows = [...contactRows(40), { id: 'bad', phone: '12', name: 'x' }];
  expect((await cli('import', '--config', tenant.file, writeCsv(join(tenant.dir, 'contacts.csv'), rows))).code).toBe(0);
  expect((await cli('validate', '--config', tenant.file)).code).toBe(0);
  expect((await cli('sync', '--config', tenant.file, '--dry-run', '--json', '--plan-out', join(tenant.dir, 'plan.jsonl'))).code).toBe(3);
  expect([1, 3]).toContain((await cli('sync', '--config', tenant.file)).code);
  expect([0, 1, 3]).toContain((await cli('reconcile', '--config', tenant.file, '--json')).code);
  expect((await cli('status', '--config', tenant.file, '--json')).code).toBe(0);

  // A daemon cycle: one scheduled run after a source change, then SIGTERM.
  expect((await cli('import', '--config', tenant.file, writeCsv(join(tenant.dir, 'contacts-2.csv'), contactRows(42)), '--replace')).code).toBe(0);
  const daemon = await startDaemonProcess(['--log-level', 'trace', '--config', tenant.dir], env);
  const name = basename(tenant.file, '.yaml');
  await waitFor(async () => (await daemon.tenant(name)).lastRun !== null, 'a daemon run');
  const metrics = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
  outputs.push(metrics, JSON.stringify(await daemon.health()));
  daemon.signal('SIGTERM');
  const exit = await daemon.exited;
  expect(exit.code).toBe(0);
  outputs.push(exit.stdout, exit.stderr);

  expect(leaks(outputs.join('\n'))).toEqual([]);
  // The logs did see the requests (so the search above was not vacuous).
  expect(outputs.join('\n')).toMatch(/requests|plan ready/);
  for (const file of readdirSync(tenant.dir)) {
    if (file.endsWith('.yaml')) continue;
    const bytes = readFileSync(join(tenant.dir, file)).toString('latin1');
    expect(leaks(bytes), file).toEqual([]);
  }
}

describe('secrets', () => {
  it('never appear in stdout, stderr, the state store, the source or the journal', async () => {
    const tenant = writeTenant(mkdir(join(dir, 'canary')), { tenant: 'canary', sandbox, schedule: '* * * * * *', credentials: secrets });
    await exercise(tenant, tenant.env);
  });

  it('never appear either when written literally in the config instead of through ${VAR}', async () => {
    const tenant = writeTenant(mkdir(join(dir, 'literal')), { tenant: 'literal', sandbox, schedule: '* * * * * *', credentials: secrets });
    writeFileSync(tenant.file, readFileSync(tenant.file, 'utf8').replace(/\$\{(\w+)\}/g, (_whole, name: string) => JSON.stringify(tenant.env[name])));
    expect(readFileSync(tenant.file, 'utf8')).toContain(secrets.oliaiKey);
    await exercise(tenant, {});

    // Nothing above happens to log a credential: a provider that echoes one in an error would. Such
    // a line passes through the redactor the CLI and the daemon fill from the loaded config.
    const loaded = await loadConfig(tenant.file, {});
    const lines: string[] = [];
    const { logger, redactor } = createLogger({ pretty: false, destination: { write: (line: string) => lines.push(line) } });
    redactor.addSecrets(loaded.secrets);
    logger.error({ err: new Error(`invalid key ${secrets.oliaiKey}`) }, `token ${secrets.twilioToken} and key ${secrets.tracklyKey} refused`);
    expect(leaks(lines.join(''))).toEqual([]);
    // The account SID names an account: it is not a credential, and stays readable for support.
    expect(loaded.secrets).not.toContain(accountSid);
  });
});
