import type { Config, HookSource } from '../config/index.ts';
import { createBusinessClient, type BusinessClient } from './business-client.ts';
import { createHttpCustomerIntegration } from './http-customers.ts';
import { createHttpRates } from './http-rates.ts';
import { createHttpSep31Integration } from './http-sep31.ts';
import { loadIntegration, type AnchorIntegration } from './load.ts';

/**
 * The integration of each hook as config chooses it (`integrations.sep31|customers|rates`): `module` (the
 * integration module's part), `business` (the business server over HTTP, docs/business-http.md) or
 * `reference`. Unset: the module's part if it has one, else the business server if one is configured,
 * else the reference. A hook left out of the answer uses the reference integration.
 */
export async function selectIntegrations(
  config: Pick<Config, 'integration' | 'integrations' | 'sep38' | 'assets' | 'signingSecret'>,
  options: { fetch?: typeof fetch } = {},
): Promise<AnchorIntegration> {
  const module = await loadIntegration(config.integration);
  const business = config.integrations.business;
  const client: BusinessClient | null =
    business === null
      ? null
      : createBusinessClient({
          url: business.url,
          token: business.token,
          signingSecret: business.sign ? config.signingSecret : null,
          timeoutMs: business.timeoutSeconds * 1000,
          retries: business.retries,
          ...(options.fetch && { fetch: options.fetch }),
        });

  function source(hook: 'sep31' | 'customers' | 'rates'): HookSource {
    const chosen = config.integrations[hook];
    if (chosen === 'module' && module[hook] === undefined) {
      throw new Error(
        `integrations.${hook} is "module" but ${config.integration ?? 'no integration module'} exports no ${hook}`,
      );
    }
    return chosen ?? (module[hook] !== undefined ? 'module' : client !== null ? 'business' : 'reference');
  }

  const selected: AnchorIntegration = {};
  const sep31 = source('sep31');
  if (sep31 === 'module') selected.sep31 = module.sep31!;
  if (sep31 === 'business') selected.sep31 = createHttpSep31Integration(client!);
  const customers = source('customers');
  if (customers === 'module') selected.customers = module.customers!;
  if (customers === 'business') selected.customers = createHttpCustomerIntegration(client!);
  const rates = source('rates');
  if (rates === 'module') selected.rates = module.rates!;
  if (rates === 'business') {
    selected.rates = createHttpRates({
      client: client!,
      offChainAssets: config.sep38.offChainAssets,
      stellarAssets: config.assets
        .filter((asset) => asset.sep31.enabled)
        .map((asset) => `stellar:${asset.code}:${asset.issuer}`),
    });
  }
  return selected;
}
