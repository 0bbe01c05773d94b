/**
 * Phone normalisation (SPEC section 4): a source phone to E.164 with libphonenumber-js `max`
 * metadata, which checks the exact number ranges of each region, not only lengths. A number in
 * national format is read in the row's country, else in the tenant's defaultCountry. A number that
 * is not valid gets the parser's reason as a sentence a person can act on.
 */
import { type CountryCode, isSupportedCountry, ParseError, parsePhoneNumberWithError, type PhoneNumber, validatePhoneNumberLength } from 'libphonenumber-js/max';
import type { Contact, InvalidReason, SourceContact } from './contact.js';

export type NormalisedPhone = { ok: true; e164: string; region: string | null } | { ok: false; code: 'missing_phone' | 'invalid_phone' | 'phone_extension'; reason: string };

export interface PhoneContext {
  /** The row's country (ISO 3166-1 alpha-2, any case). */
  country?: string | null | undefined;
  /** The tenant's source.defaultCountry. */
  defaultCountry?: string | null | undefined;
}

const e164 = /^\+[1-9]\d{1,14}$/;

export function normalisePhone(raw: string | null | undefined, context: PhoneContext = {}): NormalisedPhone {
  const text = raw?.trim() ?? '';
  if (text === '') return { ok: false, code: 'missing_phone', reason: 'no phone number' };

  const given = context.country?.trim().toUpperCase() || undefined;
  const region = given ?? (context.defaultCountry || undefined);
  const known = region !== undefined && isSupportedCountry(region) ? (region as CountryCode) : undefined;

  let phone = parse(text, known);
  // "00" is the international prefix in most of the world; where the region dials another one
  // (011 in the US), read "0044…" as "+44…" rather than as a national number.
  if ((phone instanceof ParseError || !phone.isValid()) && text.startsWith('00')) {
    const international = parse(`+${text.slice(2)}`, undefined);
    if (!(international instanceof ParseError) && international.isValid()) phone = international;
  }

  if (phone instanceof ParseError) return invalid(parseErrorReason(phone.message, text, region, known, given !== undefined));
  if (!phone.isValid()) return invalid(invalidNumberReason(phone, text, known));
  if (phone.ext !== undefined) {
    return { ok: false, code: 'phone_extension', reason: `phone "${text}" has an extension (${phone.ext}); contact stores take a number without one: move the extension to another field` };
  }
  const number = phone.number;
  if (!e164.test(number)) return invalid(`phone "${text}" does not make an E.164 number`);
  return { ok: true, e164: number, region: phone.country ?? null };
}

export type ContactResult = { ok: true; contact: Contact } | { ok: false; invalid: InvalidReason };

/** The row's country as the mappers and the phone parser read it: upper case, empty -> null. */
export function rowCountry(row: SourceContact): string | null {
  return row.country === null ? null : row.country.trim().toUpperCase() || null;
}

/**
 * A source row as the mappers receive it: phone in E.164, country upper-cased (empty -> null),
 * `phoneCountry` the number's own region. A row whose phone is not valid is never sent.
 */
export function toContact(row: SourceContact, defaultCountry?: string): ContactResult {
  const country = rowCountry(row);
  return contactFrom(row, normalisePhone(row.phone, { country, defaultCountry }));
}

/** The contact of `row` given its phone as `normalisePhone` read it (in this thread or another). */
export function contactFrom(row: SourceContact, phone: NormalisedPhone): ContactResult {
  if (!phone.ok) return { ok: false, invalid: { code: phone.code, reason: phone.reason } };
  return {
    ok: true,
    contact: {
      id: row.id,
      phone: phone.e164,
      name: row.name,
      language: row.language,
      country: rowCountry(row),
      zip: row.zip,
      attributes: row.attributes,
      updatedAt: row.updatedAt,
      phoneCountry: phone.region,
    },
  };
}

function parse(text: string, country: CountryCode | undefined): PhoneNumber | ParseError {
  try {
    // extract: false — the whole text must be the number ("call me at …" is not a phone).
    return parsePhoneNumberWithError(text, { defaultCountry: country, extract: false });
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
}

function invalid(reason: string): NormalisedPhone {
  return { ok: false, code: 'invalid_phone', reason };
}

function parseErrorReason(code: string, text: string, region: string | undefined, known: CountryCode | undefined, fromRow: boolean): string {
  switch (code) {
    case 'INVALID_COUNTRY':
      if (text.startsWith('+')) return `phone "${text}" does not start with a known country calling code`;
      if (region === undefined) return `phone "${text}" has no +country code and the row has no country (set the row's country or source.defaultCountry)`;
      if (known === undefined) return `phone "${text}" has no +country code and ${fromRow ? "the row's country" : 'source.defaultCountry'} "${region}" is not an ISO 3166-1 alpha-2 code`;
      return `phone "${text}" is not a number of ${region}`;
    case 'TOO_SHORT':
      return `phone "${text}" is too short${known === undefined ? '' : ` for ${known}`}`;
    case 'TOO_LONG':
      return `phone "${text}" is too long${known === undefined ? '' : ` for ${known}`}`;
    case 'NOT_A_NUMBER':
      return `phone "${text}" is not a phone number (only digits, spaces, + - . / ( ) and an extension are allowed)`;
    default:
      return `phone "${text}" cannot be read as a phone number (${code})`;
  }
}

function invalidNumberReason(phone: PhoneNumber, text: string, known: CountryCode | undefined): string {
  const international = text.startsWith('+') || text.startsWith('00');
  const where = phone.country ?? (international ? `+${phone.countryCallingCode}` : known) ?? `+${phone.countryCallingCode}`;
  switch (validatePhoneNumberLength(phone.number)) {
    case 'TOO_SHORT':
      return `phone "${text}" is too short for ${where}`;
    case 'TOO_LONG':
      return `phone "${text}" is too long for ${where}`;
    case 'INVALID_LENGTH':
      return `phone "${text}" has the wrong number of digits for ${where}`;
    default:
      return `phone "${text}" is not a valid number of ${where}: no such number range is in use`;
  }
}
