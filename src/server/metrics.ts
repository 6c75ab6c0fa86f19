import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FaceService } from '../services/face-service.js';
import { routeOptions } from './docs.js';

/**
 * Prometheus metrics in a registry owned by one server, so several servers in one process
 * (tests) never share or clash.
 */
export function registerMetrics(app: FastifyInstance, service: FaceService): Registry {
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

  app.addHook('onResponse', async (request, reply) => {
    // Unmatched URLs share one label so scanners cannot blow up the series count.
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
  });
  const route = routeOptions({
    summary: 'Prometheus metrics: requests, latency, queue depth, gallery size, memory',
    tags: ['health'],
    scope: 'read',
    responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' } },
  });
  app.get('/metrics', route, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  return registry;
}
