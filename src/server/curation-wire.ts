import { basename } from 'node:path';
import { z } from 'zod';
import { MAX_FACES_PER_CHANGE, MAX_FACES_PER_PAGE, type MergedClusters, type MergedPeople, type MovedFaces, type StoredFace } from '../store/curation.js';
import type { FacesPage } from '../services/curation.js';
import { DEFAULT_FACE_PAGE } from '../services/curation.js';
import { fromText, MAX_ID, personName } from './request-wire.js';

/** The JSON of the curation routes (faces as objects, corrections), and its mapping from and to the service results. */

const id = z.number().int().min(1).max(MAX_ID);
const box = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });
const personRef = z.object({ id: z.number().int(), name: z.string() });

// ---------------------------------------------------------------- requests

const unnamedFlag = z
  .preprocess((v) => (v === '' || v === undefined ? undefined : v), z.enum(['true', 'false']).optional())
  .describe('true: only faces with no person');

export const facePageQuery = z
  .object({
    limit: fromText(z.number().int().min(1).max(MAX_FACES_PER_PAGE).default(DEFAULT_FACE_PAGE)),
    cursor: z
      .string()
      .regex(/^\d{1,10}$/)
      .optional()
      .describe("the previous page's next_cursor"),
  })
  .strict();

export const facesQuery = facePageQuery
  .extend({
    person: fromText(id.optional()).describe("a person's faces (by id)"),
    cluster: fromText(id.optional()).describe("a cluster's faces"),
    unnamed: unnamedFlag,
  })
  .strict();

const faceIds = z.array(id).min(1).max(MAX_FACES_PER_CHANGE);
export const moveFacesJson = z.object({ faces: faceIds, to: personName.describe('the person (created when new)') }).strict();
export const unassignFacesJson = z.object({ faces: faceIds }).strict();
export const renamePersonJson = z.object({ name: personName }).strict();
export const mergeJson = z.object({ into: id }).strict();
export const rejectClusterJson = z
  .object({ person: z.union([id, personName]).describe('the person (id or name) the cluster is not') })
  .strict();

// ---------------------------------------------------------------- responses

export const storedFace = z.object({
  id: z.number().int(),
  person: personRef.nullable(),
  cluster: z.number().int().nullable().describe('the cluster of an unnamed face; null for a person\'s face or one no clustering placed'),
  source: z.object({
    path: z.string().nullable().describe('file name of the photo when it was enrolled from disk (no folders)'),
    upload_name: z.string().nullable().describe('file name an upload came with, when known'),
  }),
  box,
  detection_score: z.number(),
  added_at: z.string(),
  image_url: z.string(),
});

export const facesPage = z.object({ items: z.array(storedFace), next_cursor: z.string().nullable() });
export const movedFaces = z.object({ moved: z.number().int(), person: personRef.extend({ created: z.boolean() }) });
export const unassignedFaces = z.object({ unassigned: z.number().int() });
export const mergedPeople = z.object({ merged_faces: z.number().int(), into: personRef });
export const mergedClusters = z.object({ merged_faces: z.number().int(), into: z.number().int() });
export const rejectedCluster = z.object({ cluster: z.number().int(), person: personRef });

export function storedFaceToWire(face: StoredFace): z.infer<typeof storedFace> {
  return {
    id: face.id,
    person: face.personId === null ? null : { id: face.personId, name: face.personName ?? `#${face.personId}` },
    cluster: face.clusterId,
    // The file name only: the server's folders are none of a client's business.
    source: { path: face.sourcePath === null ? null : basename(face.sourcePath), upload_name: face.uploadName },
    box: face.box,
    detection_score: face.detectionScore,
    added_at: face.createdAt,
    image_url: `/v1/faces/${face.id}/image`,
  };
}

export function facesPageToWire(page: FacesPage): z.infer<typeof facesPage> {
  return { items: page.items.map(storedFaceToWire), next_cursor: page.nextCursor };
}

export function movedFacesToWire(moved: MovedFaces): z.infer<typeof movedFaces> {
  return { moved: moved.moved, person: { id: moved.person.id, name: moved.person.name, created: moved.created } };
}

export function mergedPeopleToWire(merged: MergedPeople): z.infer<typeof mergedPeople> {
  return { merged_faces: merged.mergedFaces, into: { id: merged.into.id, name: merged.into.name } };
}

export function mergedClustersToWire(merged: MergedClusters): z.infer<typeof mergedClusters> {
  return { merged_faces: merged.mergedFaces, into: merged.into };
}

// ---------------------------------------------------------------- wire → service (client)

/** `sourcePath` is the photo's file name only: the server does not tell its folders. */
export function storedFaceFromWire(wire: z.infer<typeof storedFace>): StoredFace {
  return {
    id: wire.id,
    personId: wire.person?.id ?? null,
    personName: wire.person?.name ?? null,
    clusterId: wire.cluster,
    sourcePath: wire.source.path,
    uploadName: wire.source.upload_name,
    box: wire.box,
    detectionScore: wire.detection_score,
    createdAt: wire.added_at,
  };
}
