import { z } from 'zod';
import type { FaceSearchResult } from '../services/results.js';

/** The JSON of search by face (snake_case), and its mapping to and from the service result. */

const box = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });
const image = z.object({ width: z.number().int(), height: z.number().int(), format: z.string() });

const searchMatch = z.object({
  face_id: z.number().int(),
  person: z.object({ id: z.number().int(), name: z.string() }).nullable().describe('the face’s person; null for a face nobody named yet'),
  cluster: z.number().int().nullable().describe('the cluster of an unnamed face; null when named or not clustered yet'),
  source: z
    .object({ path: z.string().nullable(), upload_name: z.string().nullable() })
    .describe('where the photo came from: the enrolled file’s path, or null for an upload (upload_name: its file name when known)'),
  distance: z.number().describe('Euclidean distance between the embeddings: smaller is more alike'),
  image_url: z.string().describe('the stored face’s crop'),
});

export const searchResponse = z.object({
  image,
  faces: z.array(
    z.object({
      box,
      detection_score: z.number(),
      matches: z.array(searchMatch).describe('the stored faces nearest to this face, nearest first'),
    }),
  ),
});

export type SearchWire = z.infer<typeof searchResponse>;

export function searchToWire(result: FaceSearchResult): SearchWire {
  return {
    image: result.image,
    faces: result.faces.map((face) => ({
      box: face.box,
      detection_score: face.detectionScore,
      matches: face.matches.map((match) => ({
        face_id: match.faceId,
        person: match.person,
        cluster: match.cluster,
        source: { path: match.source.path, upload_name: match.source.uploadName },
        distance: match.distance,
        image_url: `/v1/faces/${match.faceId}/image`,
      })),
    })),
  };
}

export function searchFromWire(wire: SearchWire): FaceSearchResult {
  return {
    image: wire.image,
    faces: wire.faces.map((face) => ({
      box: face.box,
      detectionScore: face.detection_score,
      matches: face.matches.map((match) => ({
        faceId: match.face_id,
        person: match.person,
        cluster: match.cluster,
        source: { path: match.source.path, uploadName: match.source.upload_name },
        distance: match.distance,
      })),
    })),
  };
}
