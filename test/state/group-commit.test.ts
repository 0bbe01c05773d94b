import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/state/group-commit.js';
import { openStateStore, tenantState } from '../../src/state/store.js';

describe('GroupCommit', () => {
  it('puts the work queued in one turn into one transaction, and what arrives while it runs into the next', async () => {
    const groups: string[][] = [];
    let late: Promise<void> | undefined;
    const commits = new GroupCommit<string[]>(async (work) => {
      const group: string[] = [];
      await work(group);
      await new Promise((r) => setTimeout(r, 5));
      groups.push(group);
    });
    const first = ['a', 'b', 'c'].map((name) =>
      commits.run(async (group) => {
        group.push(name);
        late ??= commits.run(async (next) => void next.push('late'));
      }),
    );
    await Promise.all(first);
    await late;
    expect(groups).toEqual([['a', 'b', 'c'], ['late']]);
  });

  it.each([1, 2])('runs at most %i transaction(s) at once, each still a group', async (lanes) => {
    let open = 0;
    let most = 0;
    const groups: string[][] = [];
    const commits = new GroupCommit<string[]>(async (work) => {
      open++;
      most = Math.max(most, open);
      const group: string[] = [];
      await work(group);
      await new Promise((r) => setTimeout(r, 20));
      groups.push(group);
      open--;
    }, { lanes });
    const first = commits.run(async (g) => void g.push('a'));
    await new Promise((r) => setTimeout(r, 5)); // the first transaction is open
    const later = ['b', 'c'].map((name) => commits.run(async (g) => void g.push(name)));
    await Promise.all([first, ...later]);
    expect(most).toBe(lanes);
    expect(groups).toEqual([['a'], ['b', 'c']]);
  });

  it('runs a transaction again after a transient failure, and only after one', async () => {
    let runs = 0;
    const commits = new GroupCommit<string[]>(async (work) => {
      runs++;
      await work([]);
      if (runs === 1) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      if (runs === 3) throw new Error('constraint');
    }, { transient: (error) => (error as { code?: string }).code === '40P01' });
    await commits.run(async () => {});
    expect(runs).toBe(2);
    await expect(commits.run(async () => {})).rejects.toThrow('constraint');
    expect(runs).toBe(3);
  });

  it('a failing piece fails alone: the rest of its group commits on its own', async () => {
    const committed: string[] = [];
    const commits = new GroupCommit<string[]>(async (work) => {
      const group: string[] = [];
      await work(group);
      committed.push(...group);
    });
    const first = commits.run(async (g) => void g.push('first'));
    const good = commits.run(async (g) => void g.push('good'));
    const bad = commits.run(async (g) => {
      g.push('bad');
      throw new Error('constraint');
    });
    const late = commits.run(async (g) => void g.push('late'));
    await expect(bad).rejects.toThrow('constraint');
    await Promise.all([first, good, late]);
    expect(committed.sort()).toEqual(['first', 'good', 'late']);
  });

  it('runs adjacent mergeable pieces of one kind as one piece of work, in order, and alone again after a failure', async () => {
    const runs: string[][] = [];
    let failOnce = true;
    const commits = new GroupCommit<string[]>(
      async (work) => {
        const done: string[] = [];
        await work(done);
        if (done.includes('bad') && failOnce) {
          failOnce = false;
          throw new Error('constraint');
        }
        runs.push(done);
      },
      { merge: (kind, values) => async (done) => void done.push(`${kind}(${values.join(',')})`) },
    );
    const piece = (kind: string, value: string): Promise<void> => commits.run(async (done) => void done.push(`${kind}(${value})`), { merge: { kind, value } });
    await Promise.all([piece('s', 'a'), piece('s', 'b'), commits.run(async (done) => void done.push('other')), piece('s', 'c'), piece('t', 'd'), piece('t', 'e')]);
    expect(runs).toEqual([['s(a,b)', 'other', 's(c)', 't(d,e)']]);

    runs.length = 0;
    const bad = commits.run(async (done) => void done.push('bad'));
    await Promise.all([piece('s', 'f'), piece('s', 'g'), bad]);
    // The group failed once (bad): each piece then commits alone, merged with nobody.
    expect(runs).toEqual([['bad'], ['s(f)'], ['s(g)']]);
  });

  it('runs a group of one-statement pieces each on its own without a transaction, and any other group in one', async () => {
    const log: string[] = [];
    const commits = new GroupCommit<string[]>(
      async (work) => {
        const done: string[] = [];
        await work(done);
        log.push(`transaction [${done.join(',')}]`);
      },
      {
        merge: (kind, values) => async (done) => void done.push(`${kind}(${values.join(',')})`),
        autocommit: async (work) => {
          const done: string[] = [];
          await work(done);
          if (done.includes('bad')) throw new Error('constraint');
          log.push(`alone [${done.join(',')}]`);
        },
      },
    );
    const statement = (name: string): Promise<void> => commits.run(async (done) => void done.push(name), { oneStatement: true });
    const settle = (value: string): Promise<void> =>
      commits.run(async (done) => void done.push(`s(${value})`), { merge: { kind: 's', value }, oneStatement: true });
    await Promise.all([settle('a'), settle('b'), statement('w')]);
    expect(log).toEqual(['alone [s(a,b)]', 'alone [w]']);

    log.length = 0;
    await Promise.all([settle('c'), commits.run(async (done) => void done.push('several statements'))]);
    expect(log).toEqual(['transaction [s(c),several statements]']);

    // One failing statement fails alone; the merged settle beside it is not run again.
    log.length = 0;
    const bad = statement('bad');
    await Promise.all([settle('d'), settle('e'), expect(bad).rejects.toThrow('constraint')]);
    expect(log).toEqual(['alone [s(d,e)]']);
  });
});

describe('TenantState.commit on SQLite', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('commits concurrent outbox writes (grouped) and rolls back only the failing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-group-'));
    dirs.push(dir);
    const store = await openStateStore(`sqlite:${join(dir, 'state.db')}`);
    try {
      const state = tenantState(store.db, 'acme');
      const row = (contact: string, batch: string) => ({
        provider: 'p', contact_id: contact, batch_id: batch, run_id: 'r', op: 'upsert', source_key: 'k', hash: 'h',
        payload: '{}', previous: null, correlation_id: 'c'.repeat(32), remote_id: null, created_at: '2026-01-01T00:00:00.000Z',
      });
      const writes = ['a', 'b', 'c'].map((id) => state.commit((tx) => tx.outbox.write([row(id, `batch-${id}`)])));
      const failing = state.commit(async (tx) => {
        await tx.outbox.write([row('x', 'batch-x')]);
        throw new Error('boom');
      });
      await Promise.all(writes);
      await expect(failing).rejects.toThrow('boom');
      const batches = await state.outbox.pendingBatches('p');
      expect(batches.map((b) => b[0]!.contact_id).sort()).toEqual(['a', 'b', 'c']);
    } finally {
      await store.close();
    }
  });
});
