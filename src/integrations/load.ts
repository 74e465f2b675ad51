import { pathToFileURL } from 'node:url';
import type { CustomerIntegration } from './customer-integration.ts';
import type { RatesIntegration } from './rates-integration.ts';
import type { Sep31Integration } from './sep31-integration.ts';

/**
 * What an anchor's integration module exports by default. Each part is optional: a missing part falls
 * back to the built-in reference integration, which decides from config alone.
 *
 * @example
 * // my-anchor.ts, named in the config file as "integration": "./my-anchor.ts"
 * import type { AnchorIntegration } from 'mooring/src/integrations/index.ts';
 * export default { sep31: { info, validSendingAnchor, processPostRequest } } satisfies AnchorIntegration;
 */
export interface AnchorIntegration {
  sep31?: Sep31Integration;
  customers?: CustomerIntegration;
  rates?: RatesIntegration;
}

/** Loads the module named by `config.integration` (null: the reference integration everywhere). */
export async function loadIntegration(path: string | null): Promise<AnchorIntegration> {
  if (path === null) return {};
  let loaded: { default?: unknown };
  try {
    loaded = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    throw new Error(`integration ${path}: cannot be loaded (${(error as Error).message})`, { cause: error });
  }
  const integration = loaded.default;
  if (typeof integration !== 'object' || integration === null) {
    throw new Error(
      `integration ${path}: the default export must be an object { sep31?, customers?, rates? }`,
    );
  }
  const { sep31, customers, rates } = integration as AnchorIntegration;
  for (const [name, part, methods] of [
    ['sep31', sep31, ['info', 'validSendingAnchor', 'processPostRequest']],
    ['customers', customers, ['review']],
    ['rates', rates, ['offChainAssets', 'pairs', 'rate']],
  ] as const) {
    if (part === undefined) continue;
    const missing = methods.filter(
      (m) => typeof (part as unknown as Record<string, unknown>)[m] !== 'function',
    );
    if (typeof part !== 'object' || part === null || missing.length > 0) {
      throw new Error(`integration ${path}: ${name} must implement ${methods.join(', ')}`);
    }
  }
  return { ...(sep31 && { sep31 }), ...(customers && { customers }), ...(rates && { rates }) };
}
