import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDemoCsv } from '../../scripts/demo-contacts.js';
import { loadConfig } from '../../src/config/load.js';
import type { SourceContact } from '../../src/source/contact.js';
import { resolveDuplicatePhones } from '../../src/source/duplicates.js';
import { importCsv } from '../../src/source/import.js';
import { toContact } from '../../src/source/normalise.js';
import { openSource } from '../../src/source/reader.js';
import { tempDir, writeConfig } from '../config/helpers.js';

const root = join(import.meta.dirname, '../..');
const committed = join(root, 'config/demo/contacts.csv');

describe('the demo contacts', () => {
  it('are the committed CSV, regenerated identically from the seed', () => {
    expect(readFileSync(committed, 'utf8')).toBe(generateDemoCsv());
  });

  it('import cleanly and show every outcome: valid numbers of 8 countries, invalid ones, shared phones', async () => {
    const dir = tempDir('cs-demo-');
    const loaded = await loadConfig(writeConfig(dir, 'demo.yaml', 'tenant: demo\nsource: { url: "sqlite:demo.db", defaultCountry: US }\nproviders: [{ name: o, type: oliai, apiKey: k }]\n'), {});
    expect(await importCsv(loaded, committed)).toMatchObject({ rows: 3_000, inserted: 3_000, errors: 0, complete: true });

    const reader = openSource(loaded.config.source, loaded.baseDir);
    const rows: SourceContact[] = [];
    for await (const page of reader.pages()) rows.push(...page);
    await reader.close();

    const results = rows.map((row) => ({ row, result: toContact(row, 'US') }));
    const valid = results.flatMap(({ result }) => (result.ok ? [result.contact] : []));
    const invalid = results.flatMap(({ result }) => (result.ok ? [] : [result.invalid.code]));
    expect(new Set(valid.map((c) => c.phoneCountry))).toEqual(new Set(['US', 'GB', 'IN', 'DE', 'FR', 'BR', 'JP', 'MX']));
    expect(new Set(invalid)).toEqual(new Set(['invalid_phone', 'missing_phone', 'phone_extension']));
    expect(invalid.length).toBeGreaterThan(30);
    expect(invalid.length).toBeLessThan(150);
    const shared = resolveDuplicatePhones(valid.map((c) => ({ id: c.id, e164: c.phone, updatedAt: c.updatedAt })));
    expect(shared.size).toBeGreaterThanOrEqual(3);
    expect(rows.some((r) => /[\u0900-\u097F]/.test(r.name ?? ''))).toBe(true);
    expect(rows.some((r) => /[\u3040-\u30ff\u4e00-\u9fff]/.test(r.name ?? ''))).toBe(true);
    expect(rows.some((r) => r.name?.includes('Núñez'))).toBe(true);
    expect(rows[0]!.attributes).toHaveProperty('plan');
  });
});
