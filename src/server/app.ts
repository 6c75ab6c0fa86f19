import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { FacedbConfig } from '../config/config.js';
import { FacedbError } from '../errors/errors.js';
import type { FaceService } from '../services/face-service.js';
import { isLoopback, registerAuth } from './auth.js';
import { registerErrorHandling } from './errors.js';
import { InferenceGate } from './gate.js';
import { registerMetrics } from './metrics.js';
import { clusterRoutes } from './routes/clusters.js';
import { galleryRoutes } from './routes/gallery.js';
import { healthRoutes } from './routes/health.js';
import { recognitionRoutes } from './routes/recognition.js';

export interface ServerOptions {
  /** Fastify/pino logger settings; off by default (tests), `facedb serve` turns it on. */
  logger?: FastifyServerOptions['logger'];
}

/** The web page: src/web/static when running from source, dist/web/static (copied by `npm run build`) when built. */
const STATIC_ROOT = fileURLToPath(new URL('../web/static/', import.meta.url));
const MAX_FILES_PER_REQUEST = 20;

/** A caller's request id is kept when it is short and plain (it ends up in logs); otherwise a new one. */
function requestId(header: string | string[] | undefined): string {
  return typeof header === 'string' && /^[\w.:-]{1,64}$/.test(header) ? header : randomUUID();
}

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
  });
  if (config.apiKeys.length === 0) app.log.warn('no API keys configured: every route is open (loopback only)');

  // Zod validates inside the handlers, so route schemas only feed the OpenAPI document.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Only JSON and multipart carry images; anything else is 415 rather than a confusing 400.
  app.removeContentTypeParser('text/plain');
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
  registerAuth(app, config.apiKeys);

  await app.register(multipart, {
    limits: {
      fileSize: Math.min(config.maxFileBytes, config.bodyLimitBytes),
      files: MAX_FILES_PER_REQUEST,
      fields: 20,
      fieldSize: 64 * 1024,
      parts: MAX_FILES_PER_REQUEST + 20,
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
  registerMetrics(app, service);
  healthRoutes(app, service);
  recognitionRoutes(app, service, gate);
  galleryRoutes(app, service, gate);
  clusterRoutes(app, service, gate);

  if (existsSync(STATIC_ROOT)) await app.register(fastifyStatic, { root: STATIC_ROOT, prefix: '/' });
  else app.log.warn(`no web page: ${STATIC_ROOT} is missing`);
  await app.ready();
  return app;
}
