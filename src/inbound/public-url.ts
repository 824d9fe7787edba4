import type { FastifyRequest } from 'fastify';
import { HeraldConfig } from '../config/config';

/**
 * Where this service is reached from outside: HERALD_PUBLIC_URL when set, else what the request says
 * (X-Forwarded-Proto/-Host behind a proxy, which Fastify honours with trustProxy, or Host).
 */
export function publicBaseUrl(req: Pick<FastifyRequest, 'protocol' | 'host'>, config: Pick<HeraldConfig, 'publicUrl'>): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  return `${req.protocol}://${req.host}`;
}
