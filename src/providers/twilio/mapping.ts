/**
 * Canonical contact -> Twilio Contacts item (providers.md, last table). `correlation_id` is not
 * part of the payload: it is per send (UpsertItem.correlationId), so the payload hash does not
 * depend on it. Absent country and zip are left out rather than sent as null: an item missing an
 * optional field is always accepted, a null might not be.
 */
import type { Contact } from '../../source/contact.js';

export interface TwilioPayload {
  [field: string]: unknown;
  /** E.164 phone: the upsert key. */
  contact_id: string;
  country_iso_code?: string;
  zip_code?: string;
}

export function toTwilioPayload(contact: Contact): TwilioPayload {
  const country = nonEmpty(contact.country) ?? nonEmpty(contact.phoneCountry);
  const zip = nonEmpty(contact.zip);
  return {
    contact_id: contact.phone,
    ...(country === undefined ? {} : { country_iso_code: country }),
    ...(zip === undefined ? {} : { zip_code: zip }),
  };
}

function nonEmpty(value: string | null): string | undefined {
  return value === null || value.trim() === '' ? undefined : value;
}
