/** The tenant config files named: a directory means its *.yaml, *.yml and *.json files (not its subdirectories). */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

const configExtensions = /\.(ya?ml|json)$/i;

export async function configFilesIn(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) throw new ConfigError([{ file: path, path: '', message: 'no such file or directory' }]);
    if (!info.isDirectory()) {
      files.push(resolve(path));
      continue;
    }
    const entries = (await readdir(path, { withFileTypes: true })).filter((e) => e.isFile() && configExtensions.test(e.name)).map((e) => e.name);
    files.push(...entries.sort().map((name) => resolve(join(path, name))));
  }
  const unique = [...new Set(files)];
  if (unique.length === 0) throw new ConfigError(paths.map((file) => ({ file, path: '', message: 'no tenant config (*.yaml, *.yml, *.json) found' })));
  return unique;
}
