/** Where the benchmarks keep their outputs: bench/out/ of the repository (gitignored). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the nearest directory above this module with a package.json (works from bench/ and dist/bench/). */
function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
    dir = parent;
  }
  return dir;
}

export const benchOut = join(repoRoot(), 'bench', 'out');
