import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { FaceAttribute } from '../../core/types.js';
import type { FaceService } from '../../services/face-service.js';
import { routeOptions, type RouteDoc } from '../docs.js';
import type { InferenceGate } from '../gate.js';
import { optionsOf, requestSchemas } from '../request-wire.js';
import { readUpload, singleImage, type Upload } from '../uploads.js';
import * as searchWire from '../search-wire.js';
import * as wire from '../wire.js';

const tookSince = (started: number): number => Math.round((performance.now() - started) * 10) / 10;

/** A route's options: the query string, overridden by multipart fields or JSON keys, parsed by its schema. */
function options<T extends z.ZodObject>(request: FastifyRequest, upload: Upload, schema: T): z.infer<T> {
  const query = typeof request.query === 'object' && request.query !== null ? request.query : {};
  return optionsOf(schema).parse({ ...query, ...upload.fields }) as z.infer<T>;
}

const tags = ['recognition'];

/** Thin handlers: read the upload, run the service behind the inference gate, map to the wire format. */
export function recognitionRoutes(app: FastifyInstance, service: FaceService, gate: InferenceGate): void {
  const schemas = requestSchemas(service.config);

  /** A route that takes one photo plus options and answers with one service call. */
  const singlePhotoRoute = <S extends z.ZodObject, R>(
    url: string,
    summary: string,
    schema: S,
    response: RouteDoc['responses'][number],
    run: (bytes: Uint8Array, opts: z.infer<S>) => Promise<R>,
    toWire: (result: R, tookMs: number) => unknown,
  ): void => {
    app.post(
      url,
      {
        ...routeOptions({ summary, tags, scope: 'read', body: schema, query: optionsOf(schema), responses: { 200: response } }),
        onRequest: gate.admit,
      },
      async (request) => {
        const started = performance.now();
        const upload = await readUpload(request, service.config);
        const bytes = singleImage(upload, 'image');
        const opts = options(request, upload, schema);
        const result = await gate.run(() => run(bytes, opts));
        return toWire(result, tookSince(started));
      },
    );
  };

  const faceLimits = (opts: z.infer<typeof schemas.faces>) => ({ maxFaces: opts.max_faces, minFaceSize: opts.min_face_size, detect: opts.detect });
  /** The attributes asked for; none given: the service's default (all). */
  const attributeSet = (opts: { attributes?: FaceAttribute[] | undefined }) => (opts.attributes === undefined ? {} : { attributes: opts.attributes });
  singlePhotoRoute(
    '/v1/identify',
    'Find every face in a photo and say who each is (or unknown)',
    schemas.identify,
    wire.identifyResponse,
    (bytes, opts) =>
      service.identify({ bytes }, { ...faceLimits(opts), topK: opts.top_k, threshold: opts.threshold, far: opts.far, ...attributeSet(opts) }),
    wire.identifyToWire,
  );
  singlePhotoRoute(
    '/v1/search',
    'For every face in a photo, the nearest stored faces, named and unnamed (or unnamed only): where else does this face appear',
    schemas.search,
    searchWire.searchResponse,
    (bytes, opts) => service.searchByFace({ bytes }, { unnamed: opts.unnamed, top: opts.top, maxFaces: opts.max_faces, minFaceSize: opts.min_face_size }),
    (result) => searchWire.searchToWire(result),
  );
  singlePhotoRoute(
    '/v1/analyze',
    'Emotion, age and gender of every face (those asked for)',
    schemas.analyze,
    wire.analyzeResponse,
    (bytes, opts) => service.analyze({ bytes }, { ...faceLimits(opts), ...attributeSet(opts) }),
    wire.analyzeToWire,
  );
  singlePhotoRoute(
    '/v1/detect',
    'Boxes and detection scores of every face',
    schemas.faces,
    wire.detectResponse,
    (bytes, opts) => service.detect({ bytes }, faceLimits(opts)),
    wire.detectToWire,
  );
  singlePhotoRoute(
    '/v1/represent',
    'The embedding of every face',
    schemas.faces,
    wire.representResponse,
    (bytes, opts) => service.represent({ bytes }, faceLimits(opts)),
    wire.representToWire,
  );

  app.post(
    '/v1/verify',
    {
      ...routeOptions({
        summary: 'Say whether the subjects of two photos (the face at the centre, else the largest) are the same person',
        tags,
        scope: 'read',
        body: schemas.verify,
        query: optionsOf(schemas.verify),
        responses: { 200: wire.verifyResponse },
      }),
      onRequest: gate.admit,
    },
    async (request) => {
      const started = performance.now();
      const upload = await readUpload(request, service.config);
      const a = singleImage(upload, 'image_a');
      const b = singleImage(upload, 'image_b');
      const { threshold, far, detect, attributes } = options(request, upload, schemas.verify);
      const result = await gate.run(() => service.verify({ bytes: a }, { bytes: b }, { threshold, far, detect, ...attributeSet({ attributes }) }));
      return wire.verifyToWire(result, tookSince(started));
    },
  );
}
