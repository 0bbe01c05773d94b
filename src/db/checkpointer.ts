/**
 * WAL checkpoints of the embedded SQLite stores, in a worker thread. By default SQLite checkpoints
 * on the committing connection whenever the WAL passes 1,000 pages: it copies the pages into the
 * database file and syncs both, on the thread that runs the engine. A first sync of 100,000
 * contacts spent about 0.5 s of its 8 there. A store handed over (`Store.checkpointInBackground`,
 * which a sync planning 10,000 changes or more calls) stops checkpointing itself, and one worker
 * per process checkpoints every attached file from its own connection.
 * Durability is unchanged: a commit is in the WAL either way; the checkpoint only moves it on.
 *
 * Where no worker can run (code run from TypeScript sources, the tests, has no compiled worker
 * script) or the worker fails, the connections checkpoint themselves again, as SQLite would.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

export interface CheckpointRequest {
  id: number;
  op: 'attach' | 'detach';
  path: string;
  intervalMs: number;
}

export interface CheckpointReply {
  id: number;
  error?: string;
}

/** SQLite's own default, restored when the worker cannot checkpoint. */
const selfCheckpointPages = 1_000;
/** How often the worker checkpoints: a busy first sync writes about 20 MB of WAL in that time. */
const intervalMs = 100;

const workerScript = fileURLToPath(new URL('./checkpoint-worker.js', import.meta.url));

export class Checkpointer {
  readonly #script: string;
  #worker: Worker | undefined;
  #broken = false;
  #nextId = 0;
  readonly #waiting = new Map<number, () => void>();
  /** The connections whose checkpoints the worker does, by file. */
  readonly #attached = new Map<string, Set<SQLite.Database>>();

  constructor(script = workerScript) {
    this.#script = script;
  }

  /** Takes over the checkpoints of `database` (open on `path`), if a worker can run here. */
  attach(path: string, database: SQLite.Database): void {
    const worker = this.#start();
    if (worker === undefined) return;
    const connections = this.#attached.get(path) ?? new Set();
    if (connections.size === 0) void this.#ask(worker, 'attach', path);
    connections.add(database);
    this.#attached.set(path, connections);
    database.pragma('wal_autocheckpoint = 0');
  }

  /** Gives `database` its own checkpoints back; resolves once the worker let go of a file no longer attached. */
  async detach(path: string, database: SQLite.Database): Promise<void> {
    const connections = this.#attached.get(path);
    if (connections?.delete(database) !== true) return;
    if (database.open) database.pragma(`wal_autocheckpoint = ${selfCheckpointPages}`);
    if (connections.size > 0) return;
    this.#attached.delete(path);
    if (this.#worker !== undefined) await this.#ask(this.#worker, 'detach', path);
  }

  #ask(worker: Worker, op: CheckpointRequest['op'], path: string): Promise<void> {
    const id = this.#nextId++;
    // Held while an answer is awaited (or the process could end with the awaiting code unfinished).
    if (this.#waiting.size === 0) worker.ref();
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      worker.postMessage({ id, op, path, intervalMs } satisfies CheckpointRequest);
    });
  }

  #start(): Worker | undefined {
    if (this.#worker !== undefined || this.#broken) return this.#worker;
    if (!existsSync(this.#script)) {
      this.#broken = true;
      return undefined;
    }
    const worker = new Worker(this.#script);
    worker.on('message', ({ id, error }: CheckpointReply) => {
      if (error !== undefined) this.#fail();
      this.#waiting.get(id)?.();
      this.#waiting.delete(id);
      if (this.#waiting.size === 0) worker.unref();
    });
    worker.on('error', () => this.#fail());
    worker.on('exit', () => this.#fail());
    // It keeps the process alive only while an answer is awaited. After the listeners: a
    // 'message' listener refs the worker's port again.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  /** The connections checkpoint themselves again, now and for every later store. */
  #fail(): void {
    this.#broken = true;
    this.#worker = undefined;
    for (const connections of this.#attached.values()) {
      for (const database of connections) if (database.open) database.pragma(`wal_autocheckpoint = ${selfCheckpointPages}`);
    }
    this.#attached.clear();
    for (const resolve of this.#waiting.values()) resolve();
    this.#waiting.clear();
  }
}

/** The process's checkpointer, shared by every SQLite store it opens. */
export const checkpointer = new Checkpointer();
