import type { FastifyInstance } from 'fastify';
import { FacedbError, toFacedbError } from '../../errors/errors.js';
import { DEFAULT_CLUSTER_SAMPLES, type UnnamedEnrollOutcome } from '../../services/cluster-service.js';
import type { FaceService } from '../../services/face-service.js';
import { STOPS_ENROLLMENT } from '../../services/results.js';
import * as clusterWire from '../cluster-wire.js';
import { doc } from '../docs.js';
import type { InferenceGate } from '../gate.js';
import { readUpload } from '../uploads.js';
import * as wire from '../wire.js';

const tags = ['clusters'];
const MAX_IMAGES = 20;
/** Codes that mean "this upload is not a usable image", reported per file as `unreadable`. */
const UNREADABLE = new Set(['invalid_image', 'image_too_large', 'unsupported_media_type']);

/** Faces without a person: uploading them, clustering them into candidate people, naming a cluster. */
export function clusterRoutes(app: FastifyInstance, service: FaceService, gate: InferenceGate): void {
  const { clusters } = service;

  app.post(
    '/v1/faces',
    {
      config: { scope: 'admin' },
      // Photos are decoded and analysed: admitted like every other photo route, so a burst gets 503, not memory.
      onRequest: gate.admit,
      schema: doc({
        summary: 'Enroll every face of each photo without a person, then cluster the new faces',
        tags,
        scope: 'admin',
        files: { image: 'one or more photos (JSON: "images", an array of base64 strings)' },
        body: wire.enrollJson,
        responses: { 200: clusterWire.unnamedEnrollResponse },
      }),
    },
    async (request) => {
      const upload = await readUpload(request, { images: 'many' }, service.config);
      const images = [...(upload.images.get('image') ?? []), ...(upload.images.get('images') ?? [])];
      if (images.length === 0) throw new FacedbError('validation_failed', 'no images: send multipart file field "image" or JSON "images"');
      if (images.length > MAX_IMAGES) throw new FacedbError('validation_failed', `at most ${MAX_IMAGES} images per request`);
      const outcomes: UnnamedEnrollOutcome[] = [];
      for (const bytes of images) {
        try {
          outcomes.push(await gate.run(() => clusters.enrollImage({ bytes })));
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
    {
      config: { scope: 'read' },
      schema: doc({
        summary: 'Clusters of unnamed faces (candidate people), largest first, with sample faces',
        tags,
        scope: 'read',
        query: wire.pageQuery.extend(clusterWire.clusterQuery.shape),
        responses: { 200: clusterWire.clusterPage },
      }),
    },
    async (request) => {
      const page = wire.pageQuery.parse(request.query);
      const { samples } = clusterWire.clusterQuery.parse(request.query);
      const listing = await clusters.listClusters(page, samples ?? DEFAULT_CLUSTER_SAMPLES);
      return clusterWire.clusterPageToWire(listing, page);
    },
  );

  app.post(
    '/v1/clusters',
    {
      config: { scope: 'admin' },
      schema: doc({
        summary: 'Cluster the unnamed faces: place new ones, or re-cluster all with {"full": true}',
        tags,
        scope: 'admin',
        body: clusterWire.clusterRunJson,
        responses: { 200: clusterWire.clusterRun },
      }),
    },
    async (request) => {
      const { full } = clusterWire.clusterRunJson.parse(request.body ?? {});
      return clusterWire.clusterRunToWire(await clusters.cluster({ full }));
    },
  );

  app.post(
    '/v1/clusters/:id/name',
    {
      config: { scope: 'admin' },
      schema: doc({
        summary: 'Name a cluster: its faces become a new person, or join the person of that name',
        tags,
        scope: 'admin',
        params: wire.idParams,
        body: clusterWire.nameClusterJson,
        responses: { 200: clusterWire.namedCluster },
      }),
    },
    async (request) => {
      const { id } = wire.idParams.parse(request.params);
      const { name } = clusterWire.nameClusterJson.parse(request.body ?? {});
      return clusterWire.namedClusterToWire(await clusters.nameCluster(id, name));
    },
  );
}
