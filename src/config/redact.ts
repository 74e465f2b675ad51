import { redactUrl } from './errors.ts';
import type { Config } from './types.ts';

const HIDDEN = '[redacted]';

/** A copy of the config that is safe to log or print: secrets and URL passwords hidden. */
export function redactConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    signingSecret: HIDDEN,
    jwtSecret: HIDDEN,
    refunds: { ...config.refunds, signerSecret: config.refunds.signerSecret === null ? null : HIDDEN },
    operatorToken: config.operatorToken === null ? null : HIDDEN,
    databaseUrl: config.databaseUrl === null ? null : redactUrl(config.databaseUrl, HIDDEN),
    natsUrl: config.natsUrl === null ? null : redactUrl(config.natsUrl, HIDDEN),
    integrations: redactIntegrations(config.integrations),
    rails: redactRails(config.rails),
  };
}

function redactRails(rails: Config['rails']): Config['rails'] {
  if (rails.kind !== 'http') return rails;
  return {
    ...rails,
    baseUrl: redactUrl(rails.baseUrl, HIDDEN),
    ...(rails.authToken !== undefined && { authToken: HIDDEN }),
  };
}

function redactIntegrations(integrations: Config['integrations']): Config['integrations'] {
  const { business } = integrations;
  if (business === null) return integrations;
  return {
    ...integrations,
    business: {
      ...business,
      url: redactUrl(business.url, HIDDEN),
      token: business.token === null ? null : HIDDEN,
    },
  };
}
