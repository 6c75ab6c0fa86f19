import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import { FacedbError } from '../../errors/errors.js';
import type { FaceService } from '../../services/face-service.js';
import { routeOptions } from '../docs.js';
import { exportQuery, IMPORT_MAX_BYTES } from '../request-wire.js';
import * as transferWire from '../transfer-wire.js';
import { GALLERY_FILE_TYPE } from '../transfer-wire.js';

const tags = ['gallery'];

/**
 * The gallery as one portable file (src/services/transfer): GET /v1/export streams it, POST /v1/import takes it.
 * Both need the admin scope: the file is every face's embedding and crop (with photos=true the kept photos too), a
 * copy of the whole biometric gallery, which only those who may change the gallery should take out or put in; a
 * read key answers questions about one photo at a time.
 */
export function transferRoutes(app: FastifyInstance, service: FaceService): void {
  // The file arrives as it is: spooled to disk below, never held in memory (Fastify's body limit does not apply).
  app.addContentTypeParser(GALLERY_FILE_TYPE, (_request, payload, done) => done(null, payload));

  app.get(
    '/v1/export',
    routeOptions({
      summary: 'The whole gallery as one JSON-lines file (see docs/export-format.md), streamed',
      tags,
      scope: 'admin',
      query: exportQuery,
      responses: { 200: { description: 'the gallery file: a header line, one record per line, a trailer with counts and SHA-256', contentType: GALLERY_FILE_TYPE } },
    }),
    async (request, reply) => {
      const { photos } = exportQuery.parse(request.query);
      const lines = service.exportGallery({ photos });
      // The first line is read before answering, so a refusal (an empty gallery) is an error envelope, not a cut file.
      const first = await lines.next();
      async function* all(): AsyncGenerator<string> {
        if (first.done !== true) yield first.value;
        yield* lines;
      }
      return reply
        .type(GALLERY_FILE_TYPE)
        .header('content-disposition', 'attachment; filename="facedb-gallery.jsonl"')
        .send(Readable.from(all()));
    },
  );

  app.post(
    '/v1/import',
    routeOptions({
      summary: `Load a gallery file written by GET /v1/export or facedb export (up to ${IMPORT_MAX_BYTES / 1024 ** 3} GiB); importing twice adds nothing`,
      tags,
      scope: 'admin',
      rawBody: { contentType: GALLERY_FILE_TYPE, description: `the gallery file, up to ${IMPORT_MAX_BYTES} bytes` },
      responses: { 200: transferWire.importResponse },
    }),
    async (request) => {
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > IMPORT_MAX_BYTES) throw tooLarge();
      if (!(request.body instanceof Readable)) {
        throw new FacedbError('unsupported_media_type', `send the gallery file as the request body with content-type ${GALLERY_FILE_TYPE}`);
      }
      const dir = await mkdtemp(join(tmpdir(), 'facedb-import-'));
      try {
        const file = join(dir, 'gallery.jsonl');
        await pipeline(request.body, limited(IMPORT_MAX_BYTES), createWriteStream(file));
        return transferWire.importToWire(await service.importGallery(file));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
}

function tooLarge(): FacedbError {
  return new FacedbError('image_too_large', `the gallery file is over the limit of ${IMPORT_MAX_BYTES} bytes for POST /v1/import; use facedb import on the server's machine`);
}

/** Passes bytes through until `max`, then fails the stream. */
function limited(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen > max ? tooLarge() : null, chunk);
    },
  });
}
