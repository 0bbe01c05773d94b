/**
 * `contact-sync reconcile` against the Trackly and OliAI emulators over HTTP: contacts are changed,
 * removed and added at the providers through the providers' own APIs, then reconcile must repair
 * what the connector wrote, leave alone what it never wrote, and send nothing on a dry run.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { defaultTracklyList } from '../../src/providers/trackly/sandbox.js';
import type { SourceContact } from '../../src/source/contact.js';
import { phoneFor } from '../cli/helpers.js';
import { type StoreHandle, sourceBackends, stateBackends } from '../helpers/stores.js';
import { type SandboxTenant, createSandboxTenant, expectedRemote, sandboxView } from './sandbox-tenant.js';

const timeScale = 300;
const contacts = 30;

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ timeScale });
});
afterAll(() => sb.close());

const rows: SourceContact[] = Array.from({ length: contacts }, (_, n) => ({
  id: `r-${String(n).padStart(3, '0')}`,
  phone: phoneFor(n),
  name: `Person ${n}`,
  language: n % 2 === 0 ? 'es' : null,
  country: 'US',
  zip: `9${String(4000 + n)}`,
  attributes: { tier: n % 3 === 0 ? 'gold' : 'silver' },
  updatedAt: '2024-05-01T00:00:00.000Z',
}));

/** One call to a provider's own API, as someone working in its dashboard would make it. */
async function call(provider: 'trackly' | 'oliai', method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${sb.baseUrl(provider)}${path}`, {
    method,
    // Both take the key in this header (names are case-insensitive).
    headers: { 'x-api-key': sb.credentials[provider].apiKey, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.ok, `${provider} ${method} ${path}: ${response.status}`).toBe(true);
  return response.json();
}

/** Requests that could change something at a provider (reconcile reads with GET). */
const writes = () => sb.requests.filter((r) => r.method !== 'GET');

describe.each(stateBackends)('reconcile against the Trackly and OliAI sandboxes (state on $name)', (stateBackend) => {
  let tenant: SandboxTenant | undefined;
  let handles: StoreHandle[] = [];
  afterEach(async () => {
    await tenant?.close();
    await Promise.all(handles.map((h) => h.cleanup()));
    tenant = undefined;
    handles = [];
    sb.reset();
  });

  it('repairs a contact changed there, re-creates one removed there, leaves foreign ones alone; --dry-run sends nothing', async () => {
    handles = await Promise.all([sourceBackends[0]!.makeUrl(), stateBackend.makeUrl()]);
    const [source, state] = handles as [StoreHandle, StoreHandle];
    const t = (tenant = await createSandboxTenant({ sandbox: sb, timeScale, sourceUrl: source.url, stateUrl: state.url }));
    await t.setSource(rows);
    expect((await t.sync()).report.status).toBe('ok');
    const synced = sandboxView(sb);

    const [edited, removed, foreign] = [phoneFor(1), phoneFor(2), phoneFor(900)];
    await call('oliai', 'PATCH', `/contacts/${synced.oliaiIds[edited]}`, { name: 'Edited at OliAI', metadata: {} });
    await call('oliai', 'DELETE', `/contacts/${synced.oliaiIds[removed]}`);
    await call('oliai', 'POST', '/contacts', { name: 'Not ours', phoneNumber: foreign, language: 'fr-FR' });
    await call('trackly', 'POST', '/contacts/bulk', {
      contacts: [
        { phone_number: edited, list_number: defaultTracklyList, custom_fields: { name: 'Edited at Trackly' } },
        { phone_number: foreign, list_number: defaultTracklyList, custom_fields: { name: 'Not ours' } },
      ],
    });
    await call('trackly', 'DELETE', '/contacts', { phone_number: removed, list_number: defaultTracklyList });
    const tampered = sandboxView(sb);
    expect(tampered.tracklyInactive).toEqual([removed]);
    expect(tampered.remote.oliai[removed]).toBeUndefined();
    const foreignAtOliai = { ...sb.oliai.contacts().get(tampered.oliaiIds[foreign]!)! };

    sb.clearRequests();
    const dry = await t.reconcile({ dryRun: true });
    const found = { checked: true, delivered: contacts, drifted: 1, missing: 1, rejected: 0 };
    expect(dry.report.providers).toMatchObject({ twilio: { checked: false }, trackly: { ...found, repaired: 0 }, oliai: { ...found, repaired: 0 } });
    expect(writes()).toEqual([]);
    expect(sandboxView(sb)).toEqual(tampered);

    const run = await t.reconcile();
    expect(run.report.status).toBe('ok');
    expect(run.report.providers).toMatchObject({ twilio: { checked: false, requests: 0 }, trackly: { ...found, repaired: 2 }, oliai: { ...found, repaired: 2 } });
    const repaired = sandboxView(sb);
    const want = expectedRemote(rows);
    // What the connector wrote is back as it delivered it; the foreign contact is untouched.
    for (const provider of ['trackly', 'oliai'] as const) {
      expect(repaired.remote[provider]).toEqual({ ...want[provider], [foreign]: tampered.remote[provider][foreign] });
    }
    expect(repaired.tracklyInactive).toEqual([]);
    expect(sb.oliai.contacts().get(repaired.oliaiIds[foreign]!)).toEqual(foreignAtOliai);
    // The re-created OliAI contact has a new id, and the baseline knows it.
    expect(repaired.oliaiIds[removed]).not.toBe(synced.oliaiIds[removed]);
    const baseline = await t.store.db.selectFrom('cs_baseline').select(['phone', 'remote_id']).where('tenant', '=', t.tenant).where('provider', '=', 'oliai').execute();
    expect(Object.fromEntries(baseline.map((b) => [b.phone, b.remote_id]))).toEqual(Object.fromEntries(Object.entries(repaired.oliaiIds).filter(([phone]) => phone !== foreign)));
    expect(await t.state.outbox.countsByProvider()).toEqual(new Map());

    // Converged: reconcile finds nothing more, and a sync sends nothing.
    sb.clearRequests();
    expect((await t.reconcile()).report.providers).toMatchObject({ trackly: { drifted: 0, missing: 0, repaired: 0 }, oliai: { drifted: 0, missing: 0, repaired: 0 } });
    expect(writes()).toEqual([]);
    sb.clearRequests();
    await t.sync();
    expect(sb.requests).toEqual([]);
  });
});
