import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemaPath, tenantJsonSchemaText } from '../../src/config/json-schema.js';

const root = join(import.meta.dirname, '../..');

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
});
