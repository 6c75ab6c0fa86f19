import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FaceService } from '../services/face-service.js';
import { routeOptions } from './docs.js';

/** What became of a picture sent to the live view. */
export const LIVE_PICTURE_OUTCOMES = ['answered', 'refused', 'dropped', 'busy'] as const;
export type LivePictureOutcome = (typeof LIVE_PICTURE_OUTCOMES)[number];

/** What the live route reports: its connections, and each picture's outcome. */
export interface LiveMetrics {
  connectionOpened(): void;
  connectionClosed(): void;
  /** A connection turned away because the server already serves as many live views as it may. */
  connectionRefused(): void;
  picture(outcome: LivePictureOutcome): void;
}

/**
 * Prometheus metrics in a registry owned by one server, so several servers in one process
 * (tests) never share or clash. Returns the live route's counters, which it reports into.
 */
export function registerMetrics(app: FastifyInstance, service: FaceService): { registry: Registry; live: LiveMetrics } {
  const registry = new Registry();
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'facedb_http_requests_total', help: 'HTTP requests', labelNames, registers: [registry] });
  const latency = new Histogram({
    name: 'facedb_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: 'facedb_engine_queue_depth',
    help: 'inference jobs waiting for a worker',
    registers: [registry],
    collect() {
      this.set(service.queueDepth());
    },
  });
  new Gauge({
    name: 'facedb_gallery_people',
    help: 'people in the gallery',
    registers: [registry],
    async collect() {
      this.set((await service.counts()).people);
    },
  });
  new Gauge({
    name: 'facedb_gallery_faces',
    help: 'enrolled faces in the gallery',
    registers: [registry],
    async collect() {
      this.set((await service.counts()).faces);
    },
  });
  new Gauge({
    name: 'facedb_process_resident_memory_bytes',
    help: 'resident set size of the server process',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });

  const liveConnections = new Gauge({ name: 'facedb_live_connections', help: 'live views connected (GET /v1/live)', registers: [registry] });
  const liveRefused = new Counter({ name: 'facedb_live_connections_refused_total', help: 'live views turned away: the server served as many as it may', registers: [registry] });
  const livePictures = new Counter({
    name: 'facedb_live_pictures_total',
    help: 'pictures sent to live views: answered (faces or none), refused (an error answered), dropped (sent before the previous answer), busy (skipped while photos waited)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of LIVE_PICTURE_OUTCOMES) livePictures.inc({ outcome }, 0);
  const live: LiveMetrics = {
    connectionOpened: () => liveConnections.inc(),
    connectionClosed: () => liveConnections.dec(),
    connectionRefused: () => liveRefused.inc(),
    picture: (outcome) => livePictures.inc({ outcome }),
  };

  app.addHook('onResponse', async (request, reply) => {
    // Unmatched URLs share one label so scanners cannot blow up the series count.
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
  });
  const route = routeOptions({
    summary: 'Prometheus metrics: requests, latency, queue depth, gallery size, memory, live views',
    tags: ['health'],
    scope: 'read',
    responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' } },
  });
  app.get('/metrics', route, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  return { registry, live };
}
