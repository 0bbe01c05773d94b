import { z } from 'zod';
import { baseUrlSchema, commonProviderFields } from '../common-config.js';
import { twilioMaxItems } from './adapter.js';

export const twilioConfigSchema = z
  .object({
    ...commonProviderFields({ label: 'Twilio', maxBatch: twilioMaxItems }),
    type: z.literal('twilio'),
    baseUrl: baseUrlSchema.default('https://accounts.twilio.com'),
    accountSid: z.string().regex(/^AC[0-9a-zA-Z]{32}$/, 'an Account SID: "AC" followed by 32 letters or digits'),
    authToken: z.string().min(1),
  })
  .strict();
export type TwilioConfig = z.infer<typeof twilioConfigSchema>;
