/**
 * No secret may reach the output, the logs, the state store or the journal: a full sync and a
 * daemon cycle with distinctive credentials, at the most verbose log level, then a search of
 * everything they wrote for each secret (and for the Basic-auth form of the Twilio one).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { startDaemonProcess, waitFor } from '../daemon/helpers.js';
import { contactRows, runCli, tempDir, writeCsv, writeTenant } from './helpers.js';

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

describe('secrets', () => {
  it('never appear in stdout, stderr, the state store, the source or the journal', async () => {
    const tenant = writeTenant(dir, { tenant: 'canary', sandbox, schedule: '* * * * * *', credentials: secrets });
    const env = tenant.env;
    const outputs: string[] = [];
    const cli = async (...args: string[]) => {
      const result = await runCli(['--log-level', 'trace', ...args], { env });
      outputs.push(result.stdout, result.stderr);
      return result;
    };
    const rows = [...contactRows(40), { id: 'bad', phone: '12', name: 'x' }];
    expect((await cli('import', '--config', tenant.file, writeCsv(join(dir, 'canary.csv'), rows))).code).toBe(0);
    expect((await cli('validate', '--config', tenant.file)).code).toBe(0);
    expect((await cli('sync', '--config', tenant.file, '--dry-run', '--json', '--plan-out', join(dir, 'plan.jsonl'))).code).toBe(3);
    expect([1, 3]).toContain((await cli('sync', '--config', tenant.file)).code);
    expect([0, 1, 3]).toContain((await cli('reconcile', '--config', tenant.file, '--json')).code);
    expect((await cli('status', '--config', tenant.file, '--json')).code).toBe(0);

    // A daemon cycle: one scheduled run after a source change, then SIGTERM.
    expect((await cli('import', '--config', tenant.file, writeCsv(join(dir, 'canary-2.csv'), contactRows(42)), '--replace')).code).toBe(0);
    const daemon = await startDaemonProcess(['--log-level', 'trace', '--config', dir], env);
    await waitFor(async () => (await daemon.tenant('canary')).lastRun !== null, 'a daemon run');
    const metrics = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
    outputs.push(metrics, JSON.stringify(await daemon.health()));
    daemon.signal('SIGTERM');
    const exit = await daemon.exited;
    expect(exit.code).toBe(0);
    outputs.push(exit.stdout, exit.stderr);

    expect(leaks(outputs.join('\n'))).toEqual([]);
    // The logs did see the requests (so the search above was not vacuous).
    expect(outputs.join('\n')).toMatch(/requests|plan ready/);
    for (const file of readdirSync(dir)) {
      if (file.endsWith('.yaml')) continue;
      const bytes = readFileSync(join(dir, file)).toString('latin1');
      expect(leaks(bytes), file).toEqual([]);
    }
  });
});
