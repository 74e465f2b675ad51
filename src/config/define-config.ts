import type { ConfigFile } from './schema.ts';

/**
 * Types a config module's default export; returns it unchanged.
 *
 * @example
 * // mooring.config.ts
 * import { defineConfig } from './src/config/index.ts';
 * export default defineConfig({ homeDomain: 'anchor.example.com', network: 'testnet' });
 */
export function defineConfig(config: ConfigFile): ConfigFile {
  return config;
}
