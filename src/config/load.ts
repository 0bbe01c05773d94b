/**
 * Loads one tenant config (YAML or JSON): parse, substitute `${VAR}`s, validate with the schema,
 * apply defaults. Every failure is a ConfigError whose issues name the file, the path inside it and
 * what was expected.
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { parseStoreUrl } from '../db/open.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { substituteEnv } from './env.js';
import { configFilesIn } from './files.js';
import { parseWithIssues } from './issues.js';
import { type TenantConfig, tenantConfigSchema } from './schema.js';

/** The config with every default applied; sqlite URLs are absolute (resolved against the config's directory). */
export type ResolvedTenantConfig = TenantConfig & { state: string };

export interface LoadedConfig {
  /** The config file, as it was named. */
  file: string;
  /** The config file's directory: relative sqlite paths were resolved against it. */
  baseDir: string;
  config: ResolvedTenantConfig;
  /**
   * For log redaction: values substituted from the environment, provider credentials (however they
   * were written) and database passwords.
   */
  secrets: string[];
  /** Path in the file (e.g. "providers[0].authToken") -> the variable its value came from. */
  secretVars: Record<string, string>;
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const raw = await readConfigFile(file);
  const substituted = substituteEnv(raw, env, file);
  const parsed = parseWithIssues(tenantConfigSchema, substituted.value, { file, secretVars: substituted.secretVars });
  // Schema complaints about a value whose variable is unset would only repeat the env issue.
  const envPaths = new Set(substituted.issues.map((i) => i.path));
  const issues = [...substituted.issues, ...(parsed.ok ? [] : parsed.issues.filter((i) => !envPaths.has(i.path)))];
  if (issues.length > 0 || !parsed.ok) throw new ConfigError(issues, substituted.missingVariable ? 'CONFIG_ENV_MISSING' : 'CONFIG_INVALID');

  const baseDir = dirname(resolve(file));
  const config = parsed.value;
  const resolved: ResolvedTenantConfig = {
    ...config,
    state: resolveStoreUrl(config.state ?? `sqlite:data/${config.tenant}.state.db`, baseDir),
    source: { ...config.source, url: resolveStoreUrl(config.source.url, baseDir) },
  };
  const secrets = [...new Set([...substituted.secrets, ...credentialsOf(resolved)])];
  return { file, baseDir, config: resolved, secrets, secretVars: substituted.secretVars };
}

/** Provider fields that hold a credential. The Twilio accountSid names an account: it is not one. */
const credentialFields = ['authToken', 'apiKey'] as const;

/** Credentials written literally in the file are as secret as those read from the environment. */
function credentialsOf(config: TenantConfig): string[] {
  const fields = config.providers.flatMap((provider) => credentialFields.map((field) => (provider as Partial<Record<(typeof credentialFields)[number], string>>)[field]));
  const passwords = [config.state, config.source.url].map((url) => (url?.startsWith('postgres') && URL.canParse(url) ? decodeURIComponent(new URL(url).password) : undefined));
  return [...fields, ...passwords].filter((value): value is string => value !== undefined && value !== '');
}

/**
 * Loads every config named (a directory means its *.yaml, *.yml and *.json files), reporting the
 * problems of all files at once, including one tenant configured in two files.
 */
export async function loadConfigs(paths: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig[]> {
  const files = await configFilesIn(paths);
  const loaded: LoadedConfig[] = [];
  const issues: ConfigIssue[] = [];
  let missingVariable = false;
  for (const file of files) {
    try {
      loaded.push(await loadConfig(file, env));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
      missingVariable ||= error.code === 'CONFIG_ENV_MISSING';
    }
  }
  const firstFile = new Map<string, string>();
  for (const { file, config } of loaded) {
    const other = firstFile.get(config.tenant);
    if (other === undefined) firstFile.set(config.tenant, file);
    else issues.push({ file, path: 'tenant', message: `tenant "${config.tenant}" is already configured in ${other}` });
  }
  if (issues.length > 0) throw new ConfigError(issues, missingVariable ? 'CONFIG_ENV_MISSING' : 'CONFIG_INVALID');
  return loaded;
}

/** `sqlite:data/x.db` -> `sqlite:/abs/dir/data/x.db`; PostgreSQL URLs and `sqlite::memory:` unchanged. */
function resolveStoreUrl(url: string, baseDir: string): string {
  const target = parseStoreUrl(url, baseDir);
  return target.dialect === 'sqlite' ? `sqlite:${target.path}` : url;
}

/** The file's content as plain data; JSON when the name ends in .json, YAML otherwise. */
async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a config file' : `cannot be read (${code ?? String(error)})`;
    throw new ConfigError([{ file, path: '', message }]);
  }
  const data = extname(file).toLowerCase() === '.json' ? parseJson(text, file) : parseYaml(text, file);
  if (data === null || data === undefined) throw new ConfigError([{ file, path: '', message: 'the file is empty: expected a mapping with tenant, source and providers' }]);
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError([{ file, path: '', message: 'expected a mapping with tenant, source and providers at the top level' }]);
  return data;
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const at = e.linePos?.[0];
        const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`;
        return { file, path: '', message: `invalid YAML${where}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` };
      }),
    );
  }
  return doc.toJS({ maxAliasCount: 100 });
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /at position (\d+)/.exec(message);
    let where = '';
    if (position !== null) {
      const before = text.slice(0, Number(position[1]));
      const line = before.split('\n').length;
      where = ` at line ${line}, column ${Number(position[1]) - before.lastIndexOf('\n')}`;
    }
    throw new ConfigError([{ file, path: '', message: `invalid JSON${where}: ${message.replace(/ in JSON at position \d+.*$/, '')}` }]);
  }
}
