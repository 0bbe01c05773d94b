import { z } from 'zod';

/** A scalar value allowed in `attributes` (and so in providers' custom fields / metadata). */
export const attributeValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/**
 * The canonical contact as read from the source table (SPEC section 4), before normalisation.
 * `phone` is exactly as the row holds it; `attributes` is a JSON object.
 */
export const sourceContactSchema = z.object({
  id: z.string().min(1),
  phone: z.string().nullable(),
  name: z.string().nullable(),
  language: z.string().nullable(),
  country: z.string().nullable(), // ISO 3166-1 alpha-2, upper case
  zip: z.string().nullable(),
  attributes: z.record(z.string(), z.unknown()),
  /**
   * `attributes` exactly as the source stores it, when it is JSON text: the planner's source key
   * fingerprints this text instead of re-serialising the parsed object (a different spelling of the
   * same object only costs one re-map). Absent when the driver hands over an object (jsonb).
   */
  attributesText: z.string().optional(),
  updatedAt: z.string().nullable(), // ISO 8601
});
export type SourceContact = z.infer<typeof sourceContactSchema>;

/** A contact whose phone normalised to a valid E.164 number: what the mappers receive. */
export const contactSchema = sourceContactSchema.omit({ attributesText: true }).extend({
  phone: z.string().regex(/^\+[1-9]\d{1,14}$/),
  /** Region of the phone number as libphonenumber-js detected it (used when `country` is empty). */
  phoneCountry: z.string().nullable(),
});
export type Contact = z.infer<typeof contactSchema>;

/** Why a source row is never sent anywhere. */
export const invalidReasonSchema = z.object({
  code: z.enum(['invalid_phone', 'missing_phone', 'phone_extension', 'duplicate_phone']),
  reason: z.string(), // the parser's reason, in words a person can act on
});
export type InvalidReason = z.infer<typeof invalidReasonSchema>;
