/** The providers as the rest of the product uses them. */
export { createProvider, providerTypes, type ProviderDeps, type ProviderFactory, type ProviderType } from './registry.js';
export type * from './types.js';
