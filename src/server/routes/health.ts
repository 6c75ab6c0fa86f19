import type { FastifyInstance } from 'fastify';
import type { FaceService } from '../../services/face-service.js';
import { describeOperatingPoint } from '../../services/operating-point-source.js';
import { routeOptions } from '../docs.js';
import * as wire from '../wire.js';

export function healthRoutes(app: FastifyInstance, service: FaceService): void {
  app.get(
    '/healthz',
    routeOptions({ summary: 'The process is up', tags: ['health'], scope: 'public', responses: { 200: wire.health } }),
    () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    routeOptions({
      summary: 'Models loaded and database reachable, its file not deleted or replaced, no recent storage fault (503 otherwise)',
      tags: ['health'],
      scope: 'public',
      responses: { 200: wire.readiness, 503: wire.readiness },
    }),
    async (request, reply) => {
      const { models, db, storage, problem } = await service.health();
      if (problem) request.log.warn({ code: problem.code, storage, message: problem.message }, 'gallery database not ready');
      const ready = models && db;
      // Re-read when the database answers: another process may have applied or reset the gallery's calibration.
      const gallery = db ? await service.refreshGalleryCalibration().catch(() => service.galleryCalibrationInUse) : service.galleryCalibrationInUse;
      const calibration = models ? describeOperatingPoint(service.config, gallery, await service.engine()) : undefined;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', models, db, ...(storage === undefined ? {} : { storage }), ...(calibration ? { calibration } : {}) });
    },
  );
}
