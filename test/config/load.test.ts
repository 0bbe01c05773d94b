import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, loadConfigs } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { configError, env, sid, tempDir, validYaml, writeConfig } from './helpers.js';

function onlyIssue(error: ConfigError) {
  expect(error.issues).toHaveLength(1);
  return error.issues[0]!;
}

describe('loadConfig', () => {
  it('loads YAML, applies defaults and resolves sqlite paths against the config directory', async () => {
    const dir = tempDir();
    const file = writeConfig(dir, 'acme.yaml', validYaml);
    const loaded = await loadConfig(file, env);
    expect(loaded.file).toBe(file);
    expect(loaded.baseDir).toBe(dir);
    expect(loaded.config.state).toBe(`sqlite:${join(dir, 'data/acme.state.db')}`);
    expect(loaded.config.source).toEqual({ url: `sqlite:${join(dir, 'data/acme.db')}`, table: 'contacts', columns: {}, defaultCountry: 'US' });
    expect(loaded.config.safety).toEqual({ maxDeletePercent: 10, minSourcePercent: 50 });
    expect(loaded.config.providers[0]).toMatchObject({ type: 'twilio', baseUrl: 'https://accounts.twilio.com', accountSid: sid, authToken: 'tw-token-secret' });
    expect(loaded.config.providers[1]).toMatchObject({ type: 'trackly', useJourneys: false });
    expect(new Set(loaded.secrets)).toEqual(new Set(Object.values(env)));
    expect(loaded.secretVars).toEqual({
      'providers[0].accountSid': 'TWILIO_ACCOUNT_SID',
      'providers[0].authToken': 'TWILIO_AUTH_TOKEN',
      'providers[1].apiKey': 'TRACKLY_API_KEY',
      'providers[2].apiKey': 'OLIAI_API_KEY',
    });
  });

  it('loads JSON with a $schema key and keeps PostgreSQL URLs as written', async () => {
    const dir = tempDir();
    const file = writeConfig(
      dir,
      'acme.json',
      JSON.stringify({
        $schema: '../tenant.schema.json',
        tenant: 'acme',
        state: 'postgres://cs@db.internal:5432/cs',
        source: { url: 'sqlite:/var/lib/cs/acme.db', table: 'people', columns: { phone: 'mobile' } },
        providers: [{ name: 'oliai', type: 'oliai', apiKey: '${OLIAI_API_KEY}' }],
      }),
    );
    const loaded = await loadConfig(file, env);
    expect(loaded.config.state).toBe('postgres://cs@db.internal:5432/cs');
    expect(loaded.config.source).toMatchObject({ url: 'sqlite:/var/lib/cs/acme.db', table: 'people', columns: { phone: 'mobile' } });
  });

  it('names a missing environment variable, the file and the path', async () => {
    const file = writeConfig(tempDir(), 'acme.yaml', validYaml);
    const { TWILIO_AUTH_TOKEN: _dropped, ...partial } = env;
    const error = await configError(file, partial);
    expect(error.code).toBe('CONFIG_ENV_MISSING');
    expect(onlyIssue(error)).toEqual({ file, path: 'providers[0].authToken', message: 'environment variable TWILIO_AUTH_TOKEN is not set (the config reads it as ${TWILIO_AUTH_TOKEN})' });
    expect(error.message).toContain(`${file} at providers[0].authToken: environment variable TWILIO_AUTH_TOKEN is not set`);
  });

  it('uses ${VAR:-default} when the variable is unset or empty, and reads $${ as a literal', async () => {
    const file = writeConfig(
      tempDir(),
      'acme.yaml',
      validYaml.replace('baseUrl: http://127.0.0.1:4010/oliai/v1', 'baseUrl: ${OLIAI_URL:-http://127.0.0.1:4010/oliai/v1}').replace('authToken: ${TWILIO_AUTH_TOKEN}', () => 'authToken: tok$${literal}'),
    );
    const loaded = await loadConfig(file, { ...env, OLIAI_URL: '' });
    expect(loaded.config.providers[2]!.baseUrl).toBe('http://127.0.0.1:4010/oliai/v1');
    expect(loaded.config.providers[0]).toMatchObject({ authToken: 'tok${literal}' });
    expect(loaded.secretVars['providers[2].baseUrl']).toBeUndefined();
  });

  it('refuses a plain-http baseUrl whose host is not loopback', async () => {
    const file = writeConfig(tempDir(), 'acme.yaml', validYaml.replace('http://127.0.0.1:4010/oliai/v1', 'http://api.oliai.in/v1'));
    const issue = onlyIssue(await configError(file));
    expect(issue.path).toBe('providers[2].baseUrl');
    expect(issue.message).toMatch(/plain http:\/\/ is refused .*api\.oliai\.in.*https:\/\//);
  });

  it('says what a tenant name must look like', async () => {
    const file = writeConfig(tempDir(), 'acme.yaml', validYaml.replace('tenant: acme', 'tenant: Acme Corp'));
    expect(onlyIssue(await configError(file))).toEqual({ file, path: 'tenant', message: 'expected lower-case letters, digits and "-", got "Acme Corp"' });
  });

  it('lists the provider types when one is unknown', async () => {
    const file = writeConfig(tempDir(), 'acme.yaml', validYaml.replace('type: twilio', 'type: twillio'));
    expect(onlyIssue(await configError(file))).toEqual({ file, path: 'providers[0].type', message: 'expected one of twilio, trackly, oliai, got "twillio"' });
  });

  it('says a provider type is missing', async () => {
    const file = writeConfig(tempDir(), 'acme.yaml', validYaml.replace('    type: oliai\n', ''));
    expect(onlyIssue(await configError(file))).toEqual({ file, path: 'providers[2].type', message: 'missing: expected one of twilio, trackly, oliai' });
  });

  it('refuses two providers with one name', async () => {
    const file = writeConfig(tempDir(), 'acme.yaml', validYaml.replace('name: trackly', 'name: twilio'));
    expect(onlyIssue(await configError(file))).toEqual({ file, path: 'providers[1].name', message: 'duplicate provider name "twilio"' });
  });

  it('explains a bad rateLimit: a non-positive count and an unknown key', async () => {
    const file = writeConfig(tempDir(), 'acme.yaml', validYaml.replace('    type: oliai\n', '    type: oliai\n    rateLimit: { requests: 0, perSecond: 60 }\n'));
    const error = await configError(file);
    expect(error.issues).toEqual([
      { file, path: 'providers[2].rateLimit.requests', message: 'expected a number > 0, got 0' },
      { file, path: 'providers[2].rateLimit.perSeconds', message: 'missing: expected a number' },
      { file, path: 'providers[2].rateLimit.perSecond', message: 'unknown key "perSecond" (did you mean "perSeconds"?); expected one of requests, perSeconds' },
    ]);
  });

  it("refuses a batchSize above the provider's maximum, naming that maximum", async () => {
    const file = writeConfig(
      tempDir(),
      'acme.yaml',
      validYaml.replace('    type: twilio\n', '    type: twilio\n    batchSize: 26\n').replace('    type: oliai\n', '    type: oliai\n    batchSize: 1000\n'),
    );
    const error = await configError(file);
    expect(error.code).toBe('CONFIG_INVALID');
    // 1,000 is OliAI's maximum, so only Twilio's 26 is refused.
    expect(onlyIssue(error)).toEqual({ file, path: 'providers[0].batchSize', message: "expected at most 25 (Twilio's maximum contacts per request), got 26" });
    expect(error.message).toContain(`${file} at providers[0].batchSize: expected at most 25`);

    const trackly = writeConfig(tempDir(), 'acme.yaml', validYaml.replace('    type: trackly\n', '    type: trackly\n    batchSize: 1001\n'));
    expect(onlyIssue(await configError(trackly))).toEqual({ file: trackly, path: 'providers[1].batchSize', message: "expected at most 1,000 (Trackly's maximum contacts per request), got 1001" });
  });

  it('names unknown keys with the keys allowed there', async () => {
    const file = writeConfig(tempDir(), 'acme.yaml', validYaml.replace('  defaultCountry: US', '  defaultCountry: US\n  colums: { phone: mobile }').replace('tenant: acme', 'tenant: acme\nschedul: "* * * * *"'));
    const error = await configError(file);
    expect(error.issues).toEqual([
      { file, path: 'source.colums', message: 'unknown key "colums" (did you mean "columns"?); expected one of url, table, columns, defaultCountry' },
      { file, path: 'schedul', message: 'unknown key "schedul" (did you mean "schedule"?); expected one of tenant, state, source, schedule, timezone, safety, providers' },
    ]);
  });

  it('names an unknown canonical column in source.columns', async () => {
    const file = writeConfig(tempDir(), 'acme.yaml', validYaml.replace('  defaultCountry: US', '  defaultCountry: US\n  columns: { mobile: cell }'));
    const issue = onlyIssue(await configError(file));
    expect(issue.path).toBe('source.columns.mobile');
    expect(issue.message).toBe('unknown key "mobile"; expected one of id, phone, name, language, country, zip, attributes, updated_at');
  });

  it('says which field is missing and what type was expected', async () => {
    const file = writeConfig(tempDir(), 'acme.yaml', validYaml.replace('    listNumber: "+18005551234"\n', '').replace('  defaultCountry: US', '  defaultCountry: usa'));
    expect((await configError(file)).issues).toEqual([
      { file, path: 'source.defaultCountry', message: 'expected an ISO 3166-1 alpha-2 code such as "US", got "usa"' },
      { file, path: 'providers[1].listNumber', message: 'missing: expected a string' },
    ]);
  });

  it('never echoes a value that came from the environment', async () => {
    const file = writeConfig(tempDir(), 'acme.yaml', validYaml);
    const error = await configError(file, { ...env, TWILIO_ACCOUNT_SID: 'not-a-sid-but-secret' });
    const issue = onlyIssue(error);
    expect(issue.path).toBe('providers[0].accountSid');
    expect(issue.message).toBe('expected an Account SID: "AC" followed by 32 letters or digits (the value of ${TWILIO_ACCOUNT_SID} does not fit)');
    expect(error.message).not.toContain('not-a-sid-but-secret');
  });

  it('reports YAML and JSON syntax errors with their line', async () => {
    const dir = tempDir();
    const yamlFile = writeConfig(dir, 'bad.yaml', 'tenant: acme\nsource:\n  url: "sqlite:x\n');
    const yamlIssue = onlyIssue(await configError(yamlFile));
    expect(yamlIssue.message).toMatch(/^invalid YAML at line \d, column \d+: Missing closing "quote/);
    const jsonFile = writeConfig(dir, 'bad.json', '{\n  "tenant": "acme",\n}\n');
    const jsonIssue = onlyIssue(await configError(jsonFile));
    expect(jsonIssue.message).toMatch(/^invalid JSON at line 3, column 1: /);
    const dupFile = writeConfig(dir, 'dup.yaml', 'tenant: a\ntenant: b\n');
    expect(onlyIssue(await configError(dupFile)).message).toMatch(/^invalid YAML at line 2, column 1: .*unique/i);
  });

  it('reports a missing or empty file', async () => {
    const dir = tempDir();
    expect(onlyIssue(await configError(join(dir, 'nope.yaml')))).toEqual({ file: join(dir, 'nope.yaml'), path: '', message: 'no such file' });
    const empty = writeConfig(dir, 'empty.yaml', '# nothing\n');
    expect(onlyIssue(await configError(empty)).message).toMatch(/^the file is empty/);
  });
});

describe('loadConfigs', () => {
  it('expands a directory to its config files and reports a tenant configured twice', async () => {
    const dir = tempDir();
    writeConfig(dir, 'a.yaml', validYaml);
    writeConfig(dir, 'b.yml', validYaml.replace('tenant: acme', 'tenant: beta'));
    writeConfig(dir, 'notes.txt', 'not a config');
    mkdirSync(join(dir, 'examples'));
    writeConfig(join(dir, 'examples'), 'c.yaml', 'broken: [');
    const loaded = await loadConfigs([dir], env);
    expect(loaded.map((l) => l.config.tenant)).toEqual(['acme', 'beta']);

    writeConfig(dir, 'c.json', JSON.stringify({ tenant: 'acme', source: { url: 'sqlite:x.db' }, providers: [{ name: 'o', type: 'oliai', apiKey: 'k' }] }));
    const error = await loadConfigs([dir], env).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([{ file: join(dir, 'c.json'), path: 'tenant', message: `tenant "acme" is already configured in ${join(dir, 'a.yaml')}` }]);
  });
});

describe('the committed configs', () => {
  const root = join(import.meta.dirname, '../..');

  it('load: the demo tenant with the sandbox defaults, the JSON example with its secrets only as variable names', async () => {
    const demo = await loadConfig(join(root, 'config/tenants/demo.yaml'), {
      DEMO_TWILIO_ACCOUNT_SID: sid,
      DEMO_TWILIO_AUTH_TOKEN: 'sandbox_auth_token',
      DEMO_TRACKLY_API_KEY: 'trk_sandbox_key',
      DEMO_OLIAI_API_KEY: 'sk_live_sandbox_key',
    });
    expect(demo.config.source.url).toBe(`sqlite:${join(root, 'data/demo.db')}`);
    expect(demo.config.state).toBe(`sqlite:${join(root, 'data/demo.state.db')}`);
    expect(demo.config.providers.map((p) => p.baseUrl)).toEqual(['http://127.0.0.1:4010/twilio', 'http://127.0.0.1:4010/trackly/api/v2', 'http://127.0.0.1:4010/oliai/v1']);

    const example = await loadConfig(join(root, 'config/tenants/examples/acme.json'), {
      ACME_STATE_PASSWORD: 'state-pw',
      ACME_CRM_PASSWORD: 'crm-pw',
      ACME_TWILIO_ACCOUNT_SID: sid,
      ACME_TWILIO_AUTH_TOKEN: 'a',
      ACME_TRACKLY_API_KEY: 'b',
      ACME_OLIAI_API_KEY: 'c',
    });
    expect(example.config.source.columns.phone).toBe('mobile_number');
    expect(example.secretVars).toMatchObject({ state: 'ACME_STATE_PASSWORD', 'source.url': 'ACME_CRM_PASSWORD' });
    expect(example.secrets).toContain('crm-pw');
  });
});
