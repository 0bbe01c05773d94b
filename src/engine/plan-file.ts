/**
 * --plan-out / --plan files: JSON lines, a header `{planId, tenant, sourceFingerprint,
 * stateFingerprint, changesDigest, createdAt, options, counts}` then one PlanRecord per line. A plan
 * is applied only if re-planning now reproduces both fingerprints and the digest of its changes.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { PlanRecord } from './plan-records.js';

const count = z.number().int().nonnegative();

export const planHeaderSchema = z.object({
  planId: z.string().min(1),
  tenant: z.string(),
  sourceFingerprint: z.string(),
  stateFingerprint: z.string(),
  changesDigest: z.string(),
  createdAt: z.string(),
  options: z.object({ full: z.boolean(), providers: z.array(z.string()) }),
  counts: z.record(
    z.string(),
    z.object({ create: count, update: count, delete: count, unchanged: count, invalid: count, orphan: count, deferred: count }),
  ),
});
export type PlanHeader = z.infer<typeof planHeaderSchema>;

export async function writePlanFile(path: string, header: PlanHeader, records: AsyncIterable<PlanRecord>): Promise<void> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const write = async (line: string): Promise<void> => {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  };
  try {
    await write(JSON.stringify(header));
    for await (const record of records) await write(JSON.stringify(record));
  } finally {
    out.end();
    await once(out, 'close');
  }
}

export async function readPlanHeader(path: string): Promise<PlanHeader> {
  let first: string | undefined;
  try {
    const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      first = line;
      break;
    }
  } catch (error) {
    throw new InputError(`cannot read plan file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(first ?? '');
  } catch {
    throw new InputError(`${path} is not a plan file: its first line is not JSON`);
  }
  const header = planHeaderSchema.safeParse(parsed);
  if (!header.success) throw new InputError(`${path} is not a plan file: ${z.prettifyError(header.error)}`);
  return header.data;
}
