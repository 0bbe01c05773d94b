/**
 * Source column values as the canonical contact holds them, whatever the driver returns: text as
 * text, `attributes` as a JSON object, `updated_at` as ISO 8601 text.
 */

export function textValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value instanceof Date ? value.toISOString() : String(value);
}

/** A JSON object from JSON text or from a driver that already parsed it (jsonb); undefined when it is not one. */
export function attributesValue(value: unknown): Record<string, unknown> | undefined {
  if (value === null || value === undefined || value === '') return {};
  if (typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)) return value as Record<string, unknown>;
  if (typeof value !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const sqliteTimestamp = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

/**
 * `updated_at` as ISO 8601 text: a Date (PostgreSQL timestamps), epoch seconds or milliseconds,
 * SQLite's "YYYY-MM-DD HH:MM:SS" (UTC); other text is kept as it is.
 */
export function isoTime(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'string') {
    if (value.charCodeAt(10) === 84 /* T */) return value;
    const m = sqliteTimestamp.exec(value);
    return m === null ? value : `${m[1]}T${m[2]}Z`;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'number' || typeof value === 'bigint') {
    const n = Number(value);
    // Below 1e11 it is seconds (1e11 ms is 1973; 1e11 s is the year 5138).
    const date = new Date(n < 1e11 ? n * 1000 : n);
    return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
  }
  return String(value);
}

/** JSON with object keys sorted, so two equal objects compare equal as text whatever their key order. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}
