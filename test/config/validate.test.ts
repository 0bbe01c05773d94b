import { existsSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import { env, tempDir, writeConfig } from './helpers.js';

const providers = 'providers: [{ name: o, type: oliai, apiKey: "${OLIAI_API_KEY}" }]\n';

describe('validateConfig', () => {
  it("accepts a config whose own table has every mapped column, and says what it checked", async () => {
    const dir = tempDir('cs-validate-');
    const db = new SQLite(join(dir, 'crm.db'));
    db.exec("create table people (person_id text primary key, mobile text, name text); insert into people values ('p1', '+14155552671', 'Ann')");
    db.close();
    const file = writeConfig(dir, 't.yaml', `tenant: t\nschedule: "*/15 * * * *"\nsource: { url: "sqlite:crm.db", table: people, columns: { id: person_id, phone: mobile } }\n${providers}`);
    const result = await validateConfig(file, env);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.checks).toEqual([
      'schema: tenant "t", providers o (oliai)',
      'environment: OLIAI_API_KEY set',
      'schedule: "*/15 * * * *" in UTC',
      `source: sqlite:${join(dir, 'crm.db')}, table people (1 rows); columns id <- person_id, phone <- mobile, name, language: absent, read as null, country: absent, read as null, zip: absent, read as null, attributes: absent, read as null, updated_at: absent, read as null`,
      `state: sqlite:${join(dir, 'data/t.state.db')} does not exist yet; the first run creates it`,
    ]);
    expect(existsSync(join(dir, 'data'))).toBe(false); // validate creates nothing
  });

  it('names the missing column and the columns that exist', async () => {
    const dir = tempDir('cs-validate-');
    const db = new SQLite(join(dir, 'crm.db'));
    db.exec('create table people (person_id text primary key, mobile_number text)');
    db.close();
    const file = writeConfig(dir, 't.yaml', `tenant: t\nsource: { url: "sqlite:crm.db", table: people, columns: { id: person_id, phone: mobile, zip: postcode } }\n${providers}`);
    const result = await validateConfig(file, env);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      { file, path: 'source.columns.phone', message: 'column "mobile" for phone does not exist in table "people"; its columns are: person_id, mobile_number' },
      { file, path: 'source.columns.zip', message: 'column "postcode" for zip does not exist in table "people"; its columns are: person_id, mobile_number' },
    ]);
  });

  it('says when an unmapped required column or the table is missing', async () => {
    const dir = tempDir('cs-validate-');
    const db = new SQLite(join(dir, 'crm.db'));
    db.exec('create table people (id text primary key, mobile text)');
    db.close();
    const file = writeConfig(dir, 't.yaml', `tenant: t\nsource: { url: "sqlite:crm.db", table: people }\n${providers}`);
    expect((await validateConfig(file, env)).problems).toEqual([
      { file, path: 'source.table', message: 'column "phone" for phone does not exist in table "people" (map it with source.columns.phone); its columns are: id, mobile' },
    ]);
    const other = writeConfig(dir, 'u.yaml', `tenant: u\nsource: { url: "sqlite:crm.db", table: persons }\n${providers}`);
    expect((await validateConfig(other, env)).problems).toEqual([{ file: other, path: 'source.table', message: `table "persons" does not exist in sqlite:${join(dir, 'crm.db')}` }]);
  });

  it('accepts an embedded source that import has not created yet, but not a missing file of a user table', async () => {
    const dir = tempDir('cs-validate-');
    const embedded = writeConfig(dir, 'a.yaml', `tenant: a\nsource: { url: "sqlite:data/a.db" }\n${providers}`);
    const result = await validateConfig(embedded, env);
    expect(result.ok).toBe(true);
    expect(result.checks).toContain(`source: sqlite:${join(dir, 'data/a.db')} does not exist yet; \`contact-sync import\` creates it (with its contacts table)`);
    const own = writeConfig(dir, 'b.yaml', `tenant: b\nsource: { url: "sqlite:crm.db", table: people }\n${providers}`);
    expect((await validateConfig(own, env)).problems).toEqual([{ file: own, path: 'source.url', message: `no such database file: ${join(dir, 'crm.db')}` }]);
  });

  it('reports config errors, a bad schedule and an unreachable PostgreSQL', async () => {
    const dir = tempDir('cs-validate-');
    const missingEnv = writeConfig(dir, 'a.yaml', `tenant: a\nsource: { url: "sqlite:a.db" }\n${providers}`);
    expect((await validateConfig(missingEnv, {})).problems).toEqual([{ file: missingEnv, path: 'providers[0].apiKey', message: 'environment variable OLIAI_API_KEY is not set (the config reads it as ${OLIAI_API_KEY})' }]);

    const bad = writeConfig(dir, 'b.yaml', `tenant: b\nschedule: "every day"\nstate: "postgres://cs:hunter2@127.0.0.1:1/cs"\nsource: { url: "sqlite:b.db" }\n${providers}`);
    const result = await validateConfig(bad, env);
    expect(result.problems.map((p) => p.path)).toEqual(['schedule', 'state']);
    expect(result.problems[0]!.message).toMatch(/^not a valid cron expression "every day"/);
    expect(result.problems[1]!.message).toMatch(/^cannot use postgres:\/\/cs:\*\*\*@127\.0\.0\.1:1\/cs: .*ECONNREFUSED/);
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });
});
