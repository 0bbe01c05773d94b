/**
 * Every JSON log line of a `sync` run names its tenant and run id; a line about one provider (the
 * HTTP client's retry warnings included) names that provider, and the run's summary lines give
 * their per-provider figures under `providers`, keyed by provider name.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/engine/report.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { contactRows, runCli, tempDir, writeCsv, writeTenant } from './helpers.js';

let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, timeScale: 60 });
  dir = tempDir('cs-run-logs-');
});

afterAll(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

type LogLine = { msg: string; tenant?: string; runId?: string; provider?: string; providers?: Record<string, unknown> };

describe('run log fields', () => {
  it('binds tenant and runId to every line of a run, and provider to every provider-specific one', async () => {
    const names = ['twilio', 'trackly', 'oliai'];
    const tenant = writeTenant(dir, { tenant: 'logs', sandbox });
    expect((await runCli(['import', '--config', tenant.file, writeCsv(join(dir, 'logs.csv'), contactRows(30))], { env: tenant.env })).code).toBe(0);
    // The first requests to Trackly and OliAI are answered 429: the HTTP client retries and warns.
    sandbox.faults.set({ rateLimitBursts: 3, providers: ['trackly', 'oliai'] });

    const run = await runCli(['--log-level', 'trace', '--time-scale', '60', 'sync', '--config', tenant.file, '--json'], { env: tenant.env });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as RunReport;
    const lines = run.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as LogLine);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['plan ready', 'sync finished', 'provider request failed; retrying']));

    for (const line of lines) {
      expect(line, line.msg).toMatchObject({ tenant: 'logs', runId: report.runId });
      if (line.provider !== undefined) expect(names, line.msg).toContain(line.provider);
      // A line is about one provider (provider) or about the run, with its figures per provider.
      else expect(Object.keys(line.providers ?? {}).sort(), line.msg).toEqual([...names].sort());
    }
    const retries = lines.filter((l) => l.msg === 'provider request failed; retrying');
    for (const name of names) expect(retries.filter((l) => l.provider === name).length, name).toBe(report.providers[name]!.retries);
    expect(retries.length).toBe(3);
  });
});
