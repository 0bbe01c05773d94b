/**
 * Builds dist/ once per test run when any source is newer than the CLI entry point, so tests that
 * run the real binary (bin/contact-sync.js -> dist/src/cli/main.js) test the current code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const entry = join(root, 'dist/src/cli/main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function setup(): void {
  const sources = ['src', 'migrations', 'scripts'].map((d) => join(root, d)).filter(existsSync);
  const built = existsSync(entry) ? statSync(entry).mtimeMs : 0;
  if (built >= Math.max(...sources.map(newestMtime))) return;
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
  } catch (error) {
    // tsc still emits on type errors; only a missing entry point stops the run.
    if (!existsSync(entry)) throw new Error(`building dist failed:\n${String((error as { stdout?: Buffer }).stdout ?? error)}`);
  }
}
