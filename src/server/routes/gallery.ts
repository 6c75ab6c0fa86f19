import type { FastifyInstance } from 'fastify';
import { toFacedbError } from '../../errors/errors.js';
import { STOPS_ENROLLMENT, type EnrollOutcome } from '../../services/results.js';
import type { FaceService } from '../../services/face-service.js';
import { routeOptions } from '../docs.js';
import type { InferenceGate } from '../gate.js';
import { createPersonJson, idParams, optionsOf, pageQuery, requestSchemas } from '../request-wire.js';
import { imagesOf, readUpload } from '../uploads.js';
import * as wire from '../wire.js';

const tags = ['gallery'];
/** Faces listed with a person; the API has no paging for them, so a generous fixed cap. */
const FACES_PER_PERSON = 1000;

/** Codes that mean "this upload is not a usable image", reported per file as `unreadable`. */
const UNREADABLE = new Set(['invalid_image', 'image_too_large', 'unsupported_media_type']);

export function galleryRoutes(app: FastifyInstance, service: FaceService, gate: InferenceGate): void {
  const schemas = requestSchemas(service.config);
  app.get(
    '/v1/people',
    routeOptions({ summary: 'List enrolled people', tags, scope: 'read', query: pageQuery, responses: { 200: wire.peoplePage } }),
    async (request) => {
      const page = pageQuery.parse(request.query);
      const { items, total } = await service.listPeople(page);
      return { items: items.map(wire.personToWire), total, ...page };
    },
  );

  app.post(
    '/v1/people',
    routeOptions({
      summary: 'Create a person (an existing name is returned with 200)',
      tags,
      scope: 'admin',
      body: createPersonJson,
      responses: { 200: wire.person, 201: wire.person },
    }),
    async (request, reply) => {
      const { name } = createPersonJson.parse(request.body ?? {});
      const { person, created } = await service.createPerson(name);
      return reply.code(created ? 201 : 200).send(wire.personToWire(person));
    },
  );

  app.get(
    '/v1/people/:id',
    routeOptions({ summary: 'A person and their faces', tags, scope: 'read', params: idParams, responses: { 200: wire.personDetail } }),
    async (request) => {
      const { id } = idParams.parse(request.params);
      const person = await service.findPerson(id);
      const faces = await service.listFaces(id, { limit: FACES_PER_PERSON, offset: 0 });
      return wire.personDetailToWire(person, faces.items);
    },
  );

  app.delete(
    '/v1/people/:id',
    routeOptions({
      summary: 'Erase a person with all their faces',
      tags,
      scope: 'admin',
      params: idParams,
      responses: { 200: wire.personRemoved },
    }),
    async (request) => {
      const { id } = idParams.parse(request.params);
      const { facesRemoved } = await service.removePerson(id);
      return { removed: true, faces_removed: facesRemoved };
    },
  );

  app.post(
    '/v1/people/:id/faces',
    {
      ...routeOptions({
        summary: 'Enroll photos of a person (the subject of each: the face at the centre, else the largest)',
        tags,
        scope: 'admin',
        params: idParams,
        body: schemas.enroll,
        responses: { 200: wire.enrollResponse },
      }),
      onRequest: gate.admit,
    },
    async (request) => {
      const { id } = idParams.parse(request.params);
      const person = await service.findPerson(id);
      const upload = await readUpload(request, service.config);
      optionsOf(schemas.enroll).parse(upload.fields);
      const images = imagesOf(upload, 'image');
      const names = upload.fileNames.get('image') ?? [];
      const outcomes: EnrollOutcome[] = [];
      for (const [i, bytes] of images.entries()) {
        try {
          // By id: a person erased meanwhile gets `not_found` outcomes, never a new person of the same name.
          const uploadName = names[i];
          outcomes.push(await gate.run(() => service.enrollImage(person.id, uploadName === undefined ? { bytes } : { bytes, uploadName })));
        } catch (error) {
          const failure = toFacedbError(error);
          // A gallery pinned to another model, a full queue or a storage fault fails the whole request.
          if (STOPS_ENROLLMENT.has(failure.code) || failure.code === 'overloaded') throw failure;
          const status = UNREADABLE.has(failure.code) ? 'unreadable' : 'failed';
          const message = failure.code === 'internal' ? 'internal error' : failure.message;
          outcomes.push({ path: '(upload)', person: person.name, status, facesFound: 0, message });
        }
      }
      return { outcomes: outcomes.map(wire.outcomeToWire) };
    },
  );

  app.delete(
    '/v1/faces/:id',
    routeOptions({
      summary: "Erase one face, a person's or an unnamed one, with its crop, photo and embedding",
      tags,
      scope: 'admin',
      params: idParams,
      responses: { 200: wire.faceRemoved },
    }),
    async (request) => {
      const { id } = idParams.parse(request.params);
      const { named } = await service.removeFace(id);
      return { removed: true as const, named };
    },
  );

  app.get(
    '/v1/faces/:id/image',
    routeOptions({
      summary: 'The aligned crop of an enrolled face',
      tags,
      scope: 'read',
      params: idParams,
      responses: { 200: { description: 'JPEG', contentType: 'image/jpeg' } },
    }),
    async (request, reply) => {
      const { id } = idParams.parse(request.params);
      return reply.type('image/jpeg').send(Buffer.from(await service.faceCrop(id)));
    },
  );
}
