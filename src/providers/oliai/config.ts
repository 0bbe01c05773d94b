import { z } from 'zod';
import { baseUrlSchema, commonProviderFields } from '../common-config.js';

export const oliaiConfigSchema = z
  .object({
    ...commonProviderFields,
    type: z.literal('oliai'),
    baseUrl: baseUrlSchema.default('https://api.oliai.in/v1'),
    apiKey: z.string().min(1),
  })
  .strict();
export type OliaiConfig = z.infer<typeof oliaiConfigSchema>;
