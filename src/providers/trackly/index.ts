export {
  createTracklyAdapter,
  tracklyDefaultTimeoutMs,
  tracklyLimits,
  tracklyMaxBodyBytes,
  tracklyMaxContacts,
  tracklyMaxItemBytes,
} from './adapter.js';
export { type TracklyConfig, tracklyConfigSchema } from './config.js';
export { type TracklyPayload, toTracklyPayload } from './mapping.js';
