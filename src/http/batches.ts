/** Splitting a list of items into requests that respect a provider's count and size limits. */

/** Consecutive runs of at most `size` items. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new RangeError(`chunk size must be >= 1, got ${size}`);
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Consecutive runs of at most `maxCount` items whose sizes (bytes as `sizeOf` measures them, plus
 * `separatorBytes` between two items) add up to at most `maxBytes`. Each item must fit alone.
 */
export function packBySize<T>(
  items: readonly T[],
  limits: { maxCount: number; maxBytes: number; separatorBytes: number },
  sizeOf: (item: T) => number,
): T[][] {
  const packs: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (size > limits.maxBytes) throw new RangeError(`an item of ${size} bytes exceeds the ${limits.maxBytes}-byte request limit`);
    const added = current.length === 0 ? size : size + limits.separatorBytes;
    if (current.length > 0 && (current.length >= limits.maxCount || bytes + added > limits.maxBytes)) {
      packs.push(current);
      current = [];
      bytes = 0;
    }
    bytes += current.length === 0 ? size : size + limits.separatorBytes;
    current.push(item);
  }
  if (current.length > 0) packs.push(current);
  return packs;
}
