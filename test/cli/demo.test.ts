/**
 * `npm run demo` works: the demo script runs the real CLI end to end against its own sandbox, and
 * every command it then tells the user to run works as printed, with no variable exported.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../daemon/helpers.js';
import { type CliResult, finished, hasEscapeCodes, root, tempDir } from './helpers.js';

const dir = tempDir('cs-demo-');
let demoOutput = '';

/** The commands of the demo's closing hints: `  label:   <command>` lines. */
const hintLine = /^ {2}[a-z ]+: +((?:contact-sync|sqlite3) .+)$/;

/** A shell as the user's, where `contact-sync` is this checkout's binary and no DEMO_* is set. */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const binDir = join(dir, 'bin');
  if (!existsSync(binDir)) {
    mkdirSync(binDir);
    symlinkSync(join(root, 'bin/contact-sync.js'), join(binDir, 'contact-sync'));
  }
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ''}`, ...extra };
  for (const name of Object.keys(env)) if (name.startsWith('DEMO_') && !(name in extra)) delete env[name];
  return env;
}

/** A server command (sandbox, daemon) as printed, but on a free port: 4010 or 9464 may be taken here. */
function startServer(command: string, env: NodeJS.ProcessEnv): ChildProcess & { output: { stdout: string; stderr: string } } {
  const child = spawn('bash', ['-c', `exec ${command} --port 0`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  return Object.assign(child, { output });
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo', () => {
  it('imports, plans, syncs, edits, syncs again and shows the status, in a copy of the demo tenant', () => {
    // A copy in the same layout, so the test never touches a developer's data/ (the config's
    // sqlite paths, ../../data/…, are relative to it).
    mkdirSync(join(dir, 'config/tenants'), { recursive: true });
    const config = join(dir, 'config/tenants/demo.yaml');
    const csv = join(dir, 'contacts.csv');
    copyFileSync(join(root, 'config/tenants/demo.yaml'), config);
    copyFileSync(join(root, 'config/demo/contacts.csv'), csv);
    const result = spawnSync(process.execPath, [join(root, 'scripts/demo.js'), '--config', config, '--csv', csv], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr + result.stdout).toBe(0);
    const out = result.stdout;
    demoOutput = out;
    for (const step of ['$ contact-sync import', '$ contact-sync sync --config', '--dry-run', '$ contact-sync status', 'Example changes', 'Status:', 'Done in']) {
      expect(out).toContain(step);
    }
    expect(out).toMatch(/invalid/);
    expect(hasEscapeCodes(out)).toBe(false);
    expect(readFileSync(config, 'utf8')).toContain('DEMO_');
    // The data is left in place for inspection.
    expect(existsSync(join(dir, 'data/demo.db'))).toBe(true);
    expect(existsSync(join(dir, 'data/demo.state.db'))).toBe(true);
  });
  it('prints closing commands that each work as printed', async () => {
    expect(demoOutput).toContain('Done in');
    const commands = demoOutput.split('\n').flatMap((line) => hintLine.exec(line)?.[1] ?? []);
    const byName = (start: string): string => {
      const found = commands.find((c) => c.startsWith(start));
      expect(found, `a hint starting "${start}" in:\n${commands.join('\n')}`).toBeDefined();
      return found!;
    };
    const env = shellEnv();
    const run = (command: string, extra: NodeJS.ProcessEnv = env) => spawnSync('bash', ['-c', command], { cwd: dir, env: extra, encoding: 'utf8', timeout: 30_000 });

    const oneShot = [byName('contact-sync status'), byName('contact-sync sync --config'), byName('contact-sync validate')];
    if (spawnSync('sqlite3', ['-version']).status === 0) oneShot.push(byName('sqlite3'));
    for (const command of oneShot) {
      const result = run(command);
      // The demo leaves its invalid number in the source on purpose: a plan with it exits 3 ("done, some contacts not sent").
      expect(result.status, `${command}\n${result.stderr}${result.stdout}`).toBe(command.includes(' sync ') ? 3 : 0);
    }
    expect(existsSync(join(dir, 'plan.jsonl'))).toBe(true);

    // The sandbox the config's defaults point at, then a sync by hand against it.
    const sandbox = startServer(byName('contact-sync sandbox'), env);
    const sandboxExit = finished(sandbox);
    const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(sandbox.output.stdout)?.[1], 'the sandbox to listen');
    const urls = { DEMO_TWILIO_URL: `${url}/twilio`, DEMO_TRACKLY_URL: `${url}/trackly/api/v2`, DEMO_OLIAI_URL: `${url}/oliai/v1` };
    const sync = run(byName('contact-sync --time-scale 60 sync'), shellEnv(urls));
    expect(sync.status, sync.stderr + sync.stdout).toBe(3);
    sandbox.kill('SIGINT');
    expect((await sandboxExit).code).toBe(0);

    const daemon = startServer(byName('contact-sync daemon'), env);
    const daemonExit: Promise<CliResult> = finished(daemon);
    const port = await waitFor(() => /"port":(\d+)[^\n]*serving \/healthz/.exec(daemon.output.stderr)?.[1], 'the daemon to listen');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    daemon.kill('SIGTERM');
    const exit = await daemonExit;
    expect(exit.code, exit.stderr).toBe(0);
  });
});
