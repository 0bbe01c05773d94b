/** Helpers for tests that run the real CLI binary against sandboxes on loopback. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Sandbox } from '../../src/sandbox/server.js';

export const root = resolve(import.meta.dirname, '../..');
export const bin = join(root, 'bin/contact-sync.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `contact-sync ...args` to completion. */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  const child = startCli(args, options);
  return finished(child);
}

export function startCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess & { output: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? root, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  return Object.assign(child, { output });
}

export function finished(child: ChildProcess & { output: { stdout: string; stderr: string } }): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code, ...child.output }));
  });
}

export function tempDir(prefix = 'cs-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export type ProviderName = 'twilio' | 'trackly' | 'oliai';

export interface TenantSetup {
  file: string;
  dir: string;
  /** The environment its ${VAR}s read (the credentials). */
  env: Record<string, string>;
  sourceDb: string;
  stateDb: string;
}

/**
 * Writes a tenant config aimed at `sandbox`: credentials through ${VAR}s (prefixed per tenant),
 * SQLite source and state in `dir`.
 */
export function writeTenant(
  dir: string,
  options: {
    tenant: string;
    /** Where the providers are (a relay in front of the sandbox will do). */
    sandbox: Pick<Sandbox, 'baseUrl' | 'credentials'>;
    providers?: readonly ProviderName[];
    schedule?: string;
    credentials?: Partial<{ twilioToken: string; tracklyKey: string; oliaiKey: string }>;
    extra?: string;
    /** YAML lines added to every provider block, e.g. "batchSize: 20". */
    providerSettings?: readonly string[];
  },
): TenantSetup {
  const { tenant, sandbox } = options;
  const prefix = `CS_TEST_${tenant.toUpperCase().replace(/-/g, '_')}`;
  const env: Record<string, string> = {
    [`${prefix}_TWILIO_TOKEN`]: options.credentials?.twilioToken ?? sandbox.credentials.twilio.authToken,
    [`${prefix}_TRACKLY_KEY`]: options.credentials?.tracklyKey ?? sandbox.credentials.trackly.apiKey,
    [`${prefix}_OLIAI_KEY`]: options.credentials?.oliaiKey ?? sandbox.credentials.oliai.apiKey,
  };
  const blocks: Record<ProviderName, string> = {
    twilio: `  - name: twilio
    type: twilio
    baseUrl: "${sandbox.baseUrl('twilio')}"
    accountSid: "${sandbox.credentials.twilio.accountSid}"
    authToken: \${${prefix}_TWILIO_TOKEN}`,
    trackly: `  - name: trackly
    type: trackly
    baseUrl: "${sandbox.baseUrl('trackly')}"
    apiKey: \${${prefix}_TRACKLY_KEY}
    listNumber: "+18005551234"`,
    oliai: `  - name: oliai
    type: oliai
    baseUrl: "${sandbox.baseUrl('oliai')}"
    apiKey: \${${prefix}_OLIAI_KEY}`,
  };
  const sourceDb = join(dir, `${tenant}.db`);
  const stateDb = join(dir, `${tenant}.state.db`);
  const yaml = [
    `tenant: ${tenant}`,
    `state: "sqlite:${stateDb}"`,
    'source:',
    `  url: "sqlite:${sourceDb}"`,
    '  defaultCountry: US',
    ...(options.schedule === undefined ? [] : [`schedule: "${options.schedule}"`]),
    ...(options.extra === undefined ? [] : [options.extra]),
    'providers:',
    ...(options.providers ?? ['twilio', 'trackly', 'oliai']).map((p) => [blocks[p], ...(options.providerSettings ?? []).map((line) => `    ${line}`)].join('\n')),
    '',
  ].join('\n');
  const file = join(dir, `${tenant}.yaml`);
  writeFileSync(file, yaml);
  return { file, dir, env, sourceDb, stateDb };
}

export interface CsvRow {
  id: string;
  phone: string;
  name?: string;
  country?: string;
  zip?: string;
}

/** Valid US numbers outside 555-01xx (which Trackly's sandbox rejects as not_sendable). */
export function phoneFor(n: number): string {
  return `+1415555${String(2000 + n).padStart(4, '0')}`;
}

export function contactRows(count: number, from = 0): CsvRow[] {
  return Array.from({ length: count }, (_, i) => ({ id: `c-${String(from + i).padStart(5, '0')}`, phone: phoneFor(from + i), name: `Person ${from + i}`, country: 'US', zip: '94105' }));
}

export function writeCsv(file: string, rows: readonly CsvRow[]): string {
  const lines = ['id,phone,name,language,country,zip', ...rows.map((r) => [r.id, r.phone, r.name ?? '', '', r.country ?? '', r.zip ?? ''].join(','))];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** True when the text holds a terminal escape sequence (colours, cursor moves). */
export function hasEscapeCodes(text: string): boolean {
  return text.includes('\x1b');
}
