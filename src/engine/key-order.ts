/**
 * Contact ids compare as binary UTF-8 strings, the order SQLite's BINARY and PostgreSQL's "C"
 * collations return them in. JavaScript's `<` compares UTF-16 code units, which disagrees only
 * between surrogates (U+10000 and up) and U+E000..U+FFFF; this comparison fixes exactly that case.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) return utf8Rank(x) - utf8Rank(y);
      return x - y;
    }
  }
  return a.length - b.length;
}

function utf8Rank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
