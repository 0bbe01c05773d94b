/** `npm run demo` works: the demo script runs the real CLI end to end against its own sandbox. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasEscapeCodes, root, tempDir } from './helpers.js';

const dir = tempDir('cs-demo-');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo', () => {
  it('imports, plans, syncs, edits, syncs again and shows the status, in a copy of the demo tenant', () => {
    // A copy in the same layout, so the test never touches a developer's data/ (the config's
    // sqlite paths, ../../data/…, are relative to it).
    mkdirSync(join(dir, 'config/tenants'), { recursive: true });
    const config = join(dir, 'config/tenants/demo.yaml');
    const csv = join(dir, 'contacts.csv');
    copyFileSync(join(root, 'config/tenants/demo.yaml'), config);
    copyFileSync(join(root, 'config/demo/contacts.csv'), csv);
    const result = spawnSync(process.execPath, [join(root, 'scripts/demo.js'), '--config', config, '--csv', csv], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr + result.stdout).toBe(0);
    const out = result.stdout;
    for (const step of ['$ contact-sync import', '$ contact-sync sync --config', '--dry-run', '$ contact-sync status', 'Example changes', 'Status:', 'Done in']) {
      expect(out).toContain(step);
    }
    expect(out).toMatch(/invalid/);
    expect(hasEscapeCodes(out)).toBe(false);
    expect(readFileSync(config, 'utf8')).toContain('DEMO_');
    // The data is left in place for inspection.
    expect(existsSync(join(dir, 'data/demo.db'))).toBe(true);
    expect(existsSync(join(dir, 'data/demo.state.db'))).toBe(true);
  });
});
