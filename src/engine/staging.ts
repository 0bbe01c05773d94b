/**
 * Where a plan's per-contact changes wait between planning and applying: safety rules must pass
 * before anything is sent, and deletes are known only at the end of the read, so the plan runs to
 * completion first. Small plans stay in memory; past `memoryLimit` items everything spills to a
 * scratch SQLite file in the OS temp dir (not the state store: it is per-run scratch, a dry run
 * must change no state, and a local file is fast whatever the state store is). Deleted on close.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import type { Payload } from '../providers/types.js';

export type StagedOp = 'create' | 'update' | 'delete' | 'orphan' | 'rekey' | 'forget' | 'invalid';

export interface StagedItem {
  op: StagedOp;
  contactId: string;
  /** Source row ordinal (create/update/rekey/invalid), -1 for rows absent from the source. */
  ordinal: number;
  sourceKey: string;
  /** Payload hash: the new one (create/update), the baseline's (delete/orphan). */
  hash: string;
  payload: Payload | null;
  /** invalid: the code and reason. */
  code?: string;
  reason?: string;
}

interface Row {
  provider: string;
  seq: number;
  op: string;
  contact_id: string;
  ordinal: number;
  source_key: string;
  hash: string;
  payload: string | null;
  code: string | null;
  reason: string | null;
}

export class Staging {
  readonly #memoryLimit: number;
  #memory = new Map<string, StagedItem[]>();
  #inMemory = 0;
  #seq = 0;
  #spill: { dir: string; db: SQLite.Database; insert: SQLite.Statement } | undefined;

  constructor(options: { memoryLimit?: number } = {}) {
    this.#memoryLimit = options.memoryLimit ?? 50_000;
  }

  get spilled(): boolean {
    return this.#spill !== undefined;
  }

  add(provider: string, item: StagedItem): void {
    const list = this.#memory.get(provider) ?? [];
    list.push(item);
    this.#memory.set(provider, list);
    if (++this.#inMemory >= this.#memoryLimit) this.#flush();
  }

  /** Items of `provider` whose op is in `ops`, in the order they were added, a page at a time. */
  async *read(provider: string, ops: readonly StagedOp[], pageSize = 2_000): AsyncGenerator<StagedItem[]> {
    const wanted = new Set<string>(ops);
    if (this.#spill) {
      const select = this.#spill.db.prepare(
        `select * from items where provider = ? and seq > ? and op in (${ops.map(() => '?').join(',')}) order by seq limit ?`,
      );
      let after = -1;
      for (;;) {
        const rows = select.all(provider, after, ...ops, pageSize) as Row[];
        if (rows.length === 0) break;
        after = rows[rows.length - 1]!.seq;
        yield rows.map(fromRow);
      }
    }
    const items = (this.#memory.get(provider) ?? []).filter((item) => wanted.has(item.op));
    for (let i = 0; i < items.length; i += pageSize) yield items.slice(i, i + pageSize);
  }

  close(): void {
    if (!this.#spill) return;
    this.#spill.db.close();
    rmSync(this.#spill.dir, { recursive: true, force: true });
    this.#spill = undefined;
  }

  #flush(): void {
    const spill = (this.#spill ??= openSpill());
    const insert = spill.db.transaction((entries: [string, StagedItem[]][]) => {
      for (const [provider, items] of entries) {
        for (const item of items) {
          spill.insert.run(
            provider,
            this.#seq++,
            item.op,
            item.contactId,
            item.ordinal,
            item.sourceKey,
            item.hash,
            item.payload === null ? null : JSON.stringify(item.payload),
            item.code ?? null,
            item.reason ?? null,
          );
        }
      }
    });
    insert([...this.#memory.entries()]);
    this.#memory = new Map();
    this.#inMemory = 0;
  }
}

function openSpill(): { dir: string; db: SQLite.Database; insert: SQLite.Statement } {
  const dir = mkdtempSync(join(tmpdir(), 'contact-sync-plan-'));
  const db = new SQLite(join(dir, 'plan.db'));
  // Scratch data: a crash loses nothing that the next run does not recompute.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.exec(`create table items (provider text not null, seq integer not null, op text not null, contact_id text not null,
    ordinal integer not null, source_key text not null, hash text not null, payload text, code text, reason text,
    primary key (provider, seq))`);
  const insert = db.prepare('insert into items values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  return { dir, db, insert };
}

function fromRow(row: Row): StagedItem {
  return {
    op: row.op as StagedOp,
    contactId: row.contact_id,
    ordinal: row.ordinal,
    sourceKey: row.source_key,
    hash: row.hash,
    payload: row.payload === null ? null : (JSON.parse(row.payload) as Payload),
    ...(row.code === null ? {} : { code: row.code }),
    ...(row.reason === null ? {} : { reason: row.reason }),
  };
}
