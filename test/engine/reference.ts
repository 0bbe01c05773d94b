/** A naive reference of the desired provider state: valid rows, duplicate-phone rule applied. */
import { compareKeys } from '../../src/engine/key-order.js';
import { updatedMs } from '../../src/engine/phone-index.js';
import type { Payload } from '../../src/providers/types.js';
import type { SourceContact } from '../../src/source/contact.js';
import type { FakeProvider } from './fake-provider.js';
import { fakeNormalise } from './harness.js';

export function winners(rows: readonly SourceContact[]): SourceContact[] {
  const byPhone = new Map<string, SourceContact>();
  for (const row of rows) {
    const result = fakeNormalise(row);
    if (!result.ok) continue;
    const current = byPhone.get(result.contact.phone);
    const better =
      current === undefined ||
      updatedMs(row.updatedAt) > updatedMs(current.updatedAt) ||
      (updatedMs(row.updatedAt) === updatedMs(current.updatedAt) && compareKeys(row.id, current.id) < 0);
    if (better) byPhone.set(result.contact.phone, row);
  }
  return [...byPhone.values()];
}

/**
 * What the provider should hold after a run: each winner's mapping; and a row that is now invalid
 * (or lost a duplicate contest) keeps what was delivered for it before, unless a winner took that
 * phone over (an invalid row is never sent, and never deleted either: it is still in the source).
 */
export function desiredRemote(
  provider: FakeProvider,
  rows: readonly SourceContact[],
  delivered: ReadonlyMap<string, { phone: string; payload: Payload }> = new Map(),
): { remote: Map<string, Payload>; contacts: string[] } {
  const remote = new Map<string, Payload>();
  const contacts: string[] = [];
  const won = new Set(winners(rows).map((r) => r.id));
  for (const row of winners(rows)) {
    const result = fakeNormalise(row);
    if (result.ok) remote.set(result.contact.phone, provider.map(result.contact));
    contacts.push(row.id);
  }
  for (const row of rows) {
    const before = delivered.get(row.id);
    if (won.has(row.id) || before === undefined || remote.has(before.phone)) continue;
    remote.set(before.phone, before.payload);
    contacts.push(row.id);
  }
  return { remote, contacts };
}

export function sorted(map: Map<string, unknown>): [string, unknown][] {
  return [...map.entries()].sort(([a], [b]) => compareKeys(a, b));
}
