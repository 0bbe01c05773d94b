/**
 * The checkpointer's worker (compiled by `npm run build`, which `npm test` runs first) takes over
 * the WAL checkpoints of the connections attached to it, keeps the WAL bounded while they commit,
 * and hands the checkpoints back on detach or when it cannot do them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Checkpointer } from '../../src/db/checkpointer.js';

const script = fileURLToPath(new URL('../../dist/src/db/checkpoint-worker.js', import.meta.url));
const compiledOpen = new URL('../../dist/src/db/open.js', import.meta.url).href;

let dir: string;
const open: SQLite.Database[] = [];

function walDatabase(name = 'state.db'): { path: string; database: SQLite.Database } {
  const path = join(dir, name);
  const database = new SQLite(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.exec('create table if not exists t (id integer primary key, body text not null)');
  open.push(database);
  return { path, database };
}

const autocheckpoint = (database: SQLite.Database): number => database.pragma('wal_autocheckpoint', { simple: true }) as number;

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Commits `transactions` transactions of 50 rows of 1 KB, pausing between them as a run does (about 40 MB/s). */
async function commitMany(database: SQLite.Database, transactions: number): Promise<void> {
  const insert = database.prepare('insert into t (body) values (?)');
  const body = 'x'.repeat(1_000);
  const batch = database.transaction(() => {
    for (let i = 0; i < 50; i++) insert.run(body);
  });
  for (let i = 0; i < transactions; i++) {
    batch();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

beforeEach(() => {
  expect(existsSync(script), `the compiled worker ${script} is missing: run npm run build first`).toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'cs-checkpoint-'));
});

afterEach(() => {
  for (const database of open.splice(0)) if (database.open) database.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Checkpointer', () => {
  it('checkpoints attached connections from its worker and keeps their WAL bounded', async () => {
    const checkpointer = new Checkpointer(script);
    const { path, database } = walDatabase();
    checkpointer.attach(path, database);
    expect(autocheckpoint(database)).toBe(0);
    // About 60 MB of rows: with no checkpoint at all the WAL would hold every page of them.
    await commitMany(database, 1_200);
    await until(() => statSync(path).size > 50_000_000, 'the rows to reach the database file');
    expect(statSync(`${path}-wal`).size).toBeLessThan(45_000_000);
    expect(database.prepare('select count(*) from t').pluck().get()).toBe(60_000);

    await checkpointer.detach(path, database);
    expect(autocheckpoint(database)).toBe(1_000);
    database.close();
    const reopened = new SQLite(path);
    open.push(reopened);
    expect(reopened.prepare('select count(*) from t').pluck().get()).toBe(60_000);
  });

  it('without it the same commits leave the WAL holding them all (what the test above rules out)', async () => {
    const { path, database } = walDatabase();
    database.pragma('wal_autocheckpoint = 0');
    await commitMany(database, 1_200);
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(50_000_000);
  });

  it('leaves a connection to checkpoint itself where no worker script exists', () => {
    const checkpointer = new Checkpointer(join(dir, 'no-such-worker.js'));
    const { path, database } = walDatabase();
    checkpointer.attach(path, database);
    expect(autocheckpoint(database)).toBe(1_000);
  });

  it('hands every connection its checkpoints back when the worker cannot do them', async () => {
    const checkpointer = new Checkpointer(script);
    const first = walDatabase('first.db');
    checkpointer.attach(first.path, first.database);
    expect(autocheckpoint(first.database)).toBe(0);
    // The worker cannot open this one (the file does not exist): it gives up on all of them.
    const second = walDatabase('second.db');
    checkpointer.attach(join(dir, 'missing', 'gone.db'), second.database);
    await until(() => autocheckpoint(first.database) === 1_000 && autocheckpoint(second.database) === 1_000, 'the connections to checkpoint again');
    // And it stays out of the way for stores opened later.
    const third = walDatabase('third.db');
    checkpointer.attach(third.path, third.database);
    expect(autocheckpoint(third.database)).toBe(1_000);
  });

  it('lets a process that opened and closed a store end on its own (compiled, with the worker)', () => {
    const program = `
      const { openStore } = await import(${JSON.stringify(compiledOpen)});
      const store = openStore(${JSON.stringify(`sqlite:${join(dir, 'exit.db')}`)});
      store.checkpointInBackground();
      await store.db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
      await store.close();
      console.log('closed');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8', timeout: 20_000 });
    expect(child.signal, 'the process had to be killed: something kept it alive').toBeNull();
    expect({ status: child.status, stdout: child.stdout.trim(), stderr: child.stderr.trim() }).toEqual({ status: 0, stdout: 'closed', stderr: '' });
  });
});
