export { createTwilioAdapter, twilioDefaultTimeoutMs, twilioLimits, twilioMaxItems } from './adapter.js';
export { type TwilioConfig, twilioConfigSchema } from './config.js';
export { type TwilioPayload, toTwilioPayload } from './mapping.js';
export { bulkContactsBody } from './wire.js';
