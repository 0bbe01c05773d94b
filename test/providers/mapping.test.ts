import { describe, expect, it } from 'vitest';
import { payloadHash } from '../../src/engine/hash.js';
import { toOliaiPayload } from '../../src/providers/oliai/mapping.js';
import { toTracklyPayload } from '../../src/providers/trackly/mapping.js';
import { toTwilioPayload } from '../../src/providers/twilio/mapping.js';
import { bulkContactsBody } from '../../src/providers/twilio/wire.js';
import { contact } from './helpers.js';

const full = contact({
  id: 'c1',
  phone: '+14155552671',
  name: 'Ada Lovelace',
  language: 'en-US',
  country: 'US',
  zip: '94105',
  attributes: { tier: 'gold', visits: 3, vip: true, nothing: null, tags: ['a'], address: { city: 'SF' }, name: 'shadowed' },
});
const bare = contact({ id: 'c2', phone: '+442071838750', phoneCountry: 'GB' });

describe('Twilio mapping', () => {
  it('keeps phone, country and zip only; no correlation id', () => {
    expect(toTwilioPayload(full)).toEqual({ contact_id: '+14155552671', country_iso_code: 'US', zip_code: '94105' });
  });
  it("takes the country from the phone's region when the contact has none, and leaves out what is unknown", () => {
    expect(toTwilioPayload(bare)).toEqual({ contact_id: '+442071838750', country_iso_code: 'GB' });
    expect(toTwilioPayload({ ...bare, phoneCountry: null, zip: ' ' })).toEqual({ contact_id: '+442071838750' });
  });
});

describe('Trackly mapping', () => {
  it('puts canonical fields and scalar attributes in custom_fields, dropping nulls and non-scalars', () => {
    expect(toTracklyPayload(full, '+18005551234')).toEqual({
      phone_number: '+14155552671',
      list_number: '+18005551234',
      custom_fields: { tier: 'gold', visits: 3, vip: true, name: 'Ada Lovelace', language: 'en-US', country: 'US', zip: '94105' },
    });
    expect(toTracklyPayload(bare, '+18005551234').custom_fields).toEqual({});
  });
});

describe('OliAI mapping', () => {
  it('sends the phone as the name when there is none, and language as null when unknown', () => {
    expect(toOliaiPayload(bare)).toEqual({ name: '+442071838750', phoneNumber: '+442071838750', language: null, metadata: {} });
    expect(toOliaiPayload({ ...bare, name: '  ' }).name).toBe('+442071838750');
  });
  it('puts country, zip and every attribute (any JSON) in metadata, canonical ones winning', () => {
    expect(toOliaiPayload({ ...full, attributes: { ...full.attributes, country: 'FR' } })).toEqual({
      name: 'Ada Lovelace',
      phoneNumber: '+14155552671',
      language: 'en-US',
      metadata: { tier: 'gold', visits: 3, vip: true, nothing: null, tags: ['a'], address: { city: 'SF' }, name: 'shadowed', country: 'US', zip: '94105' },
    });
  });
});

describe('payload hashes', () => {
  const reordered = contact({ ...full, attributes: Object.fromEntries(Object.entries(full.attributes).reverse()) });
  const mappers = {
    twilio: toTwilioPayload,
    trackly: (c: typeof full) => toTracklyPayload(c, '+18005551234'),
    oliai: toOliaiPayload,
  };
  it.each(Object.entries(mappers))('%s: depend on the contact only, not on attribute order or updatedAt', (_, map) => {
    expect(payloadHash(map(reordered))).toBe(payloadHash(map(full)));
    expect(payloadHash(map({ ...full, updatedAt: '2030-01-01T00:00:00Z' }))).toBe(payloadHash(map(full)));
    expect(payloadHash(map({ ...full, zip: '94106' }))).not.toBe(payloadHash(map(full)));
  });
  it('Trackly: do not change with attributes Trackly cannot hold', () => {
    const withObject = { ...full, attributes: { ...full.attributes, extra: { deep: 1 } } };
    expect(payloadHash(mappers.trackly(withObject))).toBe(payloadHash(mappers.trackly(full)));
  });
});

describe('Twilio wire body', () => {
  const items = [
    { payload: { contact_id: '+19999999999', country_iso_code: 'US', zip_code: '12345' }, correlationId: 'ad388b5a46b33b874b0d41f7226db2eh' },
    { payload: { contact_id: '+19' }, correlationId: '02520cfa6c432f0e3ec3a38c122d428a' },
  ];
  it('is one Items field per contact, RFC 3986-encoded JSON in the documented key order', () => {
    expect(bulkContactsBody(items)).toBe(
      'Items=%7B%22contact_id%22%3A%22%2B19999999999%22%2C%22correlation_id%22%3A%22ad388b5a46b33b874b0d41f7226db2eh%22%2C%22country_iso_code%22%3A%22US%22%2C%22zip_code%22%3A%2212345%22%7D' +
        '&Items=%7B%22contact_id%22%3A%22%2B19%22%2C%22correlation_id%22%3A%2202520cfa6c432f0e3ec3a38c122d428a%22%7D',
    );
  });
  it("encodes characters encodeURIComponent leaves alone, as the twilio client's qs does", () => {
    const body = bulkContactsBody([{ payload: { contact_id: '+1', zip_code: "A!'()* é~" }, correlationId: 'x' }]);
    expect(body).toContain('A%21%27%28%29%2A%20%C3%A9~');
    expect(new URLSearchParams(body).get('Items')).toBe(JSON.stringify({ contact_id: '+1', correlation_id: 'x', zip_code: "A!'()* é~" }));
  });
});
