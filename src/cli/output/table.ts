/** Aligned text tables (cli-table3) without colour, so piped output carries no escape codes. */
import Table from 'cli-table3';

export type Cell = string | number;

export function renderTable(head: readonly string[], rows: readonly (readonly Cell[])[], options: { alignNumbers?: boolean } = {}): string {
  const table = new Table({
    head: [...head],
    style: { head: [], border: [], compact: true },
    // Numbers right-aligned (the first column is a name).
    colAligns: head.map((_, i) => (i > 0 && options.alignNumbers !== false ? 'right' : 'left')),
  });
  for (const row of rows) table.push(row.map(String));
  return table.toString();
}
