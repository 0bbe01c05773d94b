import { afterEach, describe, expect, it } from 'vitest';
import { finishJournal } from '../../src/engine/finish-journal.js';
import { ClaimCollector, PhoneClaims, claimsOfPending } from '../../src/engine/phone-claims.js';
import { runSync } from '../../src/engine/sync.js';
import { stateBackends } from '../helpers/stores.js';
import { type Harness, contact, openHarness } from './harness.js';

describe('PhoneClaims', () => {
  const claims = new PhoneClaims(
    new Map([
      ['+1555', new Set(['y', 'x'])],
      ['+1666', new Set(['z'])], // one claimant: nothing to void
    ]),
  );

  it('keeps only the phones more than one contact may claim', () => {
    expect(claims.size).toBe(1);
  });

  it('voids every other claimant of a delivered phone, and nothing of an uncontested one', () => {
    expect(claims.voidedBy([{ contactId: 'x', phone: '+1555' }])).toEqual([{ contactId: 'y', phone: '+1555' }]);
    expect(claims.voidedBy([{ contactId: 'z', phone: '+1666' }, { contactId: 'w', phone: '+1777' }])).toEqual([]);
  });

  it('of two upserts of one phone in a batch, the later one wins', () => {
    expect(PhoneClaims.none.voidedBy([{ contactId: 'a', phone: '+1555' }, { contactId: 'b', phone: '+1555' }])).toEqual([{ contactId: 'a', phone: '+1555' }]);
  });

  it('a collector adds each phone\'s source winner to its claimants, and joins only phones it has', () => {
    const collector = new ClaimCollector();
    collector.add('+1555', 'y');
    collector.add('+1666', 'z');
    collector.join('+1666', 'v');
    collector.join('+1777', 'u');
    const finished = collector.finish((phone) => (phone === '+1555' ? 'x' : undefined));
    expect(finished.voidedBy([{ contactId: 'x', phone: '+1555' }])).toEqual([{ contactId: 'y', phone: '+1555' }]);
    expect(finished.voidedBy([{ contactId: 'v', phone: '+1666' }])).toEqual([{ contactId: 'z', phone: '+1666' }]);
    expect(finished.voidedBy([{ contactId: 'u', phone: '+1777' }])).toEqual([]);
  });
});

describe.each(stateBackends)('a confirmed upsert takes its phone from every other claimant ($name)', (backend) => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('in a sync: a contact that takes another\'s phone drops that one\'s claim even when its own move is rejected', async () => {
    h = await openHarness({ backend });
    h.source.set([contact('y', '+14155550100')]);
    expect((await runSync(h.runtime())).report.status).toBe('ok');
    // y moves away, x takes y's old phone; y's move is rejected, so its baseline row stays on the old phone.
    h.providers[0]!.script = { item: (id) => (id === 'y' ? 'rejected' : 'ok') };
    h.source.set([contact('y', '+14155550199'), contact('x', '+14155550100')]);
    expect((await runSync(h.runtime())).report.status).toBe('partial');
    const baseline = await h.store.db.selectFrom('cs_baseline').select(['contact_id', 'phone']).execute();
    expect(baseline).toEqual([{ contact_id: 'x', phone: '+14155550100' }]);
    expect(h.providers[0]!.remote.get('+14155550100')).toMatchObject({ name: 'name x' });
  });

  const phone = '+14155550100';
  /** The state a dead run leaves: `delivered` confirmed on the phone, `journaled` sent on it with its outcome unknown. */
  async function deadRunLeft(delivered: string, journaled: string) {
    const rt = h.runtime();
    const fake = h.providers[0]!;
    const payload = (id: string) => JSON.stringify(fake.map({ ...contact(id, phone), phone, phoneCountry: null }));
    await rt.state.baseline.upsert([{ provider: 'alpha', contact_id: delivered, source_key: 'k', hash: 'h1', payload: payload(delivered), phone, remote_id: null, delivered_at: '2024-01-01T00:00:00.000Z' }]);
    fake.remote.set(phone, JSON.parse(payload(delivered)));
    await rt.state.outbox.write([
      { provider: 'alpha', contact_id: journaled, batch_id: 'b1', run_id: 'dead', op: 'upsert', source_key: 'k', hash: 'h2', payload: payload(journaled), previous: null, correlation_id: 'c1', remote_id: null, created_at: '2024-01-01T00:00:00.000Z' },
    ]);
    return { rt, fake };
  }

  it('in a sync: an upsert a dead run left in flight, confirmed on a retry, drops the claim of the contact holding its phone', async () => {
    h = await openHarness({ backend });
    await deadRunLeft('v', 'w');
    // The replay gets no definite answer for w; the apply's retry does. v is unchanged in the source.
    let attempts = 0;
    h.providers[0]!.script = { item: (id) => (id === 'w' && attempts++ === 0 ? 'retryable' : 'ok') };
    h.source.set([contact('v', phone)]);
    await runSync(h.runtime());
    expect(attempts).toBe(2);
    const baseline = await h.store.db.selectFrom('cs_baseline').select(['contact_id', 'phone']).execute();
    expect(baseline).toEqual([{ contact_id: 'w', phone }]);
  });

  it('in a replay: a dead run\'s journaled upsert, confirmed, drops the baseline row on its phone', async () => {
    h = await openHarness({ backend });
    // y was delivered on the phone; a dead run journaled x on the same phone (y had moved away in the source).
    const { rt, fake } = await deadRunLeft('y', 'x');
    const [target] = rt.targets;
    expect((await claimsOfPending(rt.state, 'alpha', fake)).voidedBy([{ contactId: 'x', phone }])).toEqual([{ contactId: 'y', phone }]);

    const recovery = await finishJournal(rt, 'next', target!, undefined);
    expect(recovery.confirmed).toBe(1);
    const baseline = await h.store.db.selectFrom('cs_baseline').select(['contact_id', 'phone']).execute();
    expect(baseline).toEqual([{ contact_id: 'x', phone }]);
  });
});
