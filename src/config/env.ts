/**
 * `${VAR}` substitution in a parsed config's string values (never in keys). `${VAR:-default}` uses
 * the default when VAR is unset or empty; `$${` writes a literal `${`. The values read from the
 * environment are secrets: they are returned for log redaction, and only the variable names are
 * kept per path.
 */
import type { ConfigIssue } from '../errors.js';
import { formatPath } from './issues.js';

const reference = /\$(\$)?\{([^}]*)\}/g;
const variableName = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export interface SubstitutedConfig {
  value: unknown;
  /** Distinct values taken from the environment. */
  secrets: string[];
  /** Formatted path -> the variable name(s) its value came from ("A, B" when several). */
  secretVars: Record<string, string>;
  /** Unset variables without a default, and malformed references. */
  issues: ConfigIssue[];
  /** True when one of `issues` is an unset variable. */
  missingVariable: boolean;
}

export function substituteEnv(tree: unknown, env: NodeJS.ProcessEnv, file: string): SubstitutedConfig {
  const secrets = new Set<string>();
  const secretVars: Record<string, string> = {};
  const issues: ConfigIssue[] = [];
  let missingVariable = false;

  const substitute = (text: string, path: PropertyKey[]): string => {
    if (!text.includes('${')) return text;
    const names: string[] = [];
    const out = text.replace(reference, (whole, escaped: string | undefined, body: string) => {
      if (escaped !== undefined) return whole.slice(1);
      const match = variableName.exec(body);
      if (match === null) {
        issues.push({ file, path: formatPath(path), message: `"\${${body}}" is not a variable reference: a name is letters, digits and _ (not starting with a digit); write $\${ for a literal \${` });
        return whole;
      }
      const [, name, fallback] = match as unknown as [string, string, string | undefined];
      const value = env[name];
      if (value !== undefined && (value !== '' || fallback === undefined)) {
        names.push(name);
        if (value !== '') secrets.add(value);
        return value;
      }
      if (fallback !== undefined) return fallback;
      missingVariable = true;
      issues.push({ file, path: formatPath(path), message: `environment variable ${name} is not set (the config reads it as \${${name}})` });
      return whole;
    });
    if (names.length > 0) secretVars[formatPath(path)] = [...new Set(names)].join(', ');
    return out;
  };

  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === 'string') return substitute(node, path);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, walk(value, [...path, key])]));
    }
    return node;
  };

  const value = walk(tree, []);
  return { value, secrets: [...secrets], secretVars, issues, missingVariable };
}
