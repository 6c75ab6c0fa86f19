import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKey, ApiScope } from '../config/config.js';
import { FacedbError } from '../errors/errors.js';

/** What a route needs: nothing, a read key, or an admin key (admin keys also pass read routes). */
export type RouteScope = 'public' | ApiScope;

declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: RouteScope;
  }
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return bearer?.[1];
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

/**
 * The scope of the key presented, or null. Both sides are SHA-256 digests of equal length, compared with
 * timingSafeEqual against every configured key (no early exit), so timing reveals neither key nor match.
 */
function scopeOf(presented: string, keys: readonly ApiKey[]): ApiScope | null {
  const digest = createHash('sha256').update(presented).digest();
  let scope: ApiScope | null = null;
  for (const key of keys) {
    if (timingSafeEqual(digest, Buffer.from(key.sha256, 'hex')) && scope !== 'admin') scope = key.scope;
  }
  return scope;
}

/**
 * Refuses requests without the scope their route declares. With no keys configured every route is
 * open, which buildServer only allows on a loopback host.
 */
export function registerAuth(app: FastifyInstance, keys: readonly ApiKey[]): void {
  app.addHook('onRoute', (route) => {
    const url = route.url ?? '';
    if (route.config?.scope === undefined && (url.startsWith('/v1') || url === '/metrics')) {
      throw new Error(`route ${url} must declare its scope`);
    }
  });
  if (keys.length === 0) return;
  app.addHook('onRequest', (request, _reply, done) => {
    done(refusal(request, keys));
  });
}

function refusal(request: FastifyRequest, keys: readonly ApiKey[]): FacedbError | undefined {
  const needed = request.routeOptions.config.scope ?? 'public';
  if (needed === 'public') return undefined;
  const presented = presentedKey(request);
  if (presented === undefined) {
    return new FacedbError('unauthorized', 'an API key is required (Authorization: Bearer <key> or x-api-key)');
  }
  const scope = scopeOf(presented, keys);
  if (scope === null) return new FacedbError('unauthorized', 'the API key is not valid');
  if (needed === 'admin' && scope !== 'admin') return new FacedbError('forbidden', 'this route needs an admin key');
  return undefined;
}
