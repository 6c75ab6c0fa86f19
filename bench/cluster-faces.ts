/**
 * Every face of every photo of the shared LFW subset, as the engine sees it (box, detection score, embedding),
 * computed once per engine and cached in bench/out/ so `npm run bench:cluster` re-runs without inference; and how
 * bench:cluster and research/cluster-threshold.ts score a clustering of them against the truth.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import type { Box, ModelInfo } from '../src/core/types.js';
import { readImageFile } from '../src/image/decode.js';
import { sha256Hex } from '../src/image/hash.js';
import { embeddingOf, FaceService } from '../src/services/face-service.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import type { GalleryStore, NewFace } from '../src/store/store.js';
import { LFW_SUBSET, REPO_ROOT, tempDir } from '../test/fixtures.js';
import { analyzeOptions, inLanes, lfwPeople, limits, pct } from './common.js';
import { startEngine } from './engines.js';

export interface CachedFace {
  box: Box;
  detectionScore: number;
  embedding: Float32Array;
}

export interface CachedPhoto {
  /** Relative to the LFW subset root. */
  file: string;
  /** The folder's person: the truth for the photo's largest (centred) face only. */
  person: string;
  contentHash: string;
  /** Largest first, as the engine returns them. */
  faces: CachedFace[];
}

export interface FaceCache {
  engine: string;
  model: ModelInfo;
  dimensions: number;
  photos: CachedPhoto[];
}

interface StoredCache {
  engine: string;
  model: ModelInfo;
  dimensions: number;
  photos: Array<Omit<CachedPhoto, 'faces'> & { faces: Array<Omit<CachedFace, 'embedding'> & { embedding: string }> }>;
}

export function cachePath(spec: string): string {
  return join(REPO_ROOT, 'bench/out', `cluster-faces-${spec.replace(/[^A-Za-z0-9.@_-]/g, '_')}.json`);
}

/** Reads the cache for `spec`, computing it first when missing (every face, no face limit beyond the config's). */
export async function loadFaces(spec: string, workers?: number): Promise<FaceCache> {
  const path = cachePath(spec);
  try {
    const stored = JSON.parse(await readFile(path, 'utf8')) as StoredCache;
    return {
      engine: stored.engine,
      model: stored.model,
      dimensions: stored.dimensions,
      photos: stored.photos.map((p) => ({
        ...p,
        faces: p.faces.map((f) => ({ ...f, embedding: new Float32Array(new Uint8Array(Buffer.from(f.embedding, 'base64')).buffer) })),
      })),
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const engine = await startEngine(spec, workers);
  const photos = (await lfwPeople()).flatMap(({ person, files }) => files.map((file) => ({ file: join(person, file), person })));
  const out: CachedPhoto[] = new Array<CachedPhoto>(photos.length);
  try {
    await inLanes(photos.length, 4, 'embedding', async (i) => {
      const photo = photos[i]!;
      const { bytes, image } = await readImageFile(join(LFW_SUBSET, photo.file), limits);
      const faces = await engine.analyze(image, analyzeOptions());
      out[i] = { ...photo, contentHash: sha256Hex(bytes), faces: faces.map((f) => ({ box: f.box, detectionScore: f.detectionScore, embedding: embeddingOf(f) })) };
    });
  } finally {
    await engine.close();
  }
  const stored: StoredCache = {
    engine: spec,
    model: engine.model,
    dimensions: engine.model.dimensions,
    photos: out.map((p) => ({
      ...p,
      faces: p.faces.map((f) => ({ ...f, embedding: Buffer.from(f.embedding.buffer, f.embedding.byteOffset, f.embedding.byteLength).toString('base64') })),
    })),
  };
  await mkdir(join(REPO_ROOT, 'bench/out'), { recursive: true });
  await writeFile(`${path}.tmp`, JSON.stringify(stored));
  await rename(`${path}.tmp`, path);
  process.stderr.write(`cached ${out.length} photos in ${relative(REPO_ROOT, path)}\n`);
  return { engine: spec, model: engine.model, dimensions: engine.model.dimensions, photos: out };
}

export interface Scores {
  precision: number;
  recall: number;
  f1: number;
  /** Clusters holding at least one labelled face. */
  clusters: number;
  people: number;
  /** Labelled faces alone in their cluster (counting background faces with them). */
  singletons: number;
  labelledFaces: number;
  otherFaces: number;
  /** Background faces that ended up in a cluster with a labelled face. */
  otherFacesWithLabelled: number;
}

/** A face to cluster, with its truth: the folder's person for a photo's labelled face, else null. */
export interface BenchFace {
  faceId: number;
  truth: string | null;
  embedding: Float32Array;
}

/**
 * Runs `use` on a throwaway SQLite gallery pinned to `model`, through the product's FaceService; its faces come from
 * the cache, so the service has no engine. The gallery is removed afterwards.
 */
export async function withCachedGallery<T>(model: ModelInfo, use: (faces: FaceService, store: GalleryStore) => Promise<T>): Promise<T> {
  const dir = await tempDir('facedb-bench-cluster-');
  const db = join(dir, 'gallery.sqlite');
  const store = await openSqliteStore(db);
  const faces = new FaceService(loadConfig({ db }), store, () => Promise.reject(new Error('the benchmark enrolls cached analyses')));
  try {
    await store.ensureModel(model);
    return await use(faces, store);
  } finally {
    await faces.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The `i`-th cached face of `photo` as the store takes it (no crop: nothing here shows one). */
export function storedFace(photo: CachedPhoto, i: number): NewFace {
  const face = photo.faces[i]!;
  return { sourcePath: photo.file, contentHash: photo.contentHash, box: face.box, detectionScore: face.detectionScore, embedding: face.embedding, crop: null };
}

/** Index of the face whose box centre is nearest the photo's centre (250×250 LFW photos). */
export function labelledFace(photo: CachedPhoto): number {
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  photo.faces.forEach((face, i) => {
    const distance = Math.hypot(face.box.x + face.box.width / 2 - 125, face.box.y + face.box.height / 2 - 125);
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  });
  return best;
}

/** Pairwise precision and recall of a clustering over every pair of labelled faces, and cluster counts. */
export function score(faces: readonly BenchFace[], clusterOf: ReadonlyMap<number, number>): Scores {
  const labelled = faces.filter((f) => f.truth !== null);
  let together = 0;
  let same = 0;
  let both = 0;
  for (let i = 0; i < labelled.length; i++) {
    for (let j = i + 1; j < labelled.length; j++) {
      const a = labelled[i]!;
      const b = labelled[j]!;
      const isSame = a.truth === b.truth;
      const isTogether = clusterOf.get(a.faceId) === clusterOf.get(b.faceId);
      if (isSame) same++;
      if (isTogether) together++;
      if (isSame && isTogether) both++;
    }
  }
  const size = new Map<number, number>();
  for (const face of faces) size.set(clusterOf.get(face.faceId)!, (size.get(clusterOf.get(face.faceId)!) ?? 0) + 1);
  const withLabelled = new Set(labelled.map((f) => clusterOf.get(f.faceId)!));
  const others = faces.filter((f) => f.truth === null);
  const precision = together === 0 ? 1 : both / together;
  const recall = same === 0 ? 1 : both / same;
  return {
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    clusters: withLabelled.size,
    people: new Set(labelled.map((f) => f.truth)).size,
    singletons: labelled.filter((f) => size.get(clusterOf.get(f.faceId)!) === 1).length,
    labelledFaces: labelled.length,
    otherFaces: others.length,
    otherFacesWithLabelled: others.filter((f) => withLabelled.has(clusterOf.get(f.faceId)!)).length,
  };
}

/** A table row of scores at one threshold, under SCORE_HEADER. */
export function scoreRow(label: string, threshold: number, s: Scores): string {
  return `| ${label} | ${threshold.toFixed(3)} | ${pct(s.precision)} | ${pct(s.recall)} | ${s.f1.toFixed(4)} | ${s.clusters} / ${s.people} | ${s.singletons} |`;
}

export const SCORE_HEADER = '| point | threshold | pairwise precision | pairwise recall | F1 | clusters / people | labelled faces alone |\n| --- | --- | --- | --- | --- | --- | --- |';
