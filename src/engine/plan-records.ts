/**
 * The per-contact view of a staged plan, `{provider, contactId, op, before, after}`: the lines of a
 * --plan-out file and the examples of the dry-run table. `before` is the payload last delivered.
 */
import { z } from 'zod';
import type { Payload } from '../providers/types.js';
import { INVALID_PROVIDER } from '../state/rejections.js';
import type { TenantState } from '../state/store.js';
import type { Staging } from './staging.js';

export const planRecordSchema = z.object({
  provider: z.string(),
  contactId: z.string(),
  op: z.enum(['create', 'update', 'delete', 'orphan', 'invalid']),
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
  /** invalid only: why the contact is never sent. */
  code: z.string().optional(),
  reason: z.string().optional(),
});
export type PlanRecord = z.infer<typeof planRecordSchema>;

/** Changes per provider (deletes and orphans, then creates and updates), then the invalid rows once. */
export async function* planRecords(
  state: TenantState,
  staging: Staging,
  providers: readonly string[],
  losers: ReadonlySet<number>,
  limitPerProvider = Number.POSITIVE_INFINITY,
): AsyncGenerator<PlanRecord> {
  for (const provider of providers) {
    let left = limitPerProvider;
    for await (const page of staging.read(provider, ['delete', 'orphan', 'create', 'update'])) {
      if (left <= 0) break;
      const items = page.filter((i) => i.ordinal < 0 || !losers.has(i.ordinal)).slice(0, left);
      left -= items.length;
      const base = await state.baseline.byIds(provider, items.filter((i) => i.op !== 'create').map((i) => i.contactId));
      for (const item of items) {
        const before = base.get(item.contactId);
        yield {
          provider,
          contactId: item.contactId,
          op: item.op as 'create' | 'update' | 'delete' | 'orphan',
          before: before === undefined ? null : (JSON.parse(before.payload) as Payload),
          after: item.payload,
        };
      }
    }
  }
  let left = limitPerProvider;
  for await (const page of staging.read(INVALID_PROVIDER, ['invalid'])) {
    if (left <= 0) break;
    for (const item of page.slice(0, left)) {
      left--;
      yield { provider: INVALID_PROVIDER, contactId: item.contactId, op: 'invalid', before: null, after: null, code: item.code ?? '', reason: item.reason ?? '' };
    }
  }
}
