import type { FastifyInstance } from 'fastify';
import type { FaceService } from '../../services/face-service.js';
import { doc } from '../docs.js';
import * as wire from '../wire.js';

export function healthRoutes(app: FastifyInstance, service: FaceService): void {
  app.get(
    '/healthz',
    { config: { scope: 'public' }, schema: doc({ summary: 'The process is up', tags: ['health'], scope: 'public', responses: { 200: wire.health } }) },
    () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: { scope: 'public' },
      schema: doc({
        summary: 'Models loaded and database reachable (503 otherwise)',
        tags: ['health'],
        scope: 'public',
        responses: { 200: wire.readiness, 503: wire.readiness },
      }),
    },
    async (_request, reply) => {
      const models = service.engineLoaded;
      const db = await service.store.ping().then(
        () => true,
        () => false,
      );
      const ready = models && db;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', models, db });
    },
  );
}
