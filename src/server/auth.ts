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

/** The host name of a Host header value (`name:port`, `[v6]:port`), lower-cased; undefined when malformed. */
export function hostName(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  try {
    return new URL(`http://${header}`).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * How a browser presents its key when it opens a WebSocket (the live view): browsers cannot set headers on a
 * WebSocket, and a key in the URL would end up in logs, so the key travels as one of the offered subprotocols,
 * `facedb.key.<the key as unpadded base64url>` (a subprotocol must be a plain token). The server never selects it.
 */
export const WEBSOCKET_KEY_PROTOCOL = 'facedb.key.';

/**
 * The key a request presents: `Authorization: Bearer <key>`, else `x-api-key`, else (WebSocket upgrades only) a
 * `facedb.key.` subprotocol. An Authorization header of another scheme (Basic, added by a proxy or a browser) is
 * not a key and does not hide an x-api-key.
 */
function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const bearer = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
  if (bearer !== undefined) return bearer;
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return apiKey.trim();
  return websocketKey(request);
}

function websocketKey(request: FastifyRequest): string | undefined {
  const protocols = request.headers['sec-websocket-protocol'];
  if (request.headers.upgrade?.toLowerCase() !== 'websocket' || typeof protocols !== 'string') return undefined;
  const offered = protocols.split(',').map((protocol) => protocol.trim());
  const encoded = offered.find((protocol) => protocol.startsWith(WEBSOCKET_KEY_PROTOCOL))?.slice(WEBSOCKET_KEY_PROTOCOL.length);
  const key = encoded === undefined ? '' : Buffer.from(encoded, 'base64url').toString('utf8').trim();
  return key === '' ? undefined : key;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The SHA-256 (hex) of the key a request presents, to count by; undefined without a key. */
export function callerKeyId(request: FastifyRequest): string | undefined {
  const presented = presentedKey(request);
  return presented === undefined ? undefined : sha256(presented).toString('hex');
}

/**
 * The scope of the key presented, or null. Both sides are SHA-256 digests of equal length, compared with
 * timingSafeEqual against every configured key (no early exit), so timing reveals neither key nor match.
 */
function scopeOf(digest: Buffer, keys: readonly ApiKey[]): ApiScope | null {
  let scope: ApiScope | null = null;
  for (const key of keys) {
    if (timingSafeEqual(digest, Buffer.from(key.sha256, 'hex')) && scope !== 'admin') scope = key.scope;
  }
  return scope;
}

/** Wrong keys allowed per client network, and per wrong key, in one window before answering 429. */
export const AUTH_FAILURES_PER_WINDOW = 20;
/** Wrong keys allowed from everyone together in one window, before networks with no recent success get 429. */
export const AUTH_GLOBAL_FAILURES_PER_WINDOW = 200;
export const AUTH_FAILURE_WINDOW_MS = 60_000;
/** A network that presented a valid key this recently keeps being served while the global limit is reached. */
const TRUSTED_FOR_MS = 10 * AUTH_FAILURE_WINDOW_MS;
/** Ids remembered at most; the oldest window is forgotten first (a flood of addresses cannot grow memory). */
const TRACKED_MAX = 10_000;

/**
 * The network a client address belongs to, which the limits count instead of the address: an IPv4 /24, since
 * a host that can send from one address of a /24 can usually send from all (127.0.0.0/8 on this machine, a
 * cloud host's secondary addresses) and /24 is the smallest block routed on the internet; an IPv6 /64, the
 * subnet one host or LAN is given (every one of its 2^64 addresses is the same client). IPv4-mapped IPv6
 * addresses count as IPv4.
 */
export function clientNetwork(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped?.[1] ?? address;
  if (isIP(ip) === 4) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIP(ip) === 6) {
    const [head = '', tail = ''] = ip.split('::');
    const left = head === '' ? [] : head.split(':');
    const right = tail === '' ? [] : tail.split(':');
    const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
    return `${groups
      .slice(0, 4)
      .map((group) => Number.parseInt(group || '0', 16).toString(16))
      .join(':')}::/64`;
  }
  return address;
}

/** Something counted: a network, a key, or everyone, with the failures it may have per window. */
export interface Counted {
  id: string;
  limit: number;
}

/**
 * Counts failures (wrong API keys, ids not found) per id in fixed windows. Once an id is at its limit, every
 * request counted against it is refused until its window ends.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { started: number; failures: number }>();

  constructor(
    private readonly windowMs = AUTH_FAILURE_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `ids` may try again, or 0 when none of them is at its limit. */
  blockedFor(ids: readonly Counted[]): number {
    let wait = 0;
    for (const { id, limit } of ids) {
      const window = this.current(id);
      if (window && window.failures >= limit) wait = Math.max(wait, window.started + this.windowMs - this.now());
    }
    return Math.ceil(wait / 1000);
  }

  recordFailure(ids: readonly Counted[]): void {
    for (const { id } of ids) {
      const window = this.current(id) ?? { started: this.now(), failures: 0 };
      window.failures += 1;
      this.windows.delete(id); // re-insert: Map order is then oldest window first
      this.windows.set(id, window);
    }
    forgetOldest(this.windows);
  }

  private current(id: string): { started: number; failures: number } | undefined {
    const window = this.windows.get(id);
    if (window && this.now() - window.started >= this.windowMs) {
      this.windows.delete(id);
      return undefined;
    }
    return window;
  }
}

function forgetOldest(map: Map<string, unknown>): void {
  while (map.size > TRACKED_MAX) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}

/**
 * Wrong API keys, counted per client network, per presented key and for everyone together. Only wrong keys
 * count: callers with a valid key, or without any key, are never slowed down by it. Once a network or a key
 * is at its limit every request from it is refused until its window ends, valid key or not, so a guesser
 * cannot learn which guess was right. Once everyone together is at the global limit (a guesser rotating over
 * many networks), only networks that presented a valid key lately are still served: a guesser's networks get
 * 429 whatever key they send, and the users already working are not locked out by them.
 */
export class AuthFailureLimiter {
  private readonly failures: FailureLimiter;
  private readonly trusted = new Map<string, number>();

  constructor(
    private readonly limit = AUTH_FAILURES_PER_WINDOW,
    private readonly globalLimit = AUTH_GLOBAL_FAILURES_PER_WINDOW,
    windowMs = AUTH_FAILURE_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.failures = new FailureLimiter(windowMs, now);
  }

  private ids(network: string, keyDigest: string): Counted[] {
    return [
      { id: `network:${network}`, limit: this.limit },
      { id: `key:${keyDigest}`, limit: this.limit },
    ];
  }

  /** Seconds until a key from `network` may be tried, or 0. */
  blockedFor(network: string, keyDigest: string): number {
    const trusted = this.now() - (this.trusted.get(network) ?? -Infinity) < TRUSTED_FOR_MS;
    const global: Counted[] = trusted ? [] : [{ id: 'global', limit: this.globalLimit }];
    return this.failures.blockedFor([...this.ids(network, keyDigest), ...global]);
  }

  recordFailure(network: string, keyDigest: string): void {
    this.failures.recordFailure([...this.ids(network, keyDigest), { id: 'global', limit: this.globalLimit }]);
  }

  recordSuccess(network: string): void {
    this.trusted.delete(network);
    this.trusted.set(network, this.now());
    forgetOldest(this.trusted);
  }
}

export interface AuthOptions {
  keys: readonly ApiKey[];
  /** The address the server listens on (also accepted as a Host in open mode). */
  listenHost: string;
  limiter?: AuthFailureLimiter;
}

/**
 * Refuses requests without the scope their route declares. With no keys configured every route is open,
 * which buildServer only allows on a loopback host; then only this machine's own callers are served:
 * requests naming another host (DNS rebinding) or sent by another web site are refused.
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const { keys } = options;
  app.addHook('onRoute', (route) => {
    const url = route.url ?? '';
    const scope = route.config?.scope;
    if (scope === undefined && (url.startsWith('/v1') || url === '/metrics')) {
      throw new Error(`route ${url} must declare its scope`);
    }
    // The OpenAPI document must tell the truth: a documented route shows a key requirement exactly when it has one.
    const security = (route.schema as { security?: unknown[] } | undefined)?.security;
    if (scope !== undefined && security !== undefined && (scope === 'public') !== (security.length === 0)) {
      throw new Error(`route ${url}: its documented security does not match its scope ${scope}`);
    }
  });
  if (keys.length === 0) {
    app.addHook('onRequest', (request, _reply, done) => {
      done(openModeRefusal(request, options.listenHost));
    });
    return;
  }
  const limiter = options.limiter ?? new AuthFailureLimiter();
  app.addHook('onRequest', (request, reply, done) => {
    const refusal = keyRefusal(request, keys, limiter);
    const retryAfter = refusal?.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    done(refusal);
  });
}

function keyRefusal(request: FastifyRequest, keys: readonly ApiKey[], limiter: AuthFailureLimiter): FacedbError | undefined {
  const needed = request.routeOptions.config.scope ?? 'public';
  if (needed === 'public') return undefined;
  const presented = presentedKey(request);
  if (presented === undefined) {
    return new FacedbError('unauthorized', 'an API key is required (Authorization: Bearer <key> or x-api-key)');
  }
  const digest = sha256(presented);
  const network = clientNetwork(request.ip);
  const keyId = digest.toString('hex');
  const wait = limiter.blockedFor(network, keyId);
  if (wait > 0) {
    return new FacedbError('rate_limited', `too many wrong API keys; retry in ${wait} s`, { details: { retryAfterSeconds: wait } });
  }
  const scope = scopeOf(digest, keys);
  if (scope === null) {
    limiter.recordFailure(network, keyId);
    return new FacedbError('unauthorized', 'the API key is not valid');
  }
  limiter.recordSuccess(network);
  if (needed === 'admin' && scope !== 'admin') return new FacedbError('forbidden', 'this route needs an admin key');
  return undefined;
}

/** Fetch metadata values a browser sends for a request that another site's page started. */
const OTHER_SITE = new Set(['cross-site', 'same-site']);

/**
 * Open mode (no keys) trusts whoever can reach the port, which must therefore be this machine's own programs
 * and the web page this server serves, not any site a local browser visits:
 * - the Host must be a loopback name or address, or the listen address: a page on rebind.evil.example whose
 *   name was re-pointed to 127.0.0.1 still sends `Host: rebind.evil.example`;
 * - a request another site's page makes (Origin of another origin, `Sec-Fetch-Site: cross-site/same-site`) is
 *   refused, except a plain link to a page (GET/HEAD of a public route), which reads and changes nothing.
 */
function openModeRefusal(request: FastifyRequest, listenHost: string): FacedbError | undefined {
  const host = request.headers.host;
  const name = hostName(host);
  if (name === undefined || !(isLoopback(name) || name === hostName(listenHost))) {
    return new FacedbError('forbidden', `without API keys only this machine's own callers are served: Host ${JSON.stringify(host ?? '')} is refused`);
  }
  const scope = request.routeOptions.config.scope ?? 'public';
  if (scope === 'public' && (request.method === 'GET' || request.method === 'HEAD')) return undefined;
  const origin = request.headers.origin;
  if (origin !== undefined && !sameOrigin(origin, host ?? '')) {
    return new FacedbError('forbidden', `without API keys requests from other web sites are refused (Origin ${JSON.stringify(origin)})`);
  }
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && OTHER_SITE.has(site)) {
    return new FacedbError('forbidden', `without API keys requests from other web sites are refused (Sec-Fetch-Site: ${site})`);
  }
  return undefined;
}

function sameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && url.host === new URL(`http://${host}`).host;
  } catch {
    return false; // "null" (sandboxed frames, file: pages) and anything unparsable
  }
}
