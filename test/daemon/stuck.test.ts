/**
 * A run that makes no progress (its provider refuses every connection): the daemon reports it as
 * stuck, in /healthz and in the log, and names it in a stop that timed out, under the run's own
 * id, the one its other lines carry.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/log/logger.js';
import { startSandbox } from '../../src/sandbox/server.js';
import { importCsv } from '../../src/source/import.js';
import { contactRows, tempDir, writeCsv, writeTenant } from '../cli/helpers.js';
import { waitFor } from './helpers.js';

const dir = tempDir('cs-stuck-');
let daemon: Daemon | undefined;

afterAll(async () => {
  await daemon?.stop({ timeoutMs: 5_000 });
  rmSync(dir, { recursive: true, force: true });
});

describe('a stuck run', () => {
  it('is reported under its runId, in /healthz, in the log and by a stop that timed out', async () => {
    const down = await startSandbox({ port: 0 });
    await down.close();
    // Scheduled once a year: the only run is the one asked for below.
    const tenant = writeTenant(dir, { tenant: 'down', sandbox: down, providers: ['oliai'], schedule: '0 0 1 1 *' });
    await importCsv(await loadConfig(tenant.file, tenant.env), writeCsv(join(dir, 'down.csv'), contactRows(5, 0)), { replace: true });
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const { logger } = createLogger({ destination, pretty: false, level: 'info' });
    daemon = await startDaemon({ configPaths: [dir], port: 0, logger, env: tenant.env, stuckAfterMs: 200 });
    void daemon.runNow('down');

    const stuck = await waitFor(() => lines.find((line) => line.msg === 'run looks stuck: no progress for longer than the stuck threshold'), 'the stuck line');
    const health = daemon.health().tenants.find((t) => t.tenant === 'down')!;
    // Not `stuck` any more, perhaps: a retry's attempt since then counts as progress.
    expect(health).toMatchObject({ running: true, runId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(stuck).toMatchObject({ tenant: 'down', runId: health.runId });
    // The run's own lines (the HTTP client's retries) carry the same id.
    expect(lines.filter((line) => line.msg === 'provider request failed; retrying').map((line) => line.runId)).toContain(health.runId);

    // Its batch in flight keeps retrying the refused connection, so a short stop times out, naming it.
    expect(await daemon.stop({ timeoutMs: 300 })).toEqual({ finished: false });
    daemon = undefined;
    expect(lines.find((line) => line.msg === 'stop timed out: a run was still in flight (its journal resumes it next run)')).toMatchObject({ running: [{ tenant: 'down', runId: health.runId }] });
  });
});
