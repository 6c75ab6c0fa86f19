/**
 * The portable gallery file of `facedb export` / `facedb import`: JSON Lines (one JSON object per line, UTF-8, "\n"),
 * so it streams both ways, any tool can read it line by line, and a cut is found at the line it hits.
 *
 *   line 1        header: format name and version, the model (id, version, dimensions, metric, default threshold),
 *                 how embeddings are encoded, whether photos are included, the gallery's counts when the export began
 *   then          records, in this order: person, cluster, then face (a person's) and unnamed_face mixed in id order,
 *                 calibration (at most one), constraint ("not this person", see the record below)
 *   last line     trailer: the counts of the records above and the SHA-256 (hex) of every byte before the trailer line
 *
 * Embeddings are base64 of the float32 values, little-endian, `dimensions` of them; crops (JPEG thumbnails) and photo
 * bytes are base64 too. Ids are the exporting gallery's: they tie faces to their person and cluster inside the file;
 * the importing gallery gives its own ids. Anything not exactly this (a cut file, another format, a changed byte)
 * is refused as invalid_input before anything is written.
 */
import { z } from 'zod';

export const FORMAT_NAME = 'facedb-gallery';
export const FORMAT_VERSION = 1;
export const EMBEDDING_ENCODING = 'base64 float32 little-endian';
/** The longest line read (a face with its photo); a longer one is not this format. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

const id = z.number().int().min(1).max(2 ** 31 - 1);
const count = z.number().int().min(0);
const time = z.string().min(1).max(64);
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const box = z.object({ x: z.number(), y: z.number(), width: z.number().positive(), height: z.number().positive() }).strict();

export const countsSchema = z
  .object({ people: count, faces: count, unnamed_faces: count, clusters: count, calibrations: count, constraints: count, photos: count })
  .strict();
export type TransferCounts = z.infer<typeof countsSchema>;

export const headerSchema = z
  .object({
    type: z.literal('header'),
    format: z.literal(FORMAT_NAME),
    version: z.literal(FORMAT_VERSION),
    model: z
      .object({
        id: z.string().min(1),
        version: z.string().min(1),
        dimensions: z.number().int().min(1).max(65_536),
        metric: z.enum(['euclidean']),
        default_threshold: z.number().positive(),
      })
      .strict(),
    embedding_encoding: z.literal(EMBEDDING_ENCODING),
    photos: z.boolean(),
    exported_at: time,
    /** The gallery when the export began (photos are counted by the trailer only); the trailer counts what the file holds. */
    counts: countsSchema.omit({ photos: true }),
  })
  .strict();
export type TransferHeader = z.infer<typeof headerSchema>;

const faceFields = {
  id,
  source_path: z.string().nullable(),
  /** The file name an upload came with (null for photos enrolled from disk, or unknown). */
  upload_name: z.string().max(1024).nullable(),
  content_hash: z.string().regex(/^[0-9a-f]{64}$/),
  box,
  detection_score: z.number().min(0).max(1),
  created_at: time,
  embedding: base64,
  crop: base64.nullable(),
  /** Only in files written with --photos, for faces facedb kept the photo of (uploads). */
  photo: base64.optional(),
};

export const recordSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('person'), id, name: z.string().min(1), created_at: time }).strict(),
  z.object({ type: z.literal('cluster'), id, created_at: time }).strict(),
  z.object({ type: z.literal('face'), person: id, ...faceFields }).strict(),
  z.object({ type: z.literal('unnamed_face'), cluster: id.nullable(), ...faceFields }).strict(),
  // The gallery calibration as `facedb evaluate --apply` stored it; checked by the store when imported.
  z.object({ type: z.literal('calibration'), calibration: z.record(z.string(), z.unknown()) }).strict(),
  /**
   * A "not this person" constraint (store/curation.ts), naming this file's ids: faces_apart (face, other_face: never
   * clustered together), face_not_person (face, person: never given back to that person by itself),
   * cluster_not_person (cluster, person: `facedb reject`).
   */
  z
    .object({
      type: z.literal('constraint'),
      kind: z.enum(['faces_apart', 'face_not_person', 'cluster_not_person']),
      face: id.nullable(),
      other_face: id.nullable(),
      cluster: id.nullable(),
      person: id.nullable(),
    })
    .strict(),
]);
export type TransferRecord = z.infer<typeof recordSchema>;
export type FaceLine = Extract<TransferRecord, { type: 'face' }>;
export type UnnamedFaceLine = Extract<TransferRecord, { type: 'unnamed_face' }>;

export const trailerSchema = z.object({ type: z.literal('trailer'), counts: countsSchema, sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict();

/** Which count a record adds to. */
export const COUNTED: Record<TransferRecord['type'], keyof TransferCounts> = {
  person: 'people',
  cluster: 'clusters',
  face: 'faces',
  unnamed_face: 'unnamed_faces',
  calibration: 'calibrations',
  constraint: 'constraints',
};

/** The order records come in: a record never follows one of a higher rank (faces of people and unnamed faces mix, by id). */
export const RECORD_RANK: Record<TransferRecord['type'], number> = { person: 0, cluster: 1, face: 2, unnamed_face: 2, calibration: 3, constraint: 4 };

export function zeroCounts(): TransferCounts {
  return { people: 0, faces: 0, unnamed_faces: 0, clusters: 0, calibrations: 0, constraints: 0, photos: 0 };
}

export function encodeEmbedding(embedding: Float32Array): string {
  const bytes = new Uint8Array(embedding.length * 4);
  const view = new DataView(bytes.buffer);
  embedding.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return Buffer.from(bytes).toString('base64');
}

/** The embedding of a record; null when it is not `dimensions` finite float32 values. */
export function decodeEmbedding(text: string, dimensions: number): Float32Array | null {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== dimensions * 4) return null;
  const embedding = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) embedding[i] = bytes.readFloatLE(i * 4);
  return embedding.every(Number.isFinite) ? embedding : null;
}
