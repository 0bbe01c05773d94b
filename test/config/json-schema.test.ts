import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { jsonSchemaPath, tenantJsonSchemaText } from '../../src/config/json-schema.js';

const root = join(import.meta.dirname, '../..');

/** The committed JSON Schema compiled by an independent validator, as an editor would use it. */
function compiledSchema() {
  const ajv = new Ajv({ allErrors: true, strict: true });
  // ajv ships no formats; "uri" (zod's z.url()) is the only one the schema uses.
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  return ajv.compile(JSON.parse(readFileSync(join(root, jsonSchemaPath), 'utf8')) as object);
}

/** A config file as written (before `${VAR}` substitution: the schema accepts references). */
function configFile(path: string): unknown {
  const text = readFileSync(join(root, path), 'utf8');
  return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
}

const where = (errors: readonly ErrorObject[] | null | undefined) => (errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`);

describe('config/tenant.schema.json', () => {
  it('is the schema generated from src/config/schema.ts (run `npm run schema` after changing it)', () => {
    expect(readFileSync(join(root, jsonSchemaPath), 'utf8')).toBe(tenantJsonSchemaText());
  });

  it('describes the provider types and refuses unknown keys', () => {
    const schema = JSON.parse(tenantJsonSchemaText()) as { required: string[]; additionalProperties: boolean; properties: { providers: { items: { oneOf: { properties: { type: { const: string } } }[] } } } };
    expect(schema.required).toEqual(['tenant', 'source', 'providers']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.providers.items.oneOf.map((o) => o.properties.type.const)).toEqual(['twilio', 'trackly', 'oliai']);
  });

  it.each(['config/tenants/demo.yaml', 'config/tenants/examples/acme.json'])('accepts the example %s (checked by ajv)', (path) => {
    const validate = compiledSchema();
    expect(validate(configFile(path)), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('refuses a broken config, pointing at each mistake', () => {
    const validate = compiledSchema();
    const broken = structuredClone(configFile('config/tenants/examples/acme.json')) as { tenant: string; source: Record<string, unknown>; providers: Record<string, unknown>[] };
    broken.tenant = 'Acme Corp';
    broken.source.colums = {};
    broken.providers[0]!.batchSize = 26;
    broken.providers[1]!.baseUrl = 'not a url';
    expect(validate(broken)).toBe(false);
    expect(where(validate.errors)).toEqual(
      expect.arrayContaining(['/tenant pattern', '/source additionalProperties', '/providers/0/batchSize maximum', '/providers/1/baseUrl format']),
    );
  });
});
