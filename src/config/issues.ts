/**
 * Turns zod issues into ConfigIssues a person can act on: the file, the path inside it written
 * as in the file (`providers[1].apiKey`), and what was expected instead of what was found.
 * Values that came from an environment variable are never echoed, only the variable's name.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../errors.js';

type Path = readonly PropertyKey[];

/** `providers[1].rateLimit.requests`: the path as a person reads it in the file. */
export function formatPath(path: Path): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export interface IssueContext {
  file: string;
  /** Path (formatted) -> name of the variable its value came from. */
  secretVars: Readonly<Record<string, string>>;
}

/**
 * Parses `input` with `schema`; on failure returns the human issues. Messages the schema states
 * itself ("an ISO 3166-1 alpha-2 code such as "US"") are phrases of what is expected; zod's own
 * defaults are replaced by ours through a per-parse error map, and those we recognise as ours.
 */
export function parseWithIssues<S extends z.ZodType>(
  schema: S,
  input: unknown,
  context: IssueContext,
): { ok: true; value: z.output<S> } | { ok: false; issues: ConfigIssue[] } {
  const ours = new Set<string>();
  const result = schema.safeParse(input, {
    reportInput: true,
    error: (issue) => {
      const message = defaultMessage(issue as z.core.$ZodIssue, schema, input, context);
      ours.add(message);
      return message;
    },
  });
  if (result.success) return { ok: true, value: result.data };
  const issues: ConfigIssue[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // One issue per unknown key, at the key itself, so each names exactly what to fix.
      for (const key of issue.keys) issues.push({ file: context.file, path: formatPath([...issue.path, key]), message: unknownKeyMessage(key, schema, issue.path, input) });
      continue;
    }
    const path = formatPath(issue.path);
    const message = ours.has(issue.message) || issue.code === 'custom' ? issue.message : `expected ${issue.message}${got(issue, path, context)}`;
    issues.push({ file: context.file, path, message });
  }
  return { ok: false, issues: dedupe(issues) };
}

/** Our wording for an issue the schema gives no message of its own. */
function defaultMessage(issue: z.core.$ZodIssue, root: z.ZodType, input: unknown, context: IssueContext): string {
  const path = formatPath(issue.path ?? []);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `missing: expected ${noun(issue.expected)}`;
      return `expected ${noun(issue.expected)}${got(issue, path, context)}`;
    case 'too_small':
    case 'too_big':
      return `expected ${bound(issue)}${got(issue, path, context)}`;
    case 'invalid_format':
      if (issue.format === 'url') return `expected a URL such as "https://api.example.com"${got(issue, path, context)}`;
      if (issue.format === 'regex' && 'pattern' in issue) return `expected text matching ${String(issue.pattern)}${got(issue, path, context)}`;
      return `expected ${issue.format === 'email' ? 'an' : 'a'} ${issue.format}${got(issue, path, context)}`;
    case 'invalid_value':
      return `expected ${oneOf(issue.values)}${got(issue, path, context)}`;
    case 'invalid_union': {
      if ('discriminator' in issue && typeof issue.discriminator === 'string') {
        const options = discriminatorOptions(root, issue.path ?? [], input);
        const value = valueAt(input, issue.path ?? []);
        const expected = options.length > 0 ? `one of ${options.join(', ')}` : 'a known value';
        return value === undefined ? `missing: expected ${expected}` : `expected ${expected}${got(issue, path, context, value)}`;
      }
      return `does not match any allowed form${got(issue, path, context)}`;
    }
    case 'not_multiple_of':
      return `expected a multiple of ${String(issue.divisor)}${got(issue, path, context)}`;
    case 'invalid_key':
      return `has an invalid key${got(issue, path, context)}`;
    case 'invalid_element':
      return `has an invalid element${got(issue, path, context)}`;
    default:
      return `is not valid${got(issue, path, context)}`;
  }
}

function noun(type: string): string {
  switch (type) {
    case 'object':
      return 'a mapping (key: value)';
    case 'array':
      return 'a list';
    case 'boolean':
      return 'true or false';
    case 'int':
      return 'a whole number';
    default:
      return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
  }
}

function bound(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum);
  switch (issue.origin) {
    case 'string':
      if (small && limit === 1) return 'a non-empty string';
      return `a string of ${small ? 'at least' : 'at most'} ${limit} characters`;
    case 'array':
    case 'set':
      return `${small ? 'at least' : 'at most'} ${limit} item${limit === 1 ? '' : 's'}`;
    default: {
      const strict = issue.inclusive === false;
      const op = small ? (strict ? '>' : '>=') : strict ? '<' : '<=';
      // zod writes whole-number bounds as safe-integer limits; say so plainly.
      if (!small && limit === Number.MAX_SAFE_INTEGER) return 'a smaller number';
      return `a number ${op} ${limit}`;
    }
  }
}

function oneOf(values: readonly unknown[]): string {
  const shown = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return shown.length === 1 ? `"${shown[0]}"` : `one of ${shown.join(', ')}`;
}

/** Keys whose values are credentials: never echoed even when written literally in the file. */
const credentialKey = /(token|key|secret|password|sid)$/i;

/** `, got "Bad_Name"` (or `, got the value of ${VAR}` for a substituted value). */
function got(issue: { input?: unknown }, path: string, context: IssueContext, value: unknown = issue.input): string {
  if (value === undefined) return '';
  const variable = context.secretVars[path];
  if (variable !== undefined) return ` (the value of \${${variable}} does not fit)`;
  if (credentialKey.test(path)) return '';
  return `, got ${describe(value)}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

function unknownKeyMessage(key: string, root: z.ZodType, path: Path, input: unknown): string {
  const allowed = keysAt(root, path, input);
  if (allowed.length === 0) return `unknown key "${key}"`;
  const near = closest(key, allowed);
  return `unknown key "${key}"${near === undefined ? '' : ` (did you mean "${near}"?)`}; expected one of ${allowed.join(', ')}`;
}

function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3; // farther than 2 edits is no longer a typo
  for (const candidate of candidates) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

type Def = { type: string; [key: string]: unknown };
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** Strips the wrappers that do not change which keys a value may have. */
function unwrap(schema: unknown): unknown {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault' || def.type === 'readonly') current = def.innerType;
    else if (def.type === 'pipe') current = def.in;
    else return current;
  }
}

/**
 * The schema that applies at `path` of `input`: discriminated unions on the way are resolved by the
 * input's discriminator, and the last one too unless `resolveLast` is false.
 */
function schemaAt(root: unknown, path: Path, input: unknown, resolveLast = true): unknown {
  let schema: unknown = unwrap(root);
  let value = input;
  for (const key of path) {
    schema = resolveUnion(schema, value);
    if (schema === undefined) return undefined;
    const def = defOf(schema);
    if (def.type === 'object') schema = (def.shape as Record<string, unknown>)[String(key)];
    else if (def.type === 'array') schema = def.element;
    else if (def.type === 'record') schema = def.valueType;
    else return undefined;
    if (schema === undefined) return undefined;
    schema = unwrap(schema);
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return resolveLast ? resolveUnion(schema, value) : schema;
}

function resolveUnion(schema: unknown, value: unknown): unknown {
  const def = defOf(schema);
  if (def.type !== 'union' || typeof def.discriminator !== 'string') return schema;
  const tag = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[def.discriminator] : undefined;
  return (def.options as unknown[]).find((option) => literalOf(option, def.discriminator as string) === tag);
}

function literalOf(option: unknown, discriminator: string): unknown {
  const field = (defOf(unwrap(option)).shape as Record<string, unknown>)[discriminator];
  const values = field === undefined ? [] : (defOf(unwrap(field)).values as unknown[] | undefined) ?? [];
  return values[0];
}

/** The keys an object (or an enum-keyed record) at `path` accepts. */
function keysAt(root: z.ZodType, path: Path, input: unknown): string[] {
  const schema = schemaAt(root, path, input);
  if (schema === undefined) return [];
  const def = defOf(schema);
  if (def.type === 'object') return Object.keys(def.shape as object).filter((k) => k !== '$schema');
  if (def.type === 'record') {
    const keys = defOf(unwrap(def.keyType)) as Def & { entries?: Record<string, string> };
    return keys.entries === undefined ? [] : Object.values(keys.entries);
  }
  return [];
}

/** The discriminator values of the union whose discriminator sits at `path`. */
function discriminatorOptions(root: z.ZodType, path: Path, input: unknown): string[] {
  const union = schemaAt(root, path.slice(0, -1), input, false);
  if (union === undefined) return [];
  const def = defOf(union);
  if (def.type !== 'union' || typeof def.discriminator !== 'string') return [];
  return (def.options as unknown[]).map((option) => String(literalOf(option, def.discriminator as string)));
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\n${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
