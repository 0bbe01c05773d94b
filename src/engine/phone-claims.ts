/**
 * Which contacts may hold a provider's baseline claim on a phone during one run, kept only for the
 * phones that more than one contact may claim. A confirmed upsert of phone P makes the remote
 * record keyed by P this contact's, so every other claimant's baseline row on P is dropped (see
 * journal.ts). The state keeps no index of the baseline by phone: on SQLite that index cost about
 * a third of a first sync's apply (every row a random b-tree insert, and its pages in each commit).
 * Instead the run works out the contested phones from what it reads anyway: the planner from its
 * merge (`ClaimCollector`), a replay of the journal from one read of the baseline (`claimsOfPending`).
 */
import type { Payload, ProviderAdapter } from '../providers/types.js';
import type { TenantState } from '../state/store.js';

export interface Claim {
  contactId: string;
  phone: string;
}

export class PhoneClaims {
  static readonly none = new PhoneClaims(new Map());

  readonly #byPhone: ReadonlyMap<string, ReadonlySet<string>>;

  /** `byPhone`: the contacts that may claim each phone (phones with fewer than two are dropped). */
  constructor(byPhone: ReadonlyMap<string, ReadonlySet<string>>) {
    const contested = new Map<string, ReadonlySet<string>>();
    for (const [phone, contacts] of byPhone) if (contacts.size > 1) contested.set(phone, contacts);
    this.#byPhone = contested;
  }

  get size(): number {
    return this.#byPhone.size;
  }

  /**
   * The claims that a batch's confirmed upserts void: every other possible claimant of each phone.
   * Of two upserts of one phone in the batch, the later one wins (the provider applied them in that
   * order), so the earlier one's claim is void too.
   */
  voidedBy(delivered: readonly Claim[]): Claim[] {
    const owners = new Map<string, string>();
    const voided: Claim[] = [];
    for (const { contactId, phone } of delivered) {
      const earlier = owners.get(phone);
      if (earlier !== undefined && earlier !== contactId) voided.push({ contactId: earlier, phone });
      owners.set(phone, contactId);
    }
    for (const [phone, owner] of owners) {
      for (const contactId of this.#byPhone.get(phone) ?? []) if (contactId !== owner) voided.push({ contactId, phone });
    }
    return voided;
  }
}

/**
 * Gathers possible claims. The planner adds the claims its merge sees that the source does not
 * confirm (a baseline row whose contact is gone, changed phone, became invalid or lost a
 * duplicate-phone contest; an upsert still in flight); at the end each phone's source winner joins
 * its claimants. Memory grows with those changes, not with the baseline.
 */
export class ClaimCollector {
  readonly #byPhone = new Map<string, Set<string>>();

  get size(): number {
    return this.#byPhone.size;
  }

  add(phone: string, contactId: string): void {
    const contacts = this.#byPhone.get(phone);
    if (contacts === undefined) this.#byPhone.set(phone, new Set([contactId]));
    else contacts.add(contactId);
  }

  /** Adds a claimant to a phone already gathered, and to no other. */
  join(phone: string, contactId: string): void {
    this.#byPhone.get(phone)?.add(contactId);
  }

  /** `winnerOf`: the contact holding the phone in the source read, if any. */
  finish(winnerOf: (phone: string) => string | undefined = () => undefined): PhoneClaims {
    for (const [phone, contacts] of this.#byPhone) {
      const winner = winnerOf(phone);
      if (winner !== undefined) contacts.add(winner);
    }
    return new PhoneClaims(this.#byPhone);
  }
}

/**
 * The possible claimants of every phone the provider's journaled upserts send (a dead run's
 * batches, before a replay): those upserts' contacts and the baseline rows on the same phones, from
 * one read of the provider's baseline, done only when an upsert is journaled.
 */
export async function claimsOfPending(state: TenantState, provider: string, adapter: ProviderAdapter): Promise<PhoneClaims> {
  const claims = new ClaimCollector();
  for (const batch of await state.outbox.pendingBatches(provider)) {
    for (const row of batch) if (row.op === 'upsert') claims.add(adapter.phoneOf(JSON.parse(row.payload) as Payload), row.contact_id);
  }
  if (claims.size === 0) return PhoneClaims.none;
  for await (const page of state.baseline.keyPages(provider)) for (const row of page) claims.join(row.phone, row.contact_id);
  return claims.finish();
}
