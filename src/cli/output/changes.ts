/** A planned change in one line a person can read: `update c-12 (twilio): zip_code "94105" -> "94107"`. */
import { canonicalJson } from '../../engine/hash.js';
import type { PlanRecord } from '../../engine/plan-records.js';

type Flat = Map<string, unknown>;

/** Nested objects (custom_fields, metadata) become dotted keys so a diff names the field that moved. */
function flatten(payload: Record<string, unknown> | null, prefix = '', into: Flat = new Map()): Flat {
  for (const [key, value] of Object.entries(payload ?? {})) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) flatten(value as Record<string, unknown>, `${prefix}${key}.`, into);
    else into.set(`${prefix}${key}`, value);
  }
  return into;
}

const show = (value: unknown): string => (value === undefined ? '(none)' : JSON.stringify(value));

/** Fields that differ between before and after, as `field before -> after`. */
export function fieldChanges(before: Record<string, unknown> | null, after: Record<string, unknown> | null): string[] {
  const b = flatten(before);
  const a = flatten(after);
  const keys = [...new Set([...b.keys(), ...a.keys()])].sort();
  return keys.filter((k) => !sameValue(b.get(k), a.get(k))).map((k) => `${k} ${show(b.get(k))} -> ${show(a.get(k))}`);
}

/** Equal as JSON whatever the key order (the baseline keeps a payload as its canonical JSON); absent is not null. */
function sameValue(before: unknown, after: unknown): boolean {
  return before === undefined || after === undefined ? before === after : canonicalJson(before) === canonicalJson(after);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function describeChange(record: PlanRecord): string {
  const head = `${record.op.padEnd(7)} ${record.contactId}${record.op === 'invalid' ? '' : ` (${record.provider})`}`;
  switch (record.op) {
    case 'invalid':
      return `${head}: ${record.code ?? 'invalid'}: ${record.reason ?? ''}`;
    case 'delete':
    case 'orphan':
      return `${head}: was ${truncate(JSON.stringify(record.before ?? {}), 100)}`;
    default: {
      const changes = fieldChanges(record.before, record.after);
      return `${head}: ${changes.join('; ') || 'no field change (re-send)'}`;
    }
  }
}
