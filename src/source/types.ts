import type { SourceContact } from './contact.js';

/**
 * Reads the source of truth in key order, a page at a time (keyset pagination), so memory stays
 * flat whatever the table size. Keys are compared as binary strings (SQLite's default, COLLATE "C"
 * on PostgreSQL) so the engine can merge them against the baseline in the same order.
 */
export interface SourceReader {
  /** Every row, in ascending id order, in pages of up to `pageSize`. */
  pages(options?: { pageSize?: number }): AsyncIterable<SourceContact[]>;
  count(): Promise<number>;
  close(): Promise<void>;
}
