/** Builds tenant runtimes over a real SQLite state file, an in-memory source and fake providers. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TenantConfigInput, tenantConfigSchema } from '../../src/config/schema.js';
import type { Contact, InvalidReason, SourceContact } from '../../src/source/contact.js';
import { eachRow } from '../../src/source/phone-pool.js';
import type { SourceReader } from '../../src/source/types.js';
import { compareKeys } from '../../src/engine/key-order.js';
import { RequestTally } from '../../src/engine/request-tally.js';
import { type RuntimeTuning, type TenantRuntime, createTenantRuntime } from '../../src/engine/runtime.js';
import { type StateStore, openStateStore } from '../../src/state/store.js';
import { FakeProvider } from './fake-provider.js';
import type { ProviderCapabilities } from '../../src/providers/types.js';
import type { StoreBackend } from '../helpers/stores.js';

export class MemorySource implements SourceReader {
  rows: SourceContact[] = [];
  /** Throw after yielding this many rows (an incomplete read). */
  failAfter: number | undefined;

  set(rows: SourceContact[]): void {
    this.rows = [...rows].sort((a, b) => compareKeys(a.id, b.id));
  }

  async *pages(options?: { pageSize?: number }): AsyncIterable<SourceContact[]> {
    const size = options?.pageSize ?? 100;
    for (let i = 0; i < this.rows.length; i += size) {
      if (this.failAfter !== undefined && i + size > this.failAfter) throw new Error('source read failed midway');
      yield this.rows.slice(i, i + size);
    }
  }

  async count(): Promise<number> {
    return this.rows.length;
  }

  async close(): Promise<void> {}
}

/** A stand-in for src/source/normalise.ts: E.164 only, no national formats. */
export function fakeNormalise(row: SourceContact): { ok: true; contact: Contact } | { ok: false; invalid: InvalidReason } {
  if (row.phone === null || row.phone === '') return { ok: false, invalid: { code: 'missing_phone', reason: 'no phone number' } };
  if (!/^\+[1-9]\d{6,14}$/.test(row.phone)) return { ok: false, invalid: { code: 'invalid_phone', reason: `not a phone number: ${row.phone}` } };
  return { ok: true, contact: { ...row, phone: row.phone, phoneCountry: null } };
}

export function contact(id: string, phone: string | null, extra: Partial<SourceContact> = {}): SourceContact {
  return { id, phone, name: `name ${id}`, language: null, country: null, zip: null, attributes: {}, updatedAt: '2024-01-01T00:00:00Z', ...extra };
}

export interface Harness {
  dir: string;
  store: StateStore;
  source: MemorySource;
  providers: FakeProvider[];
  requests: RequestTally;
  runtime(options?: {
    tenant?: string;
    providers?: string[];
    tuning?: Partial<RuntimeTuning>;
    config?: Partial<TenantConfigInput>;
    /** Other adapters than the harness's own (e.g. a fresh fake per simulated process). */
    adapters?: FakeProvider[];
  }): TenantRuntime;
  close(): Promise<void>;
}

const sid = `AC${'0'.repeat(32)}`;

export async function openHarness(
  options: {
    providers?: { name: string; deleteMode?: ProviderCapabilities['deleteMode']; maxBatch?: number }[];
    stateFile?: string;
    /** Where the state lives (test/helpers/stores.ts: describe.each(stateBackends)); default a SQLite file in `dir`. */
    backend?: StoreBackend;
  } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-engine-'));
  const external = await options.backend?.makeUrl();
  const store = await openStateStore(external?.url ?? `sqlite:${options.stateFile ?? join(dir, 'state.db')}`);
  const source = new MemorySource();
  const requests = new RequestTally();
  const specs = options.providers ?? [{ name: 'alpha' }];
  const providers = specs.map((p) => new FakeProvider(p.name, { ...p, observer: requests }));
  return {
    dir,
    store,
    source,
    providers,
    requests,
    runtime(runtimeOptions = {}) {
      const config = tenantConfigSchema.parse({
        tenant: runtimeOptions.tenant ?? 'acme',
        source: { url: 'sqlite:unused.db' },
        providers: specs.map((p) => ({ name: p.name, type: 'twilio', accountSid: sid, authToken: 'secret' })),
        ...runtimeOptions.config,
      });
      return createTenantRuntime({
        config,
        store,
        source,
        adapters: runtimeOptions.adapters ?? providers,
        normalise: eachRow(fakeNormalise),
        requests,
        tuning: { heartbeatMs: 60_000, stagingMemoryLimit: 50_000, pageSize: 7, ...runtimeOptions.tuning },
        ...(runtimeOptions.providers ? { providers: runtimeOptions.providers } : {}),
      });
    },
    async close() {
      await store.close();
      await external?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
