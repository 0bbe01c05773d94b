import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceContact } from '../../src/source/contact.js';
import { normalisePhone, toContact } from '../../src/source/normalise.js';

type Case = [raw: string | null, country: string | null, defaultCountry: string | undefined, expected: string | RegExp];

// expected: the E.164 number, or "code: reason" (a RegExp on it) for a number that is refused.
const cases: Case[] = [
  ['+14155552671', null, undefined, '+14155552671'],
  ['(415) 555-2671', 'US', undefined, '+14155552671'],
  ['415.555.2671', null, 'US', '+14155552671'],
  ['1-415-555-2671', 'us', undefined, '+14155552671'],
  ['  +1 (415) 555-2671  ', null, undefined, '+14155552671'],
  ['+1/415/555/2671', null, undefined, '+14155552671'],
  ['020 7946 0958', 'GB', 'US', '+442079460958'],
  ['+44 (0)20 7946 0958', null, undefined, '+442079460958'],
  ['0044 20 7946 0958', 'GB', undefined, '+442079460958'],
  ['0044 20 7946 0958', 'US', undefined, '+442079460958'], // US dials 011, yet 00… is plainly international
  ['0044 20 7946 0958', null, undefined, '+442079460958'],
  ['07911 123456', 'GB', undefined, '+447911123456'],
  ['98765 43210', 'IN', undefined, '+919876543210'],
  ['+91 98765-43210', 'US', undefined, '+919876543210'], // the + wins over the row's country
  ['030 123456', 'DE', undefined, '+4930123456'],
  ['0151 23456789', null, 'DE', '+4915123456789'],
  ['06 12 34 56 78', 'FR', undefined, '+33612345678'],
  ['(11) 91234-5678', 'BR', undefined, '+5511912345678'],
  ['090-1234-5678', 'JP', undefined, '+819012345678'],
  ['55 1234 5678', 'MX', undefined, '+525512345678'],
  ['０２０ ７９４６ ０９５８', 'GB', undefined, '+442079460958'], // full-width digits
  ['', 'US', undefined, /^missing_phone: no phone number$/],
  ['   ', 'US', undefined, /^missing_phone: /],
  [null, 'US', undefined, /^missing_phone: /],
  ['+1 415-555-2671 ext. 12', null, undefined, /^phone_extension: phone "\+1 415-555-2671 ext\. 12" has an extension \(12\)/],
  ['415.555.2671 x12', 'US', undefined, /^phone_extension: .*extension \(12\)/],
  ['+1 415 555 2671;ext=5', null, undefined, /^phone_extension: /],
  ['call me', 'US', undefined, /^invalid_phone: phone "call me" is not a phone number/],
  ['1-800-FLOWERS', 'US', undefined, /^invalid_phone: phone "1-800-FLOWERS" is not a phone number/],
  ['+14155552671x', null, undefined, /^invalid_phone: .*is not a phone number/],
  ['555-0100', 'US', undefined, /^invalid_phone: phone "555-0100" is too short for US$/],
  ['+44 20 7946', null, undefined, /^invalid_phone: phone "\+44 20 7946" is too short for \+44$/],
  ['0201234', 'GB', undefined, /^invalid_phone: phone "0201234" is not a valid number of GB/],
  ['12345678901234567890', 'US', undefined, /^invalid_phone: phone "12345678901234567890" is too long for US$/],
  ['+1 415 555 2671 / 2672', null, undefined, /^invalid_phone: phone ".*" is too long for/],
  ['+999 1234567', null, undefined, /^invalid_phone: phone "\+999 1234567" does not start with a known country calling code$/],
  ['4155552671', null, undefined, /^invalid_phone: phone "4155552671" has no \+country code and the row has no country/],
  ['4155552671', 'UK', 'US', /^invalid_phone: phone "4155552671" has no \+country code and the row's country "UK" is not an ISO 3166-1 alpha-2 code$/],
  ['+1 (415) 555-2671', 'ZZ', undefined, '+14155552671'], // an unknown country does not matter when the number says +1
];

function outcome(raw: string | null, country: string | null, defaultCountry: string | undefined): string {
  const result = normalisePhone(raw, { country, defaultCountry });
  return result.ok ? result.e164 : `${result.code}: ${result.reason}`;
}

describe('normalisePhone', () => {
  it.each(cases)('%j (country %s, default %s)', (raw, country, defaultCountry, expected) => {
    const got = outcome(raw, country, defaultCountry);
    if (typeof expected === 'string') expect(got).toBe(expected);
    else expect(got).toMatch(expected);
  });

  it('runs on libphonenumber-js as patched at install (patches/README.md)', () => {
    // The package's main entry is build/index.cjs; the ESM helpers we load sit beside it in es6/.
    const root = dirname(dirname(createRequire(import.meta.url).resolve('libphonenumber-js/max')));
    for (const build of ['es6', 'build']) {
      expect(readFileSync(join(root, build, 'helpers', 'matchesEntirely.js'), 'utf8')).toContain('contact-sync patch: compile each pattern once');
    }
  });

  it('reports the region of the number', () => {
    expect(normalisePhone('+442079460958')).toEqual({ ok: true, e164: '+442079460958', region: 'GB' });
    expect(normalisePhone('+14155552671')).toEqual({ ok: true, e164: '+14155552671', region: 'US' });
  });
});

describe('toContact', () => {
  const row: SourceContact = { id: 'c1', phone: '020 7946 0958', name: 'Zoë', language: 'en-GB', country: ' gb ', zip: 'SW1A 1AA', attributes: { vip: true }, updatedAt: '2024-01-01T00:00:00.000Z' };

  it('upper-cases the country and keeps the phone region', () => {
    expect(toContact(row, 'US')).toEqual({ ok: true, contact: { ...row, phone: '+442079460958', country: 'GB', phoneCountry: 'GB' } });
  });

  it('reads a row without country in the default country and leaves country empty for the mapper', () => {
    const result = toContact({ ...row, country: '', phone: '(415) 555-2671' }, 'US');
    expect(result).toEqual({ ok: true, contact: { ...row, phone: '+14155552671', country: null, phoneCountry: 'US' } });
  });

  it('gives the invalid reason', () => {
    expect(toContact({ ...row, phone: '12' }, 'US')).toEqual({ ok: false, invalid: { code: 'invalid_phone', reason: 'phone "12" is too short for GB' } });
  });
});
