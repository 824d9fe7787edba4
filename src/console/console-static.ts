import { existsSync, statSync } from 'node:fs';
import { join, normalize, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HeraldConfig } from '../config/config';

/** Where `npm run build` puts the console (web/dist), from src/console or dist/console alike. */
export const CONSOLE_ROOT = resolve(__dirname, '../../web/dist');

/** The console's own policy: only its own scripts and API; images (the theming logo) from anywhere over http(s). */
export function consoleCsp(frameAncestors: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: https: http:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

/** The file under the console's root a path names, or null: unknown paths get index.html (the SPA routes them). */
export function consoleFile(root: string, urlPath: string): string | null {
  const rel = normalize(decodeURIComponent(urlPath.split('?')[0]).replace(/^\/console\/?/, '')).replace(/^([/\\]|\.\.[/\\]?)+/, '');
  if (!rel || rel === '.') return null;
  const full = resolve(root, rel);
  if (!full.startsWith(root + sep)) return null;
  return existsSync(full) && statSync(full).isFile() ? rel : null;
}

/**
 * Serves the web console under /console from this process (no second server, no CDN): hashed assets cached
 * for a year, index.html for every other path. Every other page of Herald refuses to be framed; the console
 * may be framed only by HERALD_CONSOLE_FRAME_ANCESTORS.
 */
export async function serveConsole(app: NestFastifyApplication, config: HeraldConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const csp = consoleCsp(config.consoleFrameAncestors);
  fastify.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.url === '/console' || request.url.startsWith('/console/')) {
      reply.header('content-security-policy', csp);
      if (config.consoleFrameAncestors === "'none'") reply.header('x-frame-options', 'DENY');
    } else if (!reply.hasHeader('x-frame-options')) {
      reply.header('x-frame-options', 'DENY');
    }
    reply.header('x-content-type-options', 'nosniff');
  });
  const built = existsSync(join(CONSOLE_ROOT, 'index.html'));
  if (built) await app.register(fastifyStatic as never, { root: CONSOLE_ROOT, serve: false });
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!built) {
      return reply.code(503).type('text/plain').send('The console is not built: run `npm run build` (it builds web/ too).');
    }
    const file = consoleFile(CONSOLE_ROOT, request.url);
    if (file?.startsWith(`assets${sep}`) || file?.startsWith('assets/')) {
      return reply.sendFile(file, { maxAge: '365d', immutable: true });
    }
    return reply.header('cache-control', 'no-cache').header('referrer-policy', 'no-referrer').sendFile(file ?? 'index.html', { cacheControl: false });
  };
  fastify.get('/console', (_request, reply) => reply.redirect('/console/', 302));
  fastify.get('/console/', handler);
  fastify.get('/console/*', handler);
}
