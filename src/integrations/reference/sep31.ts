import type { Config } from '../../config/index.ts';
import type { Sep31Integration } from '../sep31-integration.ts';

/**
 * The built-in SEP-31 integration: decides from config alone. No extra `/info` fields, every request
 * that passed Mooring's checks is accepted, and a sending anchor is valid when one of its configured
 * `signingKeys` authenticated (or, in sandbox mode without `sendingAnchors`, any account).
 */
export function createReferenceSep31Integration(
  config: Pick<Config, 'sendingAnchors' | 'allowAnySendingAnchor'>,
): Sep31Integration {
  const keys = new Set(config.sendingAnchors.flatMap((anchor) => anchor.signingKeys));
  return {
    info: async () => ({}),
    validSendingAnchor: async (identity) => config.allowAnySendingAnchor || keys.has(identity.account),
    processPostRequest: async () => ({ ok: true }),
    processPatchRequest: async () => ({ ok: true }),
  };
}
