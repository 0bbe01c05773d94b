/**
 * `validate`: checks a config and what it refers to, and says exactly what is wrong: the schema,
 * the environment variables, the schedule, the source store, its table and every mapped column,
 * and the state store. It only reads: no file or table is created.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { sql } from 'kysely';
import { scheduleOf } from '../daemon/schedule.js';
import { maskUrl, openStore, parseStoreUrl, type Store } from '../db/open.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { isEmbeddedDefault, planColumns, tableColumns } from '../source/table.js';
import { type LoadedConfig, loadConfig } from './load.js';

export interface ValidationResult {
  ok: boolean;
  problems: ConfigIssue[];
  /** What was checked and found right, one line each. */
  checks: string[];
}

/** How long a database may take to answer before it counts as unreachable. */
const connectTimeoutMs = 10_000;

export async function validateConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ValidationResult> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(file, env);
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, problems: [...error.issues], checks: [] };
    throw error;
  }
  const problems: ConfigIssue[] = [];
  const checks: string[] = [];
  const problem = (path: string, message: string): void => void problems.push({ file, path, message });
  const { config } = loaded;

  checks.push(`schema: tenant "${config.tenant}", providers ${config.providers.map((p) => `${p.name} (${p.type})`).join(', ')}`);
  const variables = [...new Set(Object.values(loaded.secretVars).flatMap((v) => v.split(', ')))];
  if (variables.length > 0) checks.push(`environment: ${variables.join(', ')} set`);

  if (config.schedule === undefined) {
    checks.push('schedule: none (one-shot commands work; the daemon needs one)');
  } else {
    try {
      const schedule = scheduleOf(loaded);
      checks.push(`schedule: "${schedule.expression}" in ${schedule.timezone}`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.issues);
    }
  }

  await checkSource(loaded, problem, checks);
  await checkState(loaded, problem, checks);
  return { ok: problems.length === 0, problems, checks };
}

type Problem = (path: string, message: string) => void;

async function checkSource(loaded: LoadedConfig, problem: Problem, checks: string[]): Promise<void> {
  const { source } = loaded.config;
  const target = parseStoreUrl(source.url, loaded.baseDir);
  if (target.dialect === 'sqlite' && target.path !== ':memory:' && !existsSync(target.path)) {
    if (isEmbeddedDefault(source)) checks.push(`source: ${source.url} does not exist yet; \`contact-sync import\` creates it (with its contacts table)`);
    else problem('source.url', `no such database file: ${target.path}`);
    return;
  }
  await withStore(source.url, loaded.baseDir, 'source.url', problem, async (store) => {
    const columns = await tableColumns(store, source.table);
    if (columns === undefined) {
      if (isEmbeddedDefault(source) && store.dialect === 'sqlite') checks.push(`source: ${store.displayUrl} has no contacts table yet; \`contact-sync import\` creates it`);
      else problem('source.table', `table "${source.table}" does not exist in ${store.displayUrl}`);
      return;
    }
    const plan = planColumns(source, columns);
    for (const p of plan.problems) problem(p.explicit ? `source.columns.${p.canonical}` : 'source.table', p.message);
    if (plan.problems.length > 0) return;
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(source.table)}`.execute(store.db);
    const mapped = Object.entries(plan.columns).map(([canonical, column]) => (column === null ? `${canonical}: absent, read as null` : column === canonical ? canonical : `${canonical} <- ${column}`));
    checks.push(`source: ${store.displayUrl}, table ${source.table} (${Number(rows[0]?.n ?? 0)} rows); columns ${mapped.join(', ')}`);
  });
}

async function checkState(loaded: LoadedConfig, problem: Problem, checks: string[]): Promise<void> {
  const url = loaded.config.state;
  const target = parseStoreUrl(url, loaded.baseDir);
  if (target.dialect === 'sqlite' && target.path !== ':memory:' && !existsSync(target.path)) {
    const dir = nearestExisting(dirname(target.path));
    if (!statSync(dir).isDirectory()) problem('state', `cannot create ${target.path}: ${dir} is not a directory`);
    else checks.push(`state: ${url} does not exist yet; the first run creates it`);
    return;
  }
  await withStore(url, loaded.baseDir, 'state', problem, async (store) => {
    await sql`select 1`.execute(store.db);
    checks.push(`state: ${store.displayUrl} opens`);
  });
}

/** Runs `use` on the store, turning a failure to connect (or a too-slow answer) into a problem at `path`. */
async function withStore(url: string, baseDir: string, path: string, problem: Problem, use: (store: Store<unknown>) => Promise<void>): Promise<void> {
  let store: Store<unknown>;
  try {
    store = openStore<unknown>(url, { baseDir, poolSize: 1 });
  } catch (error) {
    problem(path, `cannot open ${maskUrl(url)}: ${messageOf(error)}`);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs / 1000} s`)), connectTimeoutMs);
    });
    await Promise.race([use(store), timeout]);
  } catch (error) {
    problem(path, `cannot use ${store.displayUrl}: ${messageOf(error)}`);
  } finally {
    clearTimeout(timer);
    await store.close().catch(() => undefined);
  }
}

function nearestExisting(dir: string): string {
  let current = dir;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message || (error as NodeJS.ErrnoException).code || error.name : String(error);
  return maskUrl(text);
}
