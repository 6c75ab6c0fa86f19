import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { FacedbConfig } from '../config/config.js';
import { FacedbError } from '../errors/errors.js';
import type { FaceService } from '../services/face-service.js';
import { type AuthFailureLimiter, isLoopback, registerAuth } from './auth.js';
import { envelope, httpStatusFor, registerErrorHandling } from './errors.js';
import { InferenceGate } from './gate.js';
import { guardedJsonParser } from './json-body.js';
import { registerMetrics } from './metrics.js';
import { registerProbingLimit } from './probing.js';
import { MAX_IMAGES_PER_REQUEST } from './request-wire.js';
import { clusterRoutes } from './routes/clusters.js';
import { curationRoutes } from './routes/curation.js';
import { galleryRoutes } from './routes/gallery.js';
import { healthRoutes } from './routes/health.js';
import { liveRoutes, liveSocketOptions } from './routes/live.js';
import { recognitionRoutes } from './routes/recognition.js';
import { transferRoutes } from './routes/transfer.js';

export interface ServerOptions {
  /** Fastify/pino logger settings; off by default (tests), `facedb serve` turns it on. */
  logger?: FastifyServerOptions['logger'];
  /** Counts wrong API keys; one per server unless given (tests shorten its limits). */
  authLimiter?: AuthFailureLimiter;
}

/** The web page: src/web/static when running from source, dist/web/static (copied by `npm run build`) when built. */
const STATIC_ROOT = fileURLToPath(new URL('../web/static/', import.meta.url));

/** A caller's request id is kept when it is short and plain (it ends up in logs); otherwise a new one. */
function requestId(header: string | string[] | undefined): string {
  return typeof header === 'string' && /^[\w.:-]{1,64}$/.test(header) ? header : randomUUID();
}

/**
 * Node answers requests it cannot parse (bad framing, headers too large) or did not receive in time itself,
 * before Fastify sees them: those answers get the same envelope and a request id as every other error.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || !socket.writable) {
    socket.destroy();
    return;
  }
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const failure = timedOut
    ? new FacedbError('request_timeout', 'the request was not received in time')
    : new FacedbError('validation_failed', error.code === 'HPE_HEADER_OVERFLOW' ? 'request headers too large' : 'malformed HTTP request');
  const status = httpStatusFor(failure.code);
  const body = JSON.stringify(envelope(failure));
  const reason = timedOut ? 'Request Timeout' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Security headers for every answer. The web page loads only its own script and style, shows photos from
 * blob: URLs, talks only to this server and is never framed; /docs (Swagger UI) works under the same policy.
 * No upgrade-insecure-requests: a server on a LAN address over plain HTTP would break its own page.
 */
const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:', 'blob:'],
    mediaSrc: ["'self'", 'blob:', 'mediastream:'],
    // 'self' covers the live view's ws:/wss: connection to this same host and port (CSP Level 3).
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
};

/**
 * The HTTP API over one FaceService. The caller owns the service (and closes it); the server only
 * listens when the caller calls `listen`, so tests can drive it with `inject`.
 */
export async function buildServer(service: FaceService, config: FacedbConfig, options: ServerOptions = {}): Promise<FastifyInstance> {
  if (config.apiKeys.length === 0 && !isLoopback(config.host)) {
    throw new FacedbError(
      'invalid_input',
      `refusing to serve on ${config.host} without API keys: set FACEDB_API_KEYS or --api-key-file, or bind to 127.0.0.1`,
    );
  }
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: config.bodyLimitBytes,
    // Time to receive a whole request (slow-client guard); handler time is bounded by the inference gate.
    requestTimeout: config.requestTimeoutMs,
    genReqId: (request) => requestId(request.headers['x-request-id']),
    requestIdHeader: false,
    return503OnClosing: true,
    clientErrorHandler: answerClientError,
  });
  if (config.apiKeys.length === 0) app.log.warn('no API keys configured: every route is open (loopback only)');

  // Zod validates inside the handlers, so route schemas only feed the OpenAPI document.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Only JSON and multipart carry images; anything else is 415 rather than a confusing 400.
  app.removeContentTypeParser('text/plain');
  // JSON bodies are held to their shape limits while they arrive, before any parsing (json-body.ts).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', guardedJsonParser(config.bodyLimitBytes));
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // While draining, answers close their connection: a kept-alive socket would hold close() open.
  let draining = false;
  app.addHook('preClose', (done) => {
    draining = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });
  registerErrorHandling(app);
  // WebSocket upgrades go through the routes and their hooks (keys, open-mode checks) like any request. Registered
  // before those hooks: its own marks an upgrade as such, so a refused one has its socket closed after the answer.
  await app.register(websocket, { options: liveSocketOptions(config) });
  registerAuth(app, { keys: config.apiKeys, listenHost: config.host, ...(options.authLimiter ? { limiter: options.authLimiter } : {}) });
  registerProbingLimit(app);
  await app.register(helmet, { contentSecurityPolicy: CONTENT_SECURITY_POLICY, strictTransportSecurity: false });

  await app.register(multipart, {
    limits: {
      fileSize: Math.min(config.maxFileBytes, config.bodyLimitBytes),
      // One more than any route takes: the upload reader refuses the one past its route's limit, naming it.
      files: MAX_IMAGES_PER_REQUEST + 1,
      fields: 20,
      fieldSize: 64 * 1024,
      parts: MAX_IMAGES_PER_REQUEST + 20,
    },
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'facedb', version: '1', description: 'Face recognition: enroll, identify, verify, analyse.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  const gate = new InferenceGate(service, config);
  const metrics = registerMetrics(app, service);
  healthRoutes(app, service);
  recognitionRoutes(app, service, gate);
  galleryRoutes(app, service, gate);
  clusterRoutes(app, service, gate);
  curationRoutes(app, service);
  transferRoutes(app, service);
  liveRoutes(app, service, gate, metrics.live);

  if (existsSync(STATIC_ROOT)) await app.register(fastifyStatic, { root: STATIC_ROOT, prefix: '/' });
  else app.log.warn(`no web page: ${STATIC_ROOT} is missing`);
  await app.ready();
  return app;
}
