import type { FastifyInstance } from 'fastify';
import type { FaceService } from '../../services/face-service.js';
import * as curationWire from '../curation-wire.js';
import { routeOptions } from '../docs.js';
import { idParams } from '../request-wire.js';
import * as wire from '../wire.js';

const tags = ['curation'];

/**
 * Corrections: faces as objects (listed, moved, taken out), people renamed and merged, clusters merged and
 * rejected for a person. Lists are `read`, changes `admin`. A refused change (404, 409) changes nothing.
 */
export function curationRoutes(app: FastifyInstance, service: FaceService): void {
  app.get(
    '/v1/faces',
    routeOptions({
      summary: "Stored faces (a person's, a cluster's, unnamed ones, or all), in id order, a page at a time",
      tags,
      scope: 'read',
      query: curationWire.facesQuery,
      responses: { 200: curationWire.facesPage },
    }),
    async (request) => {
      const { limit, cursor, person, cluster, unnamed } = curationWire.facesQuery.parse(request.query);
      const page = await service.faces({ person, cluster, unnamed: unnamed === 'true' }, { limit, cursor });
      return curationWire.facesPageToWire(page);
    },
  );

  app.get(
    '/v1/people/:id/faces',
    routeOptions({
      summary: "A person's faces, in id order, a page at a time",
      tags,
      scope: 'read',
      params: idParams,
      query: curationWire.facePageQuery,
      responses: { 200: curationWire.facesPage },
    }),
    async (request) => {
      const { id } = idParams.parse(request.params);
      const { limit, cursor } = curationWire.facePageQuery.parse(request.query);
      return curationWire.facesPageToWire(await service.faces({ person: id }, { limit, cursor }));
    },
  );

  app.post(
    '/v1/faces/move',
    routeOptions({
      summary: 'Give faces (named or unnamed) to a person, created when the name is new (409 when one is theirs already)',
      tags,
      scope: 'admin',
      body: curationWire.moveFacesJson,
      responses: { 200: curationWire.movedFaces },
    }),
    async (request) => {
      const { faces, to } = curationWire.moveFacesJson.parse(request.body ?? {});
      return curationWire.movedFacesToWire(await service.moveFaces(faces, to));
    },
  );

  app.post(
    '/v1/faces/unassign',
    routeOptions({
      summary: 'Take faces out of their person or cluster: each becomes an unnamed face of its own that never goes back by itself',
      tags,
      scope: 'admin',
      body: curationWire.unassignFacesJson,
      responses: { 200: curationWire.unassignedFaces },
    }),
    async (request) => {
      const { faces } = curationWire.unassignFacesJson.parse(request.body ?? {});
      return service.unassignFaces(faces);
    },
  );

  app.patch(
    '/v1/people/:id',
    routeOptions({
      summary: 'Rename a person (409 when the name is taken or looks like another person\'s)',
      tags,
      scope: 'admin',
      params: idParams,
      body: curationWire.renamePersonJson,
      responses: { 200: wire.person },
    }),
    async (request) => {
      const { id } = idParams.parse(request.params);
      const { name } = curationWire.renamePersonJson.parse(request.body ?? {});
      return wire.personToWire(await service.renamePerson(id, name));
    },
  );

  app.post(
    '/v1/people/:id/merge',
    routeOptions({
      summary: 'Merge a person into another: every face moves, the first person goes (409 into themselves)',
      tags,
      scope: 'admin',
      params: idParams,
      body: curationWire.mergeJson,
      responses: { 200: curationWire.mergedPeople },
    }),
    async (request) => {
      const { id } = idParams.parse(request.params);
      const { into } = curationWire.mergeJson.parse(request.body ?? {});
      return curationWire.mergedPeopleToWire(await service.mergePeople(id, into));
    },
  );

  app.post(
    '/v1/clusters/:id/merge',
    routeOptions({
      summary: 'Merge a cluster into another (409 into itself)',
      tags,
      scope: 'admin',
      params: idParams,
      body: curationWire.mergeJson,
      responses: { 200: curationWire.mergedClusters },
    }),
    async (request) => {
      const { id } = idParams.parse(request.params);
      const { into } = curationWire.mergeJson.parse(request.body ?? {});
      return curationWire.mergedClustersToWire(await service.mergeClusters(id, into));
    },
  );

  app.post(
    '/v1/clusters/:id/reject',
    routeOptions({
      summary: 'Record that a cluster is not this person: never suggested for them, naming it so needs force',
      tags,
      scope: 'admin',
      params: idParams,
      body: curationWire.rejectClusterJson,
      responses: { 200: curationWire.rejectedCluster },
    }),
    async (request) => {
      const { id } = idParams.parse(request.params);
      const { person } = curationWire.rejectClusterJson.parse(request.body ?? {});
      const rejected = await service.rejectCluster(id, person);
      return { cluster: rejected.clusterId, person: { id: rejected.person.id, name: rejected.person.name } };
    },
  );
}
