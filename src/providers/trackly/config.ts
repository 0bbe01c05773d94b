import { z } from 'zod';
import { baseUrlSchema, commonProviderFields } from '../common-config.js';
import { tracklyMaxContacts } from './adapter.js';

export const tracklyConfigSchema = z
  .object({
    ...commonProviderFields({ label: 'Trackly', maxBatch: tracklyMaxContacts }),
    type: z.literal('trackly'),
    baseUrl: baseUrlSchema.default('https://app.tracklysms.com/api/v2'),
    apiKey: z.string().min(1),
    /** The sending list (E.164) the contacts are subscribed to. */
    listNumber: z.string().regex(/^\+[1-9]\d{1,14}$/, 'an E.164 number such as "+18005551234"'),
    /** Enrol new subscribers in the list's journeys (Trackly `use_journeys`). */
    useJourneys: z.boolean().default(false),
  })
  .strict();
export type TracklyConfig = z.infer<typeof tracklyConfigSchema>;
