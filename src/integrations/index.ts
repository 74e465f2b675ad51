/**
 * The anchor's business logic, as Mooring calls it (in the spirit of Polaris's SEP31ReceiverIntegration
 * and RailsIntegration). An anchor implements `AnchorIntegration` in a module named in config; the
 * reference implementation decides from config alone.
 */
export type { Sep31Integration } from './sep31-integration.ts';
export type { CustomerIntegration } from './customer-integration.ts';
export type { AnchorIntegration } from './load.ts';
export { loadIntegration } from './load.ts';
export { selectIntegrations } from './select.ts';
export { BusinessServerUnavailableError, createBusinessClient } from './business-client.ts';
