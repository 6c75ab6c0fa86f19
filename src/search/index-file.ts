import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { ModelInfo } from '../core/types.js';
import { AnnIndex, type AnnOptions } from './ann-index.js';

/**
 * An ANN index saved to disk, so a restart loads it instead of rebuilding the graph. Three files share a base path:
 * `<base>.graph` (usearch's own format), `<base>.faces` (face id → person id pairs, int32 little-endian, then each
 * face's exact float32 embedding in the same order, which the index re-ranks the graph's candidates with) and
 * `<base>.json`, the stamp: which gallery, model and change number the index reflects, and the size and SHA-256 of
 * the other two. The stamp is written last; anything that does not match it is rebuilt, because the native loader
 * trusts its input.
 */
export interface IndexStamp {
  format: typeof FORMAT;
  model: { id: string; version: string; dimensions: number };
  options: AnnOptions;
  /** What identifies the gallery beyond its model (see galleryIdentity in open-index.ts). */
  gallery: string;
  /** The gallery's change number the saved index reflects. */
  changeSeq: number;
  faces: number;
  files: { graph: FileDigest; faces: FileDigest };
  savedAt: string;
}

interface FileDigest {
  bytes: number;
  sha256: string;
}

/** 2: the faces file holds the exact embeddings too. */
const FORMAT = 'facedb-ann-usearch-2';
/** Faces written or read per chunk of the faces file. */
const CHUNK_FACES = 16_384;

export interface SavedIndex {
  index: AnnIndex;
  changeSeq: number;
}

/** What the saved index must match to be used. */
export interface IndexExpectation {
  model: ModelInfo;
  options: AnnOptions;
  gallery: string;
}

export const indexFiles = (base: string): { graph: string; faces: string; stamp: string } => ({
  graph: `${base}.graph`,
  faces: `${base}.faces`,
  stamp: `${base}.json`,
});

/**
 * Writes the index atomically (temporary files renamed into place, the stamp last). `builtGraph` is a graph file of
 * exactly this index, written by its build (buildAnnIndexInWorker) on the same file system: it is moved into place
 * instead of being written again, and removed if the save fails.
 */
export async function saveIndex(
  base: string,
  index: AnnIndex,
  stamp: { model: ModelInfo; gallery: string; changeSeq: number },
  builtGraph?: string,
): Promise<void> {
  const files = indexFiles(base);
  const suffix = `.tmp-${process.pid}-${Date.now()}`;
  const { faceIds, personIds } = index.faces();
  try {
    if (builtGraph === undefined) index.saveGraph(files.graph + suffix);
    else await rename(builtGraph, files.graph + suffix);
    await writeFaces(files.faces + suffix, index, faceIds, personIds);
    const written: IndexStamp = {
      format: FORMAT,
      model: { id: stamp.model.id, version: stamp.model.version, dimensions: stamp.model.dimensions },
      options: index.options,
      gallery: stamp.gallery,
      changeSeq: stamp.changeSeq,
      faces: faceIds.length,
      files: { graph: await digest(files.graph + suffix), faces: await digest(files.faces + suffix) },
      savedAt: new Date().toISOString(),
    };
    // The old stamp goes first: between the renames no stamp describes a mix of old and new files.
    await rm(files.stamp, { force: true });
    await rename(files.graph + suffix, files.graph);
    await rename(files.faces + suffix, files.faces);
    await writeFile(files.stamp + suffix, JSON.stringify(written, null, 2));
    await rename(files.stamp + suffix, files.stamp);
  } finally {
    await Promise.all([...[files.graph, files.faces, files.stamp].map((file) => file + suffix), ...(builtGraph === undefined ? [] : [builtGraph])].map((file) => rm(file, { force: true })));
  }
}

/**
 * The saved index when its stamp matches what is expected and its files are intact; otherwise why not (a missing
 * file, another model or gallery, changed or truncated files), so the caller rebuilds.
 */
export async function loadIndex(base: string, expected: IndexExpectation): Promise<SavedIndex | { rejected: string }> {
  const files = indexFiles(base);
  let stamp: IndexStamp;
  try {
    stamp = JSON.parse(await readFile(files.stamp, 'utf8')) as IndexStamp;
  } catch (error) {
    return { rejected: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no saved index' : 'unreadable stamp' };
  }
  const { model, options, gallery } = expected;
  if (stamp.format !== FORMAT) return { rejected: `format ${String(stamp.format)}` };
  if (stamp.model?.id !== model.id || stamp.model.version !== model.version || stamp.model.dimensions !== model.dimensions) {
    return { rejected: 'another model' };
  }
  if (stamp.gallery !== gallery) return { rejected: 'another gallery' };
  // ef_search is a search-time setting: a graph built with the same storage and links serves any.
  const built = (o: AnnOptions | undefined): string => JSON.stringify([o?.precision, o?.connectivity, o?.expansionAdd]);
  if (built(stamp.options) !== built(options)) return { rejected: 'other index settings' };
  if (!Number.isSafeInteger(stamp.changeSeq) || stamp.changeSeq < 0 || !Number.isSafeInteger(stamp.faces)) {
    return { rejected: 'malformed stamp' };
  }
  for (const [name, path] of [['graph', files.graph], ['faces', files.faces]] as const) {
    const want = stamp.files?.[name];
    const size = await stat(path).then((s) => s.size, () => -1);
    if (want === undefined || size !== want.bytes) return { rejected: `${name} file missing or of the wrong size` };
    if ((await digest(path)).sha256 !== want.sha256) return { rejected: `${name} file changed since it was saved` };
  }
  const faces = await readFaces(files.faces, stamp.faces, model.dimensions);
  if (faces === undefined) return { rejected: 'face list of the wrong length' };
  try {
    return { index: AnnIndex.restore(model.dimensions, options, files.graph, faces), changeSeq: stamp.changeSeq };
  } catch (error) {
    return { rejected: `unusable: ${(error as Error).message}` };
  }
}

/** Deletes a saved index (e.g. when the gallery turned out not to match it). */
export async function removeIndex(base: string): Promise<void> {
  const files = indexFiles(base);
  await rm(files.stamp, { force: true });
  await Promise.all([rm(files.graph, { force: true }), rm(files.faces, { force: true })]);
}

/** The faces file: id and person pairs, then the vectors (little-endian, as every supported CPU stores them). */
async function writeFaces(path: string, index: AnnIndex, faceIds: Int32Array, personIds: Int32Array): Promise<void> {
  const pairs = new Int32Array(faceIds.length * 2);
  for (let row = 0; row < faceIds.length; row++) {
    pairs[row * 2] = faceIds[row]!;
    pairs[row * 2 + 1] = personIds[row]!;
  }
  const file = await open(path, 'w');
  try {
    await file.write(new Uint8Array(pairs.buffer));
    const chunk = new Float32Array(CHUNK_FACES * index.dimensions);
    for (let start = 0; start < faceIds.length; start += CHUNK_FACES) {
      const end = Math.min(faceIds.length, start + CHUNK_FACES);
      for (let row = start; row < end; row++) chunk.set(index.vectorOf(faceIds[row]!), (row - start) * index.dimensions);
      await file.write(new Uint8Array(chunk.buffer, 0, (end - start) * index.dimensions * 4));
    }
  } finally {
    await file.close();
  }
}

async function readFaces(path: string, faces: number, dimensions: number): Promise<{ faceIds: Int32Array; personIds: Int32Array; vectors: Float32Array } | undefined> {
  const file = await open(path, 'r');
  try {
    if ((await file.stat()).size !== faces * (8 + dimensions * 4)) return undefined;
    const pairs = new Int32Array(faces * 2);
    const vectors = new Float32Array(faces * dimensions);
    // In chunks: one read is limited to 2 GiB, and a million 512-D faces are 2 GB.
    let position = 0;
    for (const target of [new Uint8Array(pairs.buffer), new Uint8Array(vectors.buffer)]) {
      for (let offset = 0; offset < target.length; ) {
        const { bytesRead } = await file.read(target, offset, Math.min(target.length - offset, CHUNK_FACES * dimensions * 4), position);
        if (bytesRead === 0) return undefined;
        offset += bytesRead;
        position += bytesRead;
      }
    }
    const faceIds = new Int32Array(faces);
    const personIds = new Int32Array(faces);
    for (let row = 0; row < faces; row++) {
      faceIds[row] = pairs[row * 2]!;
      personIds[row] = pairs[row * 2 + 1]!;
    }
    return { faceIds, personIds, vectors };
  } finally {
    await file.close();
  }
}

async function digest(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
