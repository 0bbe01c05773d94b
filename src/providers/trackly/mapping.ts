/**
 * Canonical contact -> Trackly ListContact (providers.md, last table). Trackly custom fields hold
 * only strings, numbers and booleans, so attributes of any other type (objects, arrays) are
 * dropped, and null values are left out. The canonical fields win over attributes of the same name.
 */
import type { Contact } from '../../source/contact.js';
import { sortedRecord } from '../sorted-record.js';

export type CustomFieldValue = string | number | boolean;

export interface TracklyPayload {
  [field: string]: unknown;
  phone_number: string;
  /** The sending list (E.164): with the phone, the remote identity. */
  list_number: string;
  custom_fields: Record<string, CustomFieldValue>;
}

export function toTracklyPayload(contact: Contact, listNumber: string): TracklyPayload {
  const fields: Record<string, CustomFieldValue> = {};
  for (const [key, value] of Object.entries(contact.attributes)) if (isCustomFieldValue(value)) fields[key] = value;
  for (const [key, value] of Object.entries({ name: contact.name, language: contact.language, country: contact.country, zip: contact.zip })) {
    if (value !== null) fields[key] = value;
  }
  return { custom_fields: sortedRecord(fields), list_number: listNumber, phone_number: contact.phone };
}

export function isCustomFieldValue(value: unknown): value is CustomFieldValue {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** The remote identity of a payload: one subscription of one phone to one list. */
export function subscriptionOf(payload: Pick<TracklyPayload, 'phone_number' | 'list_number'>): string {
  return `${payload.phone_number} ${payload.list_number}`;
}
