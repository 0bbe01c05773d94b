/**
 * A tenant aimed at the sandbox over loopback, opened the way the CLI opens one (a config file,
 * loadConfig, openTenant behind in-process rate gates) with a source table (SQLite or PostgreSQL,
 * the embedded `contacts` layout) the test rewrites; and
 * the provider state a set of source rows should leave, computed with the providers' own mapping
 * functions, next to what the sandbox's emulators actually hold.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { TenantConfigInput } from '../../src/config/schema.js';
import { migrate } from '../../src/db/migrate.js';
import { openStore } from '../../src/db/open.js';
import type { SourceDatabase } from '../../src/db/schema.js';
import { openTenant } from '../../src/engine/open-tenant.js';
import { type ReconcileOptions, runReconcile } from '../../src/engine/reconcile.js';
import type { RuntimeTuning, TenantRuntime } from '../../src/engine/runtime.js';
import { type SyncOptions, type SyncResult, runSync } from '../../src/engine/sync.js';
import { LocalRateGateRegistry } from '../../src/http/rate-gate.js';
import type { RetryPolicy } from '../../src/http/types.js';
import { toOliaiPayload } from '../../src/providers/oliai/mapping.js';
import { defaultTracklyList } from '../../src/providers/trackly/sandbox.js';
import { toTracklyPayload } from '../../src/providers/trackly/mapping.js';
import { toTwilioPayload } from '../../src/providers/twilio/mapping.js';
import type { Sandbox } from '../../src/sandbox/server.js';
import type { ProviderType } from '../../src/sandbox/types.js';
import type { SourceContact } from '../../src/source/contact.js';
import { toContact } from '../../src/source/normalise.js';
import { type StateStore, type TenantState, openStateStore, tenantState } from '../../src/state/store.js';

export const defaultCountry = 'US';

/** Per provider config beyond the endpoint and credentials (SPEC section 3). */
export type ProviderSettings = Partial<Record<ProviderType, { batchSize?: number; timeoutMs?: number }>>;

export interface SandboxTenantOptions {
  sandbox: Sandbox;
  /** The sandbox's time scale: the adapters' rate windows are divided by it too. */
  timeScale: number;
  stateUrl: string;
  /** Where the `contacts` table goes (created here with the source migration). */
  sourceUrl: string;
  tenant?: string;
  providers?: ProviderSettings;
  /** Short retry delays, so a run that cannot finish gives up in well under a second. */
  retry?: Partial<RetryPolicy>;
  tuning?: Partial<RuntimeTuning>;
}

export interface SandboxTenant {
  readonly tenant: string;
  /** Replaces every row of the source table. */
  setSource(rows: readonly SourceContact[]): Promise<void>;
  /** One run as `contact-sync sync --config FILE` does it: load the config, open the tenant, run, close. */
  sync(options?: SyncOptions): Promise<SyncResult>;
  /** One `contact-sync reconcile --config FILE`, opened the same way. */
  reconcile(options?: ReconcileOptions): ReturnType<typeof runReconcile>;
  /** The tenant's state, read through a store of the test's own. */
  readonly store: StateStore;
  readonly state: TenantState;
  close(): Promise<void>;
}

export async function createSandboxTenant(options: SandboxTenantOptions): Promise<SandboxTenant> {
  const { sandbox } = options;
  const tenant = options.tenant ?? 'e2e';
  const dir = mkdtempSync(join(tmpdir(), 'cs-e2e-'));
  const source = openStore<SourceDatabase>(options.sourceUrl, { poolSize: 2 });
  await migrate(source.db, 'source');

  const settings = (type: ProviderType) => options.providers?.[type] ?? {};
  const config: TenantConfigInput = {
    tenant,
    state: options.stateUrl,
    source: { url: options.sourceUrl, defaultCountry },
    providers: [
      { name: 'twilio', type: 'twilio', baseUrl: sandbox.baseUrl('twilio'), ...sandbox.credentials.twilio, ...settings('twilio') },
      { name: 'trackly', type: 'trackly', baseUrl: sandbox.baseUrl('trackly'), apiKey: sandbox.credentials.trackly.apiKey, listNumber: defaultTracklyList, ...settings('trackly') },
      { name: 'oliai', type: 'oliai', baseUrl: sandbox.baseUrl('oliai'), apiKey: sandbox.credentials.oliai.apiKey, ...settings('oliai') },
    ],
  };
  const file = join(dir, `${tenant}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  const store = await openStateStore(options.stateUrl);
  const withRuntime = async <T>(run: (runtime: TenantRuntime) => Promise<T>): Promise<T> => {
    const runtime = await openTenant(
      await loadConfig(file, {}),
      {
        gates: new LocalRateGateRegistry(),
        logger: pino({ level: 'silent' }),
        timeScale: options.timeScale,
        ...(options.retry === undefined ? {} : { retry: options.retry }),
      },
      options.tuning === undefined ? {} : { tuning: options.tuning },
    );
    try {
      return await run(runtime);
    } finally {
      await runtime.close();
    }
  };

  return {
    tenant,
    store,
    state: tenantState(store.db, tenant),
    async setSource(rows) {
      await source.db.transaction().execute(async (tx) => {
        await tx.deleteFrom('contacts').execute();
        for (let i = 0; i < rows.length; i += 100) {
          await tx
            .insertInto('contacts')
            .values(
              rows.slice(i, i + 100).map((r) => ({
                id: r.id,
                phone: r.phone,
                name: r.name,
                language: r.language,
                country: r.country,
                zip: r.zip,
                attributes: JSON.stringify(r.attributes),
                updated_at: r.updatedAt,
              })),
            )
            .execute();
        }
      });
    },
    sync: (syncOptions = {}) => withRuntime((runtime) => runSync(runtime, syncOptions)),
    reconcile: (reconcileOptions = {}) => withRuntime((runtime) => runReconcile(runtime, reconcileOptions)),
    async close() {
      await store.close();
      await source.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What each provider holds, keyed by phone, in the shape its mapping function produces. */
export interface RemoteState {
  twilio: Record<string, Record<string, unknown>>;
  /** Active subscriptions to the tenant's sending list: their custom fields. */
  trackly: Record<string, Record<string, unknown>>;
  oliai: Record<string, Record<string, unknown>>;
}

/** The state the valid rows should leave at every provider (rows that are invalid are left out). */
export function expectedRemote(rows: readonly SourceContact[]): RemoteState {
  const remote: RemoteState = { twilio: {}, trackly: {}, oliai: {} };
  for (const row of rows) {
    const result = toContact(row, defaultCountry);
    if (!result.ok) continue;
    const { contact } = result;
    remote.twilio[contact.phone] = toTwilioPayload(contact);
    remote.trackly[contact.phone] = toTracklyPayload(contact, defaultTracklyList).custom_fields;
    remote.oliai[contact.phone] = toOliaiPayload(contact);
  }
  return sorted(remote);
}

export interface SandboxView {
  remote: RemoteState;
  /** Phones unsubscribed from the sending list (Trackly keeps the subscription, inactive). */
  tracklyInactive: string[];
  /** OliAI's id of each contact, by phone. */
  oliaiIds: Record<string, string>;
  /** OliAI contacts in all (a phone can be held once only, so a duplicate would show as a surplus here). */
  oliaiCount: number;
}

/** What the emulators hold now, in the same shapes as `expectedRemote`. */
export function sandboxView(sb: Sandbox): SandboxView {
  const remote: RemoteState = { twilio: {}, trackly: {}, oliai: {} };
  for (const c of sb.twilio.contacts.values()) {
    remote.twilio[c.contact_id] = {
      contact_id: c.contact_id,
      ...(c.country_iso_code === null ? {} : { country_iso_code: c.country_iso_code }),
      ...(c.zip_code === null ? {} : { zip_code: c.zip_code }),
    };
  }
  const { active, inactive: tracklyInactive } = tracklyView(sb);
  remote.trackly = active;
  const oliaiIds: Record<string, string> = {};
  for (const c of sb.oliai.contacts().values()) {
    remote.oliai[c.phoneNumber] = { name: c.name, phoneNumber: c.phoneNumber, language: c.language, metadata: c.metadata };
    oliaiIds[c.phoneNumber] = c.id;
  }
  return { remote: sorted(remote), tracklyInactive: tracklyInactive.sort(), oliaiIds, oliaiCount: sb.oliai.contacts().size };
}

/** One Trackly account's subscriptions to the sending list (default: the sandbox's first key): active ones' custom fields by phone, and the unsubscribed phones. */
export function tracklyView(sb: Sandbox, apiKey?: string): { active: Record<string, Record<string, unknown>>; inactive: string[] } {
  const active: Record<string, Record<string, unknown>> = {};
  const inactive: string[] = [];
  for (const s of sb.trackly.listContacts(undefined, apiKey).values()) {
    if (s.active) active[s.phone_number] = { ...s.custom_fields };
    else inactive.push(s.phone_number);
  }
  return { active, inactive };
}

function sorted(remote: RemoteState): RemoteState {
  const sort = (m: Record<string, Record<string, unknown>>) => Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { twilio: sort(remote.twilio), trackly: sort(remote.trackly), oliai: sort(remote.oliai) };
}
