import { basename } from 'node:path';
import { z } from 'zod';
import { DEFAULT_CLUSTER_SAMPLES, type ClusterListing, type ClusterRunSummary, type UnnamedEnrollOutcome } from '../services/cluster-service.js';
import type { NamedCluster, Person } from '../store/store.js';
import { pageQuery, personName } from './request-wire.js';
import { person, personToWire, type PersonWire } from './wire.js';

/** The JSON of the unnamed-face and cluster routes (snake_case), and its mapping from the service results. */

const box = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

export const clusterRun = z.object({
  threshold: z.number().describe('groups merge while the mean distance over their pairs of faces is at or below this'),
  full: z.boolean(),
  faces_clustered: z.number().int(),
  clusters_created: z.number().int(),
  clusters_grown: z.number().int(),
  clusters_merged: z.number().int(),
  cluster_ids: z
    .object({ created: z.array(z.number().int()), grown: z.array(z.number().int()), merged: z.array(z.number().int()) })
    .describe('the clusters behind the three counts, so a client can add several runs up without counting one twice'),
  clusters: z.number().int(),
});

export const unnamedEnrollResponse = z.object({
  outcomes: z.array(
    z.object({
      status: z.enum(['enrolled', 'already_enrolled', 'no_face', 'unreadable', 'failed']),
      faces_found: z.number().int(),
      face_ids: z.array(z.number().int()),
      message: z.string().optional(),
    }),
  ),
  clustering: clusterRun.nullable().describe('the clustering run that placed the new faces; null when none was added'),
});

const clusterSample = z.object({
  face_id: z.number().int(),
  photo: z.string().nullable().describe('file name of the photo when it was enrolled from disk; null for uploads'),
  box,
  detection_score: z.number(),
  content_hash: z.string().describe('SHA-256 (hex) of the photo: faces of one photo share it'),
  created_at: z.string(),
  image_url: z.string(),
});

export const clusterSuggestion = z
  .object({
    person: z.object({ id: z.number().int(), name: z.string() }),
    distance: z.number().describe("mean distance of the cluster's faces to the person's closest faces"),
    confidence: z.number().nullable().describe('calibrated chance that the cluster is this person, as identify reports it; null without calibration'),
  })
  .describe("the nearest person when the cluster is within identify's threshold of them and was not rejected for them");

export const clusterPage = z.object({
  items: z.array(
    z.object({
      id: z.number().int(),
      size: z.number().int(),
      created_at: z.string(),
      samples: z.array(clusterSample),
      suggestion: clusterSuggestion.nullable(),
    }),
  ),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  unnamed_faces: z.number().int(),
  unclustered_faces: z.number().int(),
});

export const namedCluster = z.object({
  person,
  faces_named: z.number().int(),
  faces_left: z.number().int().describe('faces left in the cluster: photos the person already has a face from'),
});

export const clusterRemoved = z.object({
  removed: z.literal(true),
  faces_removed: z.number().int().describe('the unnamed faces erased with the cluster'),
});

export const clusterRunJson = z.object({ full: z.boolean().default(false) }).strict();
export const nameClusterJson = z
  .object({
    name: personName,
    force: z.boolean().default(false).describe('name it so even when the person exists and the cluster is far from them or was rejected for them'),
  })
  .strict();
/** The cluster listing's query: a page, and how many sample faces each cluster shows. */
export const clusterQuery = pageQuery
  .extend({
    samples: z
      .preprocess((v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : Number(v)) : v), z.number().int().min(0).max(20).default(DEFAULT_CLUSTER_SAMPLES))
      .describe('sample faces per cluster'),
  })
  .strict();

export function clusterRunToWire(run: ClusterRunSummary): z.infer<typeof clusterRun> {
  return {
    threshold: run.threshold,
    full: run.full,
    faces_clustered: run.facesClustered,
    clusters_created: run.clustersCreated,
    clusters_grown: run.clustersGrown,
    clusters_merged: run.clustersMerged,
    cluster_ids: run.clusterIds,
    clusters: run.clusters,
  };
}

export function unnamedOutcomeToWire(outcome: UnnamedEnrollOutcome): z.infer<typeof unnamedEnrollResponse>['outcomes'][number] {
  return {
    status: outcome.status,
    faces_found: outcome.facesFound,
    face_ids: outcome.faceIds,
    ...(outcome.message === undefined ? {} : { message: outcome.message }),
  };
}

export function clusterPageToWire(listing: ClusterListing, page: { limit: number; offset: number }): z.infer<typeof clusterPage> {
  return {
    items: listing.items.map((cluster) => ({
      id: cluster.id,
      size: cluster.size,
      created_at: cluster.createdAt,
      samples: cluster.samples.map((face) => ({
        face_id: face.id,
        // The file name only: the server's folders are none of a client's business.
        photo: face.sourcePath === null ? null : basename(face.sourcePath),
        box: face.box,
        detection_score: face.detectionScore,
        content_hash: face.contentHash,
        created_at: face.createdAt,
        image_url: `/v1/faces/${face.id}/image`,
      })),
      suggestion: cluster.suggestion,
    })),
    total: listing.total,
    ...page,
    unnamed_faces: listing.unnamedFaces,
    unclustered_faces: listing.unclusteredFaces,
  };
}

export function namedClusterToWire(named: NamedCluster): z.infer<typeof namedCluster> {
  return { person: personToWire(named.person), faces_named: named.facesNamed, faces_left: named.facesLeft };
}

// ---------------------------------------------------------------- wire → service (client)
// Each gives back the service's result, so `facedb client` prints what the local command prints.

/** `elapsedMs` is not on the wire: the caller passes the time it waited. */
export function clusterRunFromWire(wire: z.infer<typeof clusterRun>, elapsedMs: number): ClusterRunSummary {
  return {
    threshold: wire.threshold,
    full: wire.full,
    facesClustered: wire.faces_clustered,
    clustersCreated: wire.clusters_created,
    clustersGrown: wire.clusters_grown,
    clustersMerged: wire.clusters_merged,
    clusterIds: wire.cluster_ids,
    clusters: wire.clusters,
    elapsedMs,
  };
}

/** The server reports an upload as "(upload)": `path` is the file the client sent. */
export function unnamedOutcomeFromWire(wire: z.infer<typeof unnamedEnrollResponse>['outcomes'][number], path: string): UnnamedEnrollOutcome {
  return {
    path,
    status: wire.status,
    facesFound: wire.faces_found,
    faceIds: wire.face_ids,
    ...(wire.message === undefined ? {} : { message: wire.message }),
  };
}

/** The samples' `sourcePath` is the photo's file name only: the server does not tell its folders. */
export function clusterPageFromWire(wire: z.infer<typeof clusterPage>): ClusterListing {
  return {
    items: wire.items.map((cluster) => ({
      id: cluster.id,
      size: cluster.size,
      samples: cluster.samples.map((face) => ({
        id: face.face_id,
        clusterId: cluster.id,
        sourcePath: face.photo,
        contentHash: face.content_hash,
        box: face.box,
        detectionScore: face.detection_score,
        createdAt: face.created_at,
      })),
      createdAt: cluster.created_at,
      suggestion: cluster.suggestion,
    })),
    total: wire.total,
    unnamedFaces: wire.unnamed_faces,
    unclusteredFaces: wire.unclustered_faces,
  };
}

export function personFromWire(wire: PersonWire): Person {
  return { id: wire.id, name: wire.name, faceCount: wire.face_count, createdAt: wire.created_at };
}

export function namedClusterFromWire(wire: z.infer<typeof namedCluster>): NamedCluster {
  return { person: personFromWire(wire.person), facesNamed: wire.faces_named, facesLeft: wire.faces_left };
}
