/**
 * Canonical contact -> OliAI contact (providers.md, last table). `name` is required by OliAI, so
 * an empty one becomes the phone. `language` is always present (null when unknown) because OliAI
 * keeps a field that is left out: null is how a removed language reaches it. Metadata takes the
 * attributes as they are (any JSON); the canonical country and zip win over attributes of the same name.
 */
import type { Contact } from '../../source/contact.js';
import { sortedRecord } from '../sorted-record.js';

export interface OliaiPayload {
  [field: string]: unknown;
  name: string;
  phoneNumber: string;
  language: string | null;
  metadata: Record<string, unknown>;
}

export function toOliaiPayload(contact: Contact): OliaiPayload {
  const metadata: Record<string, unknown> = { ...contact.attributes };
  if (contact.country !== null) metadata.country = contact.country;
  if (contact.zip !== null) metadata.zip = contact.zip;
  const name = contact.name?.trim() ? contact.name : contact.phone;
  return { language: contact.language, metadata: sortedRecord(metadata), name, phoneNumber: contact.phone };
}
