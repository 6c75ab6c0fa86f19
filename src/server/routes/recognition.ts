import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FacedbConfig } from '../../config/config.js';
import { FacedbError } from '../../errors/errors.js';
import type { FaceService, IdentifyOptions } from '../../services/face-service.js';
import { routeOptions, type RouteDoc } from '../docs.js';
import type { InferenceGate } from '../gate.js';
import { readUpload, singleImage, type Upload } from '../uploads.js';
import * as wire from '../wire.js';

const tookSince = (started: number): number => Math.round((performance.now() - started) * 10) / 10;

/** Options from the query string, overridden by multipart fields or JSON keys. */
function options(request: FastifyRequest, upload: Upload, config: FacedbConfig): IdentifyOptions {
  const query = typeof request.query === 'object' && request.query !== null ? request.query : {};
  const parsed = wire.recognitionOptions.parse({ ...query, ...upload.fields });
  if (parsed.max_faces !== undefined && parsed.max_faces > config.maxFacesPerImage) {
    throw new FacedbError('validation_failed', `max_faces: at most ${config.maxFacesPerImage}`);
  }
  return {
    topK: parsed.top_k,
    threshold: parsed.threshold,
    far: parsed.far,
    maxFaces: parsed.max_faces ?? Math.min(config.maxFaces, config.maxFacesPerImage),
    minFaceSize: parsed.min_face_size,
    detect: parsed.detect,
  };
}

const imageFile = { image: 'the photo' };
const tags = ['recognition'];

/** Thin handlers: read the upload, run the service behind the inference gate, map to the wire format. */
export function recognitionRoutes(app: FastifyInstance, service: FaceService, gate: InferenceGate): void {
  const { config } = service;

  /** A route that takes one photo plus options and answers with one service call. */
  const singlePhotoRoute = <R>(
    url: string,
    summary: string,
    response: RouteDoc['responses'][number],
    run: (bytes: Uint8Array, opts: IdentifyOptions) => Promise<R>,
    toWire: (result: R, tookMs: number) => unknown,
  ): void => {
    app.post(
      url,
      {
        ...routeOptions({
          summary,
          tags,
          scope: 'read',
          files: imageFile,
          body: wire.recognitionOptions,
          query: wire.recognitionOptions,
          responses: { 200: response },
        }),
        onRequest: gate.admit,
      },
      async (request) => {
        const started = performance.now();
        const upload = await readUpload(request, { image: 'one' }, config);
        const bytes = singleImage(upload, 'image');
        const opts = options(request, upload, config);
        const result = await gate.run(() => run(bytes, opts));
        return toWire(result, tookSince(started));
      },
    );
  };

  singlePhotoRoute(
    '/v1/identify',
    'Find every face in a photo and say who each is (or unknown)',
    wire.identifyResponse,
    (bytes, opts) => service.identify({ bytes }, opts),
    wire.identifyToWire,
  );
  singlePhotoRoute(
    '/v1/analyze',
    'Emotion, age and gender of every face',
    wire.analyzeResponse,
    (bytes, opts) => service.analyze({ bytes }, opts),
    wire.analyzeToWire,
  );
  singlePhotoRoute(
    '/v1/detect',
    'Boxes and detection scores of every face',
    wire.detectResponse,
    (bytes, opts) => service.detect({ bytes }, opts),
    wire.detectToWire,
  );
  singlePhotoRoute(
    '/v1/represent',
    'The embedding of every face',
    wire.representResponse,
    (bytes, opts) => service.represent({ bytes }, opts),
    wire.representToWire,
  );

  app.post(
    '/v1/verify',
    {
      ...routeOptions({
        summary: 'Say whether the subjects of two photos (the face at the centre, else the largest) are the same person',
        tags,
        scope: 'read',
        files: { image_a: 'the first photo', image_b: 'the second photo' },
        body: wire.verifyOptions,
        query: wire.verifyOptions,
        responses: { 200: wire.verifyResponse },
      }),
      onRequest: gate.admit,
    },
    async (request) => {
      const started = performance.now();
      const upload = await readUpload(request, { image_a: 'one', image_b: 'one' }, config);
      const a = singleImage(upload, 'image_a');
      const b = singleImage(upload, 'image_b');
      const { threshold, far, detect } = options(request, upload, config);
      const result = await gate.run(() => service.verify({ bytes: a }, { bytes: b }, { threshold, far, detect }));
      return wire.verifyToWire(result, tookSince(started));
    },
  );
}
