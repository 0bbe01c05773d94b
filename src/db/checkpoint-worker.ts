/**
 * Worker thread of the checkpointer (checkpointer.ts): its own connection to each attached SQLite
 * file, and a passive WAL checkpoint of each at the checkpointer's interval (100 ms).
 */
import { parentPort } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import type { CheckpointReply, CheckpointRequest } from './checkpointer.js';

const databases = new Map<string, SQLite.Database>();
let timer: NodeJS.Timeout | undefined;

/**
 * WAL frames past which a checkpoint also restarts the log. Passive checkpoints alone never let
 * the WAL start over while commits keep coming (it restarts only once fully copied), and a growing
 * WAL slows every read. A restart waits for the writer in progress and holds the next one off
 * while it copies, but only what the passive checkpoints left: a few milliseconds. It is skipped
 * (SQLITE_BUSY, reported in its result) whenever a writer is active or a reader still needs the log.
 */
const restartFrames = 4_096;

function checkpointAll(): void {
  for (const database of databases.values()) {
    try {
      // PASSIVE: copies what it can without waiting for, or blocking, the connections writing.
      const [result] = database.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      if (result !== undefined && result.log >= restartFrames) database.pragma('wal_checkpoint(RESTART)');
    } catch (error) {
      // Busy now, free at the next turn; anything else ends the worker (the connections then checkpoint themselves).
      if (!(error instanceof SQLite.SqliteError && (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED'))) throw error;
    }
  }
}

parentPort!.on('message', ({ id, op, path, intervalMs }: CheckpointRequest) => {
  let error: string | undefined;
  try {
    if (op === 'attach') {
      const database = new SQLite(path, { fileMustExist: true });
      // Never wait: a restart that waited for a long read would hold every writer off meanwhile.
      // A checkpoint that finds the file busy does what it can, and the next one the rest.
      database.pragma('busy_timeout = 0');
      database.pragma('synchronous = NORMAL');
      databases.set(path, database);
      timer ??= setInterval(checkpointAll, intervalMs);
    } else {
      databases.get(path)?.close();
      databases.delete(path);
      if (databases.size === 0 && timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
    }
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  }
  parentPort!.postMessage({ id, ...(error === undefined ? {} : { error }) } satisfies CheckpointReply);
});
