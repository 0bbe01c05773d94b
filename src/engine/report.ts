/** The run report: `sync --json` prints exactly this document (SPEC section 2). */
import { z } from 'zod';

const count = z.number().int().nonnegative();

export const providerReportSchema = z.object({
  planned: z.object({ create: count, update: count, delete: count, unchanged: count, invalid: count, orphan: count }),
  applied: z.object({ create: count, update: count, delete: count }),
  rejected: count,
  requests: count,
  retries: count,
});
export type ProviderReport = z.infer<typeof providerReportSchema>;

export const runStatusSchema = z.enum(['ok', 'partial', 'failed', 'refused']);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const runReportSchema = z.object({
  tenant: z.string(),
  runId: z.string(),
  dryRun: z.boolean(),
  status: runStatusSchema,
  providers: z.record(z.string(), providerReportSchema),
});
export type RunReport = z.infer<typeof runReportSchema>;

export function emptyProviderReport(): ProviderReport {
  return {
    planned: { create: 0, update: 0, delete: 0, unchanged: 0, invalid: 0, orphan: 0 },
    applied: { create: 0, update: 0, delete: 0 },
    rejected: 0,
    requests: 0,
    retries: 0,
  };
}
