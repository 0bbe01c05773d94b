/**
 * Where a plan's per-contact changes wait between planning and applying: safety rules must pass
 * before anything is sent, and deletes are known only at the end of the read, so the plan runs to
 * completion first. Small plans stay in memory; past `memoryLimit` items everything spills to a
 * scratch SQLite file in the OS temp dir (not the state store: it is per-run scratch, a dry run
 * must change no state, and a local file is fast whatever the state store is), a page of items per
 * row. Deleted on close.
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
  /**
   * The payload's canonical JSON, made for its hash: the spill and the outbox store this text
   * instead of serialising the payload again. Null with the payload.
   */
  payloadText: string | null;
  /** invalid: the code and reason. */
  code?: string;
  reason?: string;
}

/**
 * An item as it is spilled: a tuple, so a page of them is one short JSON text. The payloads'
 * texts go beside it, one line each (canonical JSON has no raw line break), rather than escaped
 * into it: the apply needs each as text for the outbox anyway, and escaping a JSON text into a JSON
 * string costs about as much as serialising the payload again.
 */
type SpilledItem = [op: StagedOp, contactId: string, ordinal: number, sourceKey: string, hash: string, hasPayload: 0 | 1, code: string | null, reason: string | null];

const opBits: Record<StagedOp, number> = { create: 1, update: 2, delete: 4, orphan: 8, rekey: 16, forget: 32, invalid: 64 };

interface Spill {
  dir: string;
  db: SQLite.Database;
  insert: SQLite.Statement;
}

export class Staging {
  readonly #memoryLimit: number;
  readonly #spillPageSize: number;
  #memory = new Map<string, StagedItem[]>();
  #inMemory = 0;
  #seq = 0;
  #spill: Spill | undefined;

  /**
   * `spillPageSize`: items per spilled row, written and read back as one JSON text (a row per item
   * cost about 6 µs per item; a page of 1,000, about 2 µs).
   */
  constructor(options: { memoryLimit?: number; spillPageSize?: number } = {}) {
    this.#memoryLimit = options.memoryLimit ?? 50_000;
    this.#spillPageSize = options.spillPageSize ?? 1_000;
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
      const mask = ops.reduce((bits, op) => bits | opBits[op], 0);
      // Pages holding none of the wanted ops are skipped unparsed (the ops of a page are a bitmask).
      const select = this.#spill.db.prepare('select seq, items, payloads from pages where provider = ? and seq > ? and (ops & ?) != 0 order by seq limit 1');
      let after = -1;
      for (;;) {
        const page = select.get(provider, after, mask) as { items: string; payloads: string; seq: number } | undefined;
        if (page === undefined) break;
        after = page.seq;
        const items: StagedItem[] = [];
        const payloads = page.payloads.split('\n');
        let next = 0;
        for (const spilled of JSON.parse(page.items) as SpilledItem[]) {
          const payloadText = spilled[5] === 1 ? payloads[next++]! : null;
          if (wanted.has(spilled[0])) items.push(fromSpilled(spilled, payloadText));
        }
        if (items.length > 0) yield items;
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
        for (let start = 0; start < items.length; start += this.#spillPageSize) {
          const page = items.slice(start, start + this.#spillPageSize);
          let ops = 0;
          const payloads: string[] = [];
          for (const item of page) {
            ops |= opBits[item.op];
            if (item.payloadText !== null) payloads.push(item.payloadText);
          }
          spill.insert.run(provider, this.#seq++, ops, JSON.stringify(page.map(toSpilled)), payloads.join('\n'));
        }
      }
    });
    insert([...this.#memory.entries()]);
    this.#memory = new Map();
    this.#inMemory = 0;
  }
}

function openSpill(): Spill {
  const dir = mkdtempSync(join(tmpdir(), 'contact-sync-plan-'));
  const db = new SQLite(join(dir, 'plan.db'));
  // Scratch data: a crash loses nothing that the next run does not recompute.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.exec('create table pages (provider text not null, seq integer not null, ops integer not null, items text not null, payloads text not null, primary key (provider, seq))');
  const insert = db.prepare('insert into pages values (?, ?, ?, ?, ?)');
  return { dir, db, insert };
}

function toSpilled(item: StagedItem): SpilledItem {
  return [item.op, item.contactId, item.ordinal, item.sourceKey, item.hash, item.payloadText === null ? 0 : 1, item.code ?? null, item.reason ?? null];
}

function fromSpilled([op, contactId, ordinal, sourceKey, hash, , code, reason]: SpilledItem, payloadText: string | null): StagedItem {
  const payload = payloadText === null ? null : (JSON.parse(payloadText) as Payload);
  return { op, contactId, ordinal, sourceKey, hash, payload, payloadText, ...(code === null ? {} : { code }), ...(reason === null ? {} : { reason }) };
}
