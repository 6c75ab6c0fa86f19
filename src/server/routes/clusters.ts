import type { FastifyInstance } from 'fastify';
import { toFacedbError } from '../../errors/errors.js';
import type { UnnamedEnrollOutcome } from '../../services/cluster-service.js';
import type { FaceService } from '../../services/face-service.js';
import { STOPS_ENROLLMENT } from '../../services/results.js';
import * as clusterWire from '../cluster-wire.js';
import { routeOptions } from '../docs.js';
import type { InferenceGate } from '../gate.js';
import { idParams, optionsOf, requestSchemas } from '../request-wire.js';
import { imagesOf, readUpload } from '../uploads.js';

const tags = ['clusters'];
/** Codes that mean "this upload is not a usable image", reported per file as `unreadable`. */
const UNREADABLE = new Set(['invalid_image', 'image_too_large', 'unsupported_media_type']);

/** Faces without a person: uploading them, clustering them into candidate people, naming a cluster. */
export function clusterRoutes(app: FastifyInstance, service: FaceService, gate: InferenceGate): void {
  const { clusters } = service;
  const schemas = requestSchemas(service.config);

  app.post(
    '/v1/faces',
    {
      ...routeOptions({
        summary: 'Enroll every face of each photo without a person, then cluster the new faces',
        tags,
        scope: 'admin',
        body: schemas.enroll,
        responses: { 200: clusterWire.unnamedEnrollResponse },
      }),
      // Photos are decoded and analysed: admitted like every other photo route, so a burst gets 503, not memory.
      onRequest: gate.admit,
    },
    async (request) => {
      const upload = await readUpload(request, service.config);
      optionsOf(schemas.enroll).parse(upload.fields);
      const images = imagesOf(upload, 'image');
      const names = upload.fileNames.get('image') ?? [];
      const outcomes: UnnamedEnrollOutcome[] = [];
      for (const [i, bytes] of images.entries()) {
        try {
          const uploadName = names[i];
          outcomes.push(await gate.run(() => clusters.enrollImage(uploadName === undefined ? { bytes } : { bytes, uploadName })));
        } catch (error) {
          const failure = toFacedbError(error);
          // As for named photos: a gallery pinned to another model, a full queue or a storage fault fails the request.
          if (STOPS_ENROLLMENT.has(failure.code) || failure.code === 'overloaded') throw failure;
          const status = UNREADABLE.has(failure.code) ? 'unreadable' : 'failed';
          const message = failure.code === 'internal' ? 'internal error' : failure.message;
          outcomes.push({ path: '(upload)', status, facesFound: 0, faceIds: [], message });
        }
      }
      const added = outcomes.some((outcome) => outcome.faceIds.length > 0);
      const clustering = added ? clusterWire.clusterRunToWire(await clusters.cluster()) : null;
      return { outcomes: outcomes.map(clusterWire.unnamedOutcomeToWire), clustering };
    },
  );

  app.get(
    '/v1/clusters',
    routeOptions({
      summary: 'Clusters of unnamed faces (candidate people), largest first, with sample faces',
      tags,
      scope: 'read',
      query: clusterWire.clusterQuery,
      responses: { 200: clusterWire.clusterPage },
    }),
    async (request) => {
      const { samples, ...page } = clusterWire.clusterQuery.parse(request.query);
      const listing = await clusters.listClusters(page, samples);
      return clusterWire.clusterPageToWire(listing, page);
    },
  );

  app.post(
    '/v1/clusters',
    routeOptions({
      summary: 'Cluster the unnamed faces: place new ones, or re-cluster all with {"full": true}',
      tags,
      scope: 'admin',
      body: clusterWire.clusterRunJson,
      responses: { 200: clusterWire.clusterRun },
    }),
    async (request) => {
      const { full } = clusterWire.clusterRunJson.parse(request.body ?? {});
      return clusterWire.clusterRunToWire(await clusters.cluster({ full }));
    },
  );

  app.post(
    '/v1/clusters/:id/name',
    routeOptions({
      summary:
        'Name a cluster: its faces become a new person, or join the person of that name (409 when the cluster is far from that person or was rejected for them, unless force)',
      tags,
      scope: 'admin',
      params: idParams,
      body: clusterWire.nameClusterJson,
      responses: { 200: clusterWire.namedCluster },
    }),
    async (request) => {
      const { id } = idParams.parse(request.params);
      const { name, force } = clusterWire.nameClusterJson.parse(request.body ?? {});
      return clusterWire.namedClusterToWire(await clusters.nameCluster(id, name, { force }));
    },
  );

  app.delete(
    '/v1/clusters/:id',
    routeOptions({
      summary: 'Erase a cluster with every unnamed face in it (crops, photos, embeddings)',
      tags,
      scope: 'admin',
      params: idParams,
      responses: { 200: clusterWire.clusterRemoved },
    }),
    async (request) => {
      const { id } = idParams.parse(request.params);
      const { facesRemoved } = await clusters.removeCluster(id);
      return { removed: true as const, faces_removed: facesRemoved };
    },
  );
}
