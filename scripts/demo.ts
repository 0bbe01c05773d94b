/**
 * `npm run demo`: contact-sync end to end in under a minute, against the local sandbox.
 *
 * Starts the provider emulators in-process (time-scaled, so documented per-minute limits pass in
 * seconds), points the demo tenant's ${DEMO_*} variables at them, and runs the real CLI
 * (bin/contact-sync.js) step by step: import, dry run, sync, a few edits, sync again, status.
 * The demo tenant's databases are reset at the start and left in place at the end.
 *
 * Options (for tests): --config FILE --csv FILE (default: the repository's demo tenant and CSV).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { loadConfig } from '../src/config/load.js';
import { startSandbox } from '../src/sandbox/server.js';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'bin/contact-sync.js');
const timeScale = 60;

const { values: args } = parseArgs({
  options: {
    config: { type: 'string', default: join(root, 'config/tenants/demo.yaml') },
    csv: { type: 'string', default: join(root, 'config/demo/contacts.csv') },
  },
});
const configFile = resolve(args.config!);
const csvFile = resolve(args.csv!);
const shown = (path: string): string => relative(process.cwd(), path) || '.';

const bold = (text: string): string => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

function say(text: string): void {
  process.stdout.write(`\n${bold(`== ${text}`)}\n`);
}

function explain(text: string): void {
  process.stdout.write(`${text}\n`);
}

/**
 * Runs the real CLI as a newcomer would type it; returns its exit code. Asynchronously: the
 * sandbox answering it lives in this process's event loop.
 */
async function cli(...command: string[]): Promise<number> {
  process.stdout.write(`\n$ contact-sync ${command.join(' ')}\n`);
  const child = spawn(process.execPath, [bin, '--log-level', 'warn', '--time-scale', String(timeScale), ...command], { stdio: 'inherit', env: process.env });
  const [code] = (await once(child, 'exit')) as [number | null];
  return code ?? 1;
}

function expectExit(code: number, expected: number, what: string): void {
  if (code !== expected) throw new Error(`${what} exited ${code}, expected ${expected}`);
}

/** SQLite files the demo tenant uses (source and state), so the demo can start fresh. */
function sqliteFiles(urls: readonly (string | undefined)[]): string[] {
  return urls.filter((u): u is string => u?.startsWith('sqlite:') === true).flatMap((u) => {
    const file = u.slice('sqlite:'.length);
    return [file, `${file}-wal`, `${file}-shm`];
  });
}

type Row = Record<string, string>;

function csvText(rows: readonly Row[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const cell = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c] ?? '')).join(','))].join('\n') + '\n';
}

async function main(): Promise<void> {
  const started = Date.now();
  say('contact-sync demo');
  explain(`Starting local emulators of the Twilio, Trackly and OliAI contact APIs (time scale ${timeScale}: a rate-limit minute lasts a second).`);
  const sandbox = await startSandbox({ port: 0, timeScale });
  try {
    const { twilio, trackly, oliai } = sandbox.credentials;
    Object.assign(process.env, {
      DEMO_TWILIO_URL: sandbox.baseUrl('twilio'),
      DEMO_TWILIO_ACCOUNT_SID: twilio.accountSid,
      DEMO_TWILIO_AUTH_TOKEN: twilio.authToken,
      DEMO_TRACKLY_URL: sandbox.baseUrl('trackly'),
      DEMO_TRACKLY_API_KEY: trackly.apiKey,
      DEMO_OLIAI_URL: sandbox.baseUrl('oliai'),
      DEMO_OLIAI_API_KEY: oliai.apiKey,
    });
    explain(`Sandbox at ${sandbox.url}; the DEMO_* variables that ${shown(configFile)} reads now point at it.`);

    const loaded = await loadConfig(configFile);
    for (const file of sqliteFiles([loaded.config.source.url, loaded.config.state])) rmSync(file, { force: true });

    say('1. Load the source of truth from a CSV');
    explain('The tenant reads its contacts from a SQL table. `import` fills the embedded SQLite table from a CSV.');
    expectExit(await cli('import', '--config', shown(configFile), shown(csvFile), '--replace'), 0, 'import');

    say('2. See what a sync would do (nothing is sent)');
    explain('`--dry-run` plans every provider against what was last delivered there: all creates the first time.');
    const firstPlan = await cli('sync', '--config', shown(configFile), '--dry-run');
    if (firstPlan !== 0 && firstPlan !== 3) throw new Error(`dry run exited ${firstPlan}`);

    say('3. Sync');
    explain('Each provider gets full batches at its documented rate; every batch is journaled before it is sent.');
    const firstSync = await cli('sync', '--config', shown(configFile));
    if (firstSync !== 0 && firstSync !== 3) throw new Error(`sync exited ${firstSync}`);

    say('4. Change a few contacts in the source');
    const rows = parse(readFileSync(csvFile), { columns: true, skip_empty_lines: true }) as Row[];
    if (rows.length < 5) throw new Error(`${shown(csvFile)} needs at least 5 rows for the demo`);
    // The edit gives a San Francisco zip, so it goes to a US contact (Twilio checks zips against the country).
    const edited = rows.find((r) => r.country === 'US') ?? rows[0]!;
    const [removed, moved, broken] = rows.filter((r) => r !== edited) as [Row, Row, Row];
    const changes = [
      `edit:         ${edited.id} gets a new name and zip`,
      `delete:       ${removed.id} is removed`,
      `phone change: ${moved.id} moves to +14155552671`,
      `invalid:      ${broken.id} gets the phone "555-0100" (not a valid number)`,
      'new:          demo-new-1 is added',
    ];
    explain(changes.map((c) => `  ${c}`).join('\n'));
    const changed = rows
      .filter((r) => r !== removed)
      .map((r) => (r === edited ? { ...r, name: `${r.name} (edited)`, zip: '94107' } : r === moved ? { ...r, phone: '+14155552671' } : r === broken ? { ...r, phone: '555-0100' } : r));
    changed.push({ ...Object.fromEntries(Object.keys(edited).map((k) => [k, ''])), id: 'demo-new-1', phone: '+14155552672', name: 'Nova Demo', country: 'US', zip: '94110' });
    const changedCsv = join(dirname(sqliteFiles([loaded.config.source.url])[0] ?? join(root, 'data/x')), 'demo-contacts-changed.csv');
    mkdirSync(dirname(changedCsv), { recursive: true });
    writeFileSync(changedCsv, csvText(changed));
    expectExit(await cli('import', '--config', shown(configFile), shown(changedCsv), '--replace'), 0, 'import');

    say('5. The plan now: only the changes');
    explain('Unchanged contacts are not sent again. Twilio cannot delete, so its deletes and old phones become orphans (reported, never dropped).');
    const secondPlan = await cli('sync', '--config', shown(configFile), '--dry-run');
    if (secondPlan !== 0 && secondPlan !== 3) throw new Error(`dry run exited ${secondPlan}`);

    say('6. Sync again');
    explain('Exit code 3 means "done, but some contacts were not sent": here the invalid number, listed with its reason.');
    const secondSync = await cli('sync', '--config', shown(configFile));
    if (secondSync !== 0 && secondSync !== 3) throw new Error(`sync exited ${secondSync}`);

    say('7. Status');
    expectExit(await cli('status', '--config', shown(configFile)), 0, 'status');

    say(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const sourceFile = sqliteFiles([loaded.config.source.url])[0];
    const config = shown(configFile);
    // Each command on a line of its own, after a label: test/cli/demo.test.ts runs them as printed.
    explain(
      [
        'The data is left in place. To look at it:',
        ...(sourceFile ? [`  source table:   sqlite3 ${shown(sourceFile)} 'select * from contacts'`] : []),
        `  sync state:     contact-sync status --config ${config} --json`,
        `  plan file:      contact-sync sync --config ${config} --dry-run --plan-out plan.jsonl`,
        '',
        `The sandbox stopped with this script. Without DEMO_* variables, ${config} points at one on`,
        'port 4010 with its test credentials: start it in another terminal, then sync by hand:',
        '  sandbox:        contact-sync sandbox --time-scale 60',
        `  sync:           contact-sync --time-scale 60 sync --config ${config}`,
        '',
        `To use real providers, copy ${config}, set each provider's baseUrl to the real API (or remove`,
        'it for the default), write each credential as ${VAR} without the sandbox default, and export',
        'the real credentials in those variables. Check a config, and schedule the tenants of a directory:',
        `  check:          contact-sync validate --config ${config}`,
        `  schedule:       contact-sync daemon --config ${shown(dirname(configFile))} --port 9464`,
      ].join('\n'),
    );
  } finally {
    await sandbox.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
