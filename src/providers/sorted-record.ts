/**
 * Payload objects are built with their keys in ascending order where it is cheap to: the engine's
 * canonical JSON (src/engine/hash.ts) of such an object is plain JSON.stringify, several times
 * faster than sorting while it serialises. Only speed depends on it; any order hashes the same.
 */

/** `record`'s members, its keys in ascending (UTF-16 code unit) order. */
export function sortedRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  const sorted: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key]!;
  return sorted;
}
