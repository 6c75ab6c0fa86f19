/**
 * Every face of every photo of the shared LFW subset, as the engine sees it (box, detection score, embedding),
 * computed once per engine and cached in bench/out/ so `npm run bench:cluster` re-runs without inference.
 */
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import type { Box, ModelInfo } from '../src/core/types.js';
import type { FaceEngine } from '../src/engine/engine.js';
import { calibrationKey } from '../src/core/confidence.js';
import { engineForModel, ENGINE_NAMES, ENGINES } from '../src/engine/registry.js';
import { readImageFile } from '../src/image/decode.js';
import { sha256Hex } from '../src/image/hash.js';
import { embeddingOf } from '../src/services/face-service.js';
import { LFW_SUBSET, REPO_ROOT } from '../test/fixtures.js';

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

/** The engines this benchmark can start, by `id@version`. */
export async function createBenchEngine(spec: string, workers: number | undefined): Promise<FaceEngine> {
  const [id = '', version = ''] = spec.split('@');
  const entry = engineForModel({ id, version });
  if (entry === undefined) {
    const known = ENGINE_NAMES.map((name) => calibrationKey(ENGINES[name].model)).join(', ');
    throw new Error(`engine ${spec} is not available here (this build has ${known})`);
  }
  return entry.create(workers === undefined ? {} : { workers });
}

export function cachePath(spec: string): string {
  return join(REPO_ROOT, 'bench/out', `cluster-faces-${spec.replace(/[^A-Za-z0-9.@_-]/g, '_')}.json`);
}

export async function lfwPhotos(): Promise<Array<{ file: string; person: string }>> {
  const photos: Array<{ file: string; person: string }> = [];
  for (const person of (await readdir(LFW_SUBSET)).sort()) {
    for (const file of (await readdir(join(LFW_SUBSET, person))).sort()) photos.push({ file: join(person, file), person });
  }
  return photos;
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
  const config = loadConfig({});
  const limits = { maxPixels: config.maxPixels, maxFileBytes: config.maxFileBytes };
  const options = { minDetectionScore: config.minDetectionScore, minFaceSize: config.minFaceSize, maxFaces: config.maxFaces, needs: { embedding: true, attributes: [], crop: false } };
  const engine = await createBenchEngine(spec, workers);
  const photos = await lfwPhotos();
  const out: CachedPhoto[] = new Array<CachedPhoto>(photos.length);
  const started = performance.now();
  let next = 0;
  let done = 0;
  try {
    const lane = async (): Promise<void> => {
      while (next < photos.length) {
        const i = next++;
        const photo = photos[i]!;
        const { bytes, image } = await readImageFile(join(LFW_SUBSET, photo.file), limits);
        const faces = await engine.analyze(image, options);
        out[i] = {
          ...photo,
          contentHash: sha256Hex(bytes),
          faces: faces.map((f) => ({ box: f.box, detectionScore: f.detectionScore, embedding: embeddingOf(f) })),
        };
        done += 1;
        if (done % 100 === 0 || done === photos.length) {
          process.stderr.write(`embedding ${done}/${photos.length} (${(done / ((performance.now() - started) / 1000)).toFixed(1)} photos/s)\n`);
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, lane));
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
