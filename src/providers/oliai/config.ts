import { z } from 'zod';
import { baseUrlSchema, commonProviderFields } from '../common-config.js';
import { oliaiMaxBulk, oliaiMaxBulkDelete } from './adapter.js';

export const oliaiConfigSchema = z
  .object({
    ...commonProviderFields({ label: 'OliAI', maxBatch: Math.min(oliaiMaxBulk, oliaiMaxBulkDelete) }),
    type: z.literal('oliai'),
    baseUrl: baseUrlSchema.default('https://api.oliai.in/v1'),
    apiKey: z.string().min(1),
  })
  .strict();
export type OliaiConfig = z.infer<typeof oliaiConfigSchema>;
