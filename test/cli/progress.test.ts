/**
 * `sync` on a terminal draws a progress bar per provider (done/planned, rate, ETA, retries,
 * rejected). The terminal is a real pseudo-terminal from util-linux `script`; the test is skipped,
 * with the reason, where `script` is missing. (Without a TTY there are no escape codes: sync.test.ts.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { bin, contactRows, root, runCli, tempDir, writeCsv, writeTenant } from './helpers.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
if (!hasScript) console.warn('progress.test.ts: util-linux `script` is not installed, so no pseudo-terminal: skipped');

let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, timeScale: 60 });
  dir = tempDir('cs-progress-');
});

afterAll(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `contact-sync ...args` with stdin, stdout and stderr on a pseudo-terminal 160 columns wide. */
function runOnTerminal(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const command = `stty cols 160 rows 40; exec ${[process.execPath, bin, ...args].map((a) => `'${a}'`).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** The texts drawn, colours removed: each piece between cursor moves or line breaks on a line of its own. */
function visibleLines(output: string): string[] {
  return output
    .replace(/\x1b\[[0-9;]*m/g, '')
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n')
    .split(/\r\n|\r|\n/)
    .map((line) => line.trimEnd())
    .filter(Boolean);
}

describe.skipIf(!hasScript)('progress bars on a terminal', () => {
  it('show done/planned, rate, ETA and retries per provider', async () => {
    const tenant = writeTenant(dir, { tenant: 'tty', sandbox, providers: ['twilio', 'trackly'] });
    expect((await runCli(['import', '--config', tenant.file, writeCsv(join(dir, 'tty.csv'), contactRows(60))], { env: tenant.env })).code).toBe(0);
    // Trackly's only request is answered 429 twice before it goes through: its bar counts 2 retries.
    sandbox.faults.set({ rateLimitBursts: 2, providers: ['trackly'] });

    const { code, output } = await runOnTerminal(['--time-scale', '60', 'sync', '--config', tenant.file], tenant.env);
    expect(code, output).toBe(0);
    expect(output).toContain('\x1b['); // drawn for a terminal
    const lines = visibleLines(output);
    const bar = (provider: string): string | undefined => lines.filter((l) => l.startsWith(`${provider} [`)).at(-1);
    expect(bar('twilio'), output).toMatch(/^twilio \[[^\]]+\] 60\/60 \| \d+\/s \| ETA \d+s \| retries 0 \| rejected 0/);
    expect(bar('trackly'), output).toMatch(/^trackly \[[^\]]+\] 60\/60 \| \d+\/s \| ETA \d+s \| retries 2 \| rejected 0/);
    // Log lines (stderr, the same terminal) are printed above the bars, each whole on its own line,
    // never drawn into a bar's line.
    const warnings = lines.filter((l) => l.includes('provider request failed; retrying'));
    expect(warnings, output).toHaveLength(2);
    for (const line of warnings) expect(line, output).toMatch(/^\[[\d:.]+\] WARN/);
  });
});
