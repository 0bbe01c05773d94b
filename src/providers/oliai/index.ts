export { createOliaiAdapter, oliaiDefaultTimeoutMs, oliaiLimits, oliaiMaxBulk, oliaiMaxBulkDelete } from './adapter.js';
export { type OliaiConfig, oliaiConfigSchema } from './config.js';
export { type OliaiPayload, toOliaiPayload } from './mapping.js';
