/** `npm run schema`: writes config/tenant.schema.json from the zod schema (commit the result). */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { jsonSchemaPath, tenantJsonSchemaText } from './json-schema.js';

/** The repository root: the nearest directory above this module holding package.json (works from src/ and dist/). */
function repositoryRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    if (dirname(dir) === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
    dir = dirname(dir);
  }
  return dir;
}

const target = join(repositoryRoot(), jsonSchemaPath);
writeFileSync(target, tenantJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
