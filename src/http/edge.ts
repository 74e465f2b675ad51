/**
 * What every request and answer gets at the edge: JSON must be UTF-8 (RFC 8259), and every answer carries
 * `X-Content-Type-Options: nosniff`, plus HSTS when the request came over TLS (directly, or by a trusted
 * proxy's `X-Forwarded-Proto`).
 */
import type { FastifyInstance } from 'fastify';
import { MooringError } from '../errors.ts';

/** One year; no `includeSubDomains`: other hosts of the anchor's domain are not ours to decide. */
export const HSTS = 'max-age=31536000';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

export function applyEdgePolicies(app: FastifyInstance): void {
  // Before the body is read: a UTF-16 body decoded as UTF-8 would be garbage, not a different document.
  app.addHook('onRequest', async (request) => {
    const type = request.headers['content-type'];
    if (type === undefined || !JSON_TYPE.test(type)) return;
    const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      throw new MooringError('unsupported_media_type', `JSON must be UTF-8 (got charset=${charset})`);
    }
  });

  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
    if (request.protocol === 'https') void reply.header('strict-transport-security', HSTS);
  });
}
