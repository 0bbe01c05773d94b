/**
 * Writes the demo tenant's contacts CSV (deterministic: the same seed gives the same file).
 * Run after `npm run build`: node dist/scripts/generate-demo-csv.js [--rows N] [--seed S] [--out FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateDemoCsv } from './demo-contacts.js';

const root = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '3000' },
    seed: { type: 'string', default: '20240601' },
    out: { type: 'string', default: resolve(root, 'config/demo/contacts.csv') },
  },
});
const out = resolve(values.out!);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, generateDemoCsv({ rows: Number(values.rows), seed: Number(values.seed) }));
process.stdout.write(`wrote ${out}\n`);
