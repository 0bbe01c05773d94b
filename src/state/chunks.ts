/**
 * Multi-row statements stay under the drivers' bound-parameter limits (SQLite 32,766;
 * PostgreSQL 65,535) by splitting rows into chunks sized by their column count.
 */
const maxParameters = 30_000;

export function chunksFor<T>(rows: readonly T[], columnsPerRow: number): T[][] {
  const size = Math.max(1, Math.floor(maxParameters / columnsPerRow));
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}
