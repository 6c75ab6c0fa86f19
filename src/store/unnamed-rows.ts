import { FacedbError } from '../errors/errors.js';
import { LITTLE_ENDIAN_HOST, swapFloat32Bytes } from './rows.js';
import type { ClusterUpdate, UnnamedEmbedding, UnnamedFace } from './store.js';

/** Row shapes, columns and checks for unnamed faces and clusters, shared by the SQLite and PostgreSQL stores. */

export interface UnnamedFaceRow<Time> {
  id: number;
  cluster_id: number | null;
  source_path: string | null;
  content_hash: string;
  box_x: number;
  box_y: number;
  box_w: number;
  box_h: number;
  detection_score: number;
  created_at: Time;
}

export const UNNAMED_FACE_COLUMNS = `f.id, f.cluster_id, f.source_path, f.content_hash, f.box_x, f.box_y, f.box_w, f.box_h,
  f.detection_score, f.created_at`;

/** Most sample faces a cluster listing may ask for. */
export const MAX_CLUSTER_SAMPLES = 100;

export function toUnnamedFace<Time>(row: UnnamedFaceRow<Time>, time: (t: Time) => string): UnnamedFace {
  return {
    id: row.id,
    clusterId: row.cluster_id,
    sourcePath: row.source_path,
    contentHash: row.content_hash,
    box: { x: row.box_x, y: row.box_y, width: row.box_w, height: row.box_h },
    detectionScore: row.detection_score,
    createdAt: time(row.created_at),
  };
}

export function toUnnamedEmbedding(faceId: number, clusterId: number | null, contentHash: string, blob: Uint8Array, dimensions: number): UnnamedEmbedding {
  if (blob.length !== dimensions * 4) {
    throw new FacedbError('internal', `face ${faceId} has a ${blob.length}-byte embedding, expected ${dimensions * 4}`);
  }
  // Copied into a fresh buffer: the driver's Buffers need not be 4-byte aligned.
  const bytes = new Uint8Array(blob);
  if (!LITTLE_ENDIAN_HOST) swapFloat32Bytes(bytes);
  return { faceId, clusterId, contentHash, embedding: new Float32Array(bytes.buffer) };
}

export function checkSamples(samples: number): void {
  if (!Number.isInteger(samples) || samples < 0 || samples > MAX_CLUSTER_SAMPLES) {
    throw new FacedbError('invalid_input', `samples per cluster must be a whole number from 0 to ${MAX_CLUSTER_SAMPLES}, got ${samples}`);
  }
}

/** Every face in at most one group, ids positive integers. */
export function checkClusterUpdates(groups: readonly ClusterUpdate[]): void {
  const seen = new Set<number>();
  groups.forEach((group, i) => {
    if (group.clusterId !== null && !isId(group.clusterId)) {
      throw new FacedbError('invalid_input', `group ${i}: cluster id must be a positive integer, got ${group.clusterId}`);
    }
    for (const faceId of group.faceIds) {
      if (!isId(faceId)) throw new FacedbError('invalid_input', `group ${i}: face id must be a positive integer, got ${faceId}`);
      if (seen.has(faceId)) throw new FacedbError('invalid_input', `face ${faceId} is in more than one group`);
      seen.add(faceId);
    }
  });
}

function isId(id: number): boolean {
  return Number.isInteger(id) && id > 0 && id <= 2_147_483_647;
}
